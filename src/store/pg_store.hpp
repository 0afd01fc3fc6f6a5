#pragma once

// The PostgreSQL backend of store::Store. Private to src/store: other parts use store.hpp and OpenStore().

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "store/pg_listener.hpp"
#include "store/pg_pool.hpp"
#include "store/pg_writer.hpp"
#include "store/store.hpp"

namespace spacehook::store::pg {

/// The channel every replica LISTENs on and NOTIFYs when it made work available.
inline constexpr std::string_view kWorkChannel = "spacehook_work";

/// What a write sees while it runs: its pooled connection, inside the write's transaction.
class Tx {
public:
    Tx(Connection& connection, const std::string& channel, const std::string& payload)
        : db(connection), channel_(channel), payload_(payload) {}
    Connection& db;
    /// New work is available once this commits: NOTIFY every replica (in this transaction, so the
    /// notification is delivered at COMMIT and never for a rollback) and wake this process's workers
    /// after the commit.
    Status RequestWakeup();
    /// A due time moved (a retry scheduled for later): other replicas should recompute when to wake;
    /// this process's workers already know.
    Status AnnounceToOthers();
    /// Nothing was written: the transaction is rolled back rather than committed (and not counted).
    void NothingToCommit() { nothing_to_commit_ = true; }

    [[nodiscard]] bool local_wakeup() const { return local_wakeup_; }
    [[nodiscard]] bool nothing_to_commit() const { return nothing_to_commit_; }

private:
    Status Notify();
    const std::string& channel_;
    const std::string& payload_;
    bool notified_ = false;
    bool local_wakeup_ = false;
    bool nothing_to_commit_ = false;
};

/// The shared store: several spacehook replicas on one PostgreSQL database.
///
/// - Appends go through an AppendWriter (group commit, one multi-row INSERT per batch); the unique
///   (webhook_id, event_id) key de-duplicates deliveries across replicas.
/// - Every other write runs in its own transaction on a pooled connection. Claims take rows with
///   SELECT ... FOR UPDATE SKIP LOCKED, so replicas never wait on each other's candidates and never
///   claim one row twice; owner-fenced writes lock their row (FOR UPDATE) before checking the lease,
///   so a takeover and a late write by the old owner are serialized.
/// - Lock keys: the runs table stays the only truth of who holds a key (running with an unexpired
///   lease, as in SQLite). Claimers of one key serialize on a transaction-scoped advisory lock on
///   hash(lock key) and check again under it, so two replicas cannot both see the key free and each
///   start a run of it. (See ClaimRun in the .cpp for why this rather than a table of held locks.)
/// - Wake-ups: commits that make work available NOTIFY the channel "spacehook_work" with this store's
///   id; a Listener session per store wakes this process for other replicas' work.
/// - Shared rate limits: one row per bucket in rate_limits, read and written under FOR UPDATE.
class PgStore final : public Store {
public:
    /// Connects to `url`, migrates (serialized across replicas by an advisory lock), starts the append
    /// writer and LISTENs before returning.
    static Result<std::unique_ptr<PgStore>> Open(const std::string& url, const StoreOptions& options,
                                                 const Clock& clock);
    ~PgStore() override;

    void Append(NewDelivery delivery, AppendCallback done) override;
    Status Ping() override;

    Result<std::vector<EventRecord>> ListEvents(const EventFilter& filter) override;
    Result<std::optional<EventRecord>> GetEvent(std::int64_t seq) override;
    Result<std::optional<EventRecord>> FindEvent(std::string_view event_id) override;

    Result<std::vector<EventRecord>> ClaimEvents(const std::string& owner, std::size_t limit,
                                                 TimePoint now) override;
    Result<int> CompleteDispatch(std::int64_t seq, const std::string& owner, const std::vector<NewRun>& runs,
                                 EventState final_state, const std::string& note) override;
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
    Result<std::optional<TimePoint>> NextDueTime() override;

    Result<std::vector<RunRecord>> ListRuns(const RunFilter& filter) override;
    Result<std::optional<RunRecord>> GetRun(std::int64_t run_id) override;
    Result<std::vector<DeadLetter>> ListDeadLetters(std::size_t limit) override;
    Status RetryDeadLetter(DeadLetter::Kind kind, std::int64_t id, TimePoint now) override;
    Status DropDeadLetter(DeadLetter::Kind kind, std::int64_t id) override;
    Status ReplayEvent(std::int64_t seq, TimePoint now) override;
    Result<StoreStats> Stats() override;

    void SetWakeup(std::function<void()> wakeup) override;

    Result<std::chrono::milliseconds> AcquireRateToken(const std::string& key, double rate_per_second,
                                                       int burst, TimePoint now) override;
    Status PauseRateLimit(const std::string& key, TimePoint until, TimePoint now) override;

    void Close() override;

    /// NextDueTime's statement ($1 = now): tests check that PostgreSQL answers it from the due-time
    /// indexes.
    static std::string NextDueTimeQuery();

    // --- test hooks (store tests only) --------------------------------------------------------
    void PauseWriterForTesting(bool paused) { writer_->PauseForTesting(paused); }
    /// The LISTEN session's server pid (0 while reconnecting) and how often it reconnected.
    [[nodiscard]] int ListenerPidForTesting() const { return listener_->BackendPidForTesting(); }
    [[nodiscard]] std::uint64_t ListenerReconnectsForTesting() const { return listener_->reconnects(); }
    /// This store's id, the payload of its NOTIFYs.
    [[nodiscard]] const std::string& instance_id() const { return instance_id_; }

private:
    PgStore(std::string url, const StoreOptions& options, const Clock& clock, ConnectOptions connect_options);

    /// Runs `fn` in one transaction on a pooled connection and commits; a deadlock or serialization
    /// failure runs it again (a few times), anything else is the caller's answer.
    template <class T>
    Result<T> Write(const std::function<Result<T>(Tx&)>& fn);
    Status WriteStatus(const std::function<Status(Tx&)>& fn);
    /// Runs `fn` on a pooled connection (autocommit: each statement sees the latest commits).
    template <class T>
    Result<T> Read(const std::function<Result<T>(Connection&)>& fn);
    /// Synchronous calls are refused after Close() and from the append writer's thread (a callback),
    /// which would stall every delivery behind a database round trip (the SQLite writer would wait for
    /// itself, so both backends answer kInternal there).
    Status CheckCallable() const;
    /// One attempt of ClaimRun at candidate `id` in its own transaction; nullopt when it turned out
    /// not claimable (taken meanwhile, or its lock key is held).
    Result<std::optional<RunRecord>> TryClaimRun(std::int64_t id, const std::string& lock_key,
                                                 const std::string& owner, TimePoint now);

    void Wakeup();

    const std::string url_;
    const StoreOptions options_;
    const Clock& clock_;
    const ConnectOptions connect_options_;
    const std::string instance_id_;
    const std::string channel_{kWorkChannel};
    std::atomic<bool> closed_{false};
    std::atomic<std::uint64_t> commits_{0};
    std::mutex wakeup_mu_;
    std::function<void()> wakeup_;
    std::unique_ptr<ConnectionPool> pool_;
    std::unique_ptr<AppendWriter> writer_;  // its thread calls Wakeup()
    std::unique_ptr<Listener> listener_;    // its thread calls Wakeup()
};

}  // namespace spacehook::store::pg
