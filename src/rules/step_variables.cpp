// `${VAR}` in step inputs: kept as written in a step (and so in the run record, `check` and the admin
// API) and resolved when the step is rendered to run (docs/rules.md "Variables in steps").
#include <fmt/format.h>

#include "rules/step.hpp"

namespace spacehook::rules {

namespace {

constexpr std::string_view kMask = "•••";
/// As log::RegisterSecret: shorter values would mask every occurrence of a common word or number.
constexpr std::size_t kMinMasked = 4;

/// Expands every text in `value` once (keys stay as written: the loader does not expand keys either).
Status ExpandTexts(Json& value, const config::Env& env, bool sensitive, std::vector<std::string>& secrets) {
    if (value.is_string()) {
        std::vector<config::VariableUse> uses;
        auto expanded = config::ExpandVars(value.get_ref<const std::string&>(), env, uses);
        if (!expanded) return Fail(expanded.error());
        for (const auto& use : uses) {
            if ((use.secret || sensitive) && !use.value.empty()) secrets.push_back(use.value);
        }
        value = std::move(*expanded);
        return Ok();
    }
    if (value.is_structured()) {
        for (auto& item : value) {
            if (auto expanded = ExpandTexts(item, env, sensitive, secrets); !expanded) return expanded;
        }
    }
    return Ok();
}

}  // namespace

Result<Step> ResolveVariables(Step step, const config::Env& env) {
    if (!step.written) return step;
    Json resolved = step.input;
    step.secrets.clear();
    for (auto& [key, value] : resolved.items()) {
        bool sensitive = false;
        for (const auto& spec : step.kind->inputs())
            sensitive = sensitive || (spec.key == key && spec.sensitive);
        if (auto expanded = ExpandTexts(value, env, sensitive, step.secrets); !expanded)
            return Fail(ErrorCode::kConfig, StepInputError(step, key, expanded.error().message).message);
    }
    step.resolved = std::move(resolved);
    return step;
}

std::string MaskSecrets(std::string text, const std::vector<std::string>& secrets) {
    const auto mask = [&text](const std::string& secret) {
        for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + kMask.size()))
            text.replace(at, secret.size(), kMask);
    };
    for (const auto& secret : secrets) {
        if (secret.size() < kMinMasked) continue;
        mask(secret);
        // As it appears inside a JSON dump, when escaping changes it.
        const std::string quoted = Json(secret).dump(-1, ' ', false, Json::error_handler_t::replace);
        if (quoted.size() != secret.size() + 2) mask(quoted.substr(1, quoted.size() - 2));
    }
    return text;
}

}  // namespace spacehook::rules
