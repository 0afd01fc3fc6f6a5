#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/document.hpp"
#include "core/error.hpp"
#include "rules/condition.hpp"
#include "rules/event.hpp"
#include "rules/facts.hpp"
#include "rules/step.hpp"
#include "rules/template_context.hpp"

namespace spacehook::rules {

/// One rule after compilation. Immutable.
struct Rule {
    std::string name;
    std::string description;
    bool enabled = true;
    config::SourceLocation location;
    std::vector<std::string> on;    ///< as written: trigger names, "family.*", "*"
    std::int64_t trigger_bits = 0;  ///< the DocSpace bits of `on` (see all_triggers)
    bool all_triggers = false;      ///< `on` has "*"
    RuleScope scope;
    std::optional<Condition> condition;  ///< nullopt: every event of its triggers
    std::vector<Step> steps;
    std::string key_template;     ///< `key:`; empty = the semantic key
    NeededFacts condition_needs;  ///< facts its conditions may need
    NeededFacts template_needs;   ///< facts its step templates and key read
    /// Hash of the rule as loaded (after ${VAR} expansion): runs remember which version planned them.
    std::string fingerprint;

    [[nodiscard]] bool ListensTo(std::string_view trigger) const;
};

/// What one matching rule will do for one event: the dispatcher turns it into a store::NewRun (key,
/// lock, step count, context) and the runner executes `steps` in order, rendering each with
/// RenderStepInput against `context` plus the outputs of the steps before it.
struct PlannedRun {
    std::string rule;
    std::string fingerprint;
    /// One run per (rule, entity, trigger class): `file.created` and `file.uploaded` of one file give
    /// the same key, so an upload that fires both makes one run (DESIGN.md "runs", docs/docspace-api.md
    /// §1.12).
    std::string run_key;
    /// Runs with the same lock key are serialized: "room:<id>" when the entity's room is known, else
    /// the entity itself ("file:<id>", "user:<guid>"); empty when the event names no entity.
    std::string lock_key;
    std::vector<Step> steps;
    TemplateContext context;  ///< event, payload, webhook, entity, resolved facts, rule, run; no steps yet
};

/// How one rule judged one event, for test-rule and the golden tests.
struct RuleEvaluation {
    const Rule* rule = nullptr;
    bool listens = false;  ///< the event's trigger is one of the rule's `on`
    Truth truth = Truth::kNo;
    std::vector<ConditionTrace> trace;
    NeededFacts missing;  ///< facts whose absence left it undecided
};

/// The rules of every configuration file, compiled. Matching and planning are pure functions of the
/// event and the facts, so they are golden-tested (tests/rules). Immutable after Compile, so one
/// instance may be shared by every dispatcher thread.
class CompiledRules {
public:
    [[nodiscard]] const std::vector<Rule>& rules() const { return rules_; }
    [[nodiscard]] const Rule* Find(std::string_view name) const;

    /// The subscription's trigger bitmask in DocSpace's form: the OR of every enabled rule's triggers,
    /// and 0 (= All, docs/docspace-api.md §1.5) when a rule listens to "*". Also 0 when there are no enabled
    /// rules: check HasEnabledRules() before syncing a subscription.
    [[nodiscard]] std::int64_t TriggerMask() const;
    [[nodiscard]] bool ListensToAll() const;
    [[nodiscard]] bool HasEnabledRules() const;
    /// The names of TriggerMask()'s bits in bit order, or {"*"}.
    [[nodiscard]] std::vector<std::string> TriggerNames() const;

    /// A subscription target that loses nothing any enabled rule could match. DocSpace then sends only
    /// events whose entity's own id equals it (docs/docspace-api.md §1.8), so there is one only when every
    /// enabled rule listens to room.* / agent.* triggers alone (the entity is the room), none of them a
    /// *.created or room.copied (a new entry's id cannot be named beforehand), and requires one room with
    /// an `in_room` of a single id that must hold (not under `any` or `not`), the same room for all.
    struct Target {
        std::string id;       ///< the room's id as DocSpace writes it; empty: no target
        std::string why_not;  ///< why there is none, for `subscribe`
    };
    [[nodiscard]] Target SubscriptionTarget() const;

    /// The facts the dispatcher must resolve for this event: the union over enabled rules that listen
    /// to its trigger and whose conditions are not already false on the payload alone, limited to the
    /// facts that exist for this kind of entity (no file info for a user event).
    [[nodiscard]] NeededFacts Needs(const Event& event) const;

    /// Every enabled rule's verdict on the event, in rule order (test-rule shows this).
    [[nodiscard]] std::vector<RuleEvaluation> Evaluate(const Event& event, const Facts& facts) const;

    /// The runs this event starts, in rule order. `facts` must hold what Needs(event) asked for: a rule
    /// left undecided by a missing fact is kInvalidArgument naming the rule and the fact, so a failed
    /// lookup never silently drops a run. A `key:` template that cannot render is kInvalidArgument too.
    [[nodiscard]] Result<std::vector<PlannedRun>> Plan(const Event& event, const Facts& facts) const;

    /// The run one rule would make for the event (keys, context, steps), whether or not it matches.
    /// kKeepUnresolved lets test-rule show a run whose facts are partly unknown.
    [[nodiscard]] Result<PlannedRun> PlanRule(const Rule& rule, const Event& event, const Facts& facts,
                                              RenderMode mode = RenderMode::kStrict) const;

private:
    friend Result<CompiledRules> Compile(const std::vector<config::Document>& documents,
                                         const StepKinds& kinds, const CompileOptions& options);
    std::vector<Rule> rules_;
};

/// Compiles the `rules:` lists of every document, in order, with the step kinds of `kinds`
/// (steps::Kinds() in this build). Every problem is reported with its location, all at once, as one
/// kConfig error (one line each). Rule names are unique across files.
Result<CompiledRules> Compile(const std::vector<config::Document>& documents, const StepKinds& kinds,
                              const CompileOptions& options = {});

/// The trigger class of the run key: file.uploaded -> file.created, user.invited -> user.created,
/// anything else itself.
std::string_view TriggerClass(std::string_view trigger);

}  // namespace spacehook::rules
