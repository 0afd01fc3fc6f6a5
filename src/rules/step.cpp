#include "rules/step.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include "core/entity_id.hpp"
#include "core/text.hpp"
#include "docspace/names.hpp"

namespace spacehook::rules {

using config::Diagnostics;
using config::Document;
using config::PointerJoin;

namespace {

const std::vector<std::string_view> kStepKindNames = {
    "create_room", "create_folder", "create_folders", "copy_as", "set_access",
    "copy",        "move",          "mail",           "chat",    "http"};

/// How an input is written and rendered.
enum class Input {
    kText,         ///< text (template allowed)
    kId,           ///< one id: number, text or template
    kIdList,       ///< ids: YAML list or comma-separated text
    kTextList,     ///< texts: YAML list or comma-separated text
    kAddressList,  ///< mail addresses: YAML list or one text (never split here: "Doe, Jane <j@x>")
    kItems,        ///< files and folders as objects ({{ entity }}, {{ steps.copy.files }})
    kBool,         ///< literal true/false
    kRoomType,     ///< literal name or number
    kConflict,     ///< literal skip | overwrite | duplicate
    kMethod,       ///< literal HTTP method
    kChatKind,     ///< literal slack | teams | generic
    kChannel,      ///< literal name of chat.channels.<name>
    kTextMap,      ///< map of name -> text
    kAny,          ///< any JSON; every string in it may be a template
    kEntries,      ///< set_access entries
};

struct InputSpec {
    std::string_view key;
    Input type;
    bool required;
};

const std::vector<InputSpec>& SpecsOf(StepKind kind) {
    static const std::vector<InputSpec> kCreateRoom = {
        {"title", Input::kText, true}, {"type", Input::kRoomType, true}, {"tags", Input::kTextList, false}};
    static const std::vector<InputSpec> kCreateFolder = {{"in", Input::kId, true},
                                                         {"title", Input::kText, true}};
    static const std::vector<InputSpec> kCreateFolders = {{"in", Input::kId, true},
                                                          {"titles", Input::kTextList, true}};
    static const std::vector<InputSpec> kCopyAs = {
        {"files", Input::kIdList, true}, {"to", Input::kId, true}, {"title", Input::kText, false}};
    static const std::vector<InputSpec> kSetAccess = {{"room", Input::kId, true},
                                                      {"entries", Input::kEntries, true},
                                                      {"notify", Input::kBool, false},
                                                      {"message", Input::kText, false}};
    static const std::vector<InputSpec> kCopyMove = {{"to", Input::kId, true},
                                                     {"files", Input::kIdList, false},
                                                     {"folders", Input::kIdList, false},
                                                     {"items", Input::kItems, false},
                                                     {"conflict", Input::kConflict, false}};
    static const std::vector<InputSpec> kMail = {
        {"to", Input::kAddressList, true}, {"cc", Input::kAddressList, false}, {"from", Input::kText, false},
        {"reply_to", Input::kText, false}, {"subject", Input::kText, true},    {"body", Input::kText, false},
        {"html", Input::kText, false}};
    static const std::vector<InputSpec> kChat = {
        {"channel", Input::kChannel, false}, {"kind", Input::kChatKind, false}, {"url", Input::kText, false},
        {"text", Input::kText, true},        {"title", Input::kText, false},    {"link", Input::kText, false},
        {"link_title", Input::kText, false}, {"facts", Input::kTextMap, false}};
    static const std::vector<InputSpec> kHttp = {{"url", Input::kText, true},
                                                 {"method", Input::kMethod, false},
                                                 {"headers", Input::kTextMap, false},
                                                 {"body", Input::kAny, false}};
    switch (kind) {
        case StepKind::kCreateRoom:
            return kCreateRoom;
        case StepKind::kCreateFolder:
            return kCreateFolder;
        case StepKind::kCreateFolders:
            return kCreateFolders;
        case StepKind::kCopyAs:
            return kCopyAs;
        case StepKind::kSetAccess:
            return kSetAccess;
        case StepKind::kCopy:
        case StepKind::kMove:
            return kCopyMove;
        case StepKind::kMail:
            return kMail;
        case StepKind::kChat:
            return kChat;
        case StepKind::kHttp:
            return kHttp;
    }
    return kMail;
}

bool IsStepId(std::string_view id) {
    if (id.empty() || !(std::isalpha(static_cast<unsigned char>(id[0])) || id[0] == '_')) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
}

const std::vector<std::string_view> kEntrySubjects = {"user", "users", "group", "groups", "email", "emails"};

class StepCompiler {
public:
    StepCompiler(const Document& doc, const RuleScope& scope, const std::vector<std::string>& earlier,
                 const CompileOptions& options, NeededFacts& needs, Diagnostics& diagnostics)
        : doc_(doc), options_(options), needs_(needs), diagnostics_(diagnostics) {
        references_.rule = &scope;
        references_.earlier_steps = &earlier;
        references_.in_step = true;
    }

