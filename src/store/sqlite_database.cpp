#include "store/sqlite_database.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

#include "core/log.hpp"
#include "store/ledger_sql.hpp"
#include "store/sqlite_schema.hpp"

namespace spacehook::store::sqlite {

namespace {

Dialect MakeDialect() {
    Dialect dialect;
    // One writer holds the whole database for each batch: nothing to lock, skip or serialize, and a
    // commit is shared with appends that must be durable.
    dialect.now_millis = "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)";
    dialect.storage_bytes = "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()";
    dialect.lowered_body_text = "LOWER(CAST(body AS TEXT))";
    // Pending events (due and not leased) and live runs whose lock is free, with the claim queries' own
    // conditions. A run whose lock is held is left out (else a worker would wake and find nothing to
    // claim, again and again); the holder's lease expiry is in the list, and its end fires the wake-up
    // (WakeLockWaiters).
    //
    // Both halves walk the due-time indexes of migration 3 from their smallest key (INDEXED BY: the
    // planner would otherwise take events_by_state / runs_by_state and scan the whole backlog, and with
    // the index missing the statement fails instead of silently scanning). The runs half stops at the
    // first run whose lock is free.
    dialect.next_due_time = fmt::format(
        "SELECT MIN(due) FROM ("
        " SELECT MIN(max(next_attempt_at, lease_until)) AS due"
        "  FROM events INDEXED BY events_pending_due WHERE state = 'pending'"
        " UNION ALL"
        " SELECT * FROM (SELECT {0} AS due FROM runs r INDEXED BY runs_live_due"
        "  WHERE r.state IN ('pending', 'running') AND {1} ORDER BY {0} LIMIT 1)"
        ") AS due_times",
        kRunDueAt, kLockFree);
    return dialect;
}

/// The journal's INSERT of one delivery: the group commit batches deliveries as statements of one
/// transaction, each told stored or duplicate by the rows it changed.
const std::string& InsertOneEventSql() {
    static const std::string sql = InsertEventsSql(1);
    return sql;
}

}  // namespace

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path,
                                                             const StoreOptions& options,
                                                             const Clock& clock) {
    auto db = Connection::Open(path, Connection::Mode::kReadWrite, options.busy_timeout);
    if (!db) return Fail(db.error());
    Connection& conn = **db;

    // WAL: readers never block the writer nor wait for it, and a commit appends to one file.
    auto mode = conn.Prepare("PRAGMA journal_mode = WAL");
    if (!mode) return Fail(mode.error());
    auto row = mode->Step();
    if (!row) return Fail(row.error());
    const std::string journal_mode = *row ? mode->Text(0) : "";
    mode->Reset();  // the pragma's statement must not stay active
    if (journal_mode != "wal") {
        return Fail(ErrorCode::kConfig, fmt::format("store '{}' cannot use WAL mode (journal_mode is '{}'); "
                                                    "is it on a network filesystem?",
                                                    path, journal_mode));
    }
    // FULL syncs the WAL on every commit: an acknowledged delivery survives power loss. NORMAL only
    // survives a crash of the process.
    const std::string pragmas = fmt::format(
        "PRAGMA synchronous = {}; PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = 67108864;",
        options.durable ? "FULL" : "NORMAL");
    if (auto st = conn.Exec(pragmas); !st) return Fail(st.error());

    auto version = ApplyMigrations(conn, Migrations(), clock.Now());
    if (!version) return Fail(version.error());

    log::Info("store", "opened SQLite store",
              {{"path", path}, {"schema_version", *version}, {"durable", options.durable}});
    return std::unique_ptr<SqliteDatabase>(new SqliteDatabase(path, options, std::move(*db)));
}

SqliteDatabase::SqliteDatabase(std::string path, const StoreOptions& options,
                               std::unique_ptr<Connection> write_connection)
    : path_(std::move(path)),
      readers_(path_, options.busy_timeout, options.max_idle_readers),
      writer_(std::make_unique<GroupCommitWriter>(
          std::move(write_connection),
          GroupCommitWriter::Options{options.max_batch, options.max_pending_appends, options.write_timeout},
          [this] { Wakeup(); })) {}

