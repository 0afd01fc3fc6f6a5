#include "rules/compiled_rules.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "config/diagnostics.hpp"
#include "core/content_digest.hpp"
#include "docspace/names.hpp"

namespace spacehook::rules {

using config::Diagnostics;
using config::Document;
using config::PointerJoin;

namespace {

const std::vector<std::string_view> kRuleKeys = {"name", "description", "enabled", "on", "if", "key", "do"};
const std::vector<std::string_view> kFamilies = {"user", "group", "file", "folder", "room", "form", "agent"};
const std::vector<EntityKind> kAllKinds = {EntityKind::kFile, EntityKind::kFolder, EntityKind::kRoom,
                                           EntityKind::kUser, EntityKind::kGroup};

bool IsRuleName(std::string_view name) {
    if (name.empty() || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
}

/// FNV-1a, 64 bits, as 16 hex digits: stable across builds and platforms, unlike std::hash.
std::string Fingerprint(std::string_view text) {
    std::uint64_t hash = 1469598103934665603ULL;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 1099511628211ULL;
    }
    return fmt::format("{:016x}", hash);
}

enum class KeyStyle {
    kOnce,       ///< one run per entity: creation-like and final events
    kPerChange,  ///< one run per change of the entity: *.updated, keyed by payload.modifiedOn
    kPerEvent,   ///< one run per event: moves, trash, restore, downloads, forms filled or stopped
};

KeyStyle StyleOf(std::string_view trigger) {
    if (trigger == "file.uploaded" || trigger == "user.invited" || trigger == "form.submit")
        return KeyStyle::kOnce;
    if (trigger.ends_with(".created") || trigger.ends_with(".copied") || trigger.ends_with(".deleted")) {
        return KeyStyle::kOnce;
    }
    if (trigger.ends_with(".updated")) return KeyStyle::kPerChange;
    return KeyStyle::kPerEvent;
}

/// Stands for one event in a run key, by what it says rather than by event.id: a manual retry from the
/// portal's UI and a second subscription's copy carry a new event.id with the same content, and must not
/// run mail, chat or http steps again (see DeliveryContentDigest). 64 bits of the digest keep keys short.
std::string ContentMark(const Event& event) {
    return "%" + DeliveryContentDigest(event.trigger, event.create_on, event.create_by, event.payload)
                     .substr(0, 16);
}

class RuleCompiler {
public:
    RuleCompiler(const Document& doc, const StepKinds& kinds, const CompileOptions& options,
                 Diagnostics& diagnostics)
        : doc_(doc), kinds_(kinds), options_(options), diagnostics_(diagnostics) {}

