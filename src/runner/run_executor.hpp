#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/backoff.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/random.hpp"
#include "runner/dependency_limits.hpp"
#include "runner/runner_metrics.hpp"
#include "runner/stored_run.hpp"
#include "steps/kind.hpp"
#include "steps/step_deps.hpp"
#include "store/store.hpp"

namespace spacehook::runner {

/// runner.retry: how transient failures back off and when a run gives up.
struct RetryOptions {
    BackoffPolicy backoff{std::chrono::seconds(1), std::chrono::minutes(5), 2.0, 0.2};
    /// Failed attempts (transient failures and takeovers) after which the run goes to the dead-letter
    /// list: the attempt that makes run.attempts reach this number is the last.
    int max_attempts = 12;
    /// Or this long after the run's first failure (RunRecord::failed_at): a failure at or after
    /// failed_at + budget is the last. The last retry may start up to one backoff delay past it.
    std::chrono::milliseconds budget{std::chrono::hours(24)};
};

/// What a failed attempt leads to.
struct FailureDecision {
    bool dead = false;
    TimePoint next_attempt_at;  ///< when not dead
    std::string reason;         ///< the run's last_error, or the dead-letter reason
};

/// Pure, so backoff is tested exactly: a permanent error is dead at once; a transient one retries
/// after NextDelay(attempt, Retry-After as a floor) unless the attempts or the budget are used up.
/// `what` says where it failed ("step 2 room (create_room)").
FailureDecision DecideAfterFailure(const RetryOptions& options, const store::RunRecord& run,
                                   const Error& error, const std::string& what, TimePoint now,
                                   Random& random);

/// The leases of the runs this process is executing, renewed by a heartbeat so a step that takes
/// longer than runner.lease (an awaited copy of a big folder) is not taken over. Thread-safe.
class LeaseKeeper {
public:
    void Track(std::int64_t run_id, const std::string& owner);
    void Untrack(std::int64_t run_id);
    /// Renews every tracked lease (store.RenewLease). A lease the store refuses (kConflict: taken over
    /// or released) is no longer tracked; its worker learns it at its next write.
    void RenewAll(store::WorkQueue& store, TimePoint now);
    /// The same over `renew(run id, owner)`, called without the keeper's lock held.
    void RenewAll(const std::function<Status(std::int64_t, const std::string&)>& renew);
    /// (run id, owner) of every tracked run.
    [[nodiscard]] std::vector<std::pair<std::int64_t, std::string>> Tracked() const;
    [[nodiscard]] std::size_t size() const;

private:
    struct Lease {
        std::string owner;
        /// Which Track() this entry came from. A run can be untracked and tracked again by the same
        /// owner between the heartbeat's snapshot and its refused renewal (a takeover's RetryRun is due
        /// at once and the same worker may claim the run straight back); the refusal was about the
        /// earlier attempt and must not drop the later one.
        std::uint64_t generation = 0;
    };
    mutable std::mutex mu_;
    std::map<std::int64_t, Lease> leases_;
    std::uint64_t next_generation_ = 0;
};

/// How one claimed run's attempt ended (the label of spacehook_runs_total).
enum class RunOutcome {
    kDone,       ///< every step checkpointed
    kRetried,    ///< a transient failure: pending again after a backoff
    kDead,       ///< permanent failure or retries used up: the dead-letter list
    kReleased,   ///< shutdown: given back untouched between two steps
    kTakenOver,  ///< claimed from a dead worker: counted as an attempt and due again at once
    kLost,       ///< the lease was lost (another owner has the run) or the store failed
    kDeferred,   ///< the next step's dependency was full (DependencyLimits): given back untouched for a while
};
std::string_view ToString(RunOutcome outcome);

/// Executes runs as sagas (DESIGN.md "runner"): render a step from the stored context plus the
/// outputs of the steps before it, BeginStep, act, FinishStep with the output, next; CompleteRun at
/// the end. A retried or taken-over run resumes at its first unfinished step, and BeginStep's kStarted
/// tells the step that its effect may have happened already (steps::StepCall::resumed).
///
/// A run whose worker dies every time (a step that crashes the process, a hang past the lease) would
/// be taken over forever: a takeover counts as a failed attempt (RetryRun, due at once, since the
/// lease expiry already was the wait), so such a run reaches runner.retry.max_attempts and the
/// dead-letter list like any other.
///
/// Thread-safe: every worker thread calls RunNext with its own owner.
class RunExecutor {
public:
    /// Steps act through `steps` (steps::PreparedStep::Execute).
    /// `limits` (optional): a step runs only with a slot of its dependency; without one the run is
    /// deferred (store::WorkQueue::DeferRun), its attempts unchanged.
    RunExecutor(store::WorkQueue& store, const steps::StepDeps& steps, RetryOptions options,
                const Clock& clock, Random& random, RunnerMetrics& metrics, LeaseKeeper* leases = nullptr,
                DependencyLimits* limits = nullptr);

    /// Claims the oldest due run for `owner` and executes it. nullopt when nothing is due; an error
    /// when the claim itself failed. `stop` (optional) is checked before each step: when set, the run
    /// is released between steps (graceful shutdown).
    Result<std::optional<RunOutcome>> RunNext(const std::string& owner,
                                              const std::atomic<bool>* stop = nullptr);
    /// Executes a run `owner` has claimed.
    RunOutcome Execute(const store::RunRecord& run, const std::string& owner,
                       const std::atomic<bool>* stop = nullptr);

private:
    RunOutcome Attempt(const store::RunRecord& run, const std::string& owner, const std::atomic<bool>* stop);
    /// A step begun in the store, with its rendered input.
    struct BegunStep {
        std::unique_ptr<steps::PreparedStep> step;
        store::StepStatus status = store::StepStatus::kNone;
    };
    /// The step's `${VAR}` read now (steps::StepDeps::variables) and the step rendered against the
    /// context into its kind's typed input; a render error names the facts the dispatcher could not
    /// look up, when there were any.
    [[nodiscard]] Result<std::unique_ptr<steps::PreparedStep>> Prepare(const rules::Step& step,
                                                                       const rules::TemplateContext& context,
                                                                       const StoredRun& stored) const;
    RunOutcome Failed(const store::RunRecord& run, const std::string& owner, const Error& error,
                      const std::string& what);
    RunOutcome DeadLetter(const store::RunRecord& run, const std::string& owner, const std::string& reason);
    RunOutcome Lost(const store::RunRecord& run, const Error& error, std::string_view doing);
    RunOutcome Deferred(const store::RunRecord& run, const std::string& owner, const std::string& dependency,
                        int index);

    store::WorkQueue& store_;
    const steps::StepDeps& steps_;
    RetryOptions options_;
    const Clock& clock_;
    Random& random_;
    RunnerMetrics& metrics_;
    LeaseKeeper* leases_;
    DependencyLimits* limits_;
};

}  // namespace spacehook::runner
