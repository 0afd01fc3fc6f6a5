// Runs: claims, lock keys, leases and fencing, step checkpoints, retries, dead letters, due times.

#include <atomic>
#include <set>
#include <thread>

#include "store/store_test_support.hpp"

namespace spacehook::store::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_P(StoreTest, ClaimRunTakesTheOldestDueRunFirst) {
    DispatchRuns("a", {MakeRun("r1"), MakeRun("r2"), MakeRun("r3")});
    auto first = store_->ClaimRun("w1", clock_.Now());
    ASSERT_TRUE(first && *first) << (first ? "nothing due" : first.error().message);
    EXPECT_EQ((*first)->run_key, "r1");
    EXPECT_EQ((*first)->state, RunState::kRunning);
    EXPECT_EQ((*first)->lease_owner, "w1");
    EXPECT_EQ((*first)->lease_until, clock_.Now() + options_.lease);

    // r2 retries later; r3 is due now and is next although created after r2.
    auto second = store_->ClaimRun("w2", clock_.Now());
    ASSERT_TRUE(second && *second);
    EXPECT_EQ((*second)->run_key, "r2");
    ASSERT_TRUE(store_->RetryRun((*second)->id, "w2", clock_.Now() + seconds(10), "429"));
    auto third = store_->ClaimRun("w2", clock_.Now());
    ASSERT_TRUE(third && *third);
    EXPECT_EQ((*third)->run_key, "r3");
    auto none = store_->ClaimRun("w3", clock_.Now());
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);

    auto stored = store_->GetRun((*first)->id);
    ASSERT_TRUE(stored && *stored);
    EXPECT_EQ((*stored)->lease_owner, "w1");
    EXPECT_EQ((*stored)->lease_until, (*first)->lease_until);
}

TEST_P(StoreTest, RunsSharingALockKeyNeverRunTogether) {
    std::atomic<int> wakeups{0};
    store_->SetWakeup([&] { ++wakeups; });
    DispatchRuns("a", {MakeRun("room-a-1", "room:1"), MakeRun("room-a-2", "room:1"),
                       MakeRun("room-b", "room:2"), MakeRun("free")});
    auto a1 = store_->ClaimRun("w1", clock_.Now());
    ASSERT_TRUE(a1 && *a1);
    EXPECT_EQ((*a1)->run_key, "room-a-1");
    // room-a-2 is blocked by room-a-1; the others pass it.
    auto b = store_->ClaimRun("w2", clock_.Now());
    ASSERT_TRUE(b && *b);
    EXPECT_EQ((*b)->run_key, "room-b");
    auto free = store_->ClaimRun("w3", clock_.Now());
    ASSERT_TRUE(free && *free);
    EXPECT_EQ((*free)->run_key, "free");
    EXPECT_FALSE(*store_->ClaimRun("w4", clock_.Now()));

    // Finishing the holder releases the key and wakes the workers for the waiting run.
    const int before = wakeups.load();
    ASSERT_TRUE(store_->CompleteRun((*a1)->id, "w1", clock_.Now()));
    EXPECT_EQ(wakeups.load(), before + 1);
    auto a2 = store_->ClaimRun("w4", clock_.Now());
    ASSERT_TRUE(a2 && *a2);
    EXPECT_EQ((*a2)->run_key, "room-a-2");
    // room:2 has nobody waiting: no wake-up.
    ASSERT_TRUE(store_->CompleteRun((*b)->id, "w2", clock_.Now()));
    EXPECT_EQ(wakeups.load(), before + 1);
}

TEST_P(StoreTest, ExpiredLeaseOfALockHolderFreesTheKey) {
    DispatchRuns("a", {MakeRun("h", "room:1"), MakeRun("waiter", "room:1")});
    auto holder = store_->ClaimRun("w1", clock_.Now());
    ASSERT_TRUE(holder && *holder);
    EXPECT_FALSE(*store_->ClaimRun("w2", clock_.Now()));
    EXPECT_EQ(store_->NextDueTime().value(), (*holder)->lease_until);  // the waiter is not due before that

    clock_.Set((*holder)->lease_until);
    // The expired holder itself is the oldest due run: it is taken over (and resumes).
    auto taken = store_->ClaimRun("w2", clock_.Now());
    ASSERT_TRUE(taken && *taken);
    EXPECT_EQ((*taken)->run_key, "h");
    EXPECT_EQ((*taken)->lease_owner, "w2");
    EXPECT_FALSE(*store_->ClaimRun("w3", clock_.Now()));  // the key is held again, by w2
}

