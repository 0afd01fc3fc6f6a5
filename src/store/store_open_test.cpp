// Opening a store: reopening, schema versions, and what the database under it says, on every backend.

#include "store/pg_schema.hpp"
#include "store/sqlite_schema.hpp"
#include "store/store_test_support.hpp"

namespace spacehook::store::testing {
namespace {

TEST_P(StoreTest, ReopeningKeepsDataAndAppliesNoMigrationTwice) {
    StoreEvent("a");
    Reopen();
    Reopen();
    EXPECT_EQ(store_->Stats()->events_total, 1);
    const int latest = IsPostgres() ? pg::Migrations().back().version : sqlite::Migrations().back().version;
    const auto count = IsPostgres() ? pg::Migrations().size() : sqlite::Migrations().size();
    EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM schema_migrations").value(), static_cast<std::int64_t>(count));
    EXPECT_EQ(QueryInt("SELECT MAX(version) FROM schema_migrations").value(), latest);
}

TEST_P(StoreTest, NewerSchemaIsRefused) {
    store_->Close();
    store_.reset();
    ASSERT_TRUE(
        ExecRaw("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)"));
    auto store = OpenStore(Url(), StoreOptions{}, clock_);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, ErrorCode::kConfig);
    EXPECT_NE(store.error().message.find("schema version 999"), std::string::npos) << store.error().message;
}

TEST_P(StoreTest, TheDatabaseClockReadsAsUnixMilliseconds) {
    // Dialect::now_millis is how a statement stamps a time with the database's own clock; on this host
    // the database's clock is the system clock, so it must read between two readings of it (a second of
    // slack for rounding, nothing timed).
    Database& db = BackendOf(*store_);
    const std::int64_t before = ToUnixMillis(SystemClock::Instance().Now());
    std::optional<std::int64_t> now;
    ASSERT_TRUE(db.Read(
        [&](Session& session) -> Status {
            auto read = session.SelectInt("SELECT " + db.dialect().now_millis);
            if (!read) return Fail(read.error());
            now = *read;
            return Ok();
        },
        ReadMode::kLatest));
    const std::int64_t after = ToUnixMillis(SystemClock::Instance().Now());
    ASSERT_TRUE(now.has_value());
    EXPECT_GE(*now, before - 1000);
    EXPECT_LE(*now, after + 1000);
}

}  // namespace
}  // namespace spacehook::store::testing
