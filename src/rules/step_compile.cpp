// Step compilation: a `do:` element -> rules::Step, checked against its kind's inputs (step.hpp).
// Rendering is step_render.cpp; the kinds themselves are in src/steps.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "core/entity_id.hpp"
#include "core/text.hpp"
#include "docspace/names.hpp"
#include "rules/step.hpp"

namespace spacehook::rules {

using config::Diagnostics;
using config::Document;
using config::PointerJoin;

namespace {

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
                 const StepKinds& kinds, const CompileOptions& options, NeededFacts& needs,
                 Diagnostics& diagnostics)
        : doc_(doc),
          scope_(scope),
          kinds_(kinds),
          options_(options),
          needs_(&needs),
          diagnostics_(&diagnostics) {
        references_.rule = &scope;
        references_.earlier_steps = &earlier;
        references_.in_step = true;
    }

    std::optional<Step> Compile(const std::string& pointer) {
        const std::size_t errors_before = diagnostics_->size();
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
            if (kinds_.Find(key) != nullptr) {
                if (kind_key) {
                    Error(PointerJoin(pointer, key),
                          fmt::format("a step does one thing: both {} and {} here; write two steps",
                                      *kind_key, key));
                    return std::nullopt;
                }
                kind_key = key;
                continue;
            }
            std::vector<std::string_view> allowed = kinds_.Names();
            allowed.push_back("id");
            Error(PointerJoin(pointer, key), config::UnknownKeyMessage(key, "a step", allowed));
        }
        if (!kind_key) {
            if (diagnostics_->size() == errors_before) {
                Error(pointer, fmt::format("a step needs one of: {}", fmt::join(kinds_.Names(), ", ")));
            }
            return std::nullopt;
        }
        step.kind = kinds_.Find(*kind_key);
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
        std::vector<std::string_view> allowed;
        for (const auto& spec : step.kind->inputs()) allowed.push_back(spec.key);
        // After a typo ("too:") the "needs to" that follows would only repeat it.
        const bool keys_ok = config::CheckKeys(doc_, input_pointer, input, *kind_key, allowed, *diagnostics_);
        Json resolved = Json::object();
        for (const auto& spec : step.kind->inputs()) {
            const std::string key_pointer = PointerJoin(input_pointer, spec.key);
            const Json* raw = input.contains(spec.key) ? &input[std::string(spec.key)] : nullptr;
            std::optional<Json> compiled;
            const std::size_t input_errors = diagnostics_->size();
            sensitive_ = spec.sensitive;
            secrets_ = &step.secrets;
            if (raw != nullptr && !raw->is_null()) compiled = CompileInput(spec, key_pointer, *raw);
            secrets_ = nullptr;
            if (diagnostics_->size() != input_errors) continue;
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
                step.input[std::string(spec.key)] = WrittenForm(spec, key_pointer, *raw).value_or(*compiled);
                resolved[std::string(spec.key)] = std::move(*compiled);
            }
        }
        if (diagnostics_->size() == errors_before) {
            StepCheck check(resolved, scope_, doc_, input_pointer, *diagnostics_);
            step.kind->Check(check);
            // The same again on the written form, for what a kind's check adds (copy's default items).
            Diagnostics ignored;
            StepCheck written(step.input, scope_, doc_, input_pointer, ignored);
            step.kind->Check(written);
        }
        if (diagnostics_->size() == errors_before) {
            for (const auto& spec : step.kind->inputs()) {
                if (spec.default_value.is_null()) continue;
                if (!step.input.contains(spec.key)) step.input[std::string(spec.key)] = spec.default_value;
                if (!resolved.contains(spec.key)) resolved[std::string(spec.key)] = spec.default_value;
            }
        }
        if (diagnostics_->size() != errors_before) return std::nullopt;
        step.resolved = std::move(resolved);
        return step;
    }