TEST_P(StoreTest, ExpiredRunBlockedByANewerHolderIsNotDueUntilTheKeyIsFree) {
    std::atomic<int> wakeups{0};
    DispatchRuns("a", {MakeRun("r1", "room:1"), MakeRun("r2", "room:1")});
    store_->SetWakeup([&] { ++wakeups; });
    const TimePoint t0 = clock_.Now();
    // r1 backs off past the lease; meanwhile r2 runs and its worker dies.
    const auto r1 = MustClaimRun("w1").id;
    ASSERT_TRUE(store_->RetryRun(r1, "w1", t0 + options_.lease + seconds(10), "503"));
    const auto r2 = MustClaimRun("w2").id;
    ASSERT_NE(r2, r1);
    clock_.Set(t0 + options_.lease + seconds(10));
    // Both are due; the older r1 wins and holds room:1 again, so r2 (running, lease expired) waits.
    auto holder = MustClaimRun("w3");
    EXPECT_EQ(holder.id, r1);
    EXPECT_FALSE(*store_->ClaimRun("w4", clock_.Now()));
    // Not "due now" (a worker would spin on it): the next due time is the holder's lease expiry.
    EXPECT_EQ(store_->NextDueTime().value(), holder.lease_until);

    const int before = wakeups.load();
    ASSERT_TRUE(store_->CompleteRun(r1, "w3", clock_.Now()));
    EXPECT_EQ(wakeups.load(), before + 1);
    EXPECT_EQ(store_->NextDueTime().value(), t0 + options_.lease);  // r2's expired lease: due now
    auto taken = MustClaimRun("w4");
    EXPECT_EQ(taken.id, r2);
}

TEST_P(StoreTest, LostLeaseFencesEveryOwnerWrite) {
    DispatchRuns("a", {MakeRun("r1")});
    auto run = store_->ClaimRun("w1", clock_.Now());
    ASSERT_TRUE(run && *run);
    const auto id = (*run)->id;
    ASSERT_EQ(store_->BeginStep(id, "w1", 0, "create-room", clock_.Now()).value(), StepStatus::kNone);

    // w1 stalls; its lease runs out and w2 takes the run over.
    clock_.Advance(options_.lease);
    auto taken = store_->ClaimRun("w2", clock_.Now());
    ASSERT_TRUE(taken && *taken);
    EXPECT_EQ((*taken)->id, id);
    EXPECT_EQ((*taken)->attempts, 0);  // a takeover is not a failed attempt

    const auto now = clock_.Now();
    EXPECT_EQ(store_->RenewLease(id, "w1", now).error().code, ErrorCode::kConflict);
    EXPECT_EQ(store_->BeginStep(id, "w1", 1, "x", now).error().code, ErrorCode::kConflict);
    EXPECT_EQ(store_->FinishStep(id, "w1", 0, Json{{"room", 1}}, now).error().code, ErrorCode::kConflict);
    EXPECT_EQ(store_->CompleteRun(id, "w1", now).error().code, ErrorCode::kConflict);
    EXPECT_EQ(store_->RetryRun(id, "w1", now, "e").error().code, ErrorCode::kConflict);
    EXPECT_EQ(store_->DeadLetterRun(id, "w1", "e", now).error().code, ErrorCode::kConflict);
    EXPECT_EQ(store_->ReleaseRun(id, "w1").error().code, ErrorCode::kConflict);
    EXPECT_EQ(store_->RenewLease(id + 100, "w2", now).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->RenewLease(id, "", now).error().code, ErrorCode::kInvalidArgument);

    // The new owner sees the step the old one died in, and owns the run.
    EXPECT_EQ(store_->BeginStep(id, "w2", 0, "create-room", now).value(), StepStatus::kStarted);
    ASSERT_TRUE(store_->RenewLease(id, "w2", now + seconds(1)));
    EXPECT_EQ((*store_->GetRun(id))->lease_until, now + seconds(1) + options_.lease);
    ASSERT_TRUE(store_->CompleteRun(id, "w2", now));
    EXPECT_EQ((*store_->GetRun(id))->state, RunState::kDone);
    EXPECT_EQ(store_->CompleteRun(id, "w2", now).error().code, ErrorCode::kConflict);  // no longer running
}

