#include "rules/condition.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include "core/text.hpp"
#include "docspace/names.hpp"
#include "rules/template.hpp"
#include "rules/title_matcher.hpp"

namespace spacehook::rules {

using config::Diagnostics;
using config::Document;
using config::PointerJoin;

namespace {

std::string Quote(std::string_view text) {
    return Json(std::string(text)).dump();
}

std::string IdsText(const std::vector<EntityId>& ids) {
    std::vector<std::string> texts;
    texts.reserve(ids.size());
    for (const auto& id : ids) texts.push_back(id.str());
    return fmt::format("{}", fmt::join(texts, ", "));
}

const std::vector<std::string_view> kConditionKeys = {"trigger", "kind",      "in_room", "in_folder",
                                                      "title",   "extension", "actor",   "user_type",
                                                      "all",     "any",       "not"};
/// EmployeeType as the people API shows it (isOwner/isAdmin, isRoomAdmin, isVisitor).
const std::vector<std::string_view> kUserTypes = {"docspace_admin", "room_admin", "user", "guest"};

/// The type of a person from their EmployeeFullDto: the owner counts as a DocSpace admin.
std::string_view UserTypeOf(const Json& user) {
    auto flag = [&](const char* key) { return user.value(key, false) == true; };
    if (flag("isVisitor")) return "guest";
    if (flag("isOwner") || flag("isAdmin")) return "docspace_admin";
    if (flag("isRoomAdmin")) return "room_admin";
    return "user";
}
const std::vector<std::string_view> kTitleOps = {"equals",   "starts_with", "ends_with",
                                                 "contains", "glob",        "regex"};

class ConditionCompiler {
public:
    ConditionCompiler(const Document& doc, const RuleScope& scope, Diagnostics& diagnostics)
        : doc_(doc), scope_(scope), diagnostics_(diagnostics) {}

    /// A condition map: its keys in the order they were written, all of which must hold.
    std::optional<Condition> Map(const std::string& pointer) {
        const Json* value = doc_.Find(pointer);
        if (value == nullptr || !value->is_object()) {
            Error(pointer,
                  fmt::format("a condition must be a map like {{title: {{starts_with: invoice}}}}, got {}",
                              value ? config::KindName(*value) : "nothing"));
            return std::nullopt;
        }
        if (value->empty()) {
            Error(pointer, "empty condition");
            return std::nullopt;
        }
        Condition all;
        all.kind = ConditionKind::kAll;
        all.implicit = true;
        all.location = doc_.Locate(pointer);
        all.description = "all of";
        bool ok = true;
        for (const auto& key : KeysInSourceOrder(pointer, *value)) {
            const std::string child_pointer = PointerJoin(pointer, key);
            if (std::find(kConditionKeys.begin(), kConditionKeys.end(), key) == kConditionKeys.end()) {
                Error(child_pointer, config::UnknownKeyMessage(key, "a condition", kConditionKeys));
                ok = false;
                continue;
            }
            auto child = Leaf(key, child_pointer, (*value)[key]);
            if (!child) {
                ok = false;
                continue;
            }
            all.children.push_back(std::move(*child));
        }
        if (!ok) return std::nullopt;
        if (all.children.size() == 1) return std::move(all.children[0]);
        return all;
    }

private:
    std::vector<std::string> KeysInSourceOrder(const std::string& pointer, const Json& object) const {
        std::vector<std::string> keys;
        for (const auto& [key, unused] : object.items()) keys.push_back(key);
        std::stable_sort(keys.begin(), keys.end(), [&](const std::string& a, const std::string& b) {
            const auto la = doc_.Locate(PointerJoin(pointer, a));
            const auto lb = doc_.Locate(PointerJoin(pointer, b));
            return std::tie(la.line, la.column) < std::tie(lb.line, lb.column);
        });
        return keys;
    }

    void Error(const std::string& pointer, std::string_view message) {
        diagnostics_.AddAt(doc_, pointer, message);
    }

    bool CheckScope(const std::string& pointer, std::string_view key,
                    std::initializer_list<EntityKind> kinds) {
        for (auto kind : kinds) {
            if (scope_.Allows(kind)) return true;
        }
        std::vector<std::string_view> names;
        for (auto kind : kinds) names.push_back(ToString(kind));
        Error(pointer, fmt::format("{} applies to {} events only, and this rule listens to {}", key,
                                   fmt::join(names, "/"), scope_.triggers));
        return false;
    }

