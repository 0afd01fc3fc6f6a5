#pragma once

#include <string>

#include "rules/compiled_rules.hpp"
#include "rules/event.hpp"
#include "rules/facts.hpp"

namespace spacehook::rules {

/// `spacehook check`: every rule (name, triggers, conditions, steps with their unrendered inputs, the
/// facts it needs) and the trigger bitmask the subscription needs, as text.
std::string DescribeRules(const CompiledRules& rules);

/// `spacehook test-rule` and the golden tests: the event, the facts the dispatcher would fetch, and
/// for every enabled rule whether it matches and why (one line per condition), and for a rule that
/// matches or is undecided its run key, lock key and steps with inputs rendered as far as the event
/// and facts allow (earlier steps' outputs are unknown, so `{{ steps.* }}` stays as written; secret
/// `${VAR}` values show as "•••"). No API is called.
std::string ExplainEvent(const CompiledRules& rules, const Event& event, const Facts& facts);

}  // namespace spacehook::rules
