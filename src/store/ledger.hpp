#pragma once

// The store's state machine, written once over the SQL seam (database.hpp): the journal and its dedupe,
// dispatch claims and completions, run claims and leases, step checkpoints, dead letters, replays,
// stats and shared rate buckets. Private to src/store: other parts use store.hpp and OpenStore().
//
// The methods are spread over ledger_journal.cpp (ingest, journal queries, dispatch), ledger_runs.cpp
// (runs and steps), ledger_admin.cpp (admin queries and actions, stats, rate limits) and ledger_shared.cpp
// (shared values and leases).

#include <memory>

#include "store/database.hpp"
#include "store/store.hpp"

namespace spacehook::store {

/// The one implementation of Store. What a backend really does differently (the SQLite group-commit
/// writer and reader pool, the PostgreSQL pool, append writer and LISTEN session, DDL) stays behind
/// Database; every statement of the state machine is here, once, with the Dialect spliced in where the
/// two databases spell it differently.
class Ledger final : public Store {
public:
    Ledger(std::unique_ptr<Database> database, const StoreOptions& options, const Clock& clock);
    ~Ledger() override;
    Ledger(const Ledger&) = delete;
    Ledger& operator=(const Ledger&) = delete;

    // Journal
    void Append(NewDelivery delivery, AppendCallback done) override;

    // WorkQueue
    Result<std::vector<EventRecord>> ClaimEvents(const std::string& owner, std::size_t limit,
                                                 TimePoint now) override;
    Result<int> CompleteDispatch(std::int64_t seq, const std::string& owner, const std::vector<NewRun>& runs,
                                 EventState final_state, const std::string& note) override;
    std::vector<Result<int>> CompleteDispatches(const std::string& owner,
                                                const std::vector<DispatchCompletion>& completions) override;
    Status RetryDispatch(std::int64_t seq, const std::string& owner, TimePoint next_attempt_at,
                         const std::string& error) override;
    Status FailDispatch(std::int64_t seq, const std::string& owner, const std::string& error) override;
    Result<std::optional<RunRecord>> ClaimRun(const std::string& owner, TimePoint now) override;
    Status RenewLease(std::int64_t run_id, const std::string& owner, TimePoint now) override;
    Result<std::vector<StepRecord>> GetSteps(std::int64_t run_id) override;
    Result<StepStatus> BeginStep(std::int64_t run_id, const std::string& owner, int index,
                                 const std::string& name, TimePoint now) override;
    Status FinishStep(std::int64_t run_id, const std::string& owner, int index, const Json& output,
                      TimePoint now) override;
    Status CompleteRun(std::int64_t run_id, const std::string& owner, TimePoint now) override;
    Result<StepStatus> FinishAndBeginStep(std::int64_t run_id, const std::string& owner, int index,
                                          const Json& output, int next_index, const std::string& next_name,
                                          TimePoint now) override;
    Status FinishLastStep(std::int64_t run_id, const std::string& owner, int index, const Json& output,
                          TimePoint now) override;
    Status RetryRun(std::int64_t run_id, const std::string& owner, TimePoint next_attempt_at,
                    const std::string& error) override;
    Status DeadLetterRun(std::int64_t run_id, const std::string& owner, const std::string& reason,
                         TimePoint now) override;
    Status ReleaseRun(std::int64_t run_id, const std::string& owner) override;
    Status DeferRun(std::int64_t run_id, const std::string& owner, TimePoint not_before) override;
    Result<std::optional<TimePoint>> NextDueTime() override;
    void SetWakeup(std::function<void()> wakeup) override;

    // Admin
    Status Ping() override;
    Result<std::vector<EventRecord>> ListEvents(const EventFilter& filter) override;
    Result<std::optional<EventRecord>> GetEvent(std::int64_t seq) override;
    Result<std::optional<EventRecord>> FindEvent(std::string_view event_id) override;
    Result<std::vector<RunRecord>> ListRuns(const RunFilter& filter) override;
    Result<std::optional<RunRecord>> GetRun(std::int64_t run_id) override;
    Result<std::vector<DeadLetter>> ListDeadLetters(std::size_t limit) override;
    Result<std::vector<RuleRunCounts>> CountRunsByRule() override;
    Status RetryDeadLetter(DeadLetter::Kind kind, std::int64_t id, TimePoint now) override;
    Status DropDeadLetter(DeadLetter::Kind kind, std::int64_t id) override;
    Result<std::int64_t> RetryDeadLetters(const DeadLetterFilter& filter, TimePoint now) override;
    Result<std::int64_t> DropDeadLetters(const DeadLetterFilter& filter) override;
    Status ReplayEvent(std::int64_t seq, TimePoint now) override;
    Result<StoreStats> Stats() override;

    // RateLimits
    Result<std::chrono::milliseconds> AcquireRateToken(const std::string& key, double rate_per_second,
                                                       int burst, TimePoint now) override;
    Status PauseRateLimit(const std::string& key, TimePoint until, TimePoint now) override;

    // SharedState
    Result<std::optional<std::string>> GetValue(const std::string& name) override;
    Status PutValue(const std::string& name, const std::string& value) override;
    Result<bool> TakeLease(const std::string& name, const std::string& owner, TimePoint now,
                           std::chrono::milliseconds ttl) override;
    Status ReleaseLease(const std::string& name, const std::string& owner) override;

    void Close() override;

    /// The backend, for the store tests' hooks behind the interface.
    [[nodiscard]] Database& database() { return *db_; }

private:
    /// One attempt of ClaimRun at candidate `id` in its own transaction; nullopt when it turned out not
    /// claimable (taken meanwhile, or its lock key is held).
    Result<std::optional<RunRecord>> TryClaimRun(std::int64_t id, const std::string& lock_key,
                                                 const std::string& owner, TimePoint now);

    const std::unique_ptr<Database> db_;
    const Dialect& sql_;
    const StoreOptions options_;
    const Clock& clock_;
};

}  // namespace spacehook::store
