#include "runner/runner_metrics.hpp"

#include <string>

namespace spacehook::runner {

const std::vector<double>& StepDurationBuckets() {
    static const std::vector<double> kBuckets = {0.01, 0.05, 0.1, 0.25, 0.5, 1,   2.5,
                                                 5,    10,   30,  60,   120, 300, 600};
    return kBuckets;
}

RunnerMetrics::RunnerMetrics(MetricsRegistry& registry) : registry_(registry) {
    registry.AddGaugeCallback("spacehook_runs_in_progress", "Runs this process is executing now",
                              [count = in_progress_] { return static_cast<double>(count->load()); });
}

void RunnerMetrics::Dispatch(std::string_view outcome) {
    registry_
        .GetCounter("spacehook_dispatch_total", "Journaled events dispatched, by outcome",
                    {{"outcome", std::string(outcome)}})
        .Inc();
}

void RunnerMetrics::Run(std::string_view outcome, std::string_view rule) {
    registry_
        .GetCounter("spacehook_runs_total", "Run attempts ended, by outcome and rule",
                    {{"outcome", std::string(outcome)}, {"rule", std::string(rule)}})
        .Inc();
}

void RunnerMetrics::Step(std::string_view kind, double seconds, bool ok) {
    const std::string name(kind);
    registry_
        .GetCounter("spacehook_steps_total", "Step attempts, by kind and outcome",
                    {{"kind", name}, {"outcome", ok ? "done" : "failed"}})
        .Inc();
    registry_
        .GetHistogram("spacehook_step_duration_seconds", "Time one step attempt took, by kind",
                      StepDurationBuckets(), {{"kind", name}})
        .Observe(seconds);
}

void RunnerMetrics::ApiError(ErrorCode code) {
    registry_
        .GetCounter("spacehook_docspace_errors_total", "Failed DocSpace API calls, by error class",
                    {{"class", std::string(ToString(code))}})
        .Inc();
}

}  // namespace spacehook::runner
