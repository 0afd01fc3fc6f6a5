#include "store/pg_schema.hpp"

#include <fmt/format.h>

#include "core/log.hpp"

namespace spacehook::store::pg {

namespace {

/// How long a starting replica waits for another one's migration.
constexpr std::chrono::milliseconds kMigrationLockTimeout{120000};

// The logical schema of SQLite's (sqlite_schema.cpp): the same tables, columns and indexes, so the
// queries read alike. Times are BIGINT Unix milliseconds (0 = never); webhook bodies are BYTEA (the
// exact signed bytes); ids are identity columns, never reused. Context and step outputs stay TEXT
// (exact round trip of what the runner wrote; nothing queries inside them).
constexpr std::string_view kInitialSchema = R"sql(
CREATE TABLE events (
    seq               BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id        TEXT    NOT NULL,
    event_id          TEXT    NOT NULL,
    trigger_name      TEXT    NOT NULL,
    actor             TEXT    NOT NULL,
    entity_id         TEXT    NOT NULL,
    created_on        TEXT    NOT NULL,
    body              BYTEA   NOT NULL,
    received_at       BIGINT  NOT NULL,
    state             TEXT    NOT NULL CHECK (state IN ('pending', 'dispatched', 'ignored', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   BIGINT  NOT NULL,
    lease_owner       TEXT    NOT NULL DEFAULT '',
    lease_until       BIGINT  NOT NULL DEFAULT 0,
    last_error        TEXT    NOT NULL DEFAULT '',
    failed_at         BIGINT  NOT NULL DEFAULT 0,
    replay_generation INTEGER NOT NULL DEFAULT 0,
    runs_created      INTEGER NOT NULL DEFAULT 0,
    -- The dedupe key: a redelivery, from any replica, is an INSERT ... ON CONFLICT DO NOTHING.
    CONSTRAINT events_delivery_key UNIQUE (webhook_id, event_id)
);
CREATE INDEX events_by_state ON events (state, seq);
CREATE INDEX events_by_event_id ON events (event_id);

CREATE TABLE runs (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_key         TEXT    NOT NULL UNIQUE,
    rule            TEXT    NOT NULL,
    event_seq       BIGINT  NOT NULL REFERENCES events (seq),
    lock_key        TEXT    NOT NULL DEFAULT '',
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'done', 'dead', 'dropped')),
    step_count      INTEGER NOT NULL CHECK (step_count >= 0),
    next_step       INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    next_attempt_at BIGINT  NOT NULL,
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     BIGINT  NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    failed_at       BIGINT  NOT NULL DEFAULT 0,
    context         TEXT    NOT NULL
);
CREATE INDEX runs_by_state ON runs (state, id);
CREATE INDEX runs_by_lock ON runs (lock_key, state) WHERE lock_key <> '';
CREATE INDEX runs_by_event ON runs (event_seq);
CREATE INDEX runs_by_rule ON runs (rule, id);

CREATE TABLE steps (
    run_id      BIGINT  NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_index  INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('started', 'done')),
    output      TEXT    NOT NULL DEFAULT 'null',
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, step_index)
);

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Token buckets shared by every replica (Store::AcquireRateToken): one row per key (a portal).
CREATE TABLE rate_limits (
    key          TEXT             PRIMARY KEY,
    tokens       DOUBLE PRECISION NOT NULL,
    updated_at   BIGINT           NOT NULL,
    paused_until BIGINT           NOT NULL DEFAULT 0
);
)sql";

// When the next event or run is due (Store::NextDueTime, asked by every runner thread of every replica
// before it sleeps): partial indexes over the live rows, keyed on the due time exactly as NextDueTime
// computes it, so the answer is an index lookup instead of a scan of the whole backlog.
constexpr std::string_view kDueIndexes = R"sql(
CREATE INDEX events_pending_due ON events ((GREATEST(next_attempt_at, lease_until))) WHERE state = 'pending';
CREATE INDEX runs_live_due ON runs ((CASE state WHEN 'pending' THEN next_attempt_at ELSE lease_until END))
    WHERE state IN ('pending', 'running');
)sql";

constexpr Migration kMigrations[] = {
    {1, "initial schema: events, runs, steps, store_meta, rate_limits", kInitialSchema},
    {2, "due-time indexes of pending events and live runs", kDueIndexes},
};

constexpr std::string_view kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at BIGINT  NOT NULL
)
)sql";

/// Applies what is missing inside the caller's transaction; `from`/`to` report the versions.
Status Migrate(Connection& connection, std::span<const Migration> migrations, TimePoint now, int& from,
               int& to) {
    // A replica that starts while another migrates waits for it rather than failing after the
    // session's lock_timeout (meant for row locks, seconds): a migration may take longer. Bounded all
    // the same, and only for this transaction.
    if (auto st = connection.Exec(fmt::format("SET LOCAL lock_timeout = {}", kMigrationLockTimeout.count()));
        !st) {
        return st;
    }
    // Before anything else, even CREATE TABLE IF NOT EXISTS: two sessions creating the same table at
    // once fail with a unique violation in the catalog, IF NOT EXISTS or not.
    if (auto st = connection.Query("SELECT pg_advisory_xact_lock($1)", Params::Of(kMigrationLock)); !st) {
        return Fail(st.error());
    }
    if (auto st = connection.Exec(std::string(kCreateMigrationsTable)); !st) return st;
    auto current = connection.QueryInt("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!current) return Fail(current.error());
    const int latest = migrations.back().version;
    if (*current > latest) {
        return Fail(ErrorCode::kConfig,
                    fmt::format("the store database has schema version {}, newer than this "
                                "spacehook knows ({}); run a newer spacehook or point it at "
                                "another database",
                                *current, latest));
    }
    from = to = static_cast<int>(*current);
    for (const Migration& migration : migrations) {
        if (migration.version <= to) continue;
        if (auto st = connection.Exec(std::string(migration.sql)); !st) {
            Error error = st.error();
            error.message = fmt::format("schema migration {} ({}) failed: {}", migration.version,
                                        migration.name, error.message);
            return Fail(std::move(error));
        }
        auto insert =
            connection.Query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                             Params::Of(migration.version, migration.name, now));
        if (!insert) return Fail(insert.error());
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
    if (auto st = connection.Exec("BEGIN"); !st) return Fail(st.error());
    int from = 0;
    int version = 0;
    Status migrated = Migrate(connection, migrations, now, from, version);
    if (migrated) migrated = connection.Exec("COMMIT");
    if (!migrated) {
        if (connection.InTransaction()) (void)connection.Exec("ROLLBACK");
        return Fail(migrated.error());
    }
    if (from != version) log::Info("store", "schema migrated", {{"from", from}, {"to", version}});
    return version;
}

}  // namespace spacehook::store::pg
