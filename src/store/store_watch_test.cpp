// What catch-up and the watcher keep in the store: the recovered mark, since when the oldest pending work
// waits, bulk retries and drops of dead letters by filter, and shared values and leases (several stores on
// one database stand for replicas).

#include "store/store_test_support.hpp"

namespace spacehook::store::testing {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TEST_P(StoreTest, ARecoveredDeliveryIsMarkedAndDeduplicatedLikeALiveOne) {
    ASSERT_TRUE(AppendAndWait(*store_, MakeDelivery("7", "4821")));
    NewDelivery recovered = MakeDelivery("7", "4822");
    recovered.recovered = true;
    auto stored = AppendAndWait(*store_, recovered);
    ASSERT_TRUE(stored && *stored == AppendOutcome::kStored);
    // The live delivery of a row catch-up journaled first, and catch-up reading a row delivered live.
    auto live = AppendAndWait(*store_, MakeDelivery("7", "4822"));
    ASSERT_TRUE(live);
    EXPECT_EQ(*live, AppendOutcome::kDuplicate);
    recovered.event_id = "4821";
    auto again = AppendAndWait(*store_, recovered);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, AppendOutcome::kDuplicate);

    auto events = store_->ListEvents({});
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), 2U);
    EXPECT_TRUE((*events)[0].recovered);
    EXPECT_EQ((*events)[0].event_id, "4822");
    EXPECT_FALSE((*events)[1].recovered);
    auto found = store_->FindEvent("4822");
    ASSERT_TRUE(found && *found);
    EXPECT_TRUE((*found)->recovered);
}

TEST_P(StoreTest, TheOldestPendingWorkIsCountedFromWhenItWasQueued) {
    auto empty = store_->Stats();
    ASSERT_TRUE(empty);
    EXPECT_FALSE(empty->oldest_pending_event);
    EXPECT_FALSE(empty->oldest_live_run);

    // Deliveries of MakeDelivery arrive at one fixed time; the clock runs an hour later.
    const TimePoint received = MakeDelivery("wh", "1").received_at;
    clock_.Set(received + std::chrono::hours(1));
    const TimePoint t0 = clock_.Now();
    const auto first = DispatchRuns("1", {MakeRun("k1")});
    clock_.Advance(minutes(5));
    const auto second = StoreEvent("2");
    auto stats = store_->Stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->oldest_pending_event, received);
    EXPECT_EQ(stats->oldest_live_run, t0);

    // A run failing and retrying keeps its time; done with, it is no longer counted.
    auto run = MustClaimRun("w");
    ASSERT_TRUE(store_->RetryRun(run.id, "w", clock_.Now(), "503"));
    EXPECT_EQ(store_->Stats()->oldest_live_run, t0);
    run = MustClaimRun("w");
    ASSERT_TRUE(store_->DeadLetterRun(run.id, "w", "gave up", clock_.Now()));
    EXPECT_FALSE(store_->Stats()->oldest_live_run);
    // Retried from the dead-letter list, it waits from then on; so does a replayed event.
    clock_.Advance(minutes(30));
    ASSERT_TRUE(store_->RetryDeadLetter(DeadLetter::Kind::kRun, run.id, clock_.Now()));
    EXPECT_EQ(store_->Stats()->oldest_live_run, clock_.Now());
    ASSERT_TRUE(store_->ReplayEvent(first, clock_.Now()));
    auto claimed = store_->ClaimEvents("d", 10, clock_.Now());
    ASSERT_TRUE(claimed && claimed->size() == 2);
    ASSERT_TRUE(store_->CompleteDispatch(second, "d", {}, EventState::kIgnored, "no rule"));
    stats = store_->Stats();
    EXPECT_EQ(stats->events_pending, 1);
    EXPECT_EQ(stats->oldest_pending_event, clock_.Now());
}