    std::optional<Rule> Compile(const std::string& pointer) {
        const std::size_t errors_before = diagnostics_.size();
        const Json* value = doc_.Find(pointer);
        if (value == nullptr || !value->is_object()) {
            Error(pointer, fmt::format("a rule must be a map with name, on and do, got {}",
                                       value ? config::KindName(*value) : "nothing"));
            return std::nullopt;
        }
        Rule rule;
        rule.location = doc_.Locate(pointer);
        rule.fingerprint = Fingerprint(Versioned(*value, pointer, PointerJoin(pointer, "do")).dump());
        // After a typo ("dp:") the "needs do" that would follow only repeats it.
        keys_ok_ = config::CheckKeys(doc_, pointer, *value, "a rule", kRuleKeys, diagnostics_);

        auto name = doc_.TextAt(PointerJoin(pointer, "name"));
        if (!name) {
            if (keys_ok_ || value->contains("name")) {
                Error(value->contains("name") ? PointerJoin(pointer, "name") : pointer,
                      "a rule needs a name");
            }
        } else if (!IsRuleName(*name)) {
            Error(PointerJoin(pointer, "name"),
                  fmt::format("rule name '{}' may hold only letters, digits, '_', '-' and '.'", *name));
        } else {
            rule.name = *name;
        }
        if (value->contains("description") && !(*value)["description"].is_null()) {
            auto description = doc_.TextAt(PointerJoin(pointer, "description"));
            if (!description) {
                Error(PointerJoin(pointer, "description"), "description must be text");
            } else {
                rule.description = *description;
            }
        }
        if (value->contains("enabled")) {
            if (!(*value)["enabled"].is_boolean()) {
                Error(PointerJoin(pointer, "enabled"), "enabled must be true or false");
            } else {
                rule.enabled = (*value)["enabled"].get<bool>();
            }
        }
        if (!Triggers(pointer, *value, rule)) {
            // Still look at the rest for other mistakes, as if the rule listened to everything.
            for (auto kind : kAllKinds) rule.scope.kinds.insert(kind);
            rule.scope.patterns = {"*"};
        }

        if (value->contains("if") && !(*value)["if"].is_null()) {
            rule.condition = CompileCondition(doc_, PointerJoin(pointer, "if"), rule.scope, diagnostics_);
            if (rule.condition) rule.condition_needs = FactsOf(*rule.condition);
        }
        if (value->contains("key") && !(*value)["key"].is_null()) KeyTemplate(pointer, rule);
        Steps(pointer, *value, rule);
        if (diagnostics_.size() != errors_before) return std::nullopt;
        return rule;
    }

private:
    void Error(const std::string& pointer, std::string_view message) {
        diagnostics_.AddAt(doc_, pointer, message);
    }

    bool Triggers(const std::string& pointer, const Json& rule_json, Rule& rule) {
        const std::string on_pointer = PointerJoin(pointer, "on");
        if (!rule_json.contains("on") || rule_json["on"].is_null()) {
            if (keys_ok_ || rule_json.contains("on")) {
                Error(rule_json.contains("on") ? on_pointer : pointer,
                      "a rule needs on: the triggers it reacts to");
            }
            return false;
        }
        const Json& on = rule_json["on"];
        std::vector<std::pair<std::string, std::string>> names;  // name, pointer
        if (on.is_array()) {
            for (std::size_t i = 0; i < on.size(); ++i) {
                auto text =
                    on[i].is_string() ? std::optional<std::string>(on[i].get<std::string>()) : std::nullopt;
                if (!text) {
                    Error(PointerJoin(on_pointer, i), "a trigger is a name like file.created");
                    return false;
                }
                names.emplace_back(*text, PointerJoin(on_pointer, i));
            }
        } else if (on.is_string()) {
            std::string_view rest = on.get_ref<const std::string&>();
            while (true) {
                const auto comma = rest.find(',');
                std::string_view piece = rest.substr(0, comma);
                while (!piece.empty() && std::isspace(static_cast<unsigned char>(piece.front())))
                    piece.remove_prefix(1);
                while (!piece.empty() && std::isspace(static_cast<unsigned char>(piece.back())))
                    piece.remove_suffix(1);
                if (!piece.empty()) names.emplace_back(std::string(piece), on_pointer);
                if (comma == std::string_view::npos) break;
                rest.remove_prefix(comma + 1);
            }
        } else {
            Error(on_pointer, "on takes a trigger name or a list of them");
            return false;
        }
        if (names.empty()) {
            Error(on_pointer, "on needs at least one trigger");
            return false;
        }
        bool ok = true;
        for (const auto& [name, name_pointer] : names) {
            if (name == "*") {
                rule.all_triggers = true;
                for (auto kind : kAllKinds) rule.scope.kinds.insert(kind);
            } else if (name.ends_with(".*")) {
                const auto family = std::string_view(name).substr(0, name.size() - 2);
                if (std::find(kFamilies.begin(), kFamilies.end(), family) == kFamilies.end()) {
                    Error(name_pointer, fmt::format("unknown trigger family '{}'; families are {}", family,
                                                    fmt::join(kFamilies, ", ")));
                    ok = false;
                    continue;
                }
                for (const auto& [trigger, bit] : docspace::AllTriggers()) {
                    if (docspace::TriggerFamily(trigger) == family) rule.trigger_bits |= bit;
                }
                rule.scope.kinds.insert(KindOfTrigger(name));
            } else if (auto bit = docspace::TriggerBit(name)) {
                rule.trigger_bits |= *bit;
                rule.scope.kinds.insert(KindOfTrigger(name));
            } else {
                Error(name_pointer, UnknownTriggerMessage(name));
                ok = false;
                continue;
            }
            rule.on.push_back(name);
        }
        rule.scope.patterns = rule.on;
        rule.scope.triggers = fmt::format("{}", fmt::join(rule.on, ", "));
        return ok;
    }

