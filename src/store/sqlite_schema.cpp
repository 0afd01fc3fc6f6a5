#include "store/sqlite_schema.hpp"

#include <fmt/format.h>

#include "store/schema_sql.hpp"

namespace spacehook::store::sqlite {

namespace {

// STRICT tables: SQLite refuses a value of the wrong type instead of storing it anyway. AUTOINCREMENT:
// seq/id are never reused (PostgreSQL: identity columns).
constexpr ColumnTypes kTypes{"INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "BLOB", "REAL", " STRICT"};

// When the next event or run is due (Store::NextDueTime, asked by every runner thread before it sleeps):
// partial indexes over the live rows, keyed on the due time exactly as NextDueTime computes it, so the
// answer is one index lookup instead of a scan of the whole backlog (a scan of 20,000 pending events,
// bodies and all, took most of the CPU of a server under load).
constexpr std::string_view kDueIndexes = R"sql(
CREATE INDEX events_pending_due ON events (max(next_attempt_at, lease_until)) WHERE state = 'pending';
CREATE INDEX runs_live_due ON runs ((CASE state WHEN 'pending' THEN next_attempt_at ELSE lease_until END))
    WHERE state IN ('pending', 'running');
)sql";

}  // namespace

std::span<const Migration> Migrations() {
    static const std::string core = CoreTablesSql(kTypes);
    static const std::string rate_limits = RateLimitsTableSql(kTypes);
    static const std::string watch = WatchSchemaSql(kTypes);
    static const Migration migrations[] = {
        {1, "initial schema: events, runs, steps, store_meta", core},
        {2, "rate_limits: shared token buckets", rate_limits},
        {3, "due-time indexes of pending events and live runs", kDueIndexes},
        {4, "recovered events, queue times, shared state", watch},
        {5, "queue-age indexes apart from the due-time ones", QueueAgeIndexesSql()},
    };
    return migrations;
}

Result<int> ApplyMigrations(Connection& connection, std::span<const Migration> migrations, TimePoint now) {
    static const std::string create_table = MigrationsTableSql(kTypes);
    const MigrationRules rules{"BEGIN IMMEDIATE", "", create_table,
                               fmt::format("store '{}'", connection.path())};
    return store::ApplyMigrations(connection, migrations, now, rules);
}

}  // namespace spacehook::store::sqlite
