#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/metrics.hpp"

namespace spacehook::runner {

/// The runner's series (docs/runner.md "Metrics"): the visible contract of the dispatcher and the
/// workers. Labels are closed sets (outcomes, step kinds, error classes), never ids.
///   spacehook_dispatch_total{outcome}            dispatched | no_match | own_event | retried | failed | lost
///   spacehook_runs_total{outcome,rule}           done | retried | dead | released | taken_over | lost;
///                                                rule names come from the config, a bounded set
///   spacehook_steps_total{kind,outcome}          done | failed
///   spacehook_step_duration_seconds{kind}        histogram, successful and failed attempts
///   spacehook_docspace_errors_total{class}       failed DocSpace calls by ErrorCode (see MeteredApi)
///   spacehook_runs_in_progress                   runs this process is executing now
/// The queue depth (pending events and runs, dead letters) comes from the store, as spacehook_runs{state},
/// spacehook_journal_events_pending and spacehook_dead_letters (admin/admin_api.cpp).
class RunnerMetrics {
public:
    explicit RunnerMetrics(MetricsRegistry& registry);

    void Dispatch(std::string_view outcome);
    void Run(std::string_view outcome, std::string_view rule);
    void Step(std::string_view kind, double seconds, bool ok);
    void ApiError(ErrorCode code);
    void RunStarted() { in_progress_->fetch_add(1); }
    void RunEnded() { in_progress_->fetch_sub(1); }
    [[nodiscard]] std::int64_t in_progress() const { return in_progress_->load(); }

private:
    MetricsRegistry& registry_;
    /// Shared with the scrape-time gauge callback, which may outlive this object in the registry.
    std::shared_ptr<std::atomic<std::int64_t>> in_progress_ = std::make_shared<std::atomic<std::int64_t>>(0);
};

/// Step durations reach minutes (an awaited copy of a big folder): buckets from 10 ms to 10 min.
const std::vector<double>& StepDurationBuckets();

}  // namespace spacehook::runner
