#pragma once

// The PostgreSQL schema and its numbered migrations, applied at open.

#include <span>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/migrations.hpp"
#include "store/pg_connection.hpp"

namespace spacehook::store::pg {

using store::Migration;

/// The migrations of this binary, versions 1..N in order.
std::span<const Migration> Migrations();

/// store::ApplyMigrations on a PostgreSQL database. Replicas that start at once serialize on a
/// transaction-scoped advisory lock: the second one waits for the first one's COMMIT, then finds nothing
/// left to do.
Result<int> ApplyMigrations(Connection& connection, std::span<const Migration> migrations, TimePoint now);

/// The advisory lock (single bigint key space) migrations take; run locks use the two-int key space,
/// which PostgreSQL keeps apart from this one.
inline constexpr std::int64_t kMigrationLock = 0x73706163'65686f6b;  // "spacehok"

}  // namespace spacehook::store::pg