TEST_P(StoreTest, StepsAreCheckpointedAndARetryResumesAtTheFailedStep) {
    DispatchRuns("a", {MakeRun("r1", "", 3)});
    auto run = store_->ClaimRun("w1", clock_.Now());
    ASSERT_TRUE(run && *run);
    const auto id = (*run)->id;
    const TimePoint t0 = clock_.Now();

    ASSERT_EQ(store_->BeginStep(id, "w1", 0, "create-room", t0).value(), StepStatus::kNone);
    ASSERT_TRUE(store_->FinishStep(id, "w1", 0, Json{{"room_id", 890}}, t0 + seconds(1)));
    EXPECT_EQ((*store_->GetRun(id))->next_step, 1);
    ASSERT_EQ(store_->BeginStep(id, "w1", 1, "share", t0 + seconds(2)).value(), StepStatus::kNone);
    // The API answered 503: retry later, step 1 unfinished.
    ASSERT_TRUE(store_->RetryRun(id, "w1", t0 + seconds(60), "share: 503"));

    auto pending = store_->GetRun(id);
    EXPECT_EQ((*pending)->state, RunState::kPending);
    EXPECT_EQ((*pending)->attempts, 1);
    EXPECT_EQ((*pending)->next_step, 1);
    EXPECT_EQ((*pending)->last_error, "share: 503");
    EXPECT_EQ((*pending)->lease_owner, "");
    EXPECT_FALSE(*store_->ClaimRun("w2", clock_.Now()));

    clock_.Set(t0 + seconds(60));
    auto resumed = store_->ClaimRun("w2", clock_.Now());
    ASSERT_TRUE(resumed && *resumed);
    EXPECT_EQ((*resumed)->next_step, 1);
    EXPECT_EQ((*resumed)->attempts, 1);
    // Step 0 is done and stays untouched; step 1 was started by the earlier attempt.
    EXPECT_EQ(store_->BeginStep(id, "w2", 0, "create-room", clock_.Now()).value(), StepStatus::kDone);
    EXPECT_EQ(store_->BeginStep(id, "w2", 1, "share", clock_.Now()).value(), StepStatus::kStarted);
    ASSERT_TRUE(store_->FinishStep(id, "w2", 1, Json{{"shared", true}}, clock_.Now()));
    // FinishStep of a step never begun is a caller bug; indexes outside the run are refused.
    EXPECT_EQ(store_->FinishStep(id, "w2", 2, Json{}, clock_.Now()).error().code,
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->BeginStep(id, "w2", 3, "x", clock_.Now()).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->BeginStep(id, "w2", -1, "x", clock_.Now()).error().code, ErrorCode::kInvalidArgument);

    auto steps = store_->GetSteps(id);
    ASSERT_TRUE(steps) << steps.error().message;
    ASSERT_EQ(steps->size(), 2u);
    EXPECT_EQ((*steps)[0].index, 0);
    EXPECT_EQ((*steps)[0].name, "create-room");
    EXPECT_EQ((*steps)[0].status, StepStatus::kDone);
    EXPECT_EQ((*steps)[0].output["room_id"], 890);
    EXPECT_EQ((*steps)[0].started_at, t0);
    EXPECT_EQ((*steps)[0].finished_at, t0 + seconds(1));
    EXPECT_EQ((*steps)[1].status, StepStatus::kDone);
    EXPECT_EQ((*steps)[1].started_at, clock_.Now());  // the latest attempt's start
    EXPECT_EQ((*store_->GetRun(id))->next_step, 2);
    EXPECT_TRUE(store_->GetSteps(id + 100)->empty());
}

