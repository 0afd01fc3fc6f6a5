#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "rules/condition.hpp"
#include "rules/event.hpp"
#include "rules/facts.hpp"
#include "rules/template.hpp"

namespace spacehook::rules {

/// The values templates read, as one Json object with these roots:
///   event    {id, trigger, triggerId, createOn, createBy}      the raw `event` block
///   payload  the raw payload                                    webhook  the raw `webhook` block
///   entity   {id, kind, title, parentId}                        what the event is about (Event)
///   file / folder / room / user / actor                         resolved facts (Facts), when present
///   rule     {name}        run {key}        steps {<id>: output of that step}
/// The dispatcher stores values() with the run (store::NewRun::context); the runner adds each step's
/// output with SetStepOutput before rendering the next step.
class TemplateContext {
public:
    TemplateContext() = default;
    explicit TemplateContext(Json values) : values_(std::move(values)) {}

    /// Everything but rule, run and steps. For room.* and agent.* events `room` is the entity itself
    /// when the facts have no room: {id, title} from the payload.
    static TemplateContext ForEvent(const Event& event, const Facts& facts);

    void SetRun(std::string_view rule_name, std::string_view run_key);
    void SetStepOutput(std::string_view step_id, Json output);

    [[nodiscard]] const Json& values() const { return values_; }

private:
    Json values_ = Json::object();
};

/// Where a template stands, for the load-time reference checks.
struct ReferenceScope {
    const RuleScope* rule = nullptr;
    /// Ids of the steps before this one; steps.<id> must name one of them.
    const std::vector<std::string>* earlier_steps = nullptr;
    /// False for `key:`: it is rendered before any step runs, and before the run key exists.
    bool in_step = true;
};

/// Checks every path a template reads against what can exist there (unknown root, a step that is not
/// an earlier one, `file.*` in a rule that only sees user.* events, an `event.*` field DocSpace never
/// sends) and adds the facts it needs to `needs`. The problem as text, or nullopt.
std::optional<std::string> CheckReferences(const Template& tmpl, const ReferenceScope& scope,
                                           NeededFacts& needs);

}  // namespace spacehook::rules
