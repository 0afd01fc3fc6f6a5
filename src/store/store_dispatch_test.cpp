// Dispatch: event claims and leases, CompleteDispatch, retries, failed events, replay.

#include <atomic>

#include "store/store_test_support.hpp"

namespace spacehook::store::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_P(StoreTest, CompleteDispatchesWritesEachInOrderAndFailsOnlyTheOneThatLostItsLease) {
    const auto a = StoreEvent("a");
    const auto b = StoreEvent("b");
    const auto c = StoreEvent("c");
    ASSERT_EQ(store_->ClaimEvents("d", 10, clock_.Now())->size(), 3u);
    ASSERT_TRUE(store_->ReplayEvent(b, clock_.Now()));  // b's lease is gone: its completion must fail alone
    std::vector<DispatchCompletion> batch = {
        {a, {MakeRun("run-a1"), MakeRun("run-a2")}, EventState::kDispatched, ""},
        {b, {MakeRun("run-b")}, EventState::kDispatched, ""},
        {c, {}, EventState::kIgnored, "no rule matched"},
        {c, {}, EventState::kPending, "not a final state"},
    };
    const auto results = store_->CompleteDispatches("d", batch);
    ASSERT_EQ(results.size(), 4u);
    ASSERT_TRUE(results[0]) << results[0].error().message;
    EXPECT_EQ(*results[0], 2);
    ASSERT_FALSE(results[1]);
    EXPECT_EQ(results[1].error().code, ErrorCode::kConflict);
    ASSERT_TRUE(results[2]) << results[2].error().message;
    EXPECT_EQ(*results[2], 0);
    ASSERT_FALSE(results[3]);
    EXPECT_EQ(results[3].error().code, ErrorCode::kInvalidArgument);

    EXPECT_EQ((*store_->GetEvent(a))->state, EventState::kDispatched);
    EXPECT_EQ((*store_->GetEvent(b))->state, EventState::kPending);  // the replay dispatches it
    EXPECT_EQ((*store_->GetEvent(c))->state, EventState::kIgnored);
    EXPECT_EQ((*store_->GetEvent(c))->last_error, "no rule matched");
    // The runs exist in the order they were given: the older one is claimed first.
    EXPECT_EQ(MustClaimRun("w").run_key, "run-a1");
    EXPECT_EQ(MustClaimRun("w").run_key, "run-a2");
    EXPECT_FALSE(*store_->ClaimRun("w", clock_.Now()));
    EXPECT_TRUE(store_->CompleteDispatches("d", {}).empty());
}

TEST_P(StoreTest, ClaimEventsLeasesOldestFirstAndOnlyOnce) {
    const auto a = StoreEvent("a");
    const auto b = StoreEvent("b");
    const auto c = StoreEvent("c");

    auto first = store_->ClaimEvents("d1", 2, clock_.Now());
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_EQ(first->size(), 2u);
    EXPECT_EQ((*first)[0].seq, a);
    EXPECT_EQ((*first)[1].seq, b);

    auto second = store_->ClaimEvents("d2", 10, clock_.Now());
    ASSERT_TRUE(second);
    ASSERT_EQ(second->size(), 1u);
    EXPECT_EQ((*second)[0].seq, c);
    EXPECT_TRUE(store_->ClaimEvents("d3", 10, clock_.Now())->empty());
    EXPECT_TRUE(store_->ClaimEvents("d3", 0, clock_.Now())->empty());
    EXPECT_EQ(store_->ClaimEvents("", 10, clock_.Now()).error().code, ErrorCode::kInvalidArgument);
}

