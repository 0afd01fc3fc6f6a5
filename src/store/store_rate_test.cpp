// Shared rate limits: token buckets kept in the store, so every process on one database (replicas on
// PostgreSQL, processes on one SQLite file) draws from the same bucket.

#include <atomic>
#include <thread>
#include <vector>

#include "store/store_test_support.hpp"

namespace spacehook::store::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_P(StoreTest, RateTokensComeFromABucketThatRefills) {
    const TimePoint t0 = clock_.Now();
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(store_->AcquireRateToken("portal:a", 2.0, 3, t0).value(), milliseconds(0));
    EXPECT_EQ(store_->AcquireRateToken("portal:a", 2.0, 3, t0).value(), milliseconds(500));
    EXPECT_EQ(store_->AcquireRateToken("portal:a", 2.0, 3, t0 + milliseconds(250)).value(),
              milliseconds(250));
    EXPECT_EQ(store_->AcquireRateToken("portal:a", 2.0, 3, t0 + milliseconds(500)).value(), milliseconds(0));
    // Another key is another bucket.
    EXPECT_EQ(store_->AcquireRateToken("portal:b", 2.0, 3, t0).value(), milliseconds(0));
    // The bucket survives a restart.
    Reopen();
    EXPECT_EQ(store_->AcquireRateToken("portal:a", 2.0, 3, t0 + milliseconds(500)).value(),
              milliseconds(500));
}

TEST_P(StoreTest, RatePauseHoldsForEveryCaller) {
    const TimePoint t0 = clock_.Now();
    ASSERT_TRUE(store_->PauseRateLimit("portal:a", t0 + seconds(2), t0));
    EXPECT_EQ(store_->AcquireRateToken("portal:a", 10.0, 5, t0).value(), milliseconds(2000));
    ASSERT_TRUE(store_->PauseRateLimit("portal:a", t0 + seconds(1), t0));  // shorter: no change
    EXPECT_EQ(store_->AcquireRateToken("portal:a", 10.0, 5, t0 + seconds(1)).value(), milliseconds(1000));
    EXPECT_EQ(store_->AcquireRateToken("portal:a", 10.0, 5, t0 + seconds(2)).value(), milliseconds(100));
    EXPECT_EQ(store_->AcquireRateToken("portal:a", 10.0, 5, t0 + seconds(2) + milliseconds(100)).value(),
              milliseconds(0));
}

TEST_P(StoreTest, RateBucketIsSharedByStoresOnOneDatabase) {
    auto other = OpenAnother();
    ASSERT_TRUE(other);
    const TimePoint t0 = clock_.Now();
    EXPECT_EQ(store_->AcquireRateToken("portal", 1.0, 4, t0).value(), milliseconds(0));
    EXPECT_EQ(other->AcquireRateToken("portal", 1.0, 4, t0).value(), milliseconds(0));
    EXPECT_EQ(store_->AcquireRateToken("portal", 1.0, 4, t0).value(), milliseconds(0));
    EXPECT_EQ(other->AcquireRateToken("portal", 1.0, 4, t0).value(), milliseconds(0));
    EXPECT_EQ(store_->AcquireRateToken("portal", 1.0, 4, t0).value(), milliseconds(1000));
    // A 429 seen by one holds for the other.
    ASSERT_TRUE(other->PauseRateLimit("portal", t0 + seconds(30), t0));
    EXPECT_EQ(store_->AcquireRateToken("portal", 1.0, 4, t0 + seconds(5)).value(), milliseconds(25000));
    other->Close();
}

TEST_P(StoreTest, ConcurrentTakersNeverShareOneToken) {
    auto other = OpenAnother();
    ASSERT_TRUE(other);
    const TimePoint t0 = clock_.Now();
    constexpr int kBurst = 20;
    std::atomic<int> granted{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
        Store& store = t % 2 == 0 ? *store_ : *other;
        threads.emplace_back([&] {
            for (int i = 0; i < 10; ++i) {
                auto wait = store.AcquireRateToken("portal", 0.001, kBurst, t0);  // no refill meanwhile
                if (!wait) {
                    ++errors;
                } else if (wait->count() == 0) {
                    ++granted;
                }
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(granted.load(), kBurst);
    other->Close();
}

}  // namespace
}  // namespace spacehook::store::testing