    static std::string UnknownTriggerMessage(const std::string& name) {
        std::vector<std::string_view> known;
        for (const auto& [trigger, bit] : docspace::AllTriggers()) known.push_back(trigger);
        const auto suggestion = config::ClosestName(name, known);
        if (!suggestion.empty())
            return fmt::format("unknown trigger '{}'; did you mean '{}'?", name, suggestion);
        const auto family = docspace::TriggerFamily(name);
        std::vector<std::string_view> same_family;
        for (auto candidate : known) {
            if (docspace::TriggerFamily(candidate) == family) same_family.push_back(candidate);
        }
        if (!same_family.empty()) {
            return fmt::format("unknown trigger '{}'; {}.* triggers are {}", name, family,
                               fmt::join(same_family, ", "));
        }
        return fmt::format("unknown trigger '{}'; triggers are {}, {}.* or *", name, fmt::join(known, ", "),
                           fmt::join(kFamilies, ".*, "));
    }

    void KeyTemplate(const std::string& pointer, Rule& rule) {
        const std::string key_pointer = PointerJoin(pointer, "key");
        auto text = doc_.TextAt(key_pointer);
        if (!text || text->empty()) {
            Error(key_pointer, "key must be a text template like \"{{ payload.id }}\"");
            return;
        }
        auto parsed = Template::Parse(*text);
        if (!parsed) {
            Error(key_pointer, parsed.error().message);
            return;
        }
        static const std::vector<std::string> kNoSteps;
        ReferenceScope scope{&rule.scope, &kNoSteps, false};
        if (auto problem = CheckReferences(*parsed, scope, rule.template_needs)) {
            Error(key_pointer, *problem);
            return;
        }
        rule.key_template = *text;
    }

    /// The rule as its version is hashed: `${...}` in steps as written (steps resolve them when they
    /// run, so a changed value changes no rule), secret ones anywhere as written too (a hash of a short
    /// secret could be guessed), other values as loaded (conditions use them).
    Json Versioned(const Json& value, const std::string& pointer, const std::string& steps) const {
        if (value.is_structured()) {
            Json out = value;
            for (auto& [key, item] : out.items()) item = Versioned(item, PointerJoin(pointer, key), steps);
            return out;
        }
        auto it = doc_.written.find(pointer);
        if (it == doc_.written.end()) return value;
        if (it->second.secret() || pointer.rfind(steps + "/", 0) == 0) return it->second.text;
        return value;
    }

    void Steps(const std::string& pointer, const Json& rule_json, Rule& rule) {
        const std::string do_pointer = PointerJoin(pointer, "do");
        if (!rule_json.contains("do") || !rule_json["do"].is_array() || rule_json["do"].empty()) {
            if (keys_ok_ || rule_json.contains("do")) {
                Error(rule_json.contains("do") ? do_pointer : pointer,
                      "a rule needs do: a non-empty list of steps");
            }
            return;
        }
        std::vector<std::string> ids;
        std::map<std::string, std::string> first_use;
        for (std::size_t i = 0; i < rule_json["do"].size(); ++i) {
            const std::string step_pointer = PointerJoin(do_pointer, i);
            auto step = CompileStep(doc_, step_pointer, rule.scope, ids, kinds_, options_,
                                    rule.template_needs, diagnostics_);
            if (!step) {
                // Later steps may still name this one; knowing its id spares them a second, false error.
                if (auto id = IdOfBrokenStep(rule_json["do"][i], step_pointer)) ids.push_back(*id);
                continue;
            }
            if (auto it = first_use.find(step->id); it != first_use.end()) {
                Error(step_pointer,
                      fmt::format("step id '{}' is already used by the step at {}; give one of them an "
                                  "id: to tell them apart",
                                  step->id, it->second));
                continue;
            }
            first_use[step->id] = step->location.ToString();
            ids.push_back(step->id);
            rule.steps.push_back(std::move(*step));
        }
    }