TEST_P(StoreTest, FinishStepNeverMovesNextStepBackwards) {
    DispatchRuns("a", {MakeRun("r1", "", 3)});
    const auto id = MustClaimRun("w").id;
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(store_->BeginStep(id, "w", i, fmt::format("s{}", i), clock_.Now()));
        ASSERT_TRUE(store_->FinishStep(id, "w", i, Json::object(), clock_.Now()));
    }
    ASSERT_TRUE(store_->FinishStep(id, "w", 0, Json{{"again", true}}, clock_.Now()));
    EXPECT_EQ((*store_->GetRun(id))->next_step, 3);
}

TEST_P(StoreTest, FinishAndBeginStepAndFinishLastStepCheckpointInOneWrite) {
    std::atomic<int> wakeups{0};
    store_->SetWakeup([&] { ++wakeups; });
    DispatchRuns("a", {MakeRun("r1", "room:7", 3), MakeRun("r2", "room:7", 1)});
    const auto id = MustClaimRun("w").id;
    const TimePoint t0 = clock_.Now();
    const auto commits_before = store_->Stats()->commits;

    ASSERT_EQ(store_->BeginStep(id, "w", 0, "create-room", t0).value(), StepStatus::kNone);
    ASSERT_EQ(
        store_->FinishAndBeginStep(id, "w", 0, Json{{"room_id", 890}}, 1, "folders", t0 + seconds(1)).value(),
        StepStatus::kNone);
    EXPECT_EQ(store_->Stats()->commits - commits_before, 2);  // begin, then finish + begin in one commit
    auto mid = store_->GetRun(id);
    EXPECT_EQ((*mid)->next_step, 1);
    EXPECT_EQ((*mid)->state, RunState::kRunning);
    auto steps = store_->GetSteps(id);
    ASSERT_TRUE(steps && steps->size() == 2u);
    EXPECT_EQ((*steps)[0].status, StepStatus::kDone);
    EXPECT_EQ((*steps)[0].output["room_id"], 890);
    EXPECT_EQ((*steps)[0].finished_at, t0 + seconds(1));
    EXPECT_EQ((*steps)[1].name, "folders");
    EXPECT_EQ((*steps)[1].status, StepStatus::kStarted);
    EXPECT_EQ((*steps)[1].started_at, t0 + seconds(1));

    // The next step already done (an earlier attempt) stays untouched and is reported so.
    ASSERT_TRUE(store_->FinishStep(id, "w", 1, Json{{"folders", 3}}, t0 + seconds(2)));
    ASSERT_EQ(store_->BeginStep(id, "w", 2, "access", t0 + seconds(2)).value(), StepStatus::kNone);
    EXPECT_EQ(
        store_->FinishAndBeginStep(id, "w", 0, Json{{"room_id", 890}}, 1, "folders", t0 + seconds(3)).value(),
        StepStatus::kDone);
    EXPECT_EQ((*store_->GetSteps(id))[1].output["folders"], 3);

    // A bad next index or a step never begun writes nothing, not even the half that could be.
    EXPECT_EQ(store_->FinishAndBeginStep(id, "w", 2, Json{{"x", 1}}, 3, "past", t0).error().code,
              ErrorCode::kInvalidArgument);
    EXPECT_EQ((*store_->GetSteps(id))[2].status, StepStatus::kStarted);
    EXPECT_EQ((*store_->GetRun(id))->next_step, 2);

    const int wakeups_before = wakeups.load();
    ASSERT_TRUE(store_->FinishLastStep(id, "w", 2, Json{{"shared", true}}, t0 + seconds(4)));
    auto done = store_->GetRun(id);
    EXPECT_EQ((*done)->state, RunState::kDone);
    EXPECT_EQ((*done)->next_step, 3);
    EXPECT_EQ((*done)->lease_owner, "");
    EXPECT_EQ((*store_->GetSteps(id))[2].output["shared"], true);
    EXPECT_EQ(wakeups.load(), wakeups_before + 1);  // r2 waited for room:7
    EXPECT_EQ(MustClaimRun("w2").run_key, "r2");

    // Both are fenced like every owner write.
    EXPECT_EQ(store_->FinishLastStep(id, "w", 2, Json{}, clock_.Now()).error().code, ErrorCode::kConflict);
    EXPECT_EQ(store_->FinishAndBeginStep(id, "w", 1, Json{}, 2, "access", clock_.Now()).error().code,
              ErrorCode::kConflict);
    EXPECT_EQ(store_->FinishLastStep(id, "", 2, Json{}, clock_.Now()).error().code,
              ErrorCode::kInvalidArgument);
}