TEST_P(StoreTest, DeadLettersAreRetriedAndDroppedInBulkByRuleAndTime) {
    // Three dead runs of two rules at two times, one failed event.
    std::vector<std::int64_t> runs;
    for (const auto& [key, rule] : std::vector<std::pair<std::string, std::string>>{
             {"a1", "intake"}, {"a2", "intake"}, {"b1", "welcome"}}) {
        NewRun run = MakeRun(key);
        run.rule = rule;
        DispatchRuns("e-" + key, {run});
        auto claimed = MustClaimRun("w");
        if (key == "a2") clock_.Advance(minutes(10));
        ASSERT_TRUE(store_->DeadLetterRun(claimed.id, "w", "403", clock_.Now()));
        runs.push_back(claimed.id);
    }
    const auto seq = StoreEvent("bad");
    auto claimed = store_->ClaimEvents("d", 10, clock_.Now());
    ASSERT_TRUE(claimed && claimed->size() == 1);
    ASSERT_TRUE(store_->FailDispatch(seq, "d", "unreadable"));
    ASSERT_EQ(store_->ListDeadLetters(100)->size(), 4U);

    // By rule: runs of that rule only, never events.
    DeadLetterFilter by_rule;
    by_rule.rule = "intake";
    by_rule.since = clock_.Now() - minutes(1);  // and only the one that failed in the last minute
    auto retried = store_->RetryDeadLetters(by_rule, clock_.Now());
    ASSERT_TRUE(retried) << retried.error().message;
    EXPECT_EQ(*retried, 1);
    EXPECT_EQ(store_->GetRun(runs[1]).value()->state, RunState::kPending);
    EXPECT_EQ(store_->GetRun(runs[0]).value()->state, RunState::kDead);

    // Nothing matches: nothing changes.
    DeadLetterFilter none;
    none.rule = "no-such-rule";
    EXPECT_EQ(store_->DropDeadLetters(none).value(), 0);

    // Everything else: two runs and the event.
    auto dropped = store_->DropDeadLetters(DeadLetterFilter{});
    ASSERT_TRUE(dropped) << dropped.error().message;
    EXPECT_EQ(*dropped, 3);
    EXPECT_TRUE(store_->ListDeadLetters(100)->empty());
    EXPECT_EQ(store_->GetRun(runs[0]).value()->state, RunState::kDropped);
    EXPECT_EQ(store_->GetEvent(seq).value()->state, EventState::kIgnored);
    // Events only, when asked for them.
    DeadLetterFilter events;
    events.kind = DeadLetter::Kind::kEvent;
    EXPECT_EQ(store_->RetryDeadLetters(events, clock_.Now()).value(), 0);
}

TEST_P(StoreTest, SharedValuesOutliveTheStoreAndReachAnotherOne) {
    EXPECT_EQ(store_->GetValue("catch-up/7").value(), std::nullopt);
    ASSERT_TRUE(store_->PutValue("catch-up/7", R"({"horizon":1})"));
    ASSERT_TRUE(store_->PutValue("catch-up/7", R"({"horizon":2})"));
    auto other = OpenAnother();
    ASSERT_NE(other, nullptr);
    EXPECT_EQ(other->GetValue("catch-up/7").value(), R"({"horizon":2})");
    other->Close();
    Reopen();
    EXPECT_EQ(store_->GetValue("catch-up/7").value(), R"({"horizon":2})");
    EXPECT_EQ(store_->GetValue("").error().code, ErrorCode::kInvalidArgument);
}

TEST_P(StoreTest, ALeaseIsHeldByOneOwnerUntilItExpiresOrIsGivenUp) {
    auto replica = OpenAnother();
    ASSERT_NE(replica, nullptr);
    const auto ttl = seconds(90);
    EXPECT_TRUE(store_->TakeLease("watch", "a", clock_.Now(), ttl).value());
    EXPECT_FALSE(replica->TakeLease("watch", "b", clock_.Now(), ttl).value());
    // The holder renews it; the other still cannot take it.
    clock_.Advance(seconds(60));
    EXPECT_TRUE(store_->TakeLease("watch", "a", clock_.Now(), ttl).value());
    clock_.Advance(seconds(60));
    EXPECT_FALSE(replica->TakeLease("watch", "b", clock_.Now(), ttl).value());
    // Not renewed in time: the other takes it over, and the first has lost it.
    clock_.Advance(seconds(31));
    EXPECT_TRUE(replica->TakeLease("watch", "b", clock_.Now(), ttl).value());
    EXPECT_FALSE(store_->TakeLease("watch", "a", clock_.Now(), ttl).value());
    // Given up, it is free at once; giving up someone else's lease changes nothing.
    ASSERT_TRUE(store_->ReleaseLease("watch", "a"));
    EXPECT_FALSE(store_->TakeLease("watch", "a", clock_.Now(), ttl).value());
    ASSERT_TRUE(replica->ReleaseLease("watch", "b"));
    EXPECT_TRUE(store_->TakeLease("watch", "a", clock_.Now(), ttl).value());
    // A lease and a value of one name live side by side.
    ASSERT_TRUE(store_->PutValue("watch", "report"));
    EXPECT_EQ(store_->GetValue("watch").value(), "report");
    EXPECT_FALSE(replica->TakeLease("watch", "b", clock_.Now(), ttl).value());
    EXPECT_EQ(store_->TakeLease("watch", "", clock_.Now(), ttl).error().code, ErrorCode::kInvalidArgument);
    replica->Close();
}

}  // namespace
}  // namespace spacehook::store::testing