    /// Texts of a scalar, a list of scalars, or a comma-separated string; empty entries are skipped
    /// (an unset `${VAR:-}` adds nothing). Templates are refused: conditions are fixed at load.
    std::optional<std::vector<std::string>> Texts(const std::string& pointer, const Json& value,
                                                  std::string_view key) {
        std::vector<std::pair<std::string, const Json*>> items;
        if (value.is_array()) {
            for (std::size_t i = 0; i < value.size(); ++i)
                items.emplace_back(PointerJoin(pointer, i), &value[i]);
        } else {
            items.emplace_back(pointer, &value);
        }
        std::vector<std::string> out;
        for (const auto& [item_pointer, item] : items) {
            if (item->is_null()) continue;
            if (item->is_structured() || item->is_number_float()) {
                Error(item_pointer,
                      fmt::format("{} takes text or a list of text, got {}", key, config::KindName(*item)));
                return std::nullopt;
            }
            auto text = doc_.TextAt(item_pointer);
            if (!text) continue;
            if (Template::HasExpressions(*text)) {
                Error(
                    item_pointer,
                    fmt::format("{} is fixed when the rules load; templates ({{{{ }}}}) are not allowed here",
                                key));
                return std::nullopt;
            }
            std::string_view rest = *text;
            while (true) {
                const auto comma = rest.find(',');
                const auto piece = Trim(rest.substr(0, comma));
                if (!piece.empty()) out.emplace_back(piece);
                if (comma == std::string_view::npos) break;
                rest.remove_prefix(comma + 1);
            }
        }
        if (out.empty()) {
            Error(pointer,
                  fmt::format("{} is empty; it needs at least one {} (an unset ${{VAR:-}} gives none)", key,
                              key == "in_room" || key == "in_folder" ? "id" : "value"));
            return std::nullopt;
        }
        return out;
    }

    std::optional<std::vector<EntityId>> Ids(const std::string& pointer, const Json& value,
                                             std::string_view key) {
        auto texts = Texts(pointer, value, key);
        if (!texts) return std::nullopt;
        std::vector<EntityId> ids;
        for (auto& text : *texts) ids.push_back(EntityId::Parse(std::move(text)));
        return ids;
    }

    std::optional<Condition> Leaf(const std::string& key, const std::string& pointer, const Json& value) {
        Condition node;
        node.location = doc_.Locate(pointer);
        if (key == "all" || key == "any") {
            node.kind = key == "all" ? ConditionKind::kAll : ConditionKind::kAny;
            node.description = key == "all" ? "all of" : "any of";
            if (!value.is_array() || value.empty()) {
                Error(pointer, fmt::format("{} takes a non-empty list of conditions", key));
                return std::nullopt;
            }
            bool ok = true;
            for (std::size_t i = 0; i < value.size(); ++i) {
                auto child = Map(PointerJoin(pointer, i));
                if (!child) {
                    ok = false;
                    continue;
                }
                node.children.push_back(std::move(*child));
            }
            if (!ok) return std::nullopt;
            return node;
        }
        if (key == "not") {
            node.kind = ConditionKind::kNot;
            node.description = "not";
            auto child = Map(pointer);
            if (!child) return std::nullopt;
            node.children.push_back(std::move(*child));
            return node;
        }
        if (key == "trigger") return TriggerLeaf(pointer, value, std::move(node));
        if (key == "kind") return KindLeaf(pointer, value, std::move(node));
        if (key == "in_room") {
            if (!CheckScope(pointer, key, {EntityKind::kFile, EntityKind::kFolder, EntityKind::kRoom}))
                return std::nullopt;
            auto ids = Ids(pointer, value, key);
            if (!ids) return std::nullopt;
            node.kind = ConditionKind::kInRoom;
            node.ids = std::move(*ids);
            node.description = "in_room " + IdsText(node.ids);
            return node;
        }
        if (key == "in_folder") return InFolderLeaf(pointer, value, std::move(node));
        if (key == "title") return TitleLeaf(pointer, value, std::move(node));
        if (key == "extension") {
            if (!CheckScope(pointer, key, {EntityKind::kFile})) return std::nullopt;
            auto texts = Texts(pointer, value, key);
            if (!texts) return std::nullopt;
            node.kind = ConditionKind::kExtension;
            for (auto& text : *texts) {
                std::string_view ext = text;
                if (!ext.empty() && ext.front() == '.') ext.remove_prefix(1);
                node.values.push_back(ToLower(ext));
            }
            node.description = fmt::format("extension {}", fmt::join(node.values, ", "));
            return node;
        }
        if (key == "user_type") return UserTypeLeaf(pointer, value, std::move(node));
        // actor
        auto texts = Texts(pointer, value, key);
        if (!texts) return std::nullopt;
        node.kind = ConditionKind::kActor;
        for (auto& text : *texts) {
            node.values.push_back(text.find('@') != std::string::npos ? ToLower(text) : text);
        }
        node.description = fmt::format("actor {}", fmt::join(node.values, ", "));
        return node;
    }