TEST_P(StoreTest, StepOutputWithInvalidUtf8IsStoredNotThrown) {
    DispatchRuns("a", {MakeRun("r1", "", 1)});
    const auto id = MustClaimRun("w").id;
    ASSERT_TRUE(store_->BeginStep(id, "w", 0, "s", clock_.Now()));
    ASSERT_TRUE(store_->FinishStep(id, "w", 0, Json{{"title", std::string("bad\xff")}}, clock_.Now()));
    auto steps = store_->GetSteps(id);
    ASSERT_TRUE(steps && steps->size() == 1u);
    EXPECT_TRUE((*steps)[0].output["title"].is_string());
}

TEST_P(StoreTest, DeadRunIsRetriedFromItsFirstUnfinishedStepWithAFreshBudget) {
    DispatchRuns("a", {MakeRun("r1", "", 3)});
    const auto id = MustClaimRun("w").id;
    ASSERT_TRUE(store_->BeginStep(id, "w", 0, "s0", clock_.Now()));
    ASSERT_TRUE(store_->FinishStep(id, "w", 0, Json::object(), clock_.Now()));
    ASSERT_TRUE(store_->RetryRun(id, "w", clock_.Now(), "timeout"));
    ASSERT_TRUE(store_->ClaimRun("w", clock_.Now()).value());
    clock_.Advance(seconds(3));
    ASSERT_TRUE(store_->DeadLetterRun(id, "w", "403 forbidden: no access to room", clock_.Now()));

    auto dead = store_->GetRun(id);
    EXPECT_EQ((*dead)->state, RunState::kDead);
    EXPECT_EQ((*dead)->attempts, 2);
    auto letters = store_->ListDeadLetters(10);
    ASSERT_TRUE(letters) << letters.error().message;
    ASSERT_EQ(letters->size(), 1u);
    EXPECT_EQ((*letters)[0].kind, DeadLetter::Kind::kRun);
    EXPECT_EQ((*letters)[0].id, id);
    EXPECT_EQ((*letters)[0].rule, "invoice-intake");
    EXPECT_EQ((*letters)[0].trigger, "file.created");
    EXPECT_EQ((*letters)[0].reason, "403 forbidden: no access to room");
    EXPECT_EQ((*letters)[0].attempts, 2);
    EXPECT_EQ((*letters)[0].failed_at, clock_.Now());
    EXPECT_FALSE(*store_->ClaimRun("w", clock_.Now()));

    ASSERT_TRUE(store_->RetryDeadLetter(DeadLetter::Kind::kRun, id, clock_.Now()));
    EXPECT_TRUE(store_->ListDeadLetters(10)->empty());
    auto again = store_->ClaimRun("w2", clock_.Now());
    ASSERT_TRUE(again && *again);
    EXPECT_EQ((*again)->id, id);
    EXPECT_EQ((*again)->attempts, 0);
    EXPECT_EQ((*again)->next_step, 1);
    EXPECT_EQ((*again)->last_error, "403 forbidden: no access to room");
    EXPECT_EQ(store_->RetryDeadLetter(DeadLetter::Kind::kRun, id, clock_.Now()).error().code,
              ErrorCode::kNotFound);
}