    std::optional<Step> Compile(const std::string& pointer) {
        const std::size_t errors_before = diagnostics_.size();
        const Json* value = doc_.Find(pointer);
        if (value == nullptr || !value->is_object()) {
            Error(pointer, fmt::format("a step must be a map like {{move: {{to: 567}}}}, got {}",
                                       value ? config::KindName(*value) : "nothing"));
            return std::nullopt;
        }
        Step step;
        step.location = doc_.Locate(pointer);
        std::optional<std::string> kind_key;
        for (const auto& [key, unused] : value->items()) {
            if (key == "id") continue;
            if (ParseStepKind(key)) {
                if (kind_key) {
                    Error(PointerJoin(pointer, key),
                          fmt::format("a step does one thing: both {} and {} here; write two steps",
                                      *kind_key, key));
                    return std::nullopt;
                }
                kind_key = key;
                continue;
            }
            std::vector<std::string_view> allowed = kStepKindNames;
            allowed.push_back("id");
            Error(PointerJoin(pointer, key), config::UnknownKeyMessage(key, "a step", allowed));
        }
        if (!kind_key) {
            if (diagnostics_.size() == errors_before) {
                Error(pointer, fmt::format("a step needs one of: {}", fmt::join(kStepKindNames, ", ")));
            }
            return std::nullopt;
        }
        step.kind = *ParseStepKind(*kind_key);
        step.id = *kind_key;
        if (value->contains("id")) {
            auto id = doc_.TextAt(PointerJoin(pointer, "id"));
            if (!id || !IsStepId(*id)) {
                Error(PointerJoin(pointer, "id"),
                      "a step id is a name of letters, digits, '_' and '-' starting with a letter "
                      "(steps.<id>.* reads it)");
                return std::nullopt;
            }
            step.id = *id;
        }
        const std::string input_pointer = PointerJoin(pointer, *kind_key);
        const Json& input = (*value)[*kind_key];
        if (!input.is_object()) {
            Error(input_pointer,
                  fmt::format("{} takes a map of inputs, got {}", *kind_key, config::KindName(input)));
            return std::nullopt;
        }
        step_name_ = *kind_key;
        std::vector<std::string_view> allowed;
        for (const auto& spec : SpecsOf(step.kind)) allowed.push_back(spec.key);
        // After a typo ("too:") the "needs to" that follows would only repeat it.
        const bool keys_ok = config::CheckKeys(doc_, input_pointer, input, *kind_key, allowed, diagnostics_);
        for (const auto& spec : SpecsOf(step.kind)) {
            const std::string key_pointer = PointerJoin(input_pointer, spec.key);
            const Json* raw = input.contains(spec.key) ? &input[std::string(spec.key)] : nullptr;
            std::optional<Json> compiled;
            const std::size_t input_errors = diagnostics_.size();
            if (raw != nullptr && !raw->is_null()) compiled = CompileInput(spec, key_pointer, *raw);
            if (diagnostics_.size() != input_errors) continue;
            const bool empty = !compiled || (compiled->is_array() && compiled->empty());
            if (spec.required && empty && keys_ok) {
                // Also an input whose only values were unset optional variables: known empty at load.
                if (raw == nullptr) {
                    Error(input_pointer, fmt::format("{} needs {}", *kind_key, spec.key));
                } else {
                    Error(key_pointer,
                          fmt::format("{} needs {}, and it is empty here (an unset ${{VAR:-}} gives nothing)",
                                      *kind_key, spec.key));
                }
            } else if (compiled) {
                step.input[std::string(spec.key)] = std::move(*compiled);
            }
        }
        if (diagnostics_.size() == errors_before) CheckStep(step, input_pointer);
        if (diagnostics_.size() != errors_before) return std::nullopt;
        return step;
    }

private:
    void Error(const std::string& pointer, std::string_view message) {
        diagnostics_.AddAt(doc_, pointer, message);
    }

