#pragma once

#include "core/json.hpp"
#include "rules/compiled_rules.hpp"

namespace spacehook::rules {

/// The admin's rules view: per rule its name, description, whether enabled, where it is written
/// ("file:line"), its triggers as written, whether it has conditions (not what they compare with: a
/// condition's ${VAR} is expanded at load), and its steps (id, kind, the names of the inputs it sets
/// and the input as written: a step's `${VAR}` stays a reference, read only when the step runs), plus
/// the subscription's trigger names. {"rules": [...], "triggers": [...]}. The caller masks what else
/// may be secret (a literal written in the file) as it masks logs.
Json RuleSummariesJson(const CompiledRules& rules);

}  // namespace spacehook::rules
