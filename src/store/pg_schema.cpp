#include "store/pg_schema.hpp"

#include <fmt/format.h>

#include "store/schema_sql.hpp"

namespace spacehook::store::pg {

namespace {

/// How long a starting replica waits for another one's migration.
constexpr std::chrono::milliseconds kMigrationLockTimeout{120000};

// Identity columns: seq/id are never reused (SQLite: AUTOINCREMENT).
constexpr ColumnTypes kTypes{"BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "BIGINT", "BYTEA",
                             "DOUBLE PRECISION", ""};

// When the next event or run is due (Store::NextDueTime, asked by every runner thread of every replica
// before it sleeps): partial indexes over the live rows, keyed on the due time exactly as NextDueTime
// computes it, so the answer is an index lookup instead of a scan of the whole backlog.
constexpr std::string_view kDueIndexes = R"sql(
CREATE INDEX events_pending_due ON events ((GREATEST(next_attempt_at, lease_until))) WHERE state = 'pending';
CREATE INDEX runs_live_due ON runs ((CASE state WHEN 'pending' THEN next_attempt_at ELSE lease_until END))
    WHERE state IN ('pending', 'running');
)sql";

}  // namespace

std::span<const Migration> Migrations() {
    static const std::string initial = CoreTablesSql(kTypes) + RateLimitsTableSql(kTypes);
    static const std::string watch = WatchSchemaSql(kTypes);
    static const Migration migrations[] = {
        {1, "initial schema: events, runs, steps, store_meta, rate_limits", initial},
        {2, "due-time indexes of pending events and live runs", kDueIndexes},
        {3, "recovered events, queue times, shared state", watch},
        {4, "queue-age indexes apart from the due-time ones", QueueAgeIndexesSql()},
    };
    return migrations;
}

Result<int> ApplyMigrations(Connection& connection, std::span<const Migration> migrations, TimePoint now) {
    // A replica that starts while another migrates waits for it rather than failing after the session's
    // lock_timeout (meant for row locks, seconds): a migration may take longer. Bounded all the same, and
    // only for this transaction. The advisory lock comes before anything else, even CREATE TABLE IF NOT
    // EXISTS: two sessions creating the same table at once fail with a unique violation in the catalog,
    // IF NOT EXISTS or not.
    static const std::string create_table = MigrationsTableSql(kTypes);
    const MigrationRules rules{"BEGIN",
                               fmt::format("SET LOCAL lock_timeout = {}; SELECT pg_advisory_xact_lock({})",
                                           kMigrationLockTimeout.count(), kMigrationLock),
                               create_table, "the store database"};
    return store::ApplyMigrations(connection, migrations, now, rules);
}

}  // namespace spacehook::store::pg
