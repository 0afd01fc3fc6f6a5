#include "store/sqlite_schema.hpp"

#include <fmt/format.h>

#include "core/log.hpp"

namespace spacehook::store::sqlite {

namespace {

// Times are INTEGER Unix milliseconds (0 = never), text is TEXT, webhook bodies are BLOB (the exact
// signed bytes, no encoding assumed). Keys avoid SQL keywords ("trigger", "index") so the same column
// names work in PostgreSQL. AUTOINCREMENT guarantees seq/id are never reused, even after retention
// deletes rows: journal order and paging rely on it (PostgreSQL: identity columns).
constexpr std::string_view kInitialSchema = R"sql(
CREATE TABLE events (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id        TEXT    NOT NULL,
    event_id          TEXT    NOT NULL,
    trigger_name      TEXT    NOT NULL,
    actor             TEXT    NOT NULL,
    entity_id         TEXT    NOT NULL,
    created_on        TEXT    NOT NULL,
    body              BLOB    NOT NULL,
    received_at       INTEGER NOT NULL,
    state             TEXT    NOT NULL CHECK (state IN ('pending', 'dispatched', 'ignored', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER NOT NULL,
    lease_owner       TEXT    NOT NULL DEFAULT '',
    lease_until       INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT    NOT NULL DEFAULT '',
    failed_at         INTEGER NOT NULL DEFAULT 0,
    replay_generation INTEGER NOT NULL DEFAULT 0,
    runs_created      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (webhook_id, event_id)
) STRICT;
-- (state, seq): claims and listings touch only the live part of the journal, not its history.
CREATE INDEX events_by_state ON events (state, seq);
CREATE INDEX events_by_event_id ON events (event_id);

CREATE TABLE runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_key         TEXT    NOT NULL UNIQUE,
    rule            TEXT    NOT NULL,
    event_seq       INTEGER NOT NULL REFERENCES events (seq),
    lock_key        TEXT    NOT NULL DEFAULT '',
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'done', 'dead', 'dropped')),
    step_count      INTEGER NOT NULL CHECK (step_count >= 0),
    next_step       INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    failed_at       INTEGER NOT NULL DEFAULT 0,
    context         TEXT    NOT NULL
) STRICT;
CREATE INDEX runs_by_state ON runs (state, id);
-- Lock checks look only at runs that have a lock key.
CREATE INDEX runs_by_lock ON runs (lock_key, state) WHERE lock_key <> '';
CREATE INDEX runs_by_event ON runs (event_seq);
CREATE INDEX runs_by_rule ON runs (rule, id);

CREATE TABLE steps (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_index  INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('started', 'done')),
    output      TEXT    NOT NULL DEFAULT 'null',
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, step_index)
) STRICT;

-- Small facts about the store itself; Ping() rewrites 'last_ping' to prove a commit goes through.
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
)sql";

// Token buckets shared by every process on this file (Store::AcquireRateToken): one row per key.
constexpr std::string_view kRateLimits = R"sql(
CREATE TABLE rate_limits (
    key          TEXT    PRIMARY KEY,
    tokens       REAL    NOT NULL,
    updated_at   INTEGER NOT NULL,
    paused_until INTEGER NOT NULL DEFAULT 0
) STRICT;
)sql";

// When the next event or run is due (Store::NextDueTime, asked by every runner thread before it sleeps):
// partial indexes over the live rows, keyed on the due time exactly as NextDueTime computes it, so the
// answer is one index lookup instead of a scan of the whole backlog (a scan of 20,000 pending events,
// bodies and all, took most of the CPU of a server under load).
constexpr std::string_view kDueIndexes = R"sql(
CREATE INDEX events_pending_due ON events (max(next_attempt_at, lease_until)) WHERE state = 'pending';
CREATE INDEX runs_live_due ON runs ((CASE state WHEN 'pending' THEN next_attempt_at ELSE lease_until END))
    WHERE state IN ('pending', 'running');
)sql";

constexpr Migration kMigrations[] = {
    {1, "initial schema: events, runs, steps, store_meta", kInitialSchema},
    {2, "rate_limits: shared token buckets", kRateLimits},
    {3, "due-time indexes of pending events and live runs", kDueIndexes},
};

constexpr std::string_view kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
) STRICT
)sql";

/// Applies what is missing inside the caller's transaction; `from`/`to` report the versions.
Status Migrate(Connection& connection, std::span<const Migration> migrations, TimePoint now, int& from,
               int& to) {
    if (auto st = connection.Exec(kCreateMigrationsTable); !st) return st;
    auto current = connection.QueryInt("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!current) return Fail(current.error());
    const int latest = migrations.back().version;
    if (*current > latest) {
        return Fail(ErrorCode::kConfig,
                    fmt::format("store '{}' has schema version {}, newer than this spacehook knows ({}); "
                                "run a newer spacehook or point it at another store",
                                connection.path(), *current, latest));
    }
    from = to = static_cast<int>(*current);
    for (const Migration& migration : migrations) {
        if (migration.version <= to) continue;
        if (auto st = connection.Exec(migration.sql); !st) {
            Error error = st.error();
            error.message = fmt::format("schema migration {} ({}) failed: {}", migration.version,
                                        migration.name, error.message);
            return Fail(std::move(error));
        }
        auto insert =
            connection.Prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
        if (!insert) return Fail(insert.error());
        if (auto st = insert->BindAll(migration.version, migration.name, now).Run(); !st) return st;
        to = migration.version;
    }
    return Ok();
}

}  // namespace

std::span<const Migration> Migrations() {
    return kMigrations;
}

Result<int> ApplyMigrations(Connection& connection, std::span<const Migration> migrations, TimePoint now) {
    if (migrations.empty()) return Fail(ErrorCode::kInternal, "no schema migrations given");
    for (std::size_t i = 0; i < migrations.size(); ++i) {
        if (migrations[i].version != static_cast<int>(i) + 1) {
            return Fail(ErrorCode::kInternal, fmt::format("schema migration #{} has version {}, expected {}",
                                                          i, migrations[i].version, i + 1));
        }
    }
    // IMMEDIATE: two processes opening one fresh file must not both decide to create the tables.
    if (auto st = connection.Exec("BEGIN IMMEDIATE"); !st) return Fail(st.error());
    int from = 0;
    int version = 0;
    Status migrated = Migrate(connection, migrations, now, from, version);
    if (migrated) migrated = connection.Exec("COMMIT");
    if (!migrated) {
        if (connection.InTransaction()) (void)connection.Exec("ROLLBACK");
        return Fail(migrated.error());
    }
    if (from != version) {
        log::Info("store", "schema migrated", {{"path", connection.path()}, {"from", from}, {"to", version}});
    }
    return version;
}

}  // namespace spacehook::store::sqlite
