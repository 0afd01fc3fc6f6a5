#pragma once

#include <span>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/migrations.hpp"
#include "store/sqlite_connection.hpp"

namespace spacehook::store::sqlite {

/// The SQL of a migration avoids SQLite-only semantics where a portable form exists, so the PostgreSQL
/// backend keeps the same tables and columns and the ledger's statements read alike on both.
using store::Migration;

/// The migrations this binary knows, oldest first.
std::span<const Migration> Migrations();

/// store::ApplyMigrations on a SQLite file, in a BEGIN IMMEDIATE transaction: two processes opening one
/// fresh file must not both decide to create the tables.
Result<int> ApplyMigrations(Connection& connection, std::span<const Migration> migrations, TimePoint now);

}  // namespace spacehook::store::sqlite
