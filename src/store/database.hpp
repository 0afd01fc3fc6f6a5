#pragma once

// What the ledger needs from a database backend: how its SQL differs (Dialect), transactions and reads
// over the session seam (sql_session.hpp), and the append path each backend batches its own way.
// Private to src/store. Backends: sqlite_database.hpp, pg_database.hpp.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/sql_session.hpp"
#include "store/store.hpp"

namespace spacehook::store {

/// Where one backend's SQL differs from the other's. The ledger writes every statement once and splices
/// these in; anything both databases understand alike is written plainly in the ledger.
struct Dialect {
    /// Appended to a SELECT of a row that the same transaction then changes (fences, rate buckets):
    /// PostgreSQL locks the row (" FOR UPDATE") so concurrent writers serialize on it; SQLite's one
    /// writer already holds the whole database ("").
    std::string lock_row;
    /// Appended to a claim's SELECT of candidate rows: claimers on other replicas skip rows another one
    /// is claiming instead of waiting for them (" FOR UPDATE SKIP LOCKED"); "" for SQLite.
    std::string skip_locked;
    /// Serializes the claimers of one run lock key (?1) until the transaction ends; "" where the writer
    /// is exclusive anyway. See ClaimRun in ledger_runs.cpp for why PostgreSQL needs it.
    std::string lock_key;
    /// Lets this transaction commit without waiting for a flush (rate buckets: a crash loses a few
    /// tokens); "" where commits are shared with writes that must be durable.
    std::string relaxed_commit;
    /// The database's own clock as Unix milliseconds, an expression usable in any statement.
    std::string now_millis;
    /// The one integer Stats reports as the size of the tables.
    std::string storage_bytes;
    /// events.body as text a LIKE can search, ASCII letters lowered (the admin's text search): SQLite
    /// reads its bytes as text; PostgreSQL keeps them as bytea, and `escape` spells a byte of 0 or
    /// >= 0x80 as \ooo and a backslash as two, so no body (valid UTF-8 or not) makes the statement fail.
    std::string lowered_body_text;
    /// lowered_body_text is in `escape` form: the text searched for must be spelled the same way.
    bool body_text_escapes_bytes = false;
    /// NextDueTime's statement (?1 = now), built from ledger_sql.hpp's kRunDueAt and kLockFree: each
    /// backend makes the planner walk its due-time indexes its own way.
    std::string next_due_time;
};

/// Reads see the latest commits (kLatest: each statement may see a newer one) or one snapshot for all
/// their statements (kSnapshot: counts that must add up).
enum class ReadMode { kLatest, kSnapshot };

using WriteFn = std::function<Status(Transaction&)>;
using ReadFn = std::function<Status(Session&)>;

/// What Stats() reports from outside the tables.
struct WriterCounts {
    std::int64_t commits = 0;      ///< write transactions committed since open
    std::int64_t write_queue = 0;  ///< writes waiting for the writer
    std::int64_t extra_bytes = 0;  ///< storage beyond Dialect::storage_bytes (SQLite's WAL file)
};

/// A database the ledger runs on. Thread-safe: any thread may call any method.
class Database {
public:
    virtual ~Database() = default;

    [[nodiscard]] virtual const Dialect& dialect() const = 0;

    /// Runs `apply` as one write transaction and returns once it committed, or failed and nothing of it
    /// was kept. `apply` may capture the caller's locals by reference (it runs only while the caller
    /// waits) and may run more than once (PostgreSQL runs it again after losing a deadlock): each run
    /// must start from scratch.
    virtual Status Write(const WriteFn& apply) = 0;
    /// Several writes, each with its own outcome, in order. SQLite lets them share commits; the default
    /// runs one Write each.
    virtual std::vector<Status> WriteEach(const std::vector<WriteFn>& applies);
    /// Runs `read` on a read session.
    virtual Status Read(const ReadFn& read, ReadMode mode) = 0;
    /// Whether a synchronous call may run now, as Read and Write decide it (kUnavailable once closed),
    /// for calls that have nothing to ask the database.
    [[nodiscard]] virtual Status CheckCallable() const = 0;

    /// Queues a delivery for the journal's group commit (Journal::Append); `now` is its due time.
    virtual void Append(NewDelivery&& delivery, TimePoint now, AppendCallback&& done) = 0;
    /// Appends are refused right now (the queue is over max_pending_appends).
    [[nodiscard]] virtual bool AppendsRefused() const = 0;
    [[nodiscard]] virtual WriterCounts counts() const = 0;
    /// Flushes queued appends (their callbacks run) and stops the threads. Idempotent.
    virtual void Close() = 0;

    /// Who to call when work may have become available (WorkQueue::SetWakeup).
    void SetWakeup(std::function<void()> wakeup);

protected:
    /// Calls the wake-up callback (from a writer or listener thread); a throwing callback is logged.
    void Wakeup();

private:
    std::mutex wakeup_mu_;
    std::function<void()> wakeup_;
};

}  // namespace spacehook::store
