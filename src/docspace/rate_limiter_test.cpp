#include "docspace/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace spacehook::docspace {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

/// A ManualClock whose sleeper advances it: every wait is exact and instant.
struct ManualTime {
    ManualClock clock;
    nanoseconds slept{0};
    RateLimiter::Sleeper Sleeper() {
        return [this](nanoseconds d) {
            slept += d;
            clock.Advance(d);
        };
    }
};

RateLimitOptions Rate(double per_second, int burst) {
    RateLimitOptions options;
    options.rate_per_second = per_second;
    options.burst = burst;
    return options;
}

TEST(RateLimiter, BurstGoesOutAtOnceThenTheRateHolds) {
    ManualTime time;
    RateLimiter limiter(Rate(10, 5), &time.clock, time.Sleeper());
    for (int i = 0; i < 5; ++i) limiter.Acquire();
    EXPECT_EQ(time.slept, nanoseconds(0));
    for (int i = 0; i < 10; ++i) limiter.Acquire();
    // 10 more calls at 10/s after the burst: one second, give or take a rounding nanosecond per call.
    EXPECT_GE(time.slept, milliseconds(1000) - nanoseconds(10));
    EXPECT_LE(time.slept, milliseconds(1000) + nanoseconds(100));
}

TEST(RateLimiter, TokensRefillWhileIdleButNeverBeyondTheBurst) {
    ManualTime time;
    RateLimiter limiter(Rate(2, 3), &time.clock, time.Sleeper());
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.TryAcquire());
    EXPECT_FALSE(limiter.TryAcquire());
    time.clock.Advance(milliseconds(500));
    EXPECT_TRUE(limiter.TryAcquire());
    EXPECT_FALSE(limiter.TryAcquire());
    time.clock.Advance(std::chrono::hours(1));
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.TryAcquire());
    EXPECT_FALSE(limiter.TryAcquire());
}

TEST(RateLimiter, PauseStopsEveryoneAndRefillsFromEmpty) {
    ManualTime time;
    RateLimiter limiter(Rate(10, 10), &time.clock, time.Sleeper());
    limiter.PauseFor(milliseconds(3000));
    EXPECT_FALSE(limiter.TryAcquire());
    EXPECT_EQ(limiter.RemainingPause(), milliseconds(3000));
    limiter.Acquire();
    // The pause, then one token's worth of refill (no burst right after a 429).
    EXPECT_GE(time.slept, milliseconds(3100) - nanoseconds(10));
    EXPECT_LE(time.slept, milliseconds(3100) + nanoseconds(100));
    EXPECT_EQ(limiter.RemainingPause(), milliseconds(0));
}

TEST(RateLimiter, AShorterPauseDoesNotCutALongerOne) {
    ManualTime time;
    RateLimiter limiter(Rate(10, 10), &time.clock, time.Sleeper());
    limiter.PauseFor(milliseconds(5000));
    limiter.PauseFor(milliseconds(1000));
    EXPECT_EQ(limiter.RemainingPause(), milliseconds(5000));
}

TEST(RateLimiter, PauseIsClampedToMaxPause) {
    ManualTime time;
    auto options = Rate(10, 10);
    options.max_pause = milliseconds(2000);
    RateLimiter limiter(options, &time.clock, time.Sleeper());
    limiter.PauseFor(std::chrono::hours(1));
    EXPECT_EQ(limiter.RemainingPause(), milliseconds(2000));
}

TEST(RateLimiter, ThreadsShareOneBucketOnTheSteadyClock) {
    // Real time, small numbers: 4 threads x 5 calls at 50/s with a burst of 5 need >= 300 ms.
    RateLimiter limiter(Rate(50, 5));
    std::atomic<int> done{0};
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 5; ++i) {
                limiter.Acquire();
                ++done;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(done.load(), 20);
    EXPECT_GE(elapsed, milliseconds(290));
    EXPECT_LT(elapsed, milliseconds(3000));
}

TEST(RateLimiter, PauseSetWhileOthersWaitHoldsThemToo) {
    RateLimiter limiter(Rate(1000, 1));
    limiter.Acquire();
    limiter.PauseFor(milliseconds(300));
    const auto start = std::chrono::steady_clock::now();
    std::thread other([&] { limiter.Acquire(); });
    other.join();
    EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(290));
}

TEST(PortalRateLimiter, OneLimiterPerPortal) {
    auto a = PortalRateLimiter("https://Portal.Example.com/", Rate(5, 5));
    auto b = PortalRateLimiter("https://portal.example.com", Rate(50, 50));
    auto c = PortalRateLimiter("https://other.example.com", Rate(5, 5));
    EXPECT_EQ(a.get(), b.get());
    EXPECT_NE(a.get(), c.get());
    EXPECT_EQ(b->options().rate_per_second, 5);
}

}  // namespace
}  // namespace spacehook::docspace
