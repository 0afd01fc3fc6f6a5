#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/pg_pool.hpp"
#include "store/store.hpp"
#include "store/writer_thread.hpp"

namespace spacehook::store::pg {

/// The ingest writer of a PostgreSQL store: group commit for Append.
///
/// Why: an acknowledged delivery must be durable, and a PostgreSQL commit waits for a WAL flush
/// (~0.1-1 ms, more on network disks) whatever it holds. One transaction per delivery would cap
/// ingest at the flush rate; this thread takes every append waiting (up to max_batch), writes them
/// with the journal's multi-row INSERT ... ON CONFLICT DO NOTHING (ledger_sql.hpp) RETURNING the keys
/// it stored, and COMMITs once. While one commit
/// is in flight the next batch accumulates, so batching needs no timer. The unique key makes
/// redeliveries no-ops across replicas: each replica's writer inserts, and whichever commits second
/// sees the row as a conflict (after waiting for the first one's transaction to end).
///
/// Failure contract, as SQLite's: callbacks run only after COMMIT returned; if the INSERT, the
/// NOTIFY or the COMMIT fails (server gone, disk full, a trigger refusing at commit), the transaction
/// is rolled back and every delivery of the batch gets kUnavailable, nothing of it is kept, and the
/// callers may safely retry. A lost connection is reopened for the next batch. Appends beyond
/// max_pending_appends are refused at once.
///
/// Other writes (claims, checkpoints) do not come here: they run on pooled connections in their own
/// transactions, where PostgreSQL's row locks (not a single writer) make them exclusive.
class AppendWriter {
public:
    struct Options {
        std::size_t max_batch = 1024;
        std::size_t max_pending_appends = 50000;
        std::string notify_channel;
        std::string notify_payload;  ///< this store's id: its own listener ignores its own wake-ups
    };

    /// `on_stored` runs on the writer thread after a commit that stored at least one new event, before
    /// the batch's callbacks; `commits` counts successful commits.
    AppendWriter(Connector connect, Options options, std::function<void()> on_stored,
                 std::atomic<std::uint64_t>& commits);
    AppendWriter(const AppendWriter&) = delete;
    AppendWriter& operator=(const AppendWriter&) = delete;
    ~AppendWriter();

    /// Queues a delivery; never blocks. `done` runs inline with kUnavailable when closed or full.
    void Submit(NewDelivery delivery, TimePoint now, AppendCallback done);
    /// Writes what is queued, then stops the thread. Idempotent; not from the writer thread.
    void Close();

    [[nodiscard]] bool OnWriterThread() const { return thread_.OnThread(); }
    [[nodiscard]] std::size_t queued() const { return thread_.queued(); }
    [[nodiscard]] bool AppendsRefused() const { return thread_.AppendsRefused(); }
    /// Test hook: while paused the writer takes nothing from the queue (Close() un-pauses).
    void PauseForTesting(bool paused) { thread_.Pause(paused); }

private:
    struct Pending {
        NewDelivery delivery;
        TimePoint now;
        AppendCallback done;
    };

    void ProcessBatch(std::vector<Pending>& batch);
    /// One transaction for the batch; fills `stored` (per delivery) on success.
    Status WriteBatch(const std::vector<Pending>& batch, std::vector<bool>& stored);
    static void Finish(Pending& pending, const Result<AppendOutcome>& outcome);

    const Connector connect_;
    const Options options_;
    const std::function<void()> on_stored_;
    std::atomic<std::uint64_t>& commits_;

    // Writer thread only.
    std::unique_ptr<Connection> db_;
    bool failing_ = false;  // the last batch failed (log transitions, not every batch)

    WriterThread<Pending> thread_;  // last: its thread uses the members above
};

}  // namespace spacehook::store::pg
