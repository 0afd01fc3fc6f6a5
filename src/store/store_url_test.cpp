// Store URLs: schemes, redaction, and what an unreachable or malformed PostgreSQL URL answers. No
// server needed.

#include "store/store_test_support.hpp"

namespace spacehook::store::testing {
namespace {

TEST(StoreUrl, RefusesMemoryEmptyAndUnknownSchemes) {
    ManualClock clock;
    for (const char* url : {"sqlite::memory:", "sqlite:", "mysql://root:hunter2@db/x", "spacehook.db", ""}) {
        auto store = OpenStore(url, StoreOptions{}, clock);
        ASSERT_FALSE(store) << url;
        EXPECT_EQ(store.error().code, ErrorCode::kConfig) << url;
        EXPECT_EQ(store.error().message.find("hunter2"), std::string::npos) << store.error().message;
    }
    auto mysql = OpenStore("mysql://root:hunter2@db/x", StoreOptions{}, clock);
    EXPECT_NE(mysql.error().message.find("mysql://root:***@db/x"), std::string::npos)
        << mysql.error().message;
}

TEST(StoreUrl, UnreachablePostgresIsUnavailableAndItsPasswordIsNotShown) {
    ManualClock clock;
    // Port 1 on loopback: refused at once, no server needed.
    for (const char* url : {"postgres://app:s3cr3t-pw@127.0.0.1:1/spacehook?connect_timeout=5",
                            "postgresql://app:s3cr3t-pw@127.0.0.1:1/spacehook"}) {
        auto store = OpenStore(url, StoreOptions{}, clock);
        ASSERT_FALSE(store) << url;
        EXPECT_EQ(store.error().code, ErrorCode::kUnavailable) << store.error().message;
        EXPECT_NE(store.error().message.find("app:***@127.0.0.1"), std::string::npos)
            << store.error().message;
        EXPECT_EQ(store.error().message.find("s3cr3t-pw"), std::string::npos) << store.error().message;
    }
    EXPECT_TRUE(IsSharedStoreUrl("postgres://db/x"));
    EXPECT_TRUE(IsSharedStoreUrl("postgresql://db/x"));
    EXPECT_FALSE(IsSharedStoreUrl("sqlite:/var/lib/spacehook/store.db"));
}

TEST(StoreUrl, MalformedPostgresUrlIsAConfigErrorWithoutItsPassword) {
    ManualClock clock;
    for (const char* url :
         {"postgres://app:s3cr3t-pw@db/x?no_such_option=1", "postgres://app:s3cr3t-pw@db:port/x",
          "postgresql://db/x?password=s3cr3t-pw&sslmode=sometimes"}) {
        auto store = OpenStore(url, StoreOptions{}, clock);
        ASSERT_FALSE(store) << url;
        EXPECT_EQ(store.error().code, ErrorCode::kConfig) << url << ": " << store.error().message;
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
    for (auto s :
         {EventState::kPending, EventState::kDispatched, EventState::kIgnored, EventState::kFailed}) {
        EXPECT_EQ(ParseEventState(ToString(s)), s);
    }
    for (auto s :
         {RunState::kPending, RunState::kRunning, RunState::kDone, RunState::kDead, RunState::kDropped}) {
        EXPECT_EQ(ParseRunState(ToString(s)), s);
    }
    EXPECT_FALSE(ParseEventState("done"));
    EXPECT_FALSE(ParseRunState("Pending"));
}

}  // namespace
}  // namespace spacehook::store::testing