    /// Parses a template string and checks what it reads. The string back, or nullopt.
    std::optional<Json> TemplateText(const std::string& pointer, std::string text) {
        if (!Template::HasExpressions(text)) return Json(std::move(text));
        auto parsed = Template::Parse(text);
        if (!parsed) {
            Error(pointer, parsed.error().message);
            return std::nullopt;
        }
        if (auto problem = CheckReferences(*parsed, references_, needs_)) {
            Error(pointer, *problem);
            return std::nullopt;
        }
        return Json(std::move(text));
    }

    std::optional<Json> Scalar(const std::string& pointer, const Json& value, std::string_view key,
                               bool as_id) {
        if (value.is_structured()) {
            Error(pointer,
                  fmt::format("{} takes {}, got {}", key, as_id ? "an id" : "text", config::KindName(value)));
            return std::nullopt;
        }
        if (as_id && value.is_number_integer()) return value;
        auto text = doc_.TextAt(pointer);
        if (!text) return std::nullopt;
        if (as_id && !Template::HasExpressions(*text)) {
            auto trimmed = std::string(Trim(*text));
            if (trimmed.empty()) return std::nullopt;
            return EntityId::Parse(std::move(trimmed)).ToJson();
        }
        return TemplateText(pointer, std::move(*text));
    }

    /// A YAML list (null entries dropped) or one text, kept as written; splitting happens at render.
    std::optional<Json> List(const std::string& pointer, const Json& value, std::string_view key,
                             bool as_id) {
        if (!value.is_array()) return Scalar(pointer, value, key, as_id);
        Json out = Json::array();
        bool ok = true;
        for (std::size_t i = 0; i < value.size(); ++i) {
            if (value[i].is_null()) continue;
            auto item = Scalar(PointerJoin(pointer, i), value[i], key, as_id);
            if (!item) {
                ok = ok && !value[i].is_structured();
                continue;
            }
            out.push_back(std::move(*item));
        }
        if (!ok) return std::nullopt;
        return out;
    }

    std::optional<Json> Literal(const std::string& pointer, const Json& value, std::string_view key,
                                const std::vector<std::string_view>& options, bool upper = false) {
        auto text = value.is_string() ? std::optional<std::string>(value.get<std::string>()) : std::nullopt;
        if (text && upper) text = ToUpper(*text);
        if (!text || std::find(options.begin(), options.end(), *text) == options.end()) {
            Error(pointer, fmt::format("{} must be one of {}{}", key, fmt::join(options, ", "),
                                       value.is_primitive() ? ", got " + value.dump() : ""));
            return std::nullopt;
        }
        return Json(*text);
    }

