#pragma once

#include <span>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/sqlite_connection.hpp"

namespace spacehook::store::sqlite {

/// One numbered schema change. Versions start at 1 and go up by one; a released migration is never
/// edited, a change is a new migration. The SQL avoids SQLite-only semantics where a portable form
/// exists, so the PostgreSQL backend can keep the same tables and columns.
struct Migration {
    int version = 0;
    std::string_view name;
    std::string_view sql;
};

/// The migrations this binary knows, oldest first.
std::span<const Migration> Migrations();

/// Brings the database up to the last of `migrations`, all pending ones in one transaction (a crash
/// half-way leaves the old version). Returns the schema version afterwards. A database whose
/// `schema_migrations` holds a version newer than the last known one fails with kConfig: an older
/// binary must not write to a schema it does not understand.
Result<int> ApplyMigrations(Connection& connection, std::span<const Migration> migrations, TimePoint now);

}  // namespace spacehook::store::sqlite
