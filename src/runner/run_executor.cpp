#include "runner/run_executor.hpp"

#include <fmt/format.h>

#include "core/enum_names.hpp"
#include "core/log.hpp"
#include "rules/step.hpp"
#include "runner/stored_run.hpp"
#include "steps/catalog.hpp"

namespace spacehook::runner {

namespace {

constexpr std::string_view kComponent = "runner";

std::string Duration(std::chrono::milliseconds d) {
    using namespace std::chrono;
    const auto total = duration_cast<seconds>(d).count();
    if (total < 60) return fmt::format("{}s", total);
    if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
    return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
}

std::string StepName(int index, const rules::Step& step) {
    return fmt::format("step {} {} ({})", index, step.id, step.kind->name());
}

}  // namespace

std::string_view ToString(RunOutcome outcome) {
    static constexpr EnumNames<RunOutcome, 7> kNames{{{
        {RunOutcome::kDone, "done"},
        {RunOutcome::kRetried, "retried"},
        {RunOutcome::kDead, "dead"},
        {RunOutcome::kReleased, "released"},
        {RunOutcome::kTakenOver, "taken_over"},
        {RunOutcome::kLost, "lost"},
        {RunOutcome::kDeferred, "deferred"},
    }}};
    return kNames.Name(outcome);
}

FailureDecision DecideAfterFailure(const RetryOptions& options, const store::RunRecord& run,
                                   const Error& error, const std::string& what, TimePoint now,
                                   Random& random) {
    FailureDecision decision;
    const std::string cause = what.empty() ? error.message : what + ": " + error.message;
    if (!error.IsTransient()) {
        decision.dead = true;
        decision.reason = cause;
        return decision;
    }
    const int attempts = run.attempts + 1;
    const TimePoint first_failure = run.failed_at == TimePoint{} ? now : run.failed_at;
    const auto failing_for = std::chrono::duration_cast<std::chrono::milliseconds>(now - first_failure);
    if (attempts >= options.max_attempts) {
        decision.dead = true;
        decision.reason =
            fmt::format("gave up after {} failed attempts (runner.retry.max_attempts) over {}: {}", attempts,
                        Duration(failing_for), cause);
        return decision;
    }
    if (failing_for >= options.budget) {
        decision.dead = true;
        decision.reason =
            fmt::format("gave up after {} of failures (runner.retry.budget {}), {} attempts: {}",
                        Duration(failing_for), Duration(options.budget), attempts, cause);
        return decision;
    }
    decision.next_attempt_at = now + NextDelay(options.backoff, attempts, error.retry_after, random);
    decision.reason = cause;
    return decision;
}

// --- LeaseKeeper ---------------------------------------------------------------------------------------

void LeaseKeeper::Track(std::int64_t run_id, const std::string& owner) {
    std::lock_guard lock(mu_);
    leases_[run_id] = Lease{owner, ++next_generation_};
}

void LeaseKeeper::Untrack(std::int64_t run_id) {
    std::lock_guard lock(mu_);
    leases_.erase(run_id);
}

void LeaseKeeper::RenewAll(store::WorkQueue& store, TimePoint now) {
    RenewAll(
        [&](std::int64_t run_id, const std::string& owner) { return store.RenewLease(run_id, owner, now); });
}

void LeaseKeeper::RenewAll(const std::function<Status(std::int64_t, const std::string&)>& renew) {
    std::vector<std::pair<std::int64_t, Lease>> snapshot;
    {
        std::lock_guard lock(mu_);
        snapshot.assign(leases_.begin(), leases_.end());
    }
    for (const auto& [run_id, lease] : snapshot) {
        auto renewed = renew(run_id, lease.owner);
        if (renewed) continue;
        if (renewed.error().code == ErrorCode::kConflict || renewed.error().code == ErrorCode::kNotFound) {
            std::lock_guard lock(mu_);
            auto it = leases_.find(run_id);
            if (it != leases_.end() && it->second.generation == lease.generation) leases_.erase(it);
        }
        log::Warn(kComponent, "cannot renew a run's lease",
                  {{"run", run_id}, {"error", renewed.error().message}});
    }
}

std::vector<std::pair<std::int64_t, std::string>> LeaseKeeper::Tracked() const {
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::int64_t, std::string>> out;
    for (const auto& [run_id, lease] : leases_) out.emplace_back(run_id, lease.owner);
    return out;
}

std::size_t LeaseKeeper::size() const {
    std::lock_guard lock(mu_);
    return leases_.size();
}

// --- RunExecutor ---------------------------------------------------------------------------------------

RunExecutor::RunExecutor(store::WorkQueue& store, const steps::StepDeps& steps, RetryOptions options,
                         const Clock& clock, Random& random, RunnerMetrics& metrics, LeaseKeeper* leases,
                         DependencyLimits* limits)
    : store_(store),
      steps_(steps),
      options_(options),
      clock_(clock),
      random_(random),
      metrics_(metrics),
      leases_(leases),
      limits_(limits) {}

Result<std::optional<RunOutcome>> RunExecutor::RunNext(const std::string& owner,
                                                       const std::atomic<bool>* stop) {
    auto claimed = store_.ClaimRun(owner, clock_.Now());
    if (!claimed) return Fail(claimed.error());
    if (!*claimed) return std::optional<RunOutcome>();
    return std::optional<RunOutcome>(Execute(**claimed, owner, stop));
}

RunOutcome RunExecutor::Execute(const store::RunRecord& run, const std::string& owner,
                                const std::atomic<bool>* stop) {
    if (leases_ != nullptr) leases_->Track(run.id, owner);
    metrics_.RunStarted();
    const RunOutcome outcome = Attempt(run, owner, stop);
    metrics_.RunEnded();
    if (leases_ != nullptr) leases_->Untrack(run.id);
    metrics_.Run(ToString(outcome), run.rule);
    return outcome;
}

RunOutcome RunExecutor::Attempt(const store::RunRecord& run, const std::string& owner,
                                const std::atomic<bool>* stop) {
    const TimePoint claimed_at = clock_.Now();
    if (run.taken_over) {
        // The previous owner stopped renewing the lease: it died (kill -9, OOM) or hung. Count that as a
        // failed attempt, or a run that kills its worker every time would be taken over forever.
        const Error crash{
            ErrorCode::kUnavailable,
            fmt::format("taken over at step {}: the worker running it stopped renewing its lease "
                        "(it died or hung)",
                        run.next_step),
            0, std::nullopt};
        FailureDecision decision = DecideAfterFailure(options_, run, crash, "", claimed_at, random_);
        if (decision.dead) return DeadLetter(run, owner, decision.reason);
        if (auto st = store_.RetryRun(run.id, owner, claimed_at, decision.reason); !st) {
            return Lost(run, st.error(), "counting the takeover");
        }
        log::Warn(
            kComponent, "run taken over from a worker that stopped renewing its lease; resuming",
            {{"run", run.id}, {"key", run.run_key}, {"step", run.next_step}, {"attempts", run.attempts + 1}});
        return RunOutcome::kTakenOver;
    }

    auto stored = ParseStoredRun(run.context);
    if (!stored) return DeadLetter(run, owner, stored.error().message);
    if (static_cast<int>(stored->steps.size()) != run.step_count) {
        return DeadLetter(run, owner,
                          fmt::format("the run's stored context has {} steps, the run {}",
                                      stored->steps.size(), run.step_count));
    }
    rules::TemplateContext context = stored->context;
    // Only a step that finished (FinishStep moves next_step past it) has an output to restore, so a run
    // at its first step has none to read.
    if (run.next_step > 0) {
        auto checkpoints = store_.GetSteps(run.id);
        if (!checkpoints) return Lost(run, checkpoints.error(), "reading its checkpoints");
        for (const auto& checkpoint : *checkpoints) {
            if (checkpoint.status != store::StepStatus::kDone) continue;
            if (checkpoint.index < 0 || checkpoint.index >= run.step_count) continue;
            context.SetStepOutput(stored->steps[static_cast<std::size_t>(checkpoint.index)].id,
                                  checkpoint.output);
        }
    }
    if (run.next_step > 0 || run.attempts > 0) {
        log::Info(
            kComponent, "run resumed",
            {{"run", run.id}, {"key", run.run_key}, {"step", run.next_step}, {"attempts", run.attempts}});
    } else {
        log::Info(kComponent, "run started", {{"run", run.id}, {"key", run.run_key}, {"rule", run.rule}});
    }

    // Store writes per run: the claim, BeginStep of the first step, one FinishAndBeginStep between two
    // steps and FinishLastStep at the end (a two-step run commits four times, not six). A step whose
    // input cannot be rendered yet, or a stop request, falls back to separate FinishStep / BeginStep.
    const auto done = [&] {
        log::Info(kComponent, "run done", {{"run", run.id}, {"key", run.run_key}, {"steps", run.step_count}});
        return RunOutcome::kDone;
    };
    std::optional<BegunStep> ahead;  // step `index`, begun by the previous step's checkpoint
    for (int index = run.next_step; index < run.step_count; ++index) {
        const rules::Step& step = stored->steps[static_cast<std::size_t>(index)];
        const std::string what = StepName(index, step);
        BegunStep current;
        if (ahead) {
            current = std::move(*ahead);
            ahead.reset();
        } else {
            if (stop != nullptr && stop->load()) {
                if (auto st = store_.ReleaseRun(run.id, owner); !st)
                    return Lost(run, st.error(), "releasing it");
                log::Info(kComponent,
                          "shutting down: run released between steps; it resumes at the next start",
                          {{"run", run.id}, {"step", index}});
                return RunOutcome::kReleased;
            }
            auto prepared = Prepare(step, context, *stored);
            if (!prepared) return DeadLetter(run, owner, prepared.error().message);
            auto begun = store_.BeginStep(run.id, owner, index, step.id, clock_.Now());
            if (!begun) return Lost(run, begun.error(), "beginning " + what);
            current = BegunStep{std::move(*prepared), *begun};
        }
        if (current.status == store::StepStatus::kDone) continue;  // checkpointed by an earlier attempt

        steps::StepCall call{run.run_key, index, current.status == store::StepStatus::kStarted};
        if (call.resumed) {
            log::Info(kComponent, "step was begun by an earlier attempt; it looks before it acts",
                      {{"run", run.id}, {"step", index}, {"kind", step.kind->name()}});
        }
        const std::string dependency = limits_ != nullptr ? DependencyOf(*current.step, steps_) : "";
        std::optional<DependencyLimits::Slot> slot =
            limits_ != nullptr ? limits_->TryAcquire(dependency) : std::nullopt;
        if (limits_ != nullptr && !slot) return Deferred(run, owner, dependency, index);
        const auto started = std::chrono::steady_clock::now();
        auto output = current.step->Execute(steps_, call);
        slot.reset();
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        metrics_.Step(step.kind->name(), seconds, output.has_value());
        if (!output) return Failed(run, owner, output.error(), what);
        context.SetStepOutput(step.id, *output);

        if (index + 1 == run.step_count) {
            if (auto st = store_.FinishLastStep(run.id, owner, index, *output, clock_.Now()); !st) {
                return Lost(run, st.error(), "checkpointing " + what + " and completing the run");
            }
            return done();
        }
        const rules::Step& next = stored->steps[static_cast<std::size_t>(index) + 1];
        // Stopping, or a next input that cannot be rendered: this step is checkpointed alone and the next
        // iteration releases the run or moves it to the dead-letter list.
        std::unique_ptr<steps::PreparedStep> next_step;
        if (stop == nullptr || !stop->load()) {
            if (auto prepared = Prepare(next, context, *stored)) next_step = std::move(*prepared);
        }
        if (next_step) {
            auto begun =
                store_.FinishAndBeginStep(run.id, owner, index, *output, index + 1, next.id, clock_.Now());
            if (!begun) return Lost(run, begun.error(), "checkpointing " + what);
            ahead = BegunStep{std::move(next_step), *begun};
        } else if (auto st = store_.FinishStep(run.id, owner, index, *output, clock_.Now()); !st) {
            return Lost(run, st.error(), "checkpointing " + what);
        }
        log::Debug(kComponent, "step done", {{"run", run.id}, {"step", index}, {"kind", step.kind->name()}});
    }
    // Every remaining step was checkpointed by an earlier attempt (or the run has none).
    if (auto st = store_.CompleteRun(run.id, owner, clock_.Now()); !st)
        return Lost(run, st.error(), "completing it");
    return done();
}

Result<std::unique_ptr<steps::PreparedStep>> RunExecutor::Prepare(const rules::Step& step,
                                                                  const rules::TemplateContext& context,
                                                                  const StoredRun& stored) const {
    // `${VAR}` values are read now, at send time: the stored step holds only the references.
    auto resolved = rules::ResolveVariables(step, steps_.variables);
    if (!resolved) return Fail(resolved.error());
    for (const auto& secret : resolved->secrets) log::RegisterSecret(secret);
    auto prepared = steps::Prepare(*resolved, context);
    if (prepared) return prepared;
    std::string reason = prepared.error().message;
    if (!stored.unavailable.empty()) {
        std::string notes;
        for (const auto& [fact, why] : stored.unavailable.items()) {
            notes += fmt::format("{}{} unavailable at dispatch ({})", notes.empty() ? "" : ", ", fact,
                                 why.is_string() ? why.get<std::string>() : why.dump());
        }
        reason += "; " + notes;
    }
    return Fail(prepared.error().code, reason);
}

RunOutcome RunExecutor::Failed(const store::RunRecord& run, const std::string& owner, const Error& error,
                               const std::string& what) {
    const TimePoint now = clock_.Now();
    FailureDecision decision = DecideAfterFailure(options_, run, error, what, now, random_);
    // A portal or endpoint may echo what it was sent (a header, a URL) in its error text.
    decision.reason = log::Redact(decision.reason);
    if (decision.dead) return DeadLetter(run, owner, decision.reason);
    if (auto st = store_.RetryRun(run.id, owner, decision.next_attempt_at, decision.reason); !st) {
        return Lost(run, st.error(), "scheduling a retry");
    }
    log::Warn(
        kComponent, "step failed; retrying later",
        {{"run", run.id},
         {"attempt", run.attempts + 1},
         {"delay_ms",
          std::chrono::duration_cast<std::chrono::milliseconds>(decision.next_attempt_at - now).count()},
         {"error", decision.reason}});
    return RunOutcome::kRetried;
}

RunOutcome RunExecutor::DeadLetter(const store::RunRecord& run, const std::string& owner,
                                   const std::string& unredacted) {
    const std::string reason = log::Redact(unredacted);
    if (auto st = store_.DeadLetterRun(run.id, owner, reason, clock_.Now()); !st) {
        return Lost(run, st.error(), "moving it to the dead-letter list");
    }
    log::Error(kComponent, "run moved to the dead-letter list",
               {{"run", run.id}, {"key", run.run_key}, {"rule", run.rule}, {"reason", reason}});
    return RunOutcome::kDead;
}

RunOutcome RunExecutor::Deferred(const store::RunRecord& run, const std::string& owner,
                                 const std::string& dependency, int index) {
    const auto wait = limits_->WaitFor(dependency);
    if (auto st = store_.DeferRun(run.id, owner, clock_.Now() + wait); !st)
        return Lost(run, st.error(), "deferring it");
    log::Info(kComponent, "dependency busy: run deferred, not counted as an attempt",
              {{"run", run.id},
               {"step", index},
               {"dependency", dependency},
               {"busy", limits_->limit()},
               {"wait_ms", wait.count()}});
    return RunOutcome::kDeferred;
}

RunOutcome RunExecutor::Lost(const store::RunRecord& run, const Error& error, std::string_view doing) {
    // kConflict: another owner holds the run now (it took over after our lease expired, or shutdown
    // released it); that owner continues. Anything else: the store failed; the lease expires and the run
    // is taken over (counted as an attempt).
    log::Warn(kComponent, "run attempt abandoned",
              {{"run", run.id}, {"while", doing}, {"error", error.message}});
    return RunOutcome::kLost;
}

}  // namespace spacehook::runner
