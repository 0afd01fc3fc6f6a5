#include "docspace/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
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
    threads.reserve(4);
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

TEST(PortalRateLimiter, EveryReplicaNamesAPortalsBucketAlike) {
    EXPECT_EQ(PortalRateKey("https://Portal.Example.com/"), "docspace:https://portal.example.com");
    EXPECT_EQ(PortalRateKey("https://portal.example.com"), PortalRateKey("HTTPS://PORTAL.EXAMPLE.COM//"));
    EXPECT_NE(PortalRateKey("https://portal.example.com"), PortalRateKey("https://other.example.com"));
}

/// A stand-in for the store's rate_limits table: token buckets by key, on the test's clock, with the
/// store's semantics (created full, a pause refills from empty). `down` makes it unreachable.
class FakeSharedBuckets {
public:
    SharedBucket Bucket() {
        return SharedBucket{
            [this](const std::string& key, double rate, int burst, TimePoint now) -> Result<milliseconds> {
                std::lock_guard lock(mu_);
                ++takes;
                if (down) return Fail(ErrorCode::kUnavailable, "database unreachable");
                auto [it, created] =
                    buckets_.try_emplace(key, State{static_cast<double>(burst), now, TimePoint{}});
                State& b = it->second;
                if (now < b.paused_until) return std::chrono::ceil<milliseconds>(b.paused_until - now);
                if (now > b.updated) {
                    b.tokens = std::min<double>(
                        burst, b.tokens + std::chrono::duration<double>(now - b.updated).count() * rate);
                    b.updated = now;
                }
                if (b.tokens >= 1.0) {
                    b.tokens -= 1.0;
                    return milliseconds(0);
                }
                return milliseconds(static_cast<std::int64_t>(std::ceil((1.0 - b.tokens) / rate * 1000.0)));
            },
            [this](const std::string& key, TimePoint until, TimePoint now) -> Status {
                std::lock_guard lock(mu_);
                if (down) return Fail(ErrorCode::kUnavailable, "database unreachable");
                auto [it, created] = buckets_.try_emplace(key, State{0, now, TimePoint{}});
                State& b = it->second;
                if (until > b.paused_until) {
                    b.paused_until = until;
                    b.tokens = 0;
                    b.updated = std::max(b.updated, until);
                }
                return Ok();
            }};
    }

    bool down = false;
    int takes = 0;

private:
    struct State {
        double tokens;
        TimePoint updated;
        TimePoint paused_until;
    };
    std::mutex mu_;
    std::map<std::string, State> buckets_;
};

TEST(SharedRateLimiter, ReplicasDrawFromOneBucket) {
    ManualTime time;
    FakeSharedBuckets buckets;
    SharedRateLimiter a("docspace:p", Rate(10, 4), buckets.Bucket(), &time.clock, time.Sleeper());
    SharedRateLimiter b("docspace:p", Rate(10, 4), buckets.Bucket(), &time.clock, time.Sleeper());
    for (int i = 0; i < 2; ++i) {
        a.Acquire();
        b.Acquire();
    }
    EXPECT_EQ(time.slept, nanoseconds(0));  // the burst of 4, shared
    a.Acquire();                            // the fifth call waits for a token, whichever replica makes it
    EXPECT_EQ(time.slept, milliseconds(100));
    b.Acquire();
    EXPECT_EQ(time.slept, milliseconds(200));
    EXPECT_EQ(a.fallbacks() + b.fallbacks(), 0u);
}

TEST(SharedRateLimiter, APauseOneReplicaSawHoldsForTheOthers) {
    ManualTime time;
    FakeSharedBuckets buckets;
    SharedRateLimiter a("docspace:p", Rate(10, 10), buckets.Bucket(), &time.clock, time.Sleeper());
    SharedRateLimiter b("docspace:p", Rate(10, 10), buckets.Bucket(), &time.clock, time.Sleeper());
    a.PauseFor(milliseconds(2000));  // a got the 429
    EXPECT_EQ(a.RemainingPause(), milliseconds(2000));
    b.Acquire();
    // The pause, then one token's worth of refill: no burst the moment it ends.
    EXPECT_EQ(time.slept, milliseconds(2100));
}

TEST(SharedRateLimiter, PauseIsClampedToMaxPause) {
    ManualTime time;
    FakeSharedBuckets buckets;
    auto options = Rate(10, 10);
    options.max_pause = milliseconds(1500);
    SharedRateLimiter a("docspace:p", options, buckets.Bucket(), &time.clock, time.Sleeper());
    a.PauseFor(std::chrono::hours(1));
    a.Acquire();
    EXPECT_EQ(time.slept, milliseconds(1600));
}

TEST(SharedRateLimiter, AnUnreachableBucketFallsBackToALimitOfItsOwn) {
    ManualTime time;
    FakeSharedBuckets buckets;
    SharedRateLimiter a("docspace:p", Rate(10, 3), buckets.Bucket(), &time.clock, time.Sleeper());
    buckets.down = true;
    for (int i = 0; i < 3; ++i) a.Acquire();  // the local burst
    EXPECT_EQ(time.slept, nanoseconds(0));
    a.Acquire();  // still limited, locally
    EXPECT_GE(time.slept, milliseconds(100) - nanoseconds(10));
    EXPECT_EQ(a.fallbacks(), 4u);
    a.PauseFor(milliseconds(500));  // holds locally even though the bucket did not hear of it
    EXPECT_EQ(a.RemainingPause(), milliseconds(500));

    buckets.down = false;  // back: the shared bucket decides again
    const int takes = buckets.takes;
    a.Acquire();
    EXPECT_EQ(buckets.takes, takes + 1);
    EXPECT_EQ(a.fallbacks(), 4u);
}

}  // namespace
}  // namespace spacehook::docspace
