// The token-bucket arithmetic both backends share (Store::AcquireRateToken / PauseRateLimit).

#include "store/rate_bucket.hpp"

#include <gtest/gtest.h>

namespace spacehook::store {
namespace {

using std::chrono::milliseconds;

TEST(RateBucket, RefillsTakesAndWaitsExactly) {
    RateBucket bucket = NewRateBucket(3, 1000);
    EXPECT_EQ(TakeRateToken(bucket, 2.0, 3, 1000), milliseconds(0));
    EXPECT_EQ(TakeRateToken(bucket, 2.0, 3, 1000), milliseconds(0));
    EXPECT_EQ(TakeRateToken(bucket, 2.0, 3, 1000), milliseconds(0));
    EXPECT_EQ(TakeRateToken(bucket, 2.0, 3, 1000), milliseconds(500));  // 2/s: one token per 500 ms
    EXPECT_EQ(TakeRateToken(bucket, 2.0, 3, 1499), milliseconds(1));    // never 0 before it accrued
    EXPECT_EQ(TakeRateToken(bucket, 2.0, 3, 1500), milliseconds(0));
    // A long quiet period refills up to the burst, not beyond; a lowered burst caps at once.
    EXPECT_EQ(TakeRateToken(bucket, 2.0, 3, 100000), milliseconds(0));
    EXPECT_DOUBLE_EQ(bucket.tokens, 2.0);
    EXPECT_EQ(TakeRateToken(bucket, 2.0, 1, 100000), milliseconds(0));
    EXPECT_DOUBLE_EQ(bucket.tokens, 0.0);
}

TEST(RateBucket, PauseHoldsThenRefillsFromEmpty) {
    RateBucket bucket = NewRateBucket(5, 0);
    PauseRateBucket(bucket, 2000);
    EXPECT_EQ(TakeRateToken(bucket, 10.0, 5, 500), milliseconds(1500));
    PauseRateBucket(bucket, 1000);  // shorter than the pause in force: nothing changes
    EXPECT_EQ(bucket.paused_until, 2000);
    EXPECT_EQ(TakeRateToken(bucket, 10.0, 5, 2000), milliseconds(100));  // no burst right after a 429
    EXPECT_EQ(TakeRateToken(bucket, 10.0, 5, 2100), milliseconds(0));
}

}  // namespace
}  // namespace spacehook::store
