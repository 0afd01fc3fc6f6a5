#pragma once

// The PostgreSQL schema and its numbered migrations, applied at open.

#include <span>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/pg_connection.hpp"

namespace spacehook::store::pg {

struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

/// The migrations of this binary, versions 1..N in order.
std::span<const Migration> Migrations();

/// Brings the database up to the newest migration, all missing ones in one transaction, and returns
/// the version it is at. Replicas that start at once serialize on a transaction-scoped advisory lock:
/// the second one waits for the first one's COMMIT, then finds nothing left to do. kConfig when the
/// database is newer than `migrations` (a newer spacehook ran on it); a failed migration rolls back
/// every one of this call.
Result<int> ApplyMigrations(Connection& connection, std::span<const Migration> migrations, TimePoint now);

/// The advisory lock (single bigint key space) migrations take; run locks use the two-int key space,
/// which PostgreSQL keeps apart from this one.
inline constexpr std::int64_t kMigrationLock = 0x73706163'65686f6b;  // "spacehok"

}  // namespace spacehook::store::pg