    std::optional<Json> CompileInput(const InputSpec& spec, const std::string& pointer, const Json& value) {
        switch (spec.type) {
            case Input::kText:
                return Scalar(pointer, value, spec.key, false);
            case Input::kId:
                return Scalar(pointer, value, spec.key, true);
            case Input::kIdList:
                return List(pointer, value, spec.key, true);
            case Input::kTextList:
            case Input::kAddressList:
            case Input::kItems:
                return List(pointer, value, spec.key, false);
            case Input::kBool:
                if (!value.is_boolean()) {
                    Error(pointer, fmt::format("{} must be true or false", spec.key));
                    return std::nullopt;
                }
                return value;
            case Input::kRoomType: {
                if (value.is_number_integer()) {
                    const auto number = value.get<std::int64_t>();
                    const auto& types = docspace::RoomTypes();
                    if (std::any_of(types.begin(), types.end(),
                                    [&](const auto& t) { return t.second == number; })) {
                        return value;
                    }
                }
                if (value.is_string()) {
                    if (auto number = docspace::ParseRoomType(value.get<std::string>())) return Json(*number);
                }
                std::vector<std::string_view> names;
                for (const auto& [name, number] : docspace::RoomTypes()) names.push_back(name);
                Error(pointer,
                      fmt::format("unknown room type {}; types are {} (or their numbers 1, 2, 5, 6, 8, 9)",
                                  value.dump(), fmt::join(names, ", ")));
                return std::nullopt;
            }
            case Input::kConflict:
                return Literal(pointer, value, spec.key, {"skip", "overwrite", "duplicate"});
            case Input::kMethod:
                return Literal(pointer, value, spec.key, {"GET", "POST", "PUT", "PATCH", "DELETE"}, true);
            case Input::kChatKind:
                return Literal(pointer, value, spec.key, {"slack", "teams", "generic"});
            case Input::kChannel: {
                if (!value.is_string() || value.get<std::string>().empty()) {
                    Error(pointer, "channel must be the name of one of chat.channels");
                    return std::nullopt;
                }
                const auto name = value.get<std::string>();
                if (options_.chat_channels && !options_.chat_channels->count(name)) {
                    std::vector<std::string_view> known(options_.chat_channels->begin(),
                                                        options_.chat_channels->end());
                    const auto suggestion = config::ClosestName(name, known);
                    Error(pointer,
                          fmt::format("no chat channel '{}' in chat.channels{}", name,
                                      suggestion.empty() ? "" : "; did you mean '" + suggestion + "'?"));
                    return std::nullopt;
                }
                return value;
            }
            case Input::kTextMap: {
                if (!value.is_object()) {
                    Error(pointer, fmt::format("{} takes a map of names to text", spec.key));
                    return std::nullopt;
                }
                Json out = Json::object();
                for (const auto& [name, item] : value.items()) {
                    auto text = Scalar(PointerJoin(pointer, name), item, spec.key, false);
                    if (!text) {
                        if (item.is_structured()) return std::nullopt;
                        continue;
                    }
                    out[name] = std::move(*text);
                }
                return out;
            }
            case Input::kAny:
                return AnyValue(pointer, value);
            case Input::kEntries:
                return Entries(pointer, value);
        }
        return std::nullopt;
    }

    std::optional<Json> AnyValue(const std::string& pointer, const Json& value) {
        if (value.is_string()) return TemplateText(pointer, value.get<std::string>());
        if (value.is_array()) {
            Json out = Json::array();
            for (std::size_t i = 0; i < value.size(); ++i) {
                auto item = AnyValue(PointerJoin(pointer, i), value[i]);
                if (!item) return std::nullopt;
                out.push_back(std::move(*item));
            }
            return out;
        }
        if (value.is_object()) {
            Json out = Json::object();
            for (const auto& [key, item] : value.items()) {
                auto rendered = AnyValue(PointerJoin(pointer, key), item);
                if (!rendered) return std::nullopt;
                out[key] = std::move(*rendered);
            }
            return out;
        }
        return value;
    }

