#include "store/schema_sql.hpp"

#include <fmt/format.h>

namespace spacehook::store {

// Text is TEXT; context and step outputs stay TEXT too (an exact round trip of what the runner wrote;
// nothing queries inside them). Keys avoid SQL keywords ("trigger", "index") so the same column names
// work in both databases.
std::string CoreTablesSql(const ColumnTypes& types) {
    return fmt::format(R"sql(
CREATE TABLE events (
    seq               {id},
    webhook_id        TEXT    NOT NULL,
    event_id          TEXT    NOT NULL,
    trigger_name      TEXT    NOT NULL,
    actor             TEXT    NOT NULL,
    entity_id         TEXT    NOT NULL,
    created_on        TEXT    NOT NULL,
    body              {bytes} NOT NULL,
    received_at       {int64} NOT NULL,
    state             TEXT    NOT NULL CHECK (state IN ('pending', 'dispatched', 'ignored', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   {int64} NOT NULL,
    lease_owner       TEXT    NOT NULL DEFAULT '',
    lease_until       {int64} NOT NULL DEFAULT 0,
    last_error        TEXT    NOT NULL DEFAULT '',
    failed_at         {int64} NOT NULL DEFAULT 0,
    replay_generation INTEGER NOT NULL DEFAULT 0,
    runs_created      INTEGER NOT NULL DEFAULT 0,
    -- The dedupe key: a redelivery, from any process or replica, is an INSERT ... ON CONFLICT DO NOTHING.
    CONSTRAINT events_delivery_key UNIQUE (webhook_id, event_id)
){options};
-- (state, seq): claims and listings touch only the live part of the journal, not its history.
CREATE INDEX events_by_state ON events (state, seq);
CREATE INDEX events_by_event_id ON events (event_id);

CREATE TABLE runs (
    id              {id},
    run_key         TEXT    NOT NULL UNIQUE,
    rule            TEXT    NOT NULL,
    event_seq       {int64} NOT NULL REFERENCES events (seq),
    lock_key        TEXT    NOT NULL DEFAULT '',
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'done', 'dead', 'dropped')),
    step_count      INTEGER NOT NULL CHECK (step_count >= 0),
    next_step       INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      {int64} NOT NULL,
    updated_at      {int64} NOT NULL,
    next_attempt_at {int64} NOT NULL,
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     {int64} NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    failed_at       {int64} NOT NULL DEFAULT 0,
    context         TEXT    NOT NULL
){options};
CREATE INDEX runs_by_state ON runs (state, id);
-- Lock checks look only at runs that have a lock key.
CREATE INDEX runs_by_lock ON runs (lock_key, state) WHERE lock_key <> '';
CREATE INDEX runs_by_event ON runs (event_seq);
CREATE INDEX runs_by_rule ON runs (rule, id);

CREATE TABLE steps (
    run_id      {int64} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_index  INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('started', 'done')),
    output      TEXT    NOT NULL DEFAULT 'null',
    started_at  {int64} NOT NULL,
    finished_at {int64} NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, step_index)
){options};

-- Small facts about the store itself; Ping() rewrites 'last_ping' to prove a commit goes through.
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
){options};
)sql",
                       fmt::arg("id", types.id), fmt::arg("bytes", types.bytes),
                       fmt::arg("int64", types.int64), fmt::arg("options", types.table_options));
}

std::string RateLimitsTableSql(const ColumnTypes& types) {
    // One row per key (a portal), shared by every process and replica using the store.
    return fmt::format(R"sql(
CREATE TABLE rate_limits (
    key          TEXT    PRIMARY KEY,
    tokens       {real} NOT NULL,
    updated_at   {int64} NOT NULL,
    paused_until {int64} NOT NULL DEFAULT 0
){options};
)sql",
                       fmt::arg("real", types.real), fmt::arg("int64", types.int64),
                       fmt::arg("options", types.table_options));
}

std::string WatchSchemaSql(const ColumnTypes& types) {
    // queued_at: when the work was last put in the queue (journaled or created, replayed, retried from the
    // dead-letter list), so "the oldest pending" is not a replayed event's first arrival. Rows of earlier
    // versions take their arrival. shared_state: one row per name, a value or a lease (or both).
    return fmt::format(R"sql(
ALTER TABLE events ADD COLUMN recovered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN queued_at {int64} NOT NULL DEFAULT 0;
UPDATE events SET queued_at = received_at;
ALTER TABLE runs ADD COLUMN queued_at {int64} NOT NULL DEFAULT 0;
UPDATE runs SET queued_at = created_at;
CREATE INDEX events_pending_queued ON events (queued_at) WHERE state = 'pending';
CREATE INDEX runs_live_queued ON runs (queued_at) WHERE state IN ('pending', 'running');

CREATE TABLE shared_state (
    name        TEXT    PRIMARY KEY,
    value       TEXT    NOT NULL DEFAULT '',
    lease_owner TEXT    NOT NULL DEFAULT '',
    lease_until {int64} NOT NULL DEFAULT 0,
    updated_at  {int64} NOT NULL
){options};
)sql",
                       fmt::arg("int64", types.int64), fmt::arg("options", types.table_options));
}

std::string_view QueueAgeIndexesSql() {
    // The partial indexes of WatchSchemaSql had the same predicates as the due-time indexes, so a planner
    // could answer NextDueTime from them: a scan and sort of every live run instead of the first entry of
    // runs_live_due (PostgreSQL did on small tables). Naming queued_at in the predicate leaves them to the
    // queries that ask about it.
    return R"sql(
DROP INDEX events_pending_queued;
DROP INDEX runs_live_queued;
CREATE INDEX events_pending_queued ON events (queued_at) WHERE state = 'pending' AND queued_at >= 0;
CREATE INDEX runs_live_queued ON runs (queued_at) WHERE state IN ('pending', 'running') AND queued_at >= 0;
)sql";
}

std::string MigrationsTableSql(const ColumnTypes& types) {
    return fmt::format(R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at {int64} NOT NULL
){options}
)sql",
                       fmt::arg("int64", types.int64), fmt::arg("options", types.table_options));
}

}  // namespace spacehook::store
