#pragma once

// The SQLite backend under the ledger. Private to src/store: other parts use store.hpp and OpenStore().

#include <atomic>
#include <memory>
#include <string>

#include "store/database.hpp"
#include "store/sqlite_readers.hpp"
#include "store/sqlite_writer.hpp"

namespace spacehook::store::sqlite {

/// The embedded database: one file in WAL mode.
///
/// Every write goes through one GroupCommitWriter (see there for why): appends are queued and answered
/// by callback after the commit; the ledger's synchronous writes (claims, checkpoints, admin actions)
/// are queued as closures and the calling thread waits for the commit of their batch. Claims therefore
/// read and update in one transaction of the only writer, which is what makes them exclusive (the
/// PostgreSQL backend gets the same from SELECT ... FOR UPDATE SKIP LOCKED). Reads use a pool of
/// read-only WAL connections and see everything committed before they started.
class SqliteDatabase final : public Database {
public:
    /// Opens PATH: WAL, synchronous FULL (durable) or NORMAL, foreign keys, migrations.
    static Result<std::unique_ptr<SqliteDatabase>> Open(const std::string& path, const StoreOptions& options,
                                                        const Clock& clock);
    ~SqliteDatabase() override;

    [[nodiscard]] const Dialect& dialect() const override;
    Status Write(const WriteFn& apply) override;
    /// One savepoint per write, all queued together so they share the writer's commits.
    std::vector<Status> WriteEach(const std::vector<WriteFn>& applies) override;
    /// Always one snapshot (a read transaction), whatever the mode.
    Status Read(const ReadFn& read, ReadMode mode) override;
    [[nodiscard]] Status CheckCallable() const override;
    void Append(NewDelivery&& delivery, TimePoint now, AppendCallback&& done) override;
    [[nodiscard]] bool AppendsRefused() const override { return writer_->AppendsRefused(); }
    [[nodiscard]] WriterCounts counts() const override;
    void Close() override;

    // --- test hooks (store tests only) --------------------------------------------------------
    /// Runs `sql` on the write connection as a write of its own (e.g. "PRAGMA max_page_count = 10",
    /// which is per connection, to simulate a full disk).
    Status ExecOnWriterForTesting(const std::string& sql);
    /// The integer `sql` answers on the write connection (e.g. "PRAGMA synchronous").
    Result<std::int64_t> QueryOnWriterForTesting(const std::string& sql);
    void PauseWriterForTesting(bool paused) { writer_->PauseForTesting(paused); }

private:
    SqliteDatabase(std::string path, const StoreOptions& options,
                   std::unique_ptr<Connection> write_connection);

    const std::string path_;
    std::atomic<bool> closed_{false};
    ReaderPool readers_;
    std::unique_ptr<GroupCommitWriter> writer_;  // last: its thread calls Wakeup()
};

}  // namespace spacehook::store::sqlite