TEST_P(StoreTest, ExpiredEventLeaseIsTakenOverAndTheOldOwnerIsFenced) {
    const auto seq = StoreEvent("a");
    ASSERT_EQ(store_->ClaimEvents("d1", 10, clock_.Now())->size(), 1u);

    clock_.Advance(options_.lease - milliseconds(1));
    EXPECT_TRUE(store_->ClaimEvents("d2", 10, clock_.Now())->empty());  // still leased
    clock_.Advance(milliseconds(1));
    auto taken = store_->ClaimEvents("d2", 10, clock_.Now());
    ASSERT_TRUE(taken);
    ASSERT_EQ(taken->size(), 1u);

    auto late = store_->CompleteDispatch(seq, "d1", {MakeRun("r1")}, EventState::kDispatched, "");
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, ErrorCode::kConflict);
    EXPECT_EQ(store_->RetryDispatch(seq, "d1", clock_.Now(), "x").error().code, ErrorCode::kConflict);
    EXPECT_EQ(store_->FailDispatch(seq, "d1", "x").error().code, ErrorCode::kConflict);
    EXPECT_TRUE(store_->ListRuns({})->empty());  // the fenced call wrote nothing

    auto done = store_->CompleteDispatch(seq, "d2", {MakeRun("r1")}, EventState::kDispatched, "");
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_EQ(*done, 1);
    EXPECT_EQ(store_->CompleteDispatch(seq + 1, "d2", {}, EventState::kIgnored, "").error().code,
              ErrorCode::kNotFound);
}

TEST_P(StoreTest, ExpiredButNotTakenLeaseStillBelongsToItsOwner) {
    const auto seq = StoreEvent("a");
    ASSERT_EQ(store_->ClaimEvents("d1", 10, clock_.Now())->size(), 1u);
    clock_.Advance(options_.lease + seconds(5));
    auto done = store_->CompleteDispatch(seq, "d1", {}, EventState::kIgnored, "no rule matched");
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_EQ(*done, 0);
}

TEST_P(StoreTest, CompleteDispatchCreatesRunsSkipsKnownKeysAndSetsTheEventState) {
    std::atomic<int> wakeups{0};
    store_->SetWakeup([&] { ++wakeups; });
    const auto seq = StoreEvent("a");
    const int after_append = wakeups.load();
    ASSERT_EQ(store_->ClaimEvents("d", 10, clock_.Now())->size(), 1u);

    auto created = store_->CompleteDispatch(seq, "d", {MakeRun("k1", "room:1"), MakeRun("k2"), MakeRun("k1")},
                                            EventState::kDispatched, "2 rules matched");
    ASSERT_TRUE(created) << created.error().message;
    EXPECT_EQ(*created, 2);
    EXPECT_EQ(wakeups.load(), after_append + 1);

    auto event = store_->GetEvent(seq);
    ASSERT_TRUE(event && *event);
    EXPECT_EQ((*event)->state, EventState::kDispatched);
    EXPECT_EQ((*event)->runs_created, 2);
    EXPECT_EQ((*event)->last_error, "2 rules matched");

    auto runs = store_->ListRuns({});
    ASSERT_TRUE(runs);
    ASSERT_EQ(runs->size(), 2u);
    const RunRecord& k1 = (*runs)[1];  // newest first
    EXPECT_EQ(k1.run_key, "k1");
    EXPECT_EQ(k1.rule, "invoice-intake");
    EXPECT_EQ(k1.event_seq, seq);
    EXPECT_EQ(k1.lock_key, "room:1");
    EXPECT_EQ(k1.state, RunState::kPending);
    EXPECT_EQ(k1.step_count, 3);
    EXPECT_EQ(k1.next_step, 0);
    EXPECT_EQ(k1.attempts, 0);
    EXPECT_EQ(k1.created_at, clock_.Now());
    EXPECT_EQ(k1.next_attempt_at, clock_.Now());
    EXPECT_EQ(k1.lease_owner, "");
    EXPECT_EQ(k1.context["file"]["title"], "invoice.pdf");

    // A second event matching the same semantic key (file.created + file.uploaded) adds nothing.
    const auto seq2 = StoreEvent("b", "file.uploaded");
    ASSERT_EQ(store_->ClaimEvents("d", 10, clock_.Now())->size(), 1u);
    auto again = store_->CompleteDispatch(seq2, "d", {MakeRun("k1")}, EventState::kDispatched, "");
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, 0);
    EXPECT_EQ(store_->ListRuns({})->size(), 2u);
    EXPECT_EQ(wakeups.load(), after_append + 2);  // the stored event "b", not the empty dispatch
}