TEST_P(StoreTest, FirstFailureTimeStartsTheRetryBudgetAndClaimsTellTakeoversApart) {
    DispatchRuns("a", {MakeRun("r1")});
    auto first = MustClaimRun("w1");
    EXPECT_FALSE(first.taken_over);
    EXPECT_EQ(first.failed_at, TimePoint{});
    const auto first_failure = clock_.Now();
    ASSERT_TRUE(store_->RetryRun(first.id, "w1", clock_.Now(), "503"));
    clock_.Advance(seconds(5));
    auto second = MustClaimRun("w1");
    EXPECT_FALSE(second.taken_over);  // a pending run, not a takeover
    EXPECT_EQ(second.failed_at, first_failure);
    ASSERT_TRUE(store_->RetryRun(second.id, "w1", clock_.Now(), "503 again"));
    EXPECT_EQ((*store_->GetRun(first.id))->failed_at, first_failure);  // kept on later failures

    // The worker dies holding the lease: the next claim is a takeover.
    MustClaimRun("w1");
    clock_.Advance(options_.lease);
    auto taken = MustClaimRun("w2");
    EXPECT_TRUE(taken.taken_over);
    EXPECT_EQ(taken.attempts, 2);

    // A dead run retried from the list starts a fresh budget.
    ASSERT_TRUE(store_->DeadLetterRun(taken.id, "w2", "gave up", clock_.Now()));
    EXPECT_EQ((*store_->GetRun(taken.id))->failed_at, clock_.Now());
    ASSERT_TRUE(store_->RetryDeadLetter(DeadLetter::Kind::kRun, taken.id, clock_.Now()));
    EXPECT_EQ(MustClaimRun("w3").failed_at, TimePoint{});
}

TEST_P(StoreTest, DroppedRunLeavesTheDeadLetterList) {
    DispatchRuns("a", {MakeRun("r1")});
    const auto id = MustClaimRun("w").id;
    EXPECT_EQ(store_->DropDeadLetter(DeadLetter::Kind::kRun, id).error().code,
              ErrorCode::kNotFound);  // running
    ASSERT_TRUE(store_->DeadLetterRun(id, "w", "bad rule", clock_.Now()));
    ASSERT_TRUE(store_->DropDeadLetter(DeadLetter::Kind::kRun, id));
    EXPECT_EQ((*store_->GetRun(id))->state, RunState::kDropped);
    EXPECT_TRUE(store_->ListDeadLetters(10)->empty());
    EXPECT_FALSE(*store_->ClaimRun("w", clock_.Now()));
}

TEST_P(StoreTest, ReleasedRunIsDueAtOnceWithItsAttemptsUnchanged) {
    std::atomic<int> wakeups{0};
    DispatchRuns("a", {MakeRun("r1")});
    store_->SetWakeup([&] { ++wakeups; });
    const auto id = MustClaimRun("w").id;
    ASSERT_TRUE(store_->ReleaseRun(id, "w"));
    EXPECT_EQ(wakeups.load(), 1);
    auto run = store_->GetRun(id);
    EXPECT_EQ((*run)->state, RunState::kPending);
    EXPECT_EQ((*run)->attempts, 0);
    EXPECT_EQ((*run)->lease_owner, "");
    auto again = store_->ClaimRun("w2", clock_.Now());
    ASSERT_TRUE(again && *again);
    EXPECT_EQ((*again)->id, id);
}