    std::optional<Json> Entries(const std::string& pointer, const Json& value) {
        if (!value.is_array() || value.empty()) {
            Error(pointer, "entries takes a list like [{user: \"{{ user.id }}\", access: editor}]");
            return std::nullopt;
        }
        Json out = Json::array();
        bool ok = true;
        for (std::size_t i = 0; i < value.size(); ++i) {
            const std::string entry_pointer = PointerJoin(pointer, i);
            const Json& entry = value[i];
            if (!entry.is_object()) {
                Error(entry_pointer, "an entry is a map like {group: ${HR_GROUP_ID}, access: viewer}");
                ok = false;
                continue;
            }
            std::vector<std::string_view> allowed = kEntrySubjects;
            allowed.push_back("access");
            if (!config::CheckKeys(doc_, entry_pointer, entry, "an entry", allowed, diagnostics_)) {
                ok = false;
                continue;
            }
            std::vector<std::string> subjects;
            for (auto subject : kEntrySubjects) {
                if (entry.contains(subject)) subjects.emplace_back(subject);
            }
            if (subjects.size() != 1) {
                Error(entry_pointer,
                      fmt::format("an entry names exactly one of {}", fmt::join(kEntrySubjects, ", ")));
                ok = false;
                continue;
            }
            if (!entry.contains("access")) {
                Error(entry_pointer, "an entry needs access: one of the named levels (editor, viewer, ...)");
                ok = false;
                continue;
            }
            const std::string access_pointer = PointerJoin(entry_pointer, "access");
            const Json& access = entry["access"];
            std::optional<int> level;
            if (access.is_string()) {
                if (auto parsed = docspace::ParseAccessLevel(access.get<std::string>())) level = *parsed;
            }
            if (!level) {
                std::vector<std::string_view> names;
                for (const auto& [name, number] : docspace::AccessLevels()) names.push_back(name);
                names.push_back("remove");
                const std::string written = access.is_string() ? access.get<std::string>() : access.dump();
                const auto suggestion =
                    access.is_string() ? config::ClosestName(written, names) : std::string();
                // Numbers are refused on purpose: DocSpace reads any unknown value as 0 = remove, and the
                // numbers are easy to confuse (4 is "Varies", not full access; docs/docspace-api.md §0).
                Error(access_pointer,
                      fmt::format("unknown access level '{}'{}; levels are {}", written,
                                  suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)",
                                  fmt::join(names, ", ")));
                ok = false;
                continue;
            }
            const std::string& subject = subjects[0];
            const std::string subject_pointer = PointerJoin(entry_pointer, subject);
            const Json& subject_value = entry[subject];
            std::optional<Json> values;
            if (!subject_value.is_null()) values = List(subject_pointer, subject_value, subject, false);
            const std::string kind =
                subject.substr(0, subject.back() == 's' ? subject.size() - 1 : subject.size());
            out.push_back({{"kind", kind},
                           {"value", values ? *values : Json::array()},
                           {"access", *level},
                           {"access_name", access.get<std::string>()}});
        }
        if (!ok) return std::nullopt;
        return out;
    }

    void CheckStep(Step& step, const std::string& input_pointer) {
        Json& input = step.input;
        switch (step.kind) {
            case StepKind::kMail:
                if (!input.contains("body") && !input.contains("html"))
                    Error(input_pointer, "mail needs body or html");
                break;
            case StepKind::kChat:
                if (input.contains("channel") && input.contains("url")) {
                    Error(input_pointer,
                          "chat takes either channel (a name from chat.channels) or kind and url, not both");
                } else if (!input.contains("channel") && !input.contains("url")) {
                    Error(input_pointer, "chat needs channel (a name from chat.channels) or kind and url");
                } else if (input.contains("url") && !input.contains("kind")) {
                    Error(input_pointer, "chat with url needs kind: slack, teams or generic");
                } else if (input.contains("channel") && input.contains("kind")) {
                    Error(PointerJoin(input_pointer, "kind"),
                          "a named channel has its kind in chat.channels");
                }
                break;
            case StepKind::kCopy:
            case StepKind::kMove:
                if (!input.contains("files") && !input.contains("folders") && !input.contains("items")) {
                    // Default: the event's own entity.
                    const RuleScope& scope = *references_.rule;
                    if (!scope.Allows(EntityKind::kFile) && !scope.Allows(EntityKind::kFolder)) {
                        Error(input_pointer,
                              fmt::format("{} needs files, folders or items: this rule's events ({}) are "
                                          "not about a file or folder",
                                          step_name_, scope.triggers));
                    } else {
                        input["items"] = "{{ entity }}";
                    }
                }
                if (!input.contains("conflict")) input["conflict"] = "skip";
                break;
            case StepKind::kSetAccess:
                if (!input.contains("notify")) input["notify"] = false;
                break;
            case StepKind::kHttp:
                if (!input.contains("method")) input["method"] = "POST";
                break;
            case StepKind::kCreateRoom:
            case StepKind::kCreateFolder:
            case StepKind::kCreateFolders:
            case StepKind::kCopyAs:
                break;
        }
    }

    const Document& doc_;
    const CompileOptions& options_;
    NeededFacts& needs_;
    Diagnostics& diagnostics_;
    ReferenceScope references_;
    std::string step_name_;
};

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

class StepRenderer {
public:
    StepRenderer(const Step& step, const TemplateContext& context, RenderMode mode)
        : step_(step), context_(context.values()), mode_(mode) {}

