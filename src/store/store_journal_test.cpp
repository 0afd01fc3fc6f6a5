// The journal: group-committed appends, de-duplication, back-pressure, failures, queries.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "store/store_test_support.hpp"

namespace spacehook::store::testing {
namespace {

TEST_P(StoreTest, AppendStoresThenReportsDuplicate) {
    auto first = AppendAndWait(*store_, MakeDelivery("wh-1", "100"));
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(*first, AppendOutcome::kStored);

    auto again = AppendAndWait(*store_, MakeDelivery("wh-1", "100"));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(*again, AppendOutcome::kDuplicate);

    // The same event id from another webhook is another delivery.
    auto other = AppendAndWait(*store_, MakeDelivery("wh-2", "100"));
    ASSERT_TRUE(other) << other.error().message;
    EXPECT_EQ(*other, AppendOutcome::kStored);

    auto events = store_->ListEvents({});
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), 2u);
    EXPECT_EQ((*events)[0].webhook_id, "wh-2");  // newest first
    EXPECT_EQ((*events)[1].webhook_id, "wh-1");
    EXPECT_LT((*events)[1].seq, (*events)[0].seq);
}

TEST_P(StoreTest, AppendKeepsEveryFieldAndTheExactBody) {
    NewDelivery d = MakeDelivery("wh", "7", "file.uploaded");
    d.body = std::string("{\"raw\":\"\xff\x00\x01\"}", 12);  // not UTF-8, with a NUL: bytes as signed
    d.actor = "";
    ASSERT_TRUE(AppendAndWait(*store_, d));

    auto found = store_->FindEvent("7");
    ASSERT_TRUE(found && *found);
    const EventRecord& e = **found;
    EXPECT_EQ(e.webhook_id, "wh");
    EXPECT_EQ(e.event_id, "7");
    EXPECT_EQ(e.trigger, "file.uploaded");
    EXPECT_EQ(e.actor, "");
    EXPECT_EQ(e.entity_id, "42");
    EXPECT_EQ(e.created_on, "2026-06-30T10:15:42.537Z");
    EXPECT_EQ(e.body, d.body);
    EXPECT_EQ(e.received_at, d.received_at);
    EXPECT_EQ(e.state, EventState::kPending);
    EXPECT_EQ(e.attempts, 0);
    EXPECT_EQ(e.next_attempt_at, clock_.Now());  // due at once
    EXPECT_EQ(e.replay_generation, 0);

    auto by_seq = store_->GetEvent(e.seq);
    ASSERT_TRUE(by_seq && *by_seq);
    EXPECT_EQ((*by_seq)->body, d.body);
    auto missing = store_->GetEvent(e.seq + 100);
    ASSERT_TRUE(missing);
    EXPECT_FALSE(*missing);
}

TEST_P(StoreTest, ManyThreadsAppendConcurrentlyAndShareCommits) {
    constexpr int kThreads = 8;
    constexpr int kPerThread = 150;
    const auto commits_before = store_->Stats()->commits;

    CallbackLatch latch;
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                store_->Append(MakeDelivery("wh", std::to_string(t * kPerThread + i)), latch.Callback());
            }
        });
    }
    for (auto& thread : threads) thread.join();
    ASSERT_TRUE(latch.WaitFor(static_cast<std::size_t>(kThreads) * kPerThread));

    for (const auto& result : latch.Results()) {
        ASSERT_TRUE(result) << result.error().message;
        EXPECT_EQ(*result, AppendOutcome::kStored);
    }
    auto stats = store_->Stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->events_total, kThreads * kPerThread);
    EXPECT_EQ(stats->events_pending, kThreads * kPerThread);
    // Group commit: the deliveries shared transactions (each one alone would be one commit each).
    const auto commits = stats->commits - commits_before;
    EXPECT_GT(commits, 0);
    EXPECT_LT(commits, kThreads * kPerThread);
    for (int id = 0; id < kThreads * kPerThread; id += 97) {
        auto event = store_->FindEvent(std::to_string(id));
        ASSERT_TRUE(event && *event) << "event " << id;
    }
}

TEST_P(StoreTest, QueuedAppendsCommitAsOneBatch) {
    PauseWriter(true);
    CallbackLatch latch;
    for (int i = 0; i < 50; ++i) store_->Append(MakeDelivery("wh", std::to_string(i)), latch.Callback());
    store_->Append(MakeDelivery("wh", "7"), latch.Callback());  // a duplicate inside the same batch
    const auto before = store_->Stats()->commits;
    PauseWriter(false);
    ASSERT_TRUE(latch.WaitFor(51));

    auto results = latch.Results();
    int stored = 0;
    int duplicates = 0;
    for (const auto& r : results) {
        ASSERT_TRUE(r) << r.error().message;
        (*r == AppendOutcome::kStored ? stored : duplicates)++;
    }
    EXPECT_EQ(stored, 50);
    EXPECT_EQ(duplicates, 1);
    EXPECT_EQ(store_->Stats()->commits - before, 1);
}