TEST_P(StoreTest, CompleteDispatchRefusesOtherFinalStatesAndWritesNothing) {
    const auto seq = StoreEvent("a");
    ASSERT_EQ(store_->ClaimEvents("d", 10, clock_.Now())->size(), 1u);
    for (EventState bad : {EventState::kPending, EventState::kFailed}) {
        auto r = store_->CompleteDispatch(seq, "d", {MakeRun("k1")}, bad, "");
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    }
    NewRun keyless = MakeRun("");
    EXPECT_EQ(store_->CompleteDispatch(seq, "d", {keyless}, EventState::kDispatched, "").error().code,
              ErrorCode::kInvalidArgument);
    EXPECT_TRUE(store_->ListRuns({})->empty());
    EXPECT_EQ((*store_->GetEvent(seq))->state, EventState::kPending);
}

TEST_P(StoreTest, CompleteDispatchIsOneTransaction) {
    const auto seq = StoreEvent("a");
    ASSERT_EQ(store_->ClaimEvents("d", 10, clock_.Now())->size(), 1u);
    // The API validates what it can before writing, so inject the failure: a trigger aborts the second
    // insert. The first insert must not stay behind.
    ASSERT_TRUE(FailRunInserts("k2"));
    auto r = store_->CompleteDispatch(seq, "d", {MakeRun("k1"), MakeRun("k2")}, EventState::kDispatched, "");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("injected failure"), std::string::npos) << r.error().message;
    EXPECT_TRUE(store_->ListRuns({})->empty());
    auto event = store_->GetEvent(seq);
    EXPECT_EQ((*event)->state, EventState::kPending);
    EXPECT_EQ((*event)->runs_created, 0);

    // A failing request undoes only itself: the writer's other work goes on.
    ASSERT_TRUE(StopFailingRunInserts());
    auto ok = store_->CompleteDispatch(seq, "d", {MakeRun("k1"), MakeRun("k2")}, EventState::kDispatched, "");
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(*ok, 2);
}

TEST_P(StoreTest, RetryDispatchWaitsUntilDueAndCountsAttempts) {
    const auto seq = StoreEvent("a");
    ASSERT_EQ(store_->ClaimEvents("d", 10, clock_.Now())->size(), 1u);
    const TimePoint later = clock_.Now() + seconds(30);
    ASSERT_TRUE(store_->RetryDispatch(seq, "d", later, "room lookup: 503"));

    auto event = store_->GetEvent(seq);
    EXPECT_EQ((*event)->attempts, 1);
    EXPECT_EQ((*event)->next_attempt_at, later);
    EXPECT_EQ((*event)->last_error, "room lookup: 503");
    EXPECT_TRUE(store_->ClaimEvents("d", 10, clock_.Now())->empty());
    EXPECT_EQ(store_->NextDueTime().value(), later);

    clock_.Set(later);
    auto again = store_->ClaimEvents("d2", 10, clock_.Now());
    ASSERT_EQ(again->size(), 1u);
    EXPECT_EQ((*again)[0].attempts, 1);
}