private:
    /// The input compiled again, keeping what `${...}` changed as written (Step::input); problems were
    /// reported by the first pass.
    std::optional<Json> WrittenForm(const InputSpec& spec, const std::string& pointer, const Json& raw) {
        Diagnostics ignored;
        NeededFacts unused;
        Diagnostics* diagnostics = std::exchange(diagnostics_, &ignored);
        NeededFacts* needs = std::exchange(needs_, &unused);
        as_written_ = true;
        auto written = CompileInput(spec, pointer, raw);
        as_written_ = false;
        diagnostics_ = diagnostics;
        needs_ = needs;
        return written;
    }

    void Error(const std::string& pointer, std::string_view message) {
        diagnostics_->AddAt(doc_, pointer, message);
    }

    /// The value a pass keeps for the scalar at `pointer` whose expanded form is `expanded`: as written
    /// in the Step::input pass when `${...}` changed it, else `expanded`. The Step::resolved pass notes
    /// the secrets it holds.
    Json Kept(const std::string& pointer, Json expanded) {
        auto it = doc_.written.find(pointer);
        if (it == doc_.written.end()) return expanded;
        if (as_written_) return Json(it->second.text);
        if (secrets_ != nullptr) {
            for (const auto& use : it->second.uses) {
                if ((use.secret || sensitive_) && !use.value.empty()) secrets_->push_back(use.value);
            }
        }
        return expanded;
    }

    /// Parses a template string and checks what it reads. The string back, or nullopt.
    std::optional<Json> TemplateText(const std::string& pointer, std::string text) {
        if (!Template::HasExpressions(text)) return Json(std::move(text));
        auto parsed = Template::Parse(text);
        if (!parsed) {
            Error(pointer, parsed.error().message);
            return std::nullopt;
        }
        if (auto problem = CheckReferences(*parsed, references_, *needs_)) {
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
        if (as_id && value.is_number_integer()) return Kept(pointer, value);
        auto text = doc_.TextAt(pointer);
        if (!text) return std::nullopt;
        if (as_id && !Template::HasExpressions(*text)) {
            auto trimmed = std::string(Trim(*text));
            if (trimmed.empty()) return std::nullopt;
            return Kept(pointer, EntityId::Parse(std::move(trimmed)).ToJson());
        }
        auto checked = TemplateText(pointer, std::move(*text));
        if (!checked) return std::nullopt;
        return Kept(pointer, std::move(*checked));
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
            case InputType::kText:
            case InputType::kUrl:  // percent-encoding is a rendering matter (step_render.cpp)
                return Scalar(pointer, value, spec.key, false);
            case InputType::kId:
                return Scalar(pointer, value, spec.key, true);
            case InputType::kIdList:
                return List(pointer, value, spec.key, true);
            case InputType::kTextList:
            case InputType::kAddressList:
            case InputType::kItems:
                return List(pointer, value, spec.key, false);
            case InputType::kBool:
                if (!value.is_boolean()) {
                    Error(pointer, fmt::format("{} must be true or false", spec.key));
                    return std::nullopt;
                }
                return value;
            case InputType::kRoomType: {
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
            case InputType::kChoice:
                return Literal(pointer, value, spec.key, spec.choices);
            case InputType::kMethod:
                return Literal(pointer, value, spec.key, {"GET", "POST", "PUT", "PATCH", "DELETE"}, true);
            case InputType::kChannel: {
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
            case InputType::kTextMap: {
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
            case InputType::kAny:
                return AnyValue(pointer, value);
            case InputType::kEntries:
                return Entries(pointer, value);
        }
        return std::nullopt;
    }

    std::optional<Json> AnyValue(const std::string& pointer, const Json& value) {
        if (value.is_string()) {
            auto checked = TemplateText(pointer, value.get<std::string>());
            if (!checked) return std::nullopt;
            return Kept(pointer, std::move(*checked));
        }
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
        // A number or true/false from an unquoted ${VAR} keeps its type, so it is resolved at load.
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
            if (!config::CheckKeys(doc_, entry_pointer, entry, "an entry", allowed, *diagnostics_)) {
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

    const Document& doc_;
    const RuleScope& scope_;
    const StepKinds& kinds_;
    const CompileOptions& options_;
    NeededFacts* needs_;
    Diagnostics* diagnostics_;
    ReferenceScope references_;
    /// The pass that builds Step::input: a scalar whose `${...}` changed on loading is kept as written.
    bool as_written_ = false;
    /// Values of the secrets met by the pass that builds Step::resolved.
    std::vector<std::string>* secrets_ = nullptr;
    bool sensitive_ = false;  ///< the input being compiled is InputSpec::sensitive
};

}  // namespace

void StepKind::Check(StepCheck& /*check*/) const {}

void StepCheck::Error(std::string_view message) {
    diagnostics_.AddAt(doc_, pointer_, message);
}

void StepCheck::ErrorAt(std::string_view key, std::string_view message) {
    diagnostics_.AddAt(doc_, PointerJoin(pointer_, key), message);
}

std::optional<Step> CompileStep(const Document& doc, const std::string& pointer, const RuleScope& scope,
                                const std::vector<std::string>& earlier_steps, const StepKinds& kinds,
                                const CompileOptions& options, NeededFacts& needs, Diagnostics& diagnostics) {
    StepCompiler compiler(doc, scope, earlier_steps, kinds, options, needs, diagnostics);
    return compiler.Compile(pointer);
}

}  // namespace spacehook::rules
