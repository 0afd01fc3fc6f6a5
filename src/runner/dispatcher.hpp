#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>

#include "core/backoff.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/random.hpp"
#include "docspace/api.hpp"
#include "rules/compiled_rules.hpp"
#include "runner/context_resolver.hpp"
#include "runner/live_rules.hpp"
#include "runner/runner_metrics.hpp"
#include "store/store.hpp"

namespace spacehook::runner {

struct DispatcherOptions {
    std::string owner = "dispatcher";  ///< lease owner of claimed events; unique per process
    std::size_t batch = 16;            ///< events claimed at once
    /// Backoff of a dispatch whose lookups failed transiently (runner.retry), and how many failed
    /// attempts end in the dead-letter list (runner.retry.max_attempts).
    BackoffPolicy backoff;
    int max_attempts = 12;
};

/// How one event ended (the label of spacehook_dispatch_total).
enum class DispatchOutcome {
    kDispatched,  ///< runs created (or already there: a redelivery with the same run keys)
    kNoMatch,     ///< ignored: no rule matched
    kOwnEvent,    ///< ignored: the service's own account caused it (loop guard)
    kRetried,     ///< a lookup failed transiently; due again after a backoff
    kFailed,      ///< permanent: the dead-letter list, with the reason
    kLost,        ///< the lease was lost (the event was replayed meanwhile) or the store failed
};
std::string_view ToString(DispatchOutcome outcome);

/// Turns journaled events into runs (DESIGN.md "dispatcher"): parse, loop guard, resolve the facts the
/// rules need, plan, and store one run per matching rule in one transaction with the event's new
/// state. Events that no rule listens to, or that the payload alone rules out, cost no API call.
///
/// Lock keys: for file and folder events a matching rule's run is locked on its room ("room:<id>")
/// whenever the room can be known, so every run touching one room is serialized: the dispatcher looks
/// the room path up (usually a cache hit) even for rules that did not need it. When that lookup finds
/// the parent gone, the run keeps the entity's own lock ("file:<id>").
///
/// Facts that cannot be had (the entity was deleted, 404, or is hidden, 403): a rule that can no
/// longer be decided without one fails the dispatch (the event goes to the dead-letter list with the
/// reason); when every rule is decided anyway (rules already false, or true on what is known) the
/// event is dispatched or ignored as usual, and the run's context names the missing fact so a
/// template that reads it fails with that reason.
///
/// Thread-compatible: one Dispatcher per dispatching thread.
class Dispatcher {
public:
    Dispatcher(store::WorkQueue& store, const rules::CompiledRules& rules, docspace::Api& api,
               ContextResolver& resolver, DispatcherOptions options, const Clock& clock, Random& random,
               RunnerMetrics& metrics);
    /// The same over a rule set a reload may replace: each event is planned with the set current when
    /// its dispatch began.
    Dispatcher(store::WorkQueue& store, const LiveRules& rules, docspace::Api& api, ContextResolver& resolver,
               DispatcherOptions options, const Clock& clock, Random& random, RunnerMetrics& metrics);

    /// GET people/@self: the service account whose events the loop guard drops (docs/docspace-api.md §1.12).
    Status LearnSelf();
    void SetSelfId(std::string id);
    [[nodiscard]] std::optional<std::string> self_id() const;

    /// Claims up to options.batch due events and dispatches each, oldest first. Returns how many were
    /// claimed. kInternal when the service account is not known yet: nothing is dispatched before the
    /// loop guard can work. The batch's completions (runs created, events dispatched or ignored) are
    /// written together, in order, at its end (Store::CompleteDispatches): one commit to wait for per
    /// batch, not one per event.
    Result<std::size_t> DispatchDue();
    /// Dispatches one event this dispatcher has claimed.
    DispatchOutcome Dispatch(const store::EventRecord& event);

private:
    /// A completion DispatchDue writes at the end of its batch.
    struct Deferred {
        std::int64_t seq = 0;
        std::string trigger;
        store::DispatchCompletion completion;
        DispatchOutcome outcome = DispatchOutcome::kDispatched;
    };

    /// Writes the completions collected by DispatchDue, then logs and counts each.
    void FlushCompletions();
    /// Logs and counts a completion once the store has answered.
    DispatchOutcome Report(std::int64_t seq, const std::string& trigger,
                           const store::DispatchCompletion& completion, DispatchOutcome outcome,
                           const Result<int>& created);
    DispatchOutcome Complete(const store::EventRecord& event, const std::vector<store::NewRun>& runs,
                             store::EventState state, const std::string& note, DispatchOutcome outcome);
    DispatchOutcome Retry(const store::EventRecord& event, const Error& error);
    DispatchOutcome FailPermanently(const store::EventRecord& event, const std::string& reason);

    /// The rules to plan the next event with.
    [[nodiscard]] std::shared_ptr<const rules::CompiledRules> Rules() const;

    store::WorkQueue& store_;
    /// One of the two: fixed rules (not owned) or a live set.
    const rules::CompiledRules* fixed_rules_ = nullptr;
    const LiveRules* live_rules_ = nullptr;
    docspace::Api& api_;
    ContextResolver& resolver_;
    DispatcherOptions options_;
    const Clock& clock_;
    Random& random_;
    RunnerMetrics& metrics_;
    mutable std::mutex mu_;
    std::optional<std::string> self_id_;
    std::vector<Deferred> deferred_;
    bool deferring_ = false;  ///< inside DispatchDue: Complete collects instead of writing
};

}  // namespace spacehook::runner
