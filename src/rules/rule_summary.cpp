#include "rules/rule_summary.hpp"

namespace spacehook::rules {

Json RuleSummariesJson(const CompiledRules& rules) {
    Json list = Json::array();
    for (const auto& rule : rules.rules()) {
        Json steps = Json::array();
        for (const auto& step : rule.steps) {
            Json inputs = Json::array();
            if (step.input.is_object()) {
                for (const auto& [name, value] : step.input.items()) inputs.push_back(name);
            }
            steps.push_back({{"id", step.id},
                             {"kind", std::string(step.kind->name())},
                             {"inputs", inputs},
                             {"input", step.input}});
        }
        list.push_back({{"name", rule.name},
                        {"description", rule.description},
                        {"enabled", rule.enabled},
                        {"source", rule.location.ToString()},
                        {"on", rule.on},
                        {"has_conditions", rule.condition.has_value()},
                        {"steps", std::move(steps)}});
    }
    return {{"rules", std::move(list)},
            {"triggers", rules.HasEnabledRules() ? Json(rules.TriggerNames()) : Json::array()}};
}

}  // namespace spacehook::rules