SqliteDatabase::~SqliteDatabase() {
    Close();
}

const Dialect& SqliteDatabase::dialect() const {
    static const Dialect dialect = MakeDialect();
    return dialect;
}

void SqliteDatabase::Close() {
    closed_.store(true);
    writer_->Close();
    readers_.Close();
}

Status SqliteDatabase::Write(const WriteFn& apply) {
    return writer_->Run([&apply](WriteContext& ctx) { return apply(ctx); });
}

std::vector<Status> SqliteDatabase::WriteEach(const std::vector<WriteFn>& applies) {
    std::vector<std::function<Status(WriteContext&)>> requests;
    requests.reserve(applies.size());
    for (const WriteFn& apply : applies) {
        requests.emplace_back([&apply](WriteContext& ctx) { return apply(ctx); });
    }
    return writer_->RunAll(std::move(requests));
}

Status SqliteDatabase::CheckCallable() const {
    if (closed_.load()) return Fail(ErrorCode::kUnavailable, "store is closed");
    return Ok();
}

Status SqliteDatabase::Read(const ReadFn& read, ReadMode /*mode*/) {
    if (auto st = CheckCallable(); !st) return st;
    auto db = readers_.Acquire();
    if (!db) return Fail(db.error());
    if (auto st = (*db)->Exec("BEGIN"); !st) return st;
    Status result = read(**db);
    // A read transaction commits nothing; ending it lets checkpoints move past its snapshot.
    if (auto st = (*db)->Exec("COMMIT"); !st && result) return st;
    if ((*db)->InTransaction()) (void)(*db)->Exec("ROLLBACK");
    return result;
}

void SqliteDatabase::Append(NewDelivery&& delivery, TimePoint now, AppendCallback&& done) {
    auto outcome = std::make_shared<AppendOutcome>(AppendOutcome::kDuplicate);
    WriteRequest request;
    request.counts_as_append = true;
    request.single_statement = true;
    request.apply = [delivery = std::move(delivery), now, outcome](WriteContext& ctx) -> Status {
        // ON CONFLICT DO NOTHING: a redelivery writes nothing and is told apart by the rows it changed,
        // per delivery, inside the shared transaction.
        const auto params = DeliveryParams(delivery, now);
        auto inserted = ctx.db.Run(InsertOneEventSql(), params, nullptr);
        if (!inserted) return Fail(inserted.error());
        if (*inserted > 0) {
            *outcome = AppendOutcome::kStored;
            ctx.RequestWakeup();
        } else {
            *outcome = AppendOutcome::kDuplicate;
        }
        return Ok();
    };
    request.finish = [outcome, done = std::move(done)](const Status& status) {
        if (!done) return;
        if (status) {
            done(*outcome);
        } else {
            done(tl::unexpected(status.error()));
        }
    };
    writer_->Submit(std::move(request));
}

WriterCounts SqliteDatabase::counts() const {
    WriterCounts counts;
    counts.commits = static_cast<std::int64_t>(writer_->commits());
    counts.write_queue = static_cast<std::int64_t>(writer_->queued());
    std::error_code ec;
    const auto wal_size = std::filesystem::file_size(path_ + "-wal", ec);
    if (!ec) counts.extra_bytes = static_cast<std::int64_t>(wal_size);  // no WAL file (just checkpointed): 0
    return counts;
}

Status SqliteDatabase::ExecOnWriterForTesting(const std::string& sql) {
    return writer_->Run([&](WriteContext& ctx) -> Status { return ctx.db.Exec(sql); });
}

Result<std::int64_t> SqliteDatabase::QueryOnWriterForTesting(const std::string& sql) {
    std::int64_t value = 0;
    auto status = writer_->Run([&](WriteContext& ctx) -> Status {
        auto answer = ctx.db.QueryInt(sql);
        if (!answer) return Fail(answer.error());
        value = *answer;
        return Ok();
    });
    if (!status) return Fail(status.error());
    return value;
}

}  // namespace spacehook::store::sqlite
