#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/error.hpp"
#include "store/sql_session.hpp"
#include "store/sqlite_connection.hpp"
#include "store/writer_thread.hpp"

namespace spacehook::store::sqlite {

/// What a write sees while it runs: the write connection, inside the batch's transaction.
class WriteContext final : public Transaction {
public:
    explicit WriteContext(Connection& connection) : db(connection) {}
    Connection& db;

    Result<std::int64_t> Run(std::string_view sql, Params params, const RowSink* each_row) override {
        return db.Run(sql, params, each_row);
    }
    Status RunScript(std::string_view sql) override { return db.Exec(sql); }
    /// Asks for the store's wake-up callback once the batch has committed (new work is available).
    void RequestWakeup() override { wakeup_requested_ = true; }
    /// Other processes on the file learn due times from the table when they next look.
    void AnnounceDueTime() override {}
    /// The batch's transaction is shared: it commits anyway.
    void NothingToCommit() override {}
    [[nodiscard]] bool wakeup_requested() const { return wakeup_requested_; }

private:
    bool wakeup_requested_ = false;
};

/// One unit of work for the writer thread.
struct WriteRequest {
    /// Runs on the writer thread inside the batch's transaction. An error that is not a storage
    /// failure undoes only this request (its savepoint) and is handed to `finish`.
    std::function<Status(WriteContext&)> apply;
    /// Runs on the writer thread after COMMIT returned (with apply's result), or after the batch
    /// failed (with kUnavailable), or at once on the caller's thread when the request is refused.
    std::function<void(const Status&)> finish;
    /// Appends count against max_pending_appends; synchronous operations do not (each holds a thread).
    bool counts_as_append = false;
    /// A single INSERT needs no savepoint: a failing statement undoes itself.
    bool single_statement = false;
    /// Set for synchronous requests whose caller may give up waiting (write_timeout): the writer and
    /// the caller race to move it from kQueued, and the writer skips requests the caller abandoned.
    std::shared_ptr<std::atomic<int>> gate;
};

/// The single writer of a SQLite store, doing group commit.
///
/// Why one thread: SQLite allows one writer per database at a time, and an fsync'ed commit costs
/// ~0.3 ms whatever it holds (cpp-deps.md §1.4: ~3.4k commits/s with one insert each, ~86k inserts/s
/// with 100 per commit). So every write of the process (appends from the ingress, claims and
/// checkpoints from the dispatcher and runners, admin actions) is queued here; the thread takes
/// everything waiting (up to max_batch), runs it in one BEGIN IMMEDIATE transaction, each request
/// in its own SAVEPOINT, and COMMITs once. SQLite never sees two writers from this process (no
/// SQLITE_BUSY between our own threads), and runner writes share commits with ingest writes.
/// Batching is natural, with no timer: while one commit is in fsync, the next batch accumulates.
///
/// Durability contract: `finish` runs only after COMMIT returned SQLITE_OK, so an acknowledged
/// append is on disk (synchronous=FULL). If anything in the batch hits a storage failure (disk full,
/// I/O error, lock timeout) or COMMIT fails, the whole transaction is rolled back and every request
/// of the batch gets kUnavailable: nothing of it is visible, and callers may safely retry.
class GroupCommitWriter {
public:
    struct Options {
        std::size_t max_batch = 1024;
        std::size_t max_pending_appends = 50000;
        std::chrono::milliseconds write_timeout{30000};
    };

    /// Takes the write connection (already migrated) and starts the thread. `on_wakeup` is called on
    /// the writer thread after a commit in which some request asked for it.
    GroupCommitWriter(std::unique_ptr<Connection> db, Options options, std::function<void()> on_wakeup);
    GroupCommitWriter(const GroupCommitWriter&) = delete;
    GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;
    ~GroupCommitWriter();

    /// Queues a request; never blocks. Refused (finish called inline with kUnavailable) once closed,
    /// or for an append when max_pending_appends appends already wait.
    void Submit(WriteRequest request);
    /// Queues several requests at once (contiguous in the queue, so normally in one batch).
    void SubmitAll(std::vector<WriteRequest> requests);
    /// Queues `apply` and waits for its commit. Fails with kUnavailable when the writer did not start
    /// it within write_timeout (it is then skipped, never run later) or when the batch failed.
    /// `apply` may capture the caller's locals by reference: it runs only while the caller waits.
    Status Run(std::function<Status(WriteContext&)> apply);
    /// Run for several, queued together and in order (so they share commits), each in its own savepoint
    /// and with its own outcome; waits for all. Same timeout and abandoning rules as Run.
    std::vector<Status> RunAll(std::vector<std::function<Status(WriteContext&)>> applies);
    /// Runs what is queued, then stops the thread. Idempotent; must not be called from the writer
    /// thread (a callback).
    void Close();

    [[nodiscard]] bool OnWriterThread() const { return thread_.OnThread(); }
    /// Successful commits since start.
    [[nodiscard]] std::uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }
    /// Requests waiting for the writer.
    [[nodiscard]] std::size_t queued() const { return thread_.queued(); }
    /// True while appends are being refused for the queue limit.
    [[nodiscard]] bool AppendsRefused() const { return thread_.AppendsRefused(); }

    /// Test hook: while paused the writer takes nothing from the queue (Close() un-pauses), so a test
    /// can queue requests that must land in one batch.
    void PauseForTesting(bool paused) { thread_.Pause(paused); }

private:
    void ProcessBatch(std::vector<WriteRequest>& batch);
    /// Applies one request inside the open transaction, in a savepoint unless single_statement.
    Status Apply(WriteRequest& request, WriteContext& context);
    static void Finish(WriteRequest& request, const Status& status);

    std::unique_ptr<Connection> db_;
    const Options options_;
    const std::function<void()> on_wakeup_;
    std::atomic<std::uint64_t> commits_{0};
    bool failing_ = false;  // writer thread only: the last batch failed (log transitions, not every batch)
    WriterThread<WriteRequest> thread_;  // last: its thread uses the members above
};

}  // namespace spacehook::store::sqlite