TEST_P(StoreTest, FailedEventIsADeadLetterThatCanBeRetriedOrDropped) {
    const auto a = StoreEvent("a");
    const auto b = StoreEvent("b", "room.created");
    ASSERT_EQ(store_->ClaimEvents("d", 10, clock_.Now())->size(), 2u);
    ASSERT_TRUE(store_->FailDispatch(a, "d", "rule references unknown room"));
    clock_.Advance(seconds(1));
    ASSERT_TRUE(store_->FailDispatch(b, "d", "bad payload"));

    auto letters = store_->ListDeadLetters(10);
    ASSERT_TRUE(letters) << letters.error().message;
    ASSERT_EQ(letters->size(), 2u);
    const DeadLetter& newest = (*letters)[0];
    EXPECT_EQ(newest.kind, DeadLetter::Kind::kEvent);
    EXPECT_EQ(newest.id, b);
    EXPECT_EQ(newest.rule, "");
    EXPECT_EQ(newest.trigger, "room.created");
    EXPECT_EQ(newest.reason, "bad payload");
    EXPECT_EQ(newest.attempts, 1);
    EXPECT_EQ(newest.failed_at, clock_.Now());
    EXPECT_EQ((*store_->GetEvent(a))->state, EventState::kFailed);
    EXPECT_EQ(store_->Stats()->dead_letters, 2);

    ASSERT_TRUE(store_->RetryDeadLetter(DeadLetter::Kind::kEvent, a, clock_.Now()));
    auto retried = store_->GetEvent(a);
    EXPECT_EQ((*retried)->state, EventState::kPending);
    EXPECT_EQ((*retried)->attempts, 0);
    EXPECT_EQ(store_->ClaimEvents("d", 10, clock_.Now())->size(), 1u);

    ASSERT_TRUE(store_->DropDeadLetter(DeadLetter::Kind::kEvent, b));
    EXPECT_EQ((*store_->GetEvent(b))->state, EventState::kIgnored);
    EXPECT_TRUE(store_->ListDeadLetters(10)->empty());
    EXPECT_EQ(store_->DropDeadLetter(DeadLetter::Kind::kEvent, b).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->RetryDeadLetter(DeadLetter::Kind::kEvent, a, clock_.Now()).error().code,
              ErrorCode::kNotFound);
}

TEST_P(StoreTest, ReplayBumpsTheGenerationAndRequeuesTheEvent) {
    std::atomic<int> wakeups{0};
    const auto seq = DispatchRuns("a", {MakeRun("k1:g0")});
    store_->SetWakeup([&] { ++wakeups; });
    EXPECT_EQ((*store_->GetEvent(seq))->state, EventState::kDispatched);

    clock_.Advance(seconds(5));
    ASSERT_TRUE(store_->ReplayEvent(seq, clock_.Now()));
    EXPECT_EQ(wakeups.load(), 1);
    auto event = store_->GetEvent(seq);
    EXPECT_EQ((*event)->state, EventState::kPending);
    EXPECT_EQ((*event)->replay_generation, 1);
    EXPECT_EQ((*event)->next_attempt_at, clock_.Now());
    EXPECT_EQ((*event)->last_error, "");

    auto claimed = store_->ClaimEvents("d", 10, clock_.Now());
    ASSERT_EQ(claimed->size(), 1u);
    EXPECT_EQ((*claimed)[0].replay_generation, 1);
    // Replaying while a dispatcher holds the event takes its lease away.
    ASSERT_TRUE(store_->ReplayEvent(seq, clock_.Now()));
    EXPECT_EQ(
        store_->CompleteDispatch(seq, "d", {MakeRun("k1:g1")}, EventState::kDispatched, "").error().code,
        ErrorCode::kConflict);
    claimed = store_->ClaimEvents("d", 10, clock_.Now());
    ASSERT_EQ(claimed->size(), 1u);
    EXPECT_EQ((*claimed)[0].replay_generation, 2);
    auto created = store_->CompleteDispatch(seq, "d", {MakeRun("k1:g2")}, EventState::kDispatched, "");
    ASSERT_TRUE(created);
    EXPECT_EQ(*created, 1);
    EXPECT_EQ((*store_->GetEvent(seq))->runs_created, 2);
    EXPECT_EQ(store_->ReplayEvent(seq + 100, clock_.Now()).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace spacehook::store::testing
