#include "store/migrations.hpp"

#include <fmt/format.h>

#include "core/log.hpp"

namespace spacehook::store {

namespace {

/// Applies what is missing inside the caller's transaction; `from`/`to` report the versions.
Status Migrate(Session& db, std::span<const Migration> migrations, TimePoint now, const MigrationRules& rules,
               int& from, int& to) {
    if (!rules.prepare.empty()) {
        if (auto st = db.RunScript(rules.prepare); !st) return st;
    }
    if (auto st = db.RunScript(rules.create_table); !st) return st;
    auto current = db.SelectInt("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!current) return Fail(current.error());
    const int latest = migrations.back().version;
    const auto version = static_cast<int>(current->value_or(0));
    if (version > latest) {
        return Fail(ErrorCode::kConfig,
                    fmt::format("{} has schema version {}, newer than this spacehook knows ({}); run a newer "
                                "spacehook or point it at another store",
                                rules.store_name, version, latest));
    }
    from = to = version;
    for (const Migration& migration : migrations) {
        if (migration.version <= to) continue;
        if (auto st = db.RunScript(migration.sql); !st) {
            Error error = st.error();
            error.message = fmt::format("schema migration {} ({}) failed: {}", migration.version,
                                        migration.name, error.message);
            return Fail(std::move(error));
        }
        auto recorded =
            db.Execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                       {migration.version, migration.name, now});
        if (!recorded) return Fail(recorded.error());
        to = migration.version;
    }
    return Ok();
}

}  // namespace

Result<int> ApplyMigrations(Session& db, std::span<const Migration> migrations, TimePoint now,
                            const MigrationRules& rules) {
    if (migrations.empty()) return Fail(ErrorCode::kInternal, "no schema migrations given");
    for (std::size_t i = 0; i < migrations.size(); ++i) {
        if (migrations[i].version != static_cast<int>(i) + 1) {
            return Fail(ErrorCode::kInternal, fmt::format("schema migration #{} has version {}, expected {}",
                                                          i, migrations[i].version, i + 1));
        }
    }
    if (auto st = db.RunScript(rules.begin); !st) return Fail(st.error());
    int from = 0;
    int version = 0;
    Status migrated = Migrate(db, migrations, now, rules, from, version);
    if (migrated) migrated = db.RunScript("COMMIT");
    if (!migrated) {
        (void)db.RunScript("ROLLBACK");  // fails harmlessly where the database already rolled back
        return Fail(migrated.error());
    }
    // The "opened ... store" line that follows names the store.
    if (from != version) log::Info("store", "schema migrated", {{"from", from}, {"to", version}});
    return version;
}

}  // namespace spacehook::store