    std::optional<Condition> TriggerLeaf(const std::string& pointer, const Json& value, Condition node) {
        auto texts = Texts(pointer, value, "trigger");
        if (!texts) return std::nullopt;
        node.kind = ConditionKind::kTrigger;
        for (const auto& name : *texts) {
            if (name != "*" && !(name.size() > 2 && name.substr(name.size() - 2) == ".*") &&
                !docspace::TriggerBit(name)) {
                std::vector<std::string_view> known;
                for (const auto& [trigger, bit] : docspace::AllTriggers()) known.push_back(trigger);
                auto suggestion = config::ClosestName(name, known);
                Error(pointer, fmt::format("unknown trigger '{}'{}", name,
                                           suggestion.empty() ? "" : "; did you mean '" + suggestion + "'?"));
                return std::nullopt;
            }
            const bool reachable =
                std::any_of(scope_.patterns.begin(), scope_.patterns.end(), [&](const std::string& on) {
                    return TriggerPatternMatches(on, name) || TriggerPatternMatches(name, on);
                });
            if (!reachable) {
                Error(pointer, fmt::format("trigger {} can never match: this rule listens to {}", name,
                                           scope_.triggers));
                return std::nullopt;
            }
            node.values.push_back(name);
        }
        node.description = fmt::format("trigger {}", fmt::join(node.values, ", "));
        return node;
    }

    std::optional<Condition> KindLeaf(const std::string& pointer, const Json& value, Condition node) {
        auto texts = Texts(pointer, value, "kind");
        if (!texts) return std::nullopt;
        node.kind = ConditionKind::kKind;
        for (const auto& name : *texts) {
            auto kind = ParseEntityKind(name);
            if (!kind) {
                Error(pointer,
                      fmt::format("unknown kind '{}'; kinds are file, folder, room, user, group", name));
                return std::nullopt;
            }
            if (!scope_.Allows(*kind)) {
                Error(pointer,
                      fmt::format("kind {} can never match: this rule listens to {}", name, scope_.triggers));
                return std::nullopt;
            }
            node.values.push_back(name);
        }
        node.description = fmt::format("kind {}", fmt::join(node.values, ", "));
        return node;
    }

    /// user_type: guest (or a list): the type of the person a user.* event is about, from the people API.
    std::optional<Condition> UserTypeLeaf(const std::string& pointer, const Json& value, Condition node) {
        if (!CheckScope(pointer, "user_type", {EntityKind::kUser})) return std::nullopt;
        auto texts = Texts(pointer, value, "user_type");
        if (!texts) return std::nullopt;
        node.kind = ConditionKind::kUserType;
        for (const auto& name : *texts) {
            if (std::find(kUserTypes.begin(), kUserTypes.end(), name) == kUserTypes.end()) {
                Error(pointer,
                      fmt::format("unknown user_type '{}'; types are {}", name, fmt::join(kUserTypes, ", ")));
                return std::nullopt;
            }
            node.values.push_back(name);
        }
        node.description = fmt::format("user_type {}", fmt::join(node.values, ", "));
        return node;
    }