TEST_P(StoreTest, DeferredRunWaitsUntilItsTimeWithItsAttemptsUnchanged) {
    DispatchRuns("a", {MakeRun("r1", "room:1"), MakeRun("r2", "room:1")});
    const auto id = MustClaimRun("w").id;
    const TimePoint later = clock_.Now() + std::chrono::seconds(30);
    ASSERT_TRUE(store_->DeferRun(id, "w", later));
    auto run = store_->GetRun(id);
    EXPECT_EQ((*run)->state, RunState::kPending);
    EXPECT_EQ((*run)->attempts, 0);
    EXPECT_EQ((*run)->failed_at, TimePoint{});
    EXPECT_EQ((*run)->lease_owner, "");
    EXPECT_EQ(ToUnixMillis((*run)->next_attempt_at), ToUnixMillis(later));
    // Not due now: the next run of its key may go meanwhile; at its time it is claimed again.
    auto other = store_->ClaimRun("w2", clock_.Now());
    ASSERT_TRUE(other && *other);
    EXPECT_NE((*other)->id, id);
    EXPECT_EQ(store_->DeferRun(id, "w", later).error().code, ErrorCode::kConflict);  // not its owner now
    ASSERT_TRUE(store_->CompleteRun((*other)->id, "w2", clock_.Now()));
    auto again = store_->ClaimRun("w3", later);
    ASSERT_TRUE(again && *again);
    EXPECT_EQ((*again)->id, id);
}

TEST_P(StoreTest, ConcurrentWorkersNeverClaimTheSameRun) {
    std::vector<NewRun> runs;
    runs.reserve(60);
    for (int i = 0; i < 60; ++i) runs.push_back(MakeRun(fmt::format("r{}", i), i % 3 == 0 ? "room:1" : ""));
    DispatchRuns("a", runs);
    std::mutex mu;
    std::multiset<std::int64_t> claimed;
    std::atomic<int> errors{0};
    std::vector<std::thread> workers;
    workers.reserve(4);
    for (int w = 0; w < 4; ++w) {
        workers.emplace_back([&, w] {
            const std::string owner = fmt::format("w{}", w);
            for (int i = 0; i < 100; ++i) {
                auto run = store_->ClaimRun(owner, clock_.Now());
                if (!run) {
                    ++errors;
                    return;
                }
                if (!*run) return;
                {
                    std::lock_guard lock(mu);
                    claimed.insert((*run)->id);
                }
                if (!store_->CompleteRun((*run)->id, owner, clock_.Now())) ++errors;
            }
        });
    }
    for (auto& w : workers) w.join();
    EXPECT_EQ(errors.load(), 0);
    // Runs blocked by room:1 while another room:1 run was running may be left; each at most once.
    std::set<std::int64_t> unique(claimed.begin(), claimed.end());
    EXPECT_EQ(unique.size(), claimed.size());
    while (auto run = store_->ClaimRun("tail", clock_.Now()).value()) {
        EXPECT_EQ(claimed.count(run->id), 0u);
        claimed.insert(run->id);
        ASSERT_TRUE(store_->CompleteRun(run->id, "tail", clock_.Now()));
    }
    EXPECT_EQ(claimed.size(), 60u);
    EXPECT_EQ(store_->Stats()->runs_done, 60);
}

TEST_P(StoreTest, NextDueTimeIsTheEarliestOfABacklog) {
    // Many pending events and runs, the earliest due ones neither first nor last in journal order.
    const TimePoint t0 = clock_.Now();
    std::vector<std::int64_t> seqs;
    seqs.reserve(40);
    for (int i = 0; i < 40; ++i) seqs.push_back(StoreEvent(fmt::format("e{}", i)));
    ASSERT_EQ(store_->ClaimEvents("d", 100, t0)->size(), 40u);
    for (int i = 0; i < 40; ++i) {
        if (i == 17) continue;
        ASSERT_TRUE(store_->RetryDispatch(seqs[i], "d", t0 + seconds(100 + i), "later"));
    }
    ASSERT_TRUE(store_->RetryDispatch(seqs[17], "d", t0 + seconds(50), "soonest"));
    EXPECT_EQ(store_->NextDueTime().value(), t0 + seconds(50));

    // Runs: a run waiting for a held lock is not due; its holder's lease expiry counts instead.
    DispatchRuns("r", {MakeRun("held", "room:1"), MakeRun("waiter", "room:1")});
    const auto holder = MustClaimRun("w1");
    EXPECT_EQ(holder.run_key, "held");
    // The waiter (due since t0) is blocked: the event or the holder's lease expiry comes first.
    EXPECT_EQ(store_->NextDueTime().value(), std::min(t0 + seconds(50), holder.lease_until));
    ASSERT_TRUE(store_->RetryRun(holder.id, "w1", t0 + seconds(30), "later"));
    EXPECT_EQ(store_->NextDueTime().value(), t0);  // the waiter's lock is free now: due since t0
}

