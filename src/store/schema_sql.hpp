#pragma once

// The logical schema both backends create: the same tables, columns and indexes, so the ledger's
// statements read alike on both. Each backend splices in its column types and keeps its migration list
// (sqlite_schema.cpp, pg_schema.cpp). Private to src/store.

#include <string>
#include <string_view>

namespace spacehook::store {

/// How one database spells the column types of the schema.
struct ColumnTypes {
    /// seq / id: numbered by the database, never reused, even after retention deletes rows (journal
    /// order and paging rely on it).
    std::string_view id;
    /// Times (Unix milliseconds, 0 = never) and references to ids.
    std::string_view int64;
    /// Exact bytes (a webhook body as signed, no encoding assumed).
    std::string_view bytes;
    std::string_view real;
    /// Follows each CREATE TABLE's closing parenthesis.
    std::string_view table_options;
};

/// events, runs, steps and store_meta with their indexes (the first migration).
std::string CoreTablesSql(const ColumnTypes& types);
/// rate_limits: the shared token buckets.
std::string RateLimitsTableSql(const ColumnTypes& types);
/// What catch-up and the watcher need (a later migration): events.recovered; events.queued_at and
/// runs.queued_at (since when pending work waits) with partial indexes for the oldest; shared_state.
std::string WatchSchemaSql(const ColumnTypes& types);
/// The queue-age indexes of WatchSchemaSql again, with predicates only a query about queued_at implies
/// (a later migration).
std::string_view QueueAgeIndexesSql();
/// schema_migrations, when missing.
std::string MigrationsTableSql(const ColumnTypes& types);

}  // namespace spacehook::store