    Result<Json> Render() {
        Json out = Json::object();
        for (const auto& spec : SpecsOf(step_.kind)) {
            auto it = step_.input.find(spec.key);
            if (it == step_.input.end()) continue;
            auto rendered = RenderInput(spec, *it);
            if (!rendered) return rendered;
            if (rendered->is_null()) continue;
            out[std::string(spec.key)] = std::move(*rendered);
        }
        return Finish(std::move(out));
    }

private:
    tl::unexpected<spacehook::Error> Problem(std::string_view key, std::string_view message) const {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("step {} ({}): {}: {}", step_.id, ToString(step_.kind), key, message));
    }

    bool Unresolved(const Json& value) const {
        return mode_ == RenderMode::kKeepUnresolved && value.is_string() &&
               Template::HasExpressions(value.get_ref<const std::string&>());
    }

    Result<Json> Value(std::string_view key, const Json& input) const {
        auto rendered = RenderJson(input, context_, mode_);
        if (!rendered) return Problem(key, rendered.error().message);
        return rendered;
    }

    Result<Json> Text(std::string_view key, const Json& input) const {
        auto value = Value(key, input);
        if (!value) return value;
        if (value->is_structured())
            return Problem(key, fmt::format("expected text, got {}", config::KindName(*value)));
        return Json(TemplateText(*value));
    }

    /// One rendered value as an id: a number, a text id (numeric text becomes a number, as DocSpace's
    /// internal ids are), or an object with an `id` (a DTO from an earlier step).
    Result<Json> IdOf(std::string_view key, const Json& value) const {
        if (Unresolved(value)) return value;
        if (value.is_number_integer() || value.is_number_unsigned()) return value;
        if (value.is_string()) {
            auto text = std::string(Trim(value.get_ref<const std::string&>()));
            if (text.empty()) return Problem(key, "empty id");
            return EntityId::Parse(std::move(text)).ToJson();
        }
        if (value.is_object() && value.contains("id")) return IdOf(key, value["id"]);
        return Problem(key, fmt::format("expected an id, got {}",
                                        value.is_null() ? "nothing" : config::KindName(value)));
    }

    /// The items of a list input: a YAML list, or a text split on commas; arrays produced by templates
    /// are flattened; empty entries (an unset optional variable) are dropped.
    /// `split_entries`: literal entries of a YAML list are split too (ids from env lists); titles and
    /// tags keep theirs, so a title with a comma can still be written as a list entry.
    Result<std::vector<Json>> Items(std::string_view key, const Json& input, bool split_text,
                                    bool split_entries = false) const {
        std::vector<Json> out;
        auto add = [&](Json value, bool top_level_text) {
            if (value.is_null()) return;
            if (value.is_array()) {
                for (auto& item : value) {
                    if (!item.is_null() &&
                        !(item.is_string() && Trim(item.get_ref<const std::string&>()).empty())) {
                        out.push_back(std::move(item));
                    }
                }
                return;
            }
            if (value.is_string()) {
                const std::string& text = value.get_ref<const std::string&>();
                if (split_text && top_level_text && !Unresolved(value)) {
                    std::string_view rest = text;
                    while (true) {
                        const auto comma = rest.find(',');
                        const auto piece = Trim(rest.substr(0, comma));
                        if (!piece.empty()) out.emplace_back(std::string(piece));
                        if (comma == std::string_view::npos) break;
                        rest.remove_prefix(comma + 1);
                    }
                    return;
                }
                if (Trim(text).empty()) return;
            }
            out.push_back(std::move(value));
        };
        if (input.is_array()) {
            for (const auto& item : input) {
                auto value = Value(key, item);
                if (!value) return tl::unexpected(value.error());
                // A literal entry is split too (`users: [${MANAGER_ID}, ${EXTRA_IDS:-}]`); what a
                // template produced inside a list is taken as it is.
                const bool literal =
                    item.is_string() && !Template::HasExpressions(item.get_ref<const std::string&>());
                add(std::move(*value), split_entries && literal);
            }
        } else {
            auto value = Value(key, input);
            if (!value) return tl::unexpected(value.error());
            add(std::move(*value), true);
        }
        return out;
    }

