// Not a timed test: DISABLED_ so ctest never runs it. Run by hand to see the group-commit rate, on
// SQLite (store_test) or on a throwaway PostgreSQL server (store_pg_test; fsync off there):
//   build/store/src/store/store_test --gtest_also_run_disabled_tests --gtest_filter='*Throughput*'
//   build/store/src/store/store_pg_test --gtest_also_run_disabled_tests --gtest_filter='*Throughput*'
// It checks that every append was stored and prints appends/s and appends per commit.

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "store/store_test_support.hpp"

namespace spacehook::store::testing {
namespace {

TEST_P(StoreTest, DISABLED_ThroughputOfDurableConcurrentAppends) {
    constexpr int kThreads = 16;
    constexpr int kPerThread = 5000;
    constexpr int kTotal = kThreads * kPerThread;
    const std::string body(1000, 'b');  // a typical DocSpace delivery is ~1 KB

    std::mutex mu;
    std::condition_variable cv;
    int done = 0;
    int stored = 0;
    const auto commits_before = store_->Stats()->commits;
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            // Each thread is one ingress connection: it waits for its ack before the next delivery.
            for (int i = 0; i < kPerThread; ++i) {
                NewDelivery d = MakeDelivery("wh", std::to_string(t * kPerThread + i));
                d.body = body;
                auto r = AppendAndWait(*store_, std::move(d));
                std::lock_guard lock(mu);
                ++done;
                if (r && *r == AppendOutcome::kStored) ++stored;
                cv.notify_all();
            }
        });
    }
    {
        std::unique_lock lock(mu);
        ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(300), [&] { return done == kTotal; }));
    }
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto commits = store_->Stats()->commits - commits_before;
    EXPECT_EQ(stored, kTotal);
    EXPECT_EQ(store_->Stats()->events_total, kTotal);
    std::printf("durable appends: %d in %.2f s = %.0f/s, %lld commits, %.1f appends/commit (%d threads)\n",
                kTotal, seconds, kTotal / seconds, static_cast<long long>(commits),
                static_cast<double>(kTotal) / static_cast<double>(commits), kThreads);
}

TEST_P(StoreTest, DISABLED_ThroughputOfDurablePipelinedAppends) {
    // Many deliveries in flight at once (several portals, DocSpace's 10 senders each): the batch
    // size is bounded by what waits, not by the number of client threads.
    constexpr int kTotal = 100000;
    constexpr int kInFlight = 2000;
    const std::string body(1000, 'b');
    std::mutex mu;
    std::condition_variable cv;
    int in_flight = 0;
    int done = 0;
    int stored = 0;
    const auto commits_before = store_->Stats()->commits;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kTotal; ++i) {
        {
            std::unique_lock lock(mu);
            ASSERT_TRUE(cv.wait_for(lock, kWait, [&] { return in_flight < kInFlight; }));
            ++in_flight;
        }
        NewDelivery d = MakeDelivery("wh", std::to_string(i));
        d.body = body;
        store_->Append(std::move(d), [&](Result<AppendOutcome> r) {
            std::lock_guard lock(mu);
            --in_flight;
            ++done;
            if (r && *r == AppendOutcome::kStored) ++stored;
            cv.notify_all();
        });
    }
    {
        std::unique_lock lock(mu);
        ASSERT_TRUE(cv.wait_for(lock, kWait, [&] { return done == kTotal; }));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto commits = store_->Stats()->commits - commits_before;
    EXPECT_EQ(stored, kTotal);
    EXPECT_EQ(store_->Stats()->events_total, kTotal);
    std::printf("durable appends: %d in %.2f s = %.0f/s, %lld commits, %.1f appends/commit (%d in flight)\n",
                kTotal, seconds, kTotal / seconds, static_cast<long long>(commits),
                static_cast<double>(kTotal) / static_cast<double>(commits), kInFlight);
}

}  // namespace
}  // namespace spacehook::store::testing
