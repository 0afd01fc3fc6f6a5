#include "rules/explain.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/enum_names.hpp"

namespace spacehook::rules {

namespace {

std::string NeedsText(const NeededFacts& needs) {
    if (!needs.any()) return "nothing";
    return fmt::format("{}", fmt::join(needs.Names(), ", "));
}

// Three columns wide, so that the explanation's texts line up.
constexpr EnumNames<Truth, 3> kTruthMarks{{{
    {Truth::kYes, "yes"},
    {Truth::kNo, "no "},
    {Truth::kUnknown, "?  "},
}}};
static_assert(kTruthMarks.Unique());

std::string_view Mark(Truth truth) {
    return kTruthMarks.Name(truth);
}

std::string MaskText(const CompiledRules& rules) {
    if (!rules.HasEnabledRules()) return "none (no enabled rules)";
    if (rules.ListensToAll()) return "0 = all (*)";
    return fmt::format("{} ({})", rules.TriggerMask(), fmt::join(rules.TriggerNames(), ", "));
}

}  // namespace

std::string DescribeRules(const CompiledRules& rules) {
    std::string out;
    for (const auto& rule : rules.rules()) {
        out += fmt::format("rule {} ({}){}\n", rule.name, rule.location.ToString(),
                           rule.enabled ? "" : " [disabled]");
        if (!rule.description.empty()) out += fmt::format("  description: {}\n", rule.description);
        out += fmt::format("  on: {}\n", fmt::join(rule.on, ", "));
        if (rule.condition) {
            out += "  if:\n";
            std::vector<std::string> lines;
            Describe(*rule.condition, 2, lines);
            for (const auto& line : lines) out += line + "\n";
        }
        out += "  do:\n";
        for (std::size_t i = 0; i < rule.steps.size(); ++i) {
            const auto& step = rule.steps[i];
            out +=
                fmt::format("    {}. {}{}: {}\n", i + 1, step.kind->name(),
                            step.id == step.kind->name() ? "" : " [id " + step.id + "]", step.input.dump());
        }
        out += fmt::format("  key: {}\n",
                           rule.key_template.empty() ? "per entity and trigger class" : rule.key_template);
        NeededFacts needs = rule.condition_needs;
        needs |= rule.template_needs;
        out += fmt::format("  needs: {}\n", NeedsText(needs));
    }
    out += fmt::format("{} rule{}; triggers: {}\n", rules.rules().size(),
                       rules.rules().size() == 1 ? "" : "s", MaskText(rules));
    return out;
}

std::string ExplainEvent(const CompiledRules& rules, const Event& event, const Facts& facts) {
    std::string out = fmt::format("event {} {}", event.id ? event.id->str() : "-", event.trigger);
    if (event.entity_id) out += fmt::format(": {} {}", ToString(event.kind), event.entity_id->str());
    // fmt rather than `" " + std::string&&`: g++ 12 at -O3 reports a false -Wrestrict inside that
    // operator+ (GCC PR 105329), which fails the Release build (warnings are errors).
    if (event.title) out += fmt::format(" {}", Json(*event.title).dump());
    if (event.parent_id) out += fmt::format(" in {}", event.parent_id->str());
    if (!event.create_by.empty()) out += fmt::format(" by {}", event.create_by);
    out += "\n";
    out += fmt::format("needs: {}\n", NeedsText(rules.Needs(event)));
    const auto evaluations = rules.Evaluate(event, facts);
    if (evaluations.empty()) out += "no enabled rules\n";
    for (const auto& evaluation : evaluations) {
        const Rule& rule = *evaluation.rule;
        std::string verdict = evaluation.truth == Truth::kYes ? "matches"
                              : evaluation.truth == Truth::kNo
                                  ? "does not match"
                                  : "undecided (needs " + NeedsText(evaluation.missing) + ")";
        out += fmt::format("rule {}: {}\n", rule.name, verdict);
        out += fmt::format("  {} on {}: the trigger is {}\n",
                           Mark(evaluation.listens ? Truth::kYes : Truth::kNo), fmt::join(rule.on, ", "),
                           event.trigger);
        for (const auto& line : evaluation.trace) {
            out += fmt::format("  {} {}{}\n", Mark(line.truth),
                               std::string(static_cast<std::size_t>(line.depth) * 2, ' '), line.text);
        }
        if (evaluation.truth == Truth::kNo) continue;
        auto run = rules.PlanRule(rule, event, facts, RenderMode::kKeepUnresolved);
        if (!run) {
            out += fmt::format("  error: {}\n", run.error().message);
            continue;
        }
        out += fmt::format("  run key: {}\n", run->run_key);
        out += fmt::format("  lock key: {}\n", run->lock_key.empty() ? "(none)" : run->lock_key);
        for (std::size_t i = 0; i < run->steps.size(); ++i) {
            const auto& step = run->steps[i];
            auto input = RenderStepInput(step, run->context, RenderMode::kKeepUnresolved);
            out += fmt::format(
                "  step {} {}{}: {}\n", i + 1, step.kind->name(),
                step.id == step.kind->name() ? "" : " [id " + step.id + "]",
                MaskSecrets(input ? input->dump() : "error: " + input.error().message, step.secrets));
        }
    }
    return out;
}

}  // namespace spacehook::rules