    Result<Json> IdList(std::string_view key, const Json& input) const {
        auto items = Items(key, input, true, true);
        if (!items) return tl::unexpected(items.error());
        Json out = Json::array();
        for (const auto& item : *items) {
            auto id = IdOf(key, item);
            if (!id) return id;
            out.push_back(std::move(*id));
        }
        return out;
    }

    Result<Json> TextList(std::string_view key, const Json& input, bool split) const {
        auto items = Items(key, input, split);
        if (!items) return tl::unexpected(items.error());
        Json out = Json::array();
        for (const auto& item : *items) {
            if (item.is_structured())
                return Problem(key, fmt::format("expected text, got {}", config::KindName(item)));
            out.push_back(TemplateText(item));
        }
        return out;
    }

    Result<Json> RenderInput(const InputSpec& spec, const Json& input) const {
        switch (spec.type) {
            case Input::kText:
                return Text(spec.key, input);
            case Input::kId: {
                auto value = Value(spec.key, input);
                if (!value) return value;
                return IdOf(spec.key, *value);
            }
            case Input::kIdList:
                return IdList(spec.key, input);
            case Input::kTextList:
                return TextList(spec.key, input, true);
            case Input::kAddressList:
                return TextList(spec.key, input, false);
            case Input::kItems: {
                auto items = Items(spec.key, input, false);
                if (!items) return tl::unexpected(items.error());
                return Json(std::move(*items));
            }
            case Input::kTextMap: {
                Json out = Json::object();
                for (const auto& [name, item] : input.items()) {
                    auto text = Text(spec.key, item);
                    if (!text) return text;
                    out[name] = std::move(*text);
                }
                return out;
            }
            case Input::kAny:
                return Value(spec.key, input);
            case Input::kEntries:
                return Invitations(input);
            case Input::kBool:
            case Input::kRoomType:
            case Input::kConflict:
            case Input::kMethod:
            case Input::kChatKind:
            case Input::kChannel:
                return input;
        }
        return input;
    }

    /// set_access entries -> DocSpace invitations [{id, access}] / [{email, access}] (docs/docspace-api.md
    /// §2.5).
    Result<Json> Invitations(const Json& entries) const {
        Json out = Json::array();
        for (const auto& entry : entries) {
            const std::string kind = entry["kind"].get<std::string>();
            const std::string key = kind == "email" ? "emails" : kind + "s";
            auto items = Items(key, entry["value"], true, true);
            if (!items) return tl::unexpected(items.error());
            for (const auto& item : *items) {
                if (kind == "email") {
                    const Json address = item.is_object() && item.contains("email") ? item["email"] : item;
                    if (!address.is_string()) return Problem(key, "expected an e-mail address");
                    out.push_back({{"email", address.get<std::string>()}, {"access", entry["access"]}});
                } else {
                    auto id = IdOf(key, item);
                    if (!id) return id;
                    out.push_back({{"id", TemplateText(*id)}, {"access", entry["access"]}, {"kind", kind}});
                }
            }
        }
        return out;
    }

    Result<Json> Finish(Json out) const {
        const bool strict = mode_ == RenderMode::kStrict;
        switch (step_.kind) {
            case StepKind::kCopy:
            case StepKind::kMove: {
                Json files = out.contains("files") ? out["files"] : Json::array();
                Json folders = out.contains("folders") ? out["folders"] : Json::array();
                if (out.contains("items")) {
                    for (const auto& item : out["items"]) {
                        auto placed = PlaceItem(item, files, folders);
                        if (!placed) return tl::unexpected(placed.error());
                    }
                    out.erase("items");
                }
                if (strict && files.empty() && folders.empty())
                    return Problem("files", "nothing to " + std::string(ToString(step_.kind)));
                out["files"] = std::move(files);
                out["folders"] = std::move(folders);
                break;
            }
            case StepKind::kCopyAs:
                if (strict && out["files"].empty()) return Problem("files", "no file to copy");
                if (!out.contains("title")) out["title"] = nullptr;  // keep each file's own title
                break;
            case StepKind::kCreateFolders:
                if (strict && out["titles"].empty()) return Problem("titles", "no folder title");
                break;
            case StepKind::kCreateRoom:
                if (!out.contains("tags")) out["tags"] = Json::array();
                break;
            case StepKind::kSetAccess:
                out["invitations"] = std::move(out["entries"]);
                out.erase("entries");
                if (!out.contains("message")) out["message"] = "";
                break;
            case StepKind::kMail:
                if (strict && out["to"].empty()) return Problem("to", "no recipient");
                if (!out.contains("cc")) out["cc"] = Json::array();
                break;
            case StepKind::kChat:
            case StepKind::kHttp:
                if (strict && out.contains("url") && !IsHttpUrl(out["url"].get<std::string>())) {
                    return Problem("url", "expected an http(s) URL");
                }
                if (!out.contains("headers") && step_.kind == StepKind::kHttp)
                    out["headers"] = Json::object();
                break;
            case StepKind::kCreateFolder:
                break;
        }
        return out;
    }

