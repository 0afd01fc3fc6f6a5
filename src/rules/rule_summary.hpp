#pragma once

#include "core/json.hpp"
#include "rules/compiled_rules.hpp"

namespace spacehook::rules {

/// The admin's rules view: per rule its name, description, whether enabled, where it is written
/// ("file:line"), its triggers as written, whether it has conditions, and its steps (id, kind, and the
/// names of the inputs it sets), plus the subscription's trigger names. No input or condition value: a
/// value may have come from ${VAR} (an API key, a chat webhook URL), and once expanded it cannot be told
/// from text written in the file. {"rules": [...], "triggers": [...]}.
Json RuleSummariesJson(const CompiledRules& rules);

}  // namespace spacehook::rules
