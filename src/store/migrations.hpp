#pragma once

// Numbered schema migrations, applied at open by the same procedure on both backends; each backend keeps
// its own DDL (sqlite_schema.cpp, pg_schema.cpp). Private to src/store.

#include <span>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/sql_session.hpp"

namespace spacehook::store {

/// One numbered schema change. Versions start at 1 and go up by one; a released migration is never
/// edited, a change is a new migration.
struct Migration {
    int version = 0;
    std::string_view name;
    std::string_view sql;
};

/// What differs in applying migrations on one backend.
struct MigrationRules {
    /// Opens the transaction all pending migrations share.
    std::string_view begin;
    /// Runs first inside it (e.g. a lock that serializes processes migrating at once); may be empty.
    std::string prepare;
    /// Creates schema_migrations when missing.
    std::string_view create_table;
    /// Names the store in messages ("store '/var/lib/spacehook/store.db'").
    std::string store_name;
};

/// Brings the database up to the last of `migrations`, all pending ones in one transaction (a crash or a
/// failed migration leaves the old version). Returns the schema version afterwards. A database whose
/// schema_migrations holds a version newer than the last known one fails with kConfig: an older binary
/// must not write to a schema it does not understand.
Result<int> ApplyMigrations(Session& db, std::span<const Migration> migrations, TimePoint now,
                            const MigrationRules& rules);

}  // namespace spacehook::store
