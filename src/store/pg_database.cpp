#include "store/pg_database.hpp"

#include <fmt/format.h>

#include "core/log.hpp"
#include "core/random.hpp"
#include "store/ledger_sql.hpp"
#include "store/pg_schema.hpp"

namespace spacehook::store::pg {

namespace {

using std::chrono::milliseconds;

/// A transaction that lost a deadlock or serialization race is run again this many times in all.
constexpr int kMaxAttempts = 4;
/// The first key of the two-int advisory lock space for run lock keys ("runk"); the second is
/// hashtext(lock_key). Migrations use the separate single-bigint space (kMigrationLock).
constexpr std::int32_t kRunLockClass = 0x72756e6b;
/// How long Open waits for the LISTEN session before failing.
constexpr milliseconds kListenTimeout{10000};

Dialect MakeDialect() {
    Dialect dialect;
    dialect.lock_row = " FOR UPDATE";
    dialect.skip_locked = " FOR UPDATE SKIP LOCKED";
    dialect.lock_key = fmt::format("SELECT pg_advisory_xact_lock({}, hashtext(?1))", kRunLockClass);
    dialect.relaxed_commit = "SET LOCAL synchronous_commit = off";
    dialect.now_millis = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";
    dialect.lowered_body_text = "LOWER(encode(body, 'escape'))";
    dialect.body_text_escapes_bytes = true;
    dialect.storage_bytes =
        "SELECT pg_total_relation_size('events') + pg_total_relation_size('runs') + "
        "pg_total_relation_size('steps') + pg_total_relation_size('store_meta') + "
        "pg_total_relation_size('rate_limits') + pg_total_relation_size('schema_migrations')";
    // As SQLite's: pending events (due and not leased) and live runs whose lock is free; a run whose
    // lock is held is left out, the holder's lease expiry is in the list and its end NOTIFYs. Each half
    // walks its due-time index (migration 2) from the smallest key and stops at the first row that
    // qualifies (for runs: whose lock is free), instead of scanning the backlog; LEAST skips a NULL half.
    dialect.next_due_time = fmt::format(
        "SELECT LEAST("
        "(SELECT GREATEST(next_attempt_at, lease_until) FROM events WHERE state = 'pending'"
        " ORDER BY GREATEST(next_attempt_at, lease_until) LIMIT 1), "
        "(SELECT {0} FROM runs r WHERE r.state IN ('pending', 'running') AND {1} ORDER BY {0} LIMIT 1))",
        kRunDueAt, kLockFree);
    return dialect;
}

const Dialect& PgDialect() {
    static const Dialect dialect = MakeDialect();
    return dialect;
}

/// A write's transaction on its pooled connection, and what it asked for at COMMIT.
class PgTransaction final : public Transaction {
public:
    explicit PgTransaction(Connection& db) : db_(db) {}

    Result<std::int64_t> Run(std::string_view sql, store::Params params, const RowSink* each_row) override {
        return db_.Run(sql, params, each_row);
    }
    Status RunScript(std::string_view sql) override { return db_.RunScript(sql); }
    void RequestWakeup() override {
        local_wakeup_ = true;
        notify_ = true;
    }
    void AnnounceDueTime() override { notify_ = true; }
    void NothingToCommit() override { nothing_to_commit_ = true; }