TEST_P(StoreTest, NextDueTimeFollowsEventsRunsAndLeases) {
    EXPECT_EQ(store_->NextDueTime().value(), std::nullopt);
    const auto seq = StoreEvent("a");
    EXPECT_EQ(store_->NextDueTime().value(), clock_.Now());

    ASSERT_EQ(store_->ClaimEvents("d", 10, clock_.Now())->size(), 1u);
    EXPECT_EQ(store_->NextDueTime().value(), clock_.Now() + options_.lease);  // a takeover would be due then
    ASSERT_TRUE(store_->CompleteDispatch(seq, "d", {MakeRun("r1")}, EventState::kDispatched, ""));
    EXPECT_EQ(store_->NextDueTime().value(), clock_.Now());  // the new run

    const auto id = MustClaimRun("w").id;
    EXPECT_EQ(store_->NextDueTime().value(), clock_.Now() + options_.lease);
    const TimePoint retry_at = clock_.Now() + seconds(7);
    ASSERT_TRUE(store_->RetryRun(id, "w", retry_at, "e"));
    EXPECT_EQ(store_->NextDueTime().value(), retry_at);
    clock_.Set(retry_at);
    ASSERT_TRUE(store_->ClaimRun("w", clock_.Now()).value());
    ASSERT_TRUE(store_->CompleteRun(id, "w", clock_.Now()));
    EXPECT_EQ(store_->NextDueTime().value(), std::nullopt);
}

TEST_P(StoreTest, StatsCountStatesAndBytes) {
    DispatchRuns("a", {MakeRun("r1"), MakeRun("r2"), MakeRun("r3"), MakeRun("r4")});
    StoreEvent("b");
    const auto r1 = MustClaimRun("w").id;
    const auto r2 = MustClaimRun("w").id;
    ASSERT_TRUE(store_->ClaimRun("w", clock_.Now()).value());
    ASSERT_TRUE(store_->CompleteRun(r1, "w", clock_.Now()));
    ASSERT_TRUE(store_->DeadLetterRun(r2, "w", "x", clock_.Now()));

    auto stats = store_->Stats();
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(stats->events_total, 2);
    EXPECT_EQ(stats->events_pending, 1);
    EXPECT_EQ(stats->runs_pending, 1);
    EXPECT_EQ(stats->runs_running, 1);
    EXPECT_EQ(stats->runs_done, 1);
    EXPECT_EQ(stats->dead_letters, 1);
    EXPECT_EQ(stats->write_queue, 0);
    EXPECT_GT(stats->commits, 0);
    if (IsPostgres()) {
        // The tables' size on the server: at least a page each.
        EXPECT_GE(stats->bytes, 8192);
        return;
    }
    // page_count * page_size plus the WAL file.
    std::error_code ec;
    const auto main_file = static_cast<std::int64_t>(std::filesystem::file_size(DbPath(), ec));
    const auto wal_file = static_cast<std::int64_t>(std::filesystem::file_size(DbPath() + "-wal", ec));
    EXPECT_GT(stats->bytes, 4096);
    EXPECT_GE(stats->bytes, wal_file);
    EXPECT_LE(stats->bytes, main_file + wal_file + std::int64_t{1024} * 1024);
}

TEST_P(StoreTest, SynchronousWriteFromTheWriterThreadFailsInsteadOfDeadlocking) {
    std::promise<Status> inner;
    auto result = inner.get_future();
    store_->Append(MakeDelivery("wh", "1"), [&](Result<AppendOutcome>) { inner.set_value(store_->Ping()); });
    ASSERT_EQ(result.wait_for(kWait), std::future_status::ready);
    auto status = result.get();
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().code, ErrorCode::kInternal);
}

}  // namespace
}  // namespace spacehook::store::testing