    std::optional<Condition> InFolderLeaf(const std::string& pointer, const Json& value, Condition node) {
        if (!CheckScope(pointer, "in_folder", {EntityKind::kFile, EntityKind::kFolder})) return std::nullopt;
        node.kind = ConditionKind::kInFolder;
        std::optional<std::vector<EntityId>> ids;
        if (value.is_object()) {
            if (!config::CheckKeys(doc_, pointer, value, "in_folder", {"id", "subtree"}, diagnostics_))
                return std::nullopt;
            if (!value.contains("id")) {
                Error(pointer, "in_folder needs an id: {id: 567, subtree: true}");
                return std::nullopt;
            }
            ids = Ids(PointerJoin(pointer, "id"), value["id"], "in_folder");
            if (value.contains("subtree")) {
                if (!value["subtree"].is_boolean()) {
                    Error(PointerJoin(pointer, "subtree"), "in_folder.subtree must be true or false");
                    return std::nullopt;
                }
                node.subtree = value["subtree"].get<bool>();
            }
        } else {
            ids = Ids(pointer, value, "in_folder");
        }
        if (!ids) return std::nullopt;
        node.ids = std::move(*ids);
        node.description = fmt::format("in_folder {}{}", IdsText(node.ids), node.subtree ? " (subtree)" : "");
        return node;
    }

    std::optional<Condition> TitleLeaf(const std::string& pointer, const Json& value, Condition node) {
        if (!CheckScope(pointer, "title", {EntityKind::kFile, EntityKind::kFolder, EntityKind::kRoom}))
            return std::nullopt;
        std::vector<std::pair<std::string, std::string>> ops;  // op name, pointer of its value
        bool ignore_case = false;
        if (value.is_object()) {
            std::vector<std::string_view> allowed = kTitleOps;
            allowed.push_back("ignore_case");
            if (!config::CheckKeys(doc_, pointer, value, "title", allowed, diagnostics_)) return std::nullopt;
            if (value.contains("ignore_case")) {
                if (!value["ignore_case"].is_boolean()) {
                    Error(PointerJoin(pointer, "ignore_case"), "title.ignore_case must be true or false");
                    return std::nullopt;
                }
                ignore_case = value["ignore_case"].get<bool>();
            }
            for (const auto& key : KeysInSourceOrder(pointer, value)) {
                if (key != "ignore_case") ops.emplace_back(key, PointerJoin(pointer, key));
            }
            if (ops.empty()) {
                Error(pointer, fmt::format("title needs one of: {}", fmt::join(kTitleOps, ", ")));
                return std::nullopt;
            }
        } else {
            ops.emplace_back("equals", pointer);
        }
        std::vector<Condition> leaves;
        for (const auto& [op, op_pointer] : ops) {
            const Json* op_value = doc_.Find(op_pointer);
            if (op_value != nullptr && op_value->is_array() && op_pointer == pointer) {
                Error(op_pointer,
                      "title takes text or a map of tests like {starts_with: invoice, ignore_case: true}");
                return std::nullopt;
            }
            auto text = doc_.TextAt(op_pointer);
            if (op_value == nullptr || op_value->is_structured() || !text) {
                Error(op_pointer, fmt::format("title {} takes text", op));
                return std::nullopt;
            }
            if (Template::HasExpressions(*text)) {
                Error(op_pointer,
                      "title is fixed when the rules load; templates ({{ }}) are not allowed here");
                return std::nullopt;
            }
            const auto index = std::find(kTitleOps.begin(), kTitleOps.end(), op) - kTitleOps.begin();
            auto matcher =
                std::make_shared<TitleMatcher>(static_cast<TitleMatcher::Op>(index), *text, ignore_case);
            if (auto error = matcher->Prepare()) {
                Error(op_pointer, fmt::format("title {} {}: {}", op, Quote(*text), *error));
                return std::nullopt;
            }
            Condition leaf;
            leaf.kind = ConditionKind::kTitle;
            leaf.location = doc_.Locate(op_pointer);
            leaf.title = std::move(matcher);
            leaf.description =
                fmt::format("title {} {}{}", op, Quote(*text), ignore_case ? " (ignore case)" : "");
            leaves.push_back(std::move(leaf));
        }
        if (leaves.size() == 1) return std::move(leaves[0]);
        node.kind = ConditionKind::kAll;
        node.implicit = true;
        node.description = "all of";
        node.children = std::move(leaves);
        return node;
    }

