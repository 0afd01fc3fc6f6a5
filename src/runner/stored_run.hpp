#pragma once

#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "rules/compiled_rules.hpp"
#include "rules/step.hpp"
#include "rules/template_context.hpp"
#include "store/store.hpp"

namespace spacehook::runner {

/// A run as the runner executes it, rebuilt from store::RunRecord::context. The dispatcher stores
/// everything a run needs there, so a run finishes with the rules it was planned with even when the
/// configuration changed since (the fingerprint says which version that was), and a worker needs
/// neither the rules nor the event.
struct StoredRun {
    std::string rule;
    std::string fingerprint;  ///< rules::Rule::fingerprint of the version that planned the run
    std::vector<rules::Step> steps;
    /// event, payload, webhook, entity, resolved facts, rule, run; no step outputs (the runner adds
    /// them from the checkpoints).
    rules::TemplateContext context;
    /// Facts the dispatcher could not look up for good, by name ("file info" -> "GET ...: 404 ..."):
    /// a render error that reads one of them says why the value is missing.
    Json unavailable = Json::object();
};

/// The version of the context layout below; a worker refuses a layout it does not know. Layout 2 keeps
/// `${VAR}` in step inputs as written, resolved when the step runs (rules::ResolveVariables); layout 1
/// (older runs, still executed) holds the values expanded at load.
inline constexpr int kStoredRunFormat = 2;

/// The context of a new run: {"format": 2, "rule", "fingerprint", "steps": [Step::ToJson...],
/// "template": TemplateContext::values(), "unavailable": {...}}.
Json StoredRunJson(const rules::PlannedRun& run, const Json& unavailable);

/// The store::NewRun for a planned run.
store::NewRun MakeNewRun(const rules::PlannedRun& run, const Json& unavailable);

/// Parses a run's stored context. kInternal when it is not the layout above (a bug or a newer
/// spacehook wrote it): the run cannot be executed and goes to the dead-letter list.
Result<StoredRun> ParseStoredRun(const Json& context);

}  // namespace spacehook::runner
