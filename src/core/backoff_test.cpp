#include "core/backoff.hpp"

#include <gtest/gtest.h>

using namespace spacehook;
using std::chrono::milliseconds;

TEST(Backoff, GrowsExponentiallyWithoutJitterAtMidpoint) {
    BackoffPolicy p{milliseconds(100), milliseconds(10000), 2.0, 0.5};
    FixedRandom mid(0.5);  // factor 1 - j + 2j*0.5 = 1
    EXPECT_EQ(NextDelay(p, 1, std::nullopt, mid), milliseconds(100));
    EXPECT_EQ(NextDelay(p, 2, std::nullopt, mid), milliseconds(200));
    EXPECT_EQ(NextDelay(p, 5, std::nullopt, mid), milliseconds(1600));
}

TEST(Backoff, JitterStaysInsideTheBand) {
    BackoffPolicy p{milliseconds(1000), milliseconds(60000), 2.0, 0.2};
    FixedRandom low(0.0), high(0.999999);
    EXPECT_EQ(NextDelay(p, 1, std::nullopt, low), milliseconds(800));
    EXPECT_EQ(NextDelay(p, 1, std::nullopt, high), milliseconds(1200));
}

TEST(Backoff, CappedAtMax) {
    BackoffPolicy p{milliseconds(1000), milliseconds(5000), 2.0, 0.2};
    FixedRandom high(0.999999);
    EXPECT_EQ(NextDelay(p, 30, std::nullopt, high), milliseconds(5000));
}

TEST(Backoff, RetryAfterIsAFloor) {
    BackoffPolicy p{milliseconds(100), milliseconds(5000), 2.0, 0.0};
    FixedRandom any(0.3);
    EXPECT_EQ(NextDelay(p, 1, milliseconds(7000), any), milliseconds(7000));
    EXPECT_EQ(NextDelay(p, 3, milliseconds(10), any), milliseconds(400));
}