    const Document& doc_;
    const RuleScope& scope_;
    Diagnostics& diagnostics_;
};

/// The room the entity is in: known with an id, known to be none, or unknown (not resolved).
struct RoomLookup {
    bool known = false;
    std::optional<EntityId> id;
};

RoomLookup RoomOf(const Event& event, const Facts& facts) {
    if (event.kind == EntityKind::kRoom && event.entity_id) return {true, event.entity_id};
    if (facts.room.is_object()) {
        if (auto id = EntityId::FromJson(facts.room.value("id", Json()))) return {true, *id};
    }
    if (facts.path) return {true, std::nullopt};
    return {};
}

Truth FromBool(bool value) {
    return value ? Truth::kYes : Truth::kNo;
}

struct LeafResult {
    Truth truth;
    std::string why;
};

LeafResult EvaluateLeaf(const Condition& c, const Event& event, const Facts& facts, NeededFacts* missing) {
    switch (c.kind) {
        case ConditionKind::kTrigger: {
            const bool hit = std::any_of(c.values.begin(), c.values.end(), [&](const std::string& p) {
                return TriggerPatternMatches(p, event.trigger);
            });
            return {FromBool(hit), "the trigger is " + event.trigger};
        }
        case ConditionKind::kKind: {
            const std::string kind(ToString(event.kind));
            return {FromBool(std::find(c.values.begin(), c.values.end(), kind) != c.values.end()),
                    "the entity is a " + kind};
        }
        case ConditionKind::kInRoom: {
            const auto room = RoomOf(event, facts);
            if (!room.known) {
                if (missing) missing->path = true;
                return {Truth::kUnknown, "the room is not resolved (needs room path)"};
            }
            if (!room.id) return {Truth::kNo, "the entity is not in a room"};
            const bool hit = std::find(c.ids.begin(), c.ids.end(), *room.id) != c.ids.end();
            return {FromBool(hit), "the entity is in room " + room.id->str()};
        }
        case ConditionKind::kInFolder: {
            if (!event.parent_id) return {Truth::kNo, "the event has no parentId"};
            const bool parent_hit = std::find(c.ids.begin(), c.ids.end(), *event.parent_id) != c.ids.end();
            if (parent_hit || !c.subtree)
                return {FromBool(parent_hit), "the parent folder is " + event.parent_id->str()};
            if (!facts.path) {
                if (missing) missing->path = true;
                return {Truth::kUnknown, "the ancestors are not resolved (needs room path)"};
            }
            for (const auto& ancestor : *facts.path) {
                if (std::find(c.ids.begin(), c.ids.end(), ancestor) != c.ids.end()) {
                    return {Truth::kYes, ancestor.str() + " is an ancestor"};
                }
            }
            return {Truth::kNo, "the ancestors are " +
                                    (facts.path->empty() ? std::string("none") : IdsText(*facts.path))};
        }
        case ConditionKind::kTitle: {
            if (!event.title) return {Truth::kNo, "the event has no title"};
            return {FromBool(c.title->Matches(*event.title)), Quote(*event.title)};
        }
        case ConditionKind::kExtension: {
            if (!event.title) return {Truth::kNo, "the event has no title"};
            const auto dot = event.title->rfind('.');
            if (dot == std::string::npos || dot + 1 == event.title->size()) {
                return {Truth::kNo, Quote(*event.title) + " has no extension"};
            }
            const std::string ext = ToLower(event.title->substr(dot + 1));
            return {FromBool(std::find(c.values.begin(), c.values.end(), ext) != c.values.end()),
                    "the extension is " + ext};
        }
        case ConditionKind::kActor: {
            if (event.create_by.empty()) return {Truth::kNo, "the event has no createBy"};
            bool by_email = false;
            for (const auto& value : c.values) {
                if (value.find('@') != std::string::npos) {
                    by_email = true;
                } else if (event.IsBy(value)) {
                    return {Truth::kYes, "createBy is " + event.create_by};
                }
            }
            if (!by_email) return {Truth::kNo, "createBy is " + event.create_by};
            if (!facts.actor.is_object()) {
                if (missing) missing->actor = true;
                return {Truth::kUnknown, "the actor's e-mail is not resolved (needs actor info)"};
            }
            const auto email = facts.actor.value("email", Json());
            if (!email.is_string()) return {Truth::kNo, "the actor has no e-mail"};
            const std::string address = ToLower(email.get<std::string>());
            return {FromBool(std::find(c.values.begin(), c.values.end(), address) != c.values.end()),
                    "the actor's e-mail is " + address};
        }
        case ConditionKind::kUserType: {
            if (!facts.user.is_object()) {
                if (missing) missing->user = true;
                return {Truth::kUnknown, "the person's type is not resolved (needs user info)"};
            }
            const std::string type(UserTypeOf(facts.user));
            return {FromBool(std::find(c.values.begin(), c.values.end(), type) != c.values.end()),
                    "the person is a " + type};
        }
        default:
            break;
    }
    return {Truth::kUnknown, ""};
}

}  // namespace

std::optional<Condition> CompileCondition(const Document& doc, const std::string& pointer,
                                          const RuleScope& scope, Diagnostics& diagnostics) {
    const std::size_t before = diagnostics.size();
    ConditionCompiler compiler(doc, scope, diagnostics);
    auto condition = compiler.Map(pointer);
    if (diagnostics.size() != before) return std::nullopt;
    return condition;
}

bool TriggerPatternMatches(std::string_view pattern, std::string_view trigger) {
    if (pattern == "*") return true;
    if (pattern.size() > 2 && pattern.substr(pattern.size() - 2) == ".*") {
        return docspace::TriggerFamily(trigger) == pattern.substr(0, pattern.size() - 2);
    }
    return pattern == trigger;
}

Truth Evaluate(const Condition& condition, const Event& event, const Facts& facts, NeededFacts* missing,
               std::vector<ConditionTrace>* trace, int depth) {
    switch (condition.kind) {
        case ConditionKind::kAll:
        case ConditionKind::kAny:
        case ConditionKind::kNot: {
            const bool shown = !condition.implicit;
            std::size_t line = 0;
            if (trace && shown) {
                line = trace->size();
                trace->push_back({depth, Truth::kUnknown, condition.description});
            }
            std::vector<Truth> results;
            for (const auto& child : condition.children) {
                results.push_back(Evaluate(child, event, facts, missing, trace, shown ? depth + 1 : depth));
            }
            auto has = [&](Truth t) { return std::find(results.begin(), results.end(), t) != results.end(); };
            Truth truth;
            if (condition.kind == ConditionKind::kNot) {
                truth = results[0] == Truth::kUnknown ? Truth::kUnknown : FromBool(results[0] == Truth::kNo);
            } else if (condition.kind == ConditionKind::kAll) {
                truth = has(Truth::kNo) ? Truth::kNo : has(Truth::kUnknown) ? Truth::kUnknown : Truth::kYes;
            } else {
                truth = has(Truth::kYes) ? Truth::kYes : has(Truth::kUnknown) ? Truth::kUnknown : Truth::kNo;
            }
            if (trace && shown) (*trace)[line].truth = truth;
            return truth;
        }
        default: {
            auto result = EvaluateLeaf(condition, event, facts, missing);
            if (trace) trace->push_back({depth, result.truth, condition.description + ": " + result.why});
            return result.truth;
        }
    }
}

void Describe(const Condition& condition, int depth, std::vector<std::string>& lines) {
    const bool shown = condition.children.empty() || !condition.implicit;
    if (shown) lines.push_back(std::string(static_cast<std::size_t>(depth) * 2, ' ') + condition.description);
    for (const auto& child : condition.children) Describe(child, shown ? depth + 1 : depth, lines);
}

NeededFacts FactsOf(const Condition& condition) {
    NeededFacts needs;
    if (condition.kind == ConditionKind::kInRoom ||
        (condition.kind == ConditionKind::kInFolder && condition.subtree)) {
        needs.path = true;
    }
    if (condition.kind == ConditionKind::kActor) {
        needs.actor = std::any_of(condition.values.begin(), condition.values.end(),
                                  [](const std::string& v) { return v.find('@') != std::string::npos; });
    }
    if (condition.kind == ConditionKind::kUserType) needs.user = true;
    for (const auto& child : condition.children) needs |= FactsOf(child);
    return needs;
}

}  // namespace spacehook::rules
