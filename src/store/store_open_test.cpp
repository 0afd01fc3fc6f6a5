// Opening a store: reopening and schema versions, on every backend.

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

}  // namespace
}  // namespace spacehook::store::testing
