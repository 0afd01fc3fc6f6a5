// Opening a store: URLs, SQLite settings, file mode, schema migrations.

#include <sys/stat.h>

#include "store/sqlite_schema.hpp"
#include "store/store_test_support.hpp"

namespace spacehook::store::testing {
namespace {

using sqlite::Connection;
using sqlite::Migration;

std::string QueryText(Connection& db, const std::string& sql) {
    auto stmt = db.Prepare(sql);
    EXPECT_TRUE(stmt) << stmt.error().message;
    if (!stmt) return {};
    auto row = stmt->Step();
    EXPECT_TRUE(row && *row) << sql;
    return row && *row ? stmt->Text(0) : std::string();
}

std::unique_ptr<Connection> OpenRaw(const std::string& path) {
    auto db = Connection::Open(path, Connection::Mode::kReadWrite, std::chrono::milliseconds(1000));
    EXPECT_TRUE(db) << db.error().message;
    return db ? std::move(*db) : nullptr;
}

TEST(StoreUrl, RefusesMemoryEmptyAndUnknownSchemes) {
    ManualClock clock;
    for (const char* url : {"sqlite::memory:", "sqlite:", "mysql://root:hunter2@db/x", "spacehook.db", ""}) {
        auto store = OpenStore(url, StoreOptions{}, clock);
        ASSERT_FALSE(store) << url;
        EXPECT_EQ(store.error().code, ErrorCode::kConfig) << url;
        EXPECT_EQ(store.error().message.find("hunter2"), std::string::npos) << store.error().message;
    }
    auto mysql = OpenStore("mysql://root:hunter2@db/x", StoreOptions{}, clock);
    EXPECT_NE(mysql.error().message.find("mysql://root:***@db/x"), std::string::npos) << mysql.error().message;
}

TEST(StoreUrl, PostgresIsNotBuiltYetAndItsPasswordIsNotShown) {
    ManualClock clock;
    for (const char* url : {"postgres://app:s3cr3t-pw@db:5432/spacehook", "postgresql://app:s3cr3t-pw@db/spacehook"}) {
        auto store = OpenStore(url, StoreOptions{}, clock);
        ASSERT_FALSE(store);
        EXPECT_EQ(store.error().code, ErrorCode::kConfig);
        EXPECT_NE(store.error().message.find("PostgreSQL store not built yet"), std::string::npos);
        EXPECT_NE(store.error().message.find("app:***@db"), std::string::npos) << store.error().message;
        EXPECT_EQ(store.error().message.find("s3cr3t-pw"), std::string::npos) << store.error().message;
    }
}

TEST(StoreUrl, RedactsPasswordsOnly) {
    EXPECT_EQ(RedactStoreUrl("postgres://app:pw@db:5432/x"), "postgres://app:***@db:5432/x");
    EXPECT_EQ(RedactStoreUrl("postgres://app@db/x"), "postgres://app@db/x");
    EXPECT_EQ(RedactStoreUrl("postgres://db/x?user=app&password=pw&sslmode=require"),
              "postgres://db/x?user=app&password=***&sslmode=require");
    EXPECT_EQ(RedactStoreUrl("postgres://db/x?password=pw"), "postgres://db/x?password=***");
    EXPECT_EQ(RedactStoreUrl("postgres://a:b@c@db/x"), "postgres://a:***@db/x");
    EXPECT_EQ(RedactStoreUrl("postgres://db/x@y"), "postgres://db/x@y");  // '@' outside the authority
    EXPECT_EQ(RedactStoreUrl("sqlite:/var/lib/spacehook/store.db"), "sqlite:/var/lib/spacehook/store.db");
}

TEST(StoreUrl, StateNamesRoundTrip) {
    for (auto s : {EventState::kPending, EventState::kDispatched, EventState::kIgnored, EventState::kFailed}) {
        EXPECT_EQ(ParseEventState(ToString(s)), s);
    }
    for (auto s : {RunState::kPending, RunState::kRunning, RunState::kDone, RunState::kDead, RunState::kDropped}) {
        EXPECT_EQ(ParseRunState(ToString(s)), s);
    }
    EXPECT_FALSE(ParseEventState("done"));
    EXPECT_FALSE(ParseRunState("Pending"));
}

TEST(StoreOpen, MissingDirectoryIsAConfigError) {
    TempDir dir;
    ManualClock clock;
    auto store = OpenStore("sqlite:" + dir.path() + "/no/such/dir/store.db", StoreOptions{}, clock);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, ErrorCode::kConfig);
    EXPECT_NE(store.error().message.find("no/such/dir"), std::string::npos) << store.error().message;
}

TEST_F(StoreTest, OpenUsesWalFullSyncForeignKeysAndStrictTables) {
    EXPECT_EQ(Sqlite().QueryOnWriterForTesting("PRAGMA synchronous").value(), 2);  // FULL
    EXPECT_EQ(Sqlite().QueryOnWriterForTesting("PRAGMA foreign_keys").value(), 1);
    EXPECT_EQ(Sqlite().QueryOnWriterForTesting("PRAGMA busy_timeout").value(), 5000);
    auto raw = OpenRaw(DbPath());
    ASSERT_TRUE(raw);
    EXPECT_EQ(QueryText(*raw, "PRAGMA journal_mode"), "wal");
    for (const char* table : {"events", "runs", "steps", "store_meta", "schema_migrations"}) {
        EXPECT_EQ(QueryText(*raw, fmt::format("SELECT strict FROM pragma_table_list WHERE name = '{}'", table)), "1")
            << table;
    }
    // Owner-only: the journal holds webhook bodies.
    struct stat info {};
    ASSERT_EQ(stat(DbPath().c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);

    StoreOptions throwaway;
    throwaway.durable = false;
    Open(throwaway);
    EXPECT_EQ(Sqlite().QueryOnWriterForTesting("PRAGMA synchronous").value(), 1);  // NORMAL
}

TEST_F(StoreTest, ReopeningKeepsDataAndAppliesNoMigrationTwice) {
    StoreEvent("a");
    Reopen();
    Reopen();
    EXPECT_EQ(store_->Stats()->events_total, 1);
    EXPECT_EQ(Sqlite().QueryOnWriterForTesting("SELECT COUNT(*) FROM schema_migrations").value(),
              static_cast<std::int64_t>(sqlite::Migrations().size()));
    EXPECT_EQ(Sqlite().QueryOnWriterForTesting("SELECT MAX(version) FROM schema_migrations").value(),
              sqlite::Migrations().back().version);
}

TEST_F(StoreTest, NewerSchemaIsRefused) {
    store_->Close();
    store_.reset();
    {
        auto raw = OpenRaw(DbPath());
        ASSERT_TRUE(raw);
        ASSERT_TRUE(raw->Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)"));
    }
    auto store = OpenStore(Url(), StoreOptions{}, clock_);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, ErrorCode::kConfig);
    EXPECT_NE(store.error().message.find("schema version 999"), std::string::npos) << store.error().message;
}

TEST(StoreMigrations, AppliesOnlyWhatIsMissingAndRollsBackAFailure) {
    TempDir dir;
    auto db = OpenRaw(dir.path() + "/m.db");
    ASSERT_TRUE(db);
    const TimePoint now = FromUnixMillis(1'782'814'542'000);
    const Migration v1[] = {{1, "one", "CREATE TABLE t1 (a INTEGER) STRICT"}};
    EXPECT_EQ(sqlite::ApplyMigrations(*db, v1, now).value(), 1);
    EXPECT_EQ(sqlite::ApplyMigrations(*db, v1, now).value(), 1);  // nothing to do

    const Migration v3[] = {{1, "one", "CREATE TABLE t1 (a INTEGER) STRICT"},
                            {2, "two", "CREATE TABLE t2 (b TEXT) STRICT"},
                            {3, "broken", "CREATE TABLE t3 (c TEXT) STRICT; INSERT INTO missing VALUES (1)"}};
    auto failed = sqlite::ApplyMigrations(*db, v3, now);
    ASSERT_FALSE(failed);
    EXPECT_NE(failed.error().message.find("schema migration 3 (broken)"), std::string::npos) << failed.error().message;
    // All pending migrations share one transaction: neither 2 nor 3 is left behind.
    EXPECT_EQ(db->QueryInt("SELECT MAX(version) FROM schema_migrations").value(), 1);
    EXPECT_EQ(db->QueryInt("SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('t2', 't3')").value(), 0);
    EXPECT_FALSE(db->InTransaction());

    const Migration v2[] = {v3[0], v3[1]};
    EXPECT_EQ(sqlite::ApplyMigrations(*db, v2, now).value(), 2);
    EXPECT_EQ(db->QueryInt("SELECT applied_at FROM schema_migrations WHERE version = 2").value(), ToUnixMillis(now));

    const Migration gap[] = {{1, "one", "SELECT 1"}, {3, "three", "SELECT 1"}};
    EXPECT_EQ(sqlite::ApplyMigrations(*db, gap, now).error().code, ErrorCode::kInternal);
}

}  // namespace
}  // namespace spacehook::store::testing