    /// An item is a file or folder object: `{{ entity }}` ({id, kind}) or a DTO from an earlier step
    /// ({id, fileEntryType}). Bare ids cannot say which they are; those go under files: or folders:.
    Status PlaceItem(const Json& item, Json& files, Json& folders) const {
        if (Unresolved(item)) {
            files.push_back(item);
            return Ok();
        }
        if (!item.is_object() || !item.contains("id")) {
            return Problem(
                "items",
                "expected files or folders as objects (like {{ entity }} or {{ steps.copy.files }}); "
                "write plain ids under files: or folders:");
        }
        std::string kind;
        if (item.contains("kind") && item["kind"].is_string()) kind = item["kind"].get<std::string>();
        if (item.contains("fileEntryType") && item["fileEntryType"].is_number_integer()) {
            kind = item["fileEntryType"].get<int>() == 2 ? "file" : "folder";
        }
        auto id = IdOf("items", item["id"]);
        if (!id) return tl::unexpected(id.error());
        if (kind == "file") {
            files.push_back(std::move(*id));
        } else if (kind == "folder") {
            folders.push_back(std::move(*id));
        } else {
            return Problem("items", fmt::format("a {} cannot be copied or moved",
                                                kind.empty() ? "thing of unknown kind" : kind));
        }
        return Ok();
    }

    const Step& step_;
    const Json& context_;
    RenderMode mode_;
};

}  // namespace

std::string_view ToString(StepKind kind) {
    return kStepKindNames[static_cast<std::size_t>(kind)];
}

std::optional<StepKind> ParseStepKind(std::string_view name) {
    auto it = std::find(kStepKindNames.begin(), kStepKindNames.end(), name);
    if (it == kStepKindNames.end()) return std::nullopt;
    return static_cast<StepKind>(it - kStepKindNames.begin());
}

const std::vector<std::string_view>& StepKindNames() {
    return kStepKindNames;
}

Json Step::ToJson() const {
    return {{"kind", std::string(rules::ToString(kind))}, {"id", id}, {"input", input}};
}

Result<Step> Step::FromJson(const Json& json) {
    if (!json.is_object() || !json.contains("kind") || !json["kind"].is_string() || !json.contains("id") ||
        !json["id"].is_string() || !json.contains("input") || !json["input"].is_object()) {
        return Fail(ErrorCode::kInvalidArgument, "a stored step needs kind, id and input");
    }
    auto kind = ParseStepKind(json["kind"].get<std::string>());
    if (!kind) return Fail(ErrorCode::kInvalidArgument, "unknown step kind " + json["kind"].dump());
    Step step;
    step.kind = *kind;
    step.id = json["id"].get<std::string>();
    step.input = json["input"];
    return step;
}

std::optional<Step> CompileStep(const Document& doc, const std::string& pointer, const RuleScope& scope,
                                const std::vector<std::string>& earlier_steps, const CompileOptions& options,
                                NeededFacts& needs, Diagnostics& diagnostics) {
    StepCompiler compiler(doc, scope, earlier_steps, options, needs, diagnostics);
    return compiler.Compile(pointer);
}

Result<Json> RenderStepInput(const Step& step, const TemplateContext& context, RenderMode mode) {
    return StepRenderer(step, context, mode).Render();
}

}  // namespace spacehook::rules