    std::optional<std::string> IdOfBrokenStep(const Json& step, const std::string& pointer) const {
        if (!step.is_object()) return std::nullopt;
        if (step.contains("id")) return doc_.TextAt(PointerJoin(pointer, "id"));
        for (const auto& [key, unused] : step.items()) {
            if (kinds_.Find(key) != nullptr) return key;
        }
        return std::nullopt;
    }

    const Document& doc_;
    const StepKinds& kinds_;
    const CompileOptions& options_;
    Diagnostics& diagnostics_;
    bool keys_ok_ = true;
};

/// Facts that exist for this kind of entity; the rest would be lookups of ids that are not files etc.
NeededFacts ApplicableTo(NeededFacts needs, const Event& event) {
    const EntityKind kind = event.kind;
    const bool known = kind != EntityKind::kUnknown;
    const bool file_or_folder = kind == EntityKind::kFile || kind == EntityKind::kFolder;
    if (known) {
        // A room is its own room: its id and title are in the payload (TemplateContext::ForEvent).
        needs.path = needs.path && file_or_folder;
        needs.room = needs.room && (file_or_folder || kind == EntityKind::kRoom);
        needs.file = needs.file && kind == EntityKind::kFile;
        needs.folder = needs.folder && file_or_folder;
        needs.user = needs.user && kind == EntityKind::kUser;
    }
    if (needs.room && kind != EntityKind::kRoom) needs.path = true;  // the room's id comes with the path
    needs.actor = needs.actor && !event.create_by.empty();
    return needs;
}

}  // namespace

bool Rule::ListensTo(std::string_view trigger) const {
    return std::any_of(on.begin(), on.end(),
                       [&](const std::string& p) { return TriggerPatternMatches(p, trigger); });
}

std::string_view TriggerClass(std::string_view trigger) {
    if (trigger == "file.uploaded") return "file.created";
    if (trigger == "user.invited") return "user.created";
    return trigger;
}

Result<CompiledRules> Compile(const std::vector<Document>& documents, const StepKinds& kinds,
                              const CompileOptions& options) {
    CompiledRules out;
    Diagnostics diagnostics;
    std::map<std::string, std::string> names;  // rule name -> where it was first defined
    for (const auto& doc : documents) {
        if (doc.root.is_null()) continue;
        if (!doc.root.is_object()) {
            diagnostics.AddAt(doc, "", "a rules file must be a map with a rules: list");
            continue;
        }
        if (!doc.root.contains("rules") || doc.root["rules"].is_null()) continue;
        const Json& rules = doc.root["rules"];
        if (!rules.is_array()) {
            diagnostics.AddAt(doc, "/rules",
                              fmt::format("rules must be a list, got {}", config::KindName(rules)));
            continue;
        }
        RuleCompiler compiler(doc, kinds, options, diagnostics);
        for (std::size_t i = 0; i < rules.size(); ++i) {
            const std::string pointer = PointerJoin("/rules", i);
            auto rule = compiler.Compile(pointer);
            // A duplicate name is reported even when the rule has other errors: both are worth fixing.
            const auto name = doc.TextAt(PointerJoin(pointer, "name"));
            if (name && !name->empty()) {
                const auto here = doc.Locate(PointerJoin(pointer, "name")).ToString();
                auto [it, inserted] = names.emplace(*name, here);
                if (!inserted) {
                    diagnostics.AddAt(doc, PointerJoin(pointer, "name"),
                                      fmt::format("rule name '{}' is already used at {}", *name, it->second));
                    continue;
                }
            }
            if (rule) out.rules_.push_back(std::move(*rule));
        }
    }
    if (!diagnostics.empty()) return Fail(diagnostics.ToError());
    return out;
}

const Rule* CompiledRules::Find(std::string_view name) const {
    for (const auto& rule : rules_) {
        if (rule.name == name) return &rule;
    }
    return nullptr;
}

bool CompiledRules::ListensToAll() const {
    return std::any_of(rules_.begin(), rules_.end(),
                       [](const Rule& r) { return r.enabled && r.all_triggers; });
}

bool CompiledRules::HasEnabledRules() const {
    return std::any_of(rules_.begin(), rules_.end(), [](const Rule& r) { return r.enabled; });
}

std::int64_t CompiledRules::TriggerMask() const {
    if (ListensToAll()) return 0;
    std::int64_t mask = 0;
    for (const auto& rule : rules_) {
        if (rule.enabled) mask |= rule.trigger_bits;
    }
    return mask;
}

namespace {

/// The rooms a condition requires, each from an `in_room` of one id reached through `all` only.
void RequiredRooms(const Condition& condition, std::vector<EntityId>& rooms) {
    if (condition.kind == ConditionKind::kInRoom && condition.ids.size() == 1)
        rooms.push_back(condition.ids[0]);
    if (condition.kind != ConditionKind::kAll) return;
    for (const auto& child : condition.children) RequiredRooms(child, rooms);
}

}  // namespace

CompiledRules::Target CompiledRules::SubscriptionTarget() const {
    std::optional<EntityId> target;
    for (const auto& rule : rules_) {
        if (!rule.enabled) continue;
        if (rule.all_triggers) return {"", fmt::format("rule {} listens to every trigger", rule.name)};
        for (const auto& [trigger, bit] : docspace::AllTriggers()) {
            if ((rule.trigger_bits & bit) == 0) continue;
            const auto family = docspace::TriggerFamily(trigger);
            if (family != "room" && family != "agent") {
                return {"",
                        fmt::format("rule {} listens to {}, whose entity is not a room", rule.name, trigger)};
            }
            if (trigger == "room.created" || trigger == "agent.created" || trigger == "room.copied") {
                return {"", fmt::format("rule {} listens to {}, about a room that has no id yet", rule.name,
                                        trigger)};
            }
        }
        std::vector<EntityId> rooms;
        if (rule.condition) RequiredRooms(*rule.condition, rooms);
        const bool one = !rooms.empty() && std::all_of(rooms.begin(), rooms.end(), [&](const EntityId& id) {
            return id == rooms.front();
        });
        if (!one) return {"", fmt::format("rule {} does not require one room with in_room", rule.name)};
        if (target && !(*target == rooms.front())) {
            return {"", fmt::format("the rules name different rooms ({} and {})", target->str(),
                                    rooms.front().str())};
        }
        target = rooms.front();
    }
    if (!target) return {"", "no enabled rule"};
    return {target->str(), ""};
}

std::vector<std::string> CompiledRules::TriggerNames() const {
    if (ListensToAll()) return {"*"};
    const auto mask = TriggerMask();
    std::vector<std::string> out;
    for (const auto& [trigger, bit] : docspace::AllTriggers()) {
        if ((mask & bit) != 0) out.emplace_back(trigger);
    }
    return out;
}

NeededFacts CompiledRules::Needs(const Event& event) const {
    NeededFacts needs;
    const Facts none;
    for (const auto& rule : rules_) {
        if (!rule.enabled || !rule.ListensTo(event.trigger)) continue;
        NeededFacts missing;
        const Truth truth =
            rule.condition ? rules::Evaluate(*rule.condition, event, none, &missing, nullptr) : Truth::kYes;
        if (truth == Truth::kNo) continue;  // decided on the payload alone: nothing to fetch for it
        if (truth == Truth::kUnknown) needs |= missing;
        needs |= rule.template_needs;
    }
    return ApplicableTo(needs, event);
}

std::vector<RuleEvaluation> CompiledRules::Evaluate(const Event& event, const Facts& facts) const {
    std::vector<RuleEvaluation> out;
    for (const auto& rule : rules_) {
        if (!rule.enabled) continue;
        RuleEvaluation evaluation;
        evaluation.rule = &rule;
        evaluation.listens = rule.ListensTo(event.trigger);
        evaluation.truth = rule.condition ? rules::Evaluate(*rule.condition, event, facts,
                                                            &evaluation.missing, &evaluation.trace)
                                          : Truth::kYes;
        if (!evaluation.listens) evaluation.truth = Truth::kNo;
        if (evaluation.truth != Truth::kUnknown) evaluation.missing = NeededFacts{};
        out.push_back(std::move(evaluation));
    }
    return out;
}

Result<std::vector<PlannedRun>> CompiledRules::Plan(const Event& event, const Facts& facts) const {
    std::vector<PlannedRun> runs;
    for (const auto& evaluation : Evaluate(event, facts)) {
        if (!evaluation.listens || evaluation.truth == Truth::kNo) continue;
        if (evaluation.truth == Truth::kUnknown) {
            return Fail(ErrorCode::kInvalidArgument,
                        fmt::format("rule {}: cannot decide without {} (not in the resolved facts)",
                                    evaluation.rule->name, fmt::join(evaluation.missing.Names(), ", ")));
        }
        auto run = PlanRule(*evaluation.rule, event, facts);
        if (!run) return tl::unexpected(run.error());
        runs.push_back(std::move(*run));
    }
    return runs;
}

Result<PlannedRun> CompiledRules::PlanRule(const Rule& rule, const Event& event, const Facts& facts,
                                           RenderMode mode) const {
    PlannedRun run;
    run.rule = rule.name;
    run.fingerprint = rule.fingerprint;
    run.steps = rule.steps;
    run.context = TemplateContext::ForEvent(event, facts);

    const std::string kind(ToString(event.kind));
    if (!rule.key_template.empty()) {
        auto parsed = Template::Parse(rule.key_template);
        if (!parsed)
            return Fail(ErrorCode::kInvalidArgument,
                        fmt::format("rule {}: key: {}", rule.name, parsed.error().message));
        auto rendered = parsed->Render(run.context.values(), mode);
        if (!rendered)
            return Fail(ErrorCode::kInvalidArgument,
                        fmt::format("rule {}: key: {}", rule.name, rendered.error().message));
        run.run_key = fmt::format("{}/key:{}", rule.name, TemplateText(*rendered));
    } else if (!event.entity_id) {
        // No entity to key on (a malformed payload): one run per event.
        run.run_key =
            fmt::format("{}/{}/event{}", rule.name, TriggerClass(event.trigger), ContentMark(event));
    } else {
        run.run_key =
            fmt::format("{}/{}/{}:{}", rule.name, TriggerClass(event.trigger), kind, event.entity_id->str());
        switch (StyleOf(event.trigger)) {
            case KeyStyle::kOnce:
                break;
            case KeyStyle::kPerChange:
                // Each real change is its own run, a redelivery of it (same modifiedOn) is not. Payloads
                // without modifiedOn (users carry lastModified, groups no time at all) are keyed by content.
                run.run_key += event.modified_on ? "@" + *event.modified_on : ContentMark(event);
                break;
            case KeyStyle::kPerEvent:
                run.run_key += ContentMark(event);
                break;
        }
    }

    const Json& room = run.context.values().contains("room") ? run.context.values()["room"] : Json();
    if (auto room_id = room.is_object() ? EntityId::FromJson(room.value("id", Json())) : std::nullopt) {
        run.lock_key = "room:" + room_id->str();
    } else if (event.entity_id) {
        run.lock_key = kind + ":" + event.entity_id->str();
    }
    run.context.SetRun(rule.name, run.run_key);
    return run;
}

}  // namespace spacehook::rules