    [[nodiscard]] bool local_wakeup() const { return local_wakeup_; }
    [[nodiscard]] bool notify() const { return notify_; }
    [[nodiscard]] bool nothing_to_commit() const { return nothing_to_commit_ && !notify_; }

private:
    Connection& db_;
    bool local_wakeup_ = false;
    bool notify_ = false;
    bool nothing_to_commit_ = false;
};

}  // namespace

Result<std::unique_ptr<PgDatabase>> PgDatabase::Open(const std::string& url, const StoreOptions& options,
                                                     const Clock& clock) {
    // Defence in depth: no log line or error text may ever show the database password.
    if (const std::string password = PasswordOf(url); !password.empty()) log::RegisterSecret(password);
    ConnectOptions connect;
    connect.lock_timeout = options.busy_timeout;
    connect.durable = options.durable;
    auto first = Connection::Open(url, connect);
    if (!first) return Fail(first.error());
    auto version = ApplyMigrations(**first, Migrations(), clock.Now());
    if (!version) return Fail(version.error());

    std::unique_ptr<PgDatabase> database(new PgDatabase(url, options, connect));
    database->pool_->Adopt(std::move(*first));
    if (auto listening = database->listener_->WaitListening(kListenTimeout); !listening) {
        database->Close();
        return Fail(listening.error());
    }
    log::Info("store", "opened PostgreSQL store",
              {{"url", RedactStoreUrl(url)},
               {"schema_version", *version},
               {"durable", options.durable},
               {"instance", database->instance_id_}});
    return database;
}

PgDatabase::PgDatabase(std::string url, const StoreOptions& options, ConnectOptions connect_options)
    : url_(std::move(url)),
      options_(options),
      connect_options_(std::move(connect_options)),
      instance_id_(RandomHexToken(8)) {
    // Each role names its sessions, so pg_stat_activity shows an operator which is which (and how many
    // pooled ones a replica holds).
    auto connector = [this](const char* role) -> Connector {
        ConnectOptions role_options = connect_options_;
        role_options.application_name = role;
        return [this, role_options] { return Connection::Open(url_, role_options); };
    };
    pool_ = std::make_unique<ConnectionPool>(connector("spacehook"), options.pool_size);
    AppendWriter::Options writer_options{options.max_batch, options.max_pending_appends, channel_,
                                         instance_id_};
    writer_ = std::make_unique<AppendWriter>(
        connector("spacehook-append"), std::move(writer_options), [this] { Wakeup(); }, commits_);
    listener_ = std::make_unique<Listener>(connector("spacehook-listen"), channel_, instance_id_,
                                           [this] { Wakeup(); });
}

PgDatabase::~PgDatabase() {
    Close();
}

const Dialect& PgDatabase::dialect() const {
    return PgDialect();
}

std::string PgDatabase::NextDueTimeQuery() {
    return DollarPlaceholders(PgDialect().next_due_time);
}

void PgDatabase::Close() {
    closed_.store(true);
    writer_->Close();  // flushes queued appends (their callbacks run)
    listener_->Close();
    pool_->Close();
}

Status PgDatabase::CheckCallable() const {
    if (closed_.load()) return Fail(ErrorCode::kUnavailable, "store is closed");
    if (writer_->OnWriterThread()) {
        return Fail(ErrorCode::kInternal, "a synchronous store call was made from the store's writer thread");
    }
    return Ok();
}

Status PgDatabase::Write(const WriteFn& apply) {
    if (auto st = CheckCallable(); !st) return st;
    for (int attempt = 1;; ++attempt) {
        auto lease = pool_->Acquire(options_.write_timeout);
        if (!lease) return Fail(lease.error());
        Connection& db = **lease;
        if (auto st = db.Exec("BEGIN"); !st) {
            // An idle pooled session the server dropped (restart, failover): nothing ran yet, so try
            // again on a fresh one (the broken one is discarded when the lease ends).
            if (db.broken() && attempt < kMaxAttempts) continue;
            return st;
        }
        PgTransaction tx(db);
        Status result = apply(tx);  // not const: returned by move
        Status ended = Ok();
        if (result && !tx.nothing_to_commit()) {
            // In the transaction, so every listener hears it at COMMIT and never for a rollback.
            if (tx.notify()) ended = Notify(db, channel_, instance_id_);
            if (ended) ended = db.Exec("COMMIT");
            if (ended) {
                commits_.fetch_add(1, std::memory_order_relaxed);
                if (tx.local_wakeup()) Wakeup();
                return result;
            }
        }
        const bool retry = db.last_error_retryable() && attempt < kMaxAttempts;
        if (db.InTransaction() && !db.broken()) (void)db.Exec("ROLLBACK");
        if (result && ended) return result;  // nothing to commit: rolled back, nothing lost
        if (!retry) return result ? ended : result;
        log::Debug("store", "transaction lost a lock race; running it again", {{"attempt", attempt}});
    }
}

Status PgDatabase::Read(const ReadFn& read, ReadMode mode) {
    if (auto st = CheckCallable(); !st) return st;
    for (int attempt = 1;; ++attempt) {
        auto lease = pool_->Acquire(options_.write_timeout);
        if (!lease) return Fail(lease.error());
        Connection& db = **lease;
        Status result = Ok();
        if (mode == ReadMode::kSnapshot) {
            result = db.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
            if (result) {
                result = read(db);
                const Status ended = db.Exec(result ? "COMMIT" : "ROLLBACK");
                if (result && !ended) result = ended;
            }
        } else {
            result = read(db);
        }
        // A read on a session the server dropped meanwhile changed nothing: read again on a fresh one.
        if (result || !db.broken() || attempt >= 2) return result;
    }
}

void PgDatabase::Append(NewDelivery&& delivery, TimePoint now, AppendCallback&& done) {
    writer_->Submit(std::move(delivery), now, std::move(done));
}

WriterCounts PgDatabase::counts() const {
    WriterCounts counts;
    counts.commits = static_cast<std::int64_t>(commits_.load(std::memory_order_relaxed));
    counts.write_queue = static_cast<std::int64_t>(writer_->queued());
    return counts;
}

}  // namespace spacehook::store::pg