TEST_P(StoreTest, AppendBeyondQueueLimitIsRefusedAtOnce) {
    StoreOptions options;
    options.max_pending_appends = 3;
    Open(options);
    PauseWriter(true);
    CallbackLatch latch;
    for (int i = 0; i < 3; ++i) store_->Append(MakeDelivery("wh", std::to_string(i)), latch.Callback());

    // The fourth is answered on this thread, before Append returns.
    std::optional<Result<AppendOutcome>> refused;
    store_->Append(MakeDelivery("wh", "3"), [&](Result<AppendOutcome> r) { refused = std::move(r); });
    ASSERT_TRUE(refused.has_value());
    ASSERT_FALSE(*refused);
    EXPECT_EQ(refused->error().code, ErrorCode::kUnavailable);
    EXPECT_NE(refused->error().message.find("store write queue is full (3 appends wait for"),
              std::string::npos)
        << refused->error().message;
    EXPECT_EQ(store_->Stats()->write_queue, 3);
    // Readiness says so at once, without waiting behind the backlog.
    auto ping = store_->Ping();
    ASSERT_FALSE(ping);
    EXPECT_EQ(ping.error().code, ErrorCode::kUnavailable);

    PauseWriter(false);
    ASSERT_TRUE(latch.WaitFor(3));
    for (const auto& r : latch.Results()) EXPECT_TRUE(r && *r == AppendOutcome::kStored);
    auto refused_event = store_->FindEvent("3");
    ASSERT_TRUE(refused_event);
    EXPECT_FALSE(*refused_event);
}

TEST_P(StoreTest, CloseFlushesQueuedAppendsThenRefusesEverything) {
    PauseWriter(true);
    CallbackLatch latch;
    for (int i = 0; i < 20; ++i) store_->Append(MakeDelivery("wh", std::to_string(i)), latch.Callback());
    store_->Close();  // un-pauses, writes the 20, stops
    auto results = latch.Results();
    ASSERT_EQ(results.size(), 20u);
    for (const auto& r : results) EXPECT_TRUE(r && *r == AppendOutcome::kStored);

    auto late = AppendAndWait(*store_, MakeDelivery("wh", "late"));
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(store_->ListEvents({}).error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(store_->Ping().error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(store_->ClaimRun("w", clock_.Now()).error().code, ErrorCode::kUnavailable);
    store_->Close();  // idempotent

    Reopen();
    EXPECT_EQ(store_->Stats()->events_total, 20);
}

TEST_P(StoreTest, PingCommitsAWrite) {
    const auto before = store_->Stats()->commits;
    ASSERT_TRUE(store_->Ping());
    EXPECT_EQ(store_->Stats()->commits, before + 1);
}

TEST_P(StoreTest, ListEventsFiltersAndPages) {
    for (int i = 0; i < 5; ++i) StoreEvent(fmt::format("c{}", i), "file.created");
    for (int i = 0; i < 3; ++i) StoreEvent(fmt::format("u{}", i), "file.updated");

    EventFilter created;
    created.trigger = "file.created";
    created.limit = 2;
    auto page1 = store_->ListEvents(created);
    ASSERT_TRUE(page1);
    ASSERT_EQ(page1->size(), 2u);
    EXPECT_EQ((*page1)[0].event_id, "c4");
    EXPECT_EQ((*page1)[1].event_id, "c3");
    created.before_seq = page1->back().seq;
    created.limit = 10;
    auto page2 = store_->ListEvents(created);
    ASSERT_TRUE(page2);
    ASSERT_EQ(page2->size(), 3u);
    EXPECT_EQ((*page2)[0].event_id, "c2");
    EXPECT_EQ((*page2)[2].event_id, "c0");

    EventFilter ignored;
    ignored.state = EventState::kIgnored;
    EXPECT_TRUE(store_->ListEvents(ignored)->empty());
    EventFilter pending;
    pending.state = EventState::kPending;
    EXPECT_EQ(store_->ListEvents(pending)->size(), 8u);
    EventFilter none;
    none.limit = 0;
    EXPECT_TRUE(store_->ListEvents(none)->empty());
}

TEST_P(StoreTest, FindEventReturnsTheNewestOfSeveralWebhooks) {
    ASSERT_TRUE(AppendAndWait(*store_, MakeDelivery("wh-a", "55")));
    ASSERT_TRUE(AppendAndWait(*store_, MakeDelivery("wh-b", "55")));
    auto found = store_->FindEvent("55");
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->webhook_id, "wh-b");
    auto none = store_->FindEvent("56");
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
}

TEST_P(StoreTest, WakeupFiresForStoredEventsNotForDuplicates) {
    std::atomic<int> wakeups{0};
    store_->SetWakeup([&] { ++wakeups; });
    ASSERT_TRUE(AppendAndWait(*store_, MakeDelivery("wh", "1")));
    EXPECT_EQ(wakeups.load(), 1);  // the wake-up runs before the callbacks of its batch
    ASSERT_TRUE(AppendAndWait(*store_, MakeDelivery("wh", "1")));
    ASSERT_TRUE(store_->Ping());  // a later commit: a wake-up for the duplicate would have run by now
    EXPECT_EQ(wakeups.load(), 1);
}

TEST_P(StoreTest, CallbackThatThrowsDoesNotStopTheWriter) {
    store_->Append(MakeDelivery("wh", "1"), [](Result<AppendOutcome>) { throw std::runtime_error("bug"); });
    auto next = AppendAndWait(*store_, MakeDelivery("wh", "2"));
    ASSERT_TRUE(next) << next.error().message;
    EXPECT_EQ(*next, AppendOutcome::kStored);
    EXPECT_EQ(store_->Stats()->events_total, 2);
}

}  // namespace
}  // namespace spacehook::store::testing
