// SQLite-only behaviour: pragmas and file mode, migrations, a full disk, the single writer's queue
// timeout, and processes sharing one file.

#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "store/sqlite_schema.hpp"
#include "store/store_test_support.hpp"

namespace spacehook::store::testing {
namespace {

using std::chrono::milliseconds;

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

TEST(StoreOpen, MissingDirectoryIsAConfigError) {
    TempDir dir;
    ManualClock clock;
    auto store = OpenStore("sqlite:" + dir.path() + "/no/such/dir/store.db", StoreOptions{}, clock);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, ErrorCode::kConfig);
    EXPECT_NE(store.error().message.find("no/such/dir"), std::string::npos) << store.error().message;
}

TEST_F(SqliteStoreTest, OpenUsesWalFullSyncForeignKeysAndStrictTables) {
    EXPECT_EQ(Sqlite().QueryOnWriterForTesting("PRAGMA synchronous").value(), 2);  // FULL
    EXPECT_EQ(Sqlite().QueryOnWriterForTesting("PRAGMA foreign_keys").value(), 1);
    EXPECT_EQ(Sqlite().QueryOnWriterForTesting("PRAGMA busy_timeout").value(), 5000);
    auto raw = OpenRaw(DbPath());
    ASSERT_TRUE(raw);
    EXPECT_EQ(QueryText(*raw, "PRAGMA journal_mode"), "wal");
    for (const char* table : {"events", "runs", "steps", "store_meta", "rate_limits", "schema_migrations"}) {
        EXPECT_EQ(
            QueryText(*raw, fmt::format("SELECT strict FROM pragma_table_list WHERE name = '{}'", table)),
            "1")
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

TEST_F(SqliteStoreTest, NextDueTimeIsAnIndexLookupNotABacklogScan) {
    // Every runner thread asks before it sleeps, so with a backlog a scan would cost O(backlog) per
    // wake-up. NextDueTime names the due-time indexes (INDEXED BY): without them it fails rather than
    // scanning, which is what this proves.
    for (int i = 0; i < 50; ++i) StoreEvent(fmt::format("e{}", i));
    EXPECT_EQ(store_->NextDueTime().value(), clock_.Now());
    EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                       "('events_pending_due', 'runs_live_due')")
                  .value(),
              2);
    ASSERT_TRUE(Sqlite().ExecOnWriterForTesting("DROP INDEX events_pending_due"));
    auto without = store_->NextDueTime();
    ASSERT_FALSE(without);
    EXPECT_NE(without.error().message.find("events_pending_due"), std::string::npos)
        << without.error().message;
}

TEST_F(SqliteStoreTest, CompleteDispatchesShareOneCommit) {
    std::vector<DispatchCompletion> batch;
    for (int i = 0; i < 16; ++i) {
        const auto seq = StoreEvent(fmt::format("e{}", i));
        batch.push_back({seq, {MakeRun(fmt::format("run-{}", i))}, EventState::kDispatched, ""});
    }
    ASSERT_EQ(store_->ClaimEvents("d", 100, clock_.Now())->size(), 16u);
    const auto before = store_->Stats()->commits;
    for (const auto& r : store_->CompleteDispatches("d", batch)) ASSERT_TRUE(r) << r.error().message;
    // The dispatcher waits for one fsync per batch of claimed events, not one per event.
    EXPECT_EQ(store_->Stats()->commits - before, 1);
    EXPECT_EQ(store_->Stats()->runs_pending, 16);
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
    EXPECT_NE(failed.error().message.find("schema migration 3 (broken)"), std::string::npos)
        << failed.error().message;
    // All pending migrations share one transaction: neither 2 nor 3 is left behind.
    EXPECT_EQ(db->QueryInt("SELECT MAX(version) FROM schema_migrations").value(), 1);
    EXPECT_EQ(db->QueryInt("SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('t2', 't3')").value(), 0);
    EXPECT_FALSE(db->InTransaction());

    const Migration v2[] = {v3[0], v3[1]};
    EXPECT_EQ(sqlite::ApplyMigrations(*db, v2, now).value(), 2);
    EXPECT_EQ(db->QueryInt("SELECT applied_at FROM schema_migrations WHERE version = 2").value(),
              ToUnixMillis(now));

    const Migration gap[] = {{1, "one", "SELECT 1"}, {3, "three", "SELECT 1"}};
    EXPECT_EQ(sqlite::ApplyMigrations(*db, gap, now).error().code, ErrorCode::kInternal);
}

TEST(StoreMigrations, AStoreOfTheVersionBeforeKeepsItsWorkThroughTheWatchMigration) {
    TempDir dir;
    const std::string path = dir.path() + "/old.db";
    {
        auto db = OpenRaw(path);
        ASSERT_TRUE(db);
        const auto all = sqlite::Migrations();
        ASSERT_EQ(all.back().version, 5);
        ASSERT_EQ(sqlite::ApplyMigrations(*db, all.first(3), FromUnixMillis(500)).value(), 3);
        ASSERT_TRUE(db->Exec(
            "INSERT INTO events (webhook_id, event_id, trigger_name, actor, entity_id, created_on, body, "
            "received_at, state, next_attempt_at) VALUES ('7', '1', 'file.created', '', '42', '', x'7b7d', "
            "1000, "
            "'pending', 1000);"
            "INSERT INTO runs (run_key, rule, event_seq, lock_key, state, step_count, created_at, "
            "updated_at, "
            "next_attempt_at, context) VALUES ('k', 'r', 1, '', 'pending', 1, 2000, 2000, 2000, '{}')"));
    }
    ManualClock clock;
    auto store = OpenStore("sqlite:" + path, StoreOptions{}, clock);
    ASSERT_TRUE(store) << store.error().message;
    auto stats = (*store)->Stats();
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(stats->oldest_pending_event, FromUnixMillis(1000));
    EXPECT_EQ(stats->oldest_live_run, FromUnixMillis(2000));
    auto event = (*store)->FindEvent("1");
    ASSERT_TRUE(event && *event);
    EXPECT_FALSE((*event)->recovered);
    EXPECT_EQ((*store)->GetValue("anything").value(), std::nullopt);
    (*store)->Close();
}

TEST_F(SqliteStoreTest, FullDiskFailsTheWholeBatchAndRecovers) {
    ASSERT_TRUE(AppendAndWait(*store_, MakeDelivery("wh", "before")));
    auto pages = Sqlite().QueryOnWriterForTesting("PRAGMA page_count");
    ASSERT_TRUE(pages) << pages.error().message;
    // The file may not grow any more: what fits in free space of existing pages still does, a large
    // body cannot. PRAGMA max_page_count is per connection, so it is set on the writer's.
    ASSERT_TRUE(Sqlite().ExecOnWriterForTesting(fmt::format("PRAGMA max_page_count = {}", *pages)));

    PauseWriter(true);
    CallbackLatch latch;
    store_->Append(MakeDelivery("wh", "small"), latch.Callback());
    NewDelivery big = MakeDelivery("wh", "big");
    big.body.assign(std::size_t{256} * 1024, 'x');
    store_->Append(big, latch.Callback());
    store_->Append(MakeDelivery("wh", "small-2"), latch.Callback());
    PauseWriter(false);
    ASSERT_TRUE(latch.WaitFor(3));
    for (const auto& r : latch.Results()) {
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
        EXPECT_NE(r.error().message.find("full"), std::string::npos) << r.error().message;
    }
    // Nothing of the batch is visible, not even the small delivery that fitted.
    for (const char* id : {"small", "big", "small-2"}) {
        auto event = store_->FindEvent(id);
        ASSERT_TRUE(event);
        EXPECT_FALSE(*event) << id;
    }
    EXPECT_EQ(store_->Stats()->events_total, 1);

    // Space is back: the same deliveries are stored (not duplicates: nothing was half-written).
    ASSERT_TRUE(Sqlite().ExecOnWriterForTesting("PRAGMA max_page_count = 1073741823"));
    for (const auto& d : {MakeDelivery("wh", "small"), big, MakeDelivery("wh", "small-2")}) {
        auto r = AppendAndWait(*store_, d);
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(*r, AppendOutcome::kStored);
    }
    EXPECT_TRUE(store_->Ping());
}

TEST_F(SqliteStoreTest, WriteNotTakenWithinTheTimeoutIsAbandonedNotRunLater) {
    StoreOptions options;
    options.write_timeout = milliseconds(50);
    Open(options);
    PauseWriter(true);
    auto ping = store_->Ping();
    ASSERT_FALSE(ping);
    EXPECT_EQ(ping.error().code, ErrorCode::kUnavailable);
    const auto before = store_->Stats()->commits;
    PauseWriter(false);
    ASSERT_TRUE(AppendAndWait(*store_, MakeDelivery("wh", "1")));
    // Only the append committed: the abandoned ping was dropped, never run.
    EXPECT_EQ(store_->Stats()->commits, before + 1);
    EXPECT_EQ(
        Sqlite().QueryOnWriterForTesting("SELECT COUNT(*) FROM store_meta WHERE key = 'last_ping'").value(),
        0);
}

}  // namespace
}  // namespace spacehook::store::testing
