#pragma once

// The SQLite backend of store::Store. Private to src/store: other parts use store.hpp and OpenStore().

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "store/sqlite_readers.hpp"
#include "store/sqlite_writer.hpp"
#include "store/store.hpp"

namespace spacehook::store::sqlite {

/// The embedded store: one database file in WAL mode.
///
/// Every write goes through one GroupCommitWriter (see there for why): Append() is queued and answered
/// by callback after the commit; the synchronous writes (claims, checkpoints, admin actions) are queued
/// as closures and the calling thread waits for the commit of their batch. Claims therefore read and
/// update in one transaction of the only writer, which is what makes them exclusive (the PostgreSQL
/// backend gets the same from SELECT ... FOR UPDATE SKIP LOCKED). Reads use a pool of read-only WAL
/// connections and see everything committed before they started.
class SqliteStore final : public Store {
public:
    /// Opens PATH: WAL, synchronous FULL (durable) or NORMAL, foreign keys, migrations.
    static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path, const StoreOptions& options,
                                                     const Clock& clock);
    ~SqliteStore() override;

    void Append(NewDelivery delivery, AppendCallback done) override;
    Status Ping() override;

    Result<std::vector<EventRecord>> ListEvents(const EventFilter& filter) override;
    Result<std::optional<EventRecord>> GetEvent(std::int64_t seq) override;
    Result<std::optional<EventRecord>> FindEvent(std::string_view event_id) override;

    Result<std::vector<EventRecord>> ClaimEvents(const std::string& owner, std::size_t limit,
                                                 TimePoint now) override;
    /// One savepoint per completion, all queued together so they share the writer's commits.
    std::vector<Result<int>> CompleteDispatches(const std::string& owner,
                                                const std::vector<DispatchCompletion>& completions) override;
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

    // --- test hooks (store tests only) --------------------------------------------------------
    /// Runs `sql` on the write connection as a write of its own (e.g. "PRAGMA max_page_count = 10",
    /// which is per connection, to simulate a full disk).
    Status ExecOnWriterForTesting(const std::string& sql);
    /// The integer `sql` answers on the write connection (e.g. "PRAGMA synchronous").
    Result<std::int64_t> QueryOnWriterForTesting(const std::string& sql);
    void PauseWriterForTesting(bool paused) { writer_->PauseForTesting(paused); }

private:
    SqliteStore(std::string path, const StoreOptions& options, const Clock& clock,
                std::unique_ptr<Connection> write_connection);

    /// Runs `fn` as one write of a group commit and waits for the commit.
    template <class T>
    Result<T> Write(const std::function<Result<T>(WriteContext&)>& fn);
    Status WriteStatus(const std::function<Status(WriteContext&)>& fn);
    /// Runs `fn` on a borrowed read connection inside one read transaction (a consistent snapshot).
    template <class T>
    Result<T> Read(const std::function<Result<T>(Connection&)>& fn);

    void Wakeup();

    const std::string path_;
    const StoreOptions options_;
    const Clock& clock_;
    std::atomic<bool> closed_{false};
    std::mutex wakeup_mu_;
    std::function<void()> wakeup_;
    ReaderPool readers_;
    std::unique_ptr<GroupCommitWriter> writer_;  // last: its thread calls Wakeup()
};

}  // namespace spacehook::store::sqlite
