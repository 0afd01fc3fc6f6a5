#include "runner/run_executor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/hmac_sha256.hpp"
#include "core/log.hpp"
#include "notify/mail_message.hpp"
#include "runner/stored_run.hpp"
#include "runner/testing/runner_test_support.hpp"

namespace spacehook::runner {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Envelope;
using testing::FilePayload;

constexpr char kProvision[] = R"(
rules:
  - name: provision
    on: file.created
    do:
      - create_room: { title: "Client {{ entity.title }}", type: custom, tags: [client] }
        id: room
      - create_folders: { in: "{{ steps.room.id }}", titles: [Documents, Invoices] }
      - copy_as: { files: "${TEMPLATES}", to: "{{ steps.room.id }}" }
      - set_access:
          room: "{{ steps.room.id }}"
          entries: [ { user: "{{ event.createBy }}", access: editor } ]
      - move: { to: "{{ steps.create_folders.ids[1] }}" }
      - mail: { to: boss@example.com, subject: "Room {{ steps.room.title }}", body: "{{ steps.room.webUrl }}" }
)";

class RunExecutorTest : public testing::RunnerTest {
protected:
    void SetUp() override {
        RunnerTest::SetUp();
        templates_ = api_.AddRoom("Templates", 5);
        welcome_ = api_.AddFile(templates_, "Welcome.docx");
        checklist_ = api_.AddFile(templates_, "Checklist.xlsx");
        inbox_ = api_.AddRoom("Inbox", 2);
        UseRules(kProvision, {{"TEMPLATES", welcome_.str() + "," + checklist_.str()}});
    }

    /// Delivers file.created for a new file in the inbox and dispatches it; returns the run id.
    std::int64_t StartRun(const std::string& title = "ACME.pdf") {
        file_ = api_.AddFile(inbox_, title);
        Deliver(Envelope("file.created", FilePayload(file_, inbox_, title), ++event_id_));
        DispatchAll();
        const auto runs = Runs();
        EXPECT_FALSE(runs.empty());
        return runs.empty() ? 0 : runs.back().id;
    }

    /// The one room the run created (by its tag).
    EntityId RoomOf(std::int64_t run_id) {
        const auto tagged = api_.RoomsTagged(steps::RunTag(Run(run_id).run_key));
        EXPECT_EQ(tagged.size(), 1u);
        return tagged.empty() ? EntityId{} : tagged.front();
    }

    /// Runs the run to its end, advancing the clock over backoffs (bounded).
    std::vector<RunOutcome> Finish(std::int64_t run_id) {
        std::vector<RunOutcome> outcomes;
        for (int i = 0; i < 50; ++i) {
            AdvanceToNextAttempt(run_id);
            auto outcome = RunNext();
            if (!outcome) break;
            outcomes.push_back(*outcome);
            if (*outcome == RunOutcome::kDone || *outcome == RunOutcome::kDead) break;
        }
        return outcomes;
    }

    void ExpectProvisionedOnce(std::int64_t run_id) {
        EXPECT_EQ(Run(run_id).state, store::RunState::kDone) << Run(run_id).last_error;
        EXPECT_EQ(api_.Effects("rooms_created"), 1);
        const EntityId room = RoomOf(run_id);
        EXPECT_EQ(api_.FolderTitles(room), (std::vector<std::string>{"Documents", "Invoices"}));
        EXPECT_EQ(api_.FileTitles(room), (std::vector<std::string>{"Welcome.docx", "Checklist.xlsx"}));
        EXPECT_EQ(api_.Effects("copyas"), 2);
        EXPECT_EQ(api_.Effects("folders_created"), 2);
        EXPECT_EQ(api_.Effects("moved"), 1);
        EXPECT_EQ(mailer_.Sent().size(), 1u);
    }

    EntityId templates_, welcome_, checklist_, inbox_, file_;
    int event_id_ = 100;
};

TEST_F(RunExecutorTest, ARunExecutesItsStepsInOrderAndCheckpointsEachOutput) {
    const auto id = StartRun();
    EXPECT_EQ(RunAllDue(), (std::vector<RunOutcome>{RunOutcome::kDone}));
    ExpectProvisionedOnce(id);
    const EntityId room = RoomOf(id);
    auto steps = store_->GetSteps(id);
    ASSERT_TRUE(steps);
    ASSERT_EQ(steps->size(), 6u);
    for (const auto& step : *steps) EXPECT_EQ(step.status, store::StepStatus::kDone) << step.index;
    // Outputs, as docs/runner.md lists them.
    const Json& created = (*steps)[0].output;
    EXPECT_EQ(created["id"], room.ToJson());
    EXPECT_EQ(created["title"], "Client ACME.pdf");
    EXPECT_EQ(created["roomType"], 5);
    EXPECT_EQ(created["webUrl"],
              "https://portal.test/rooms/shared/" + room.str() + "/filter?folder=" + room.str());
    EXPECT_EQ(created["tags"], (Json{"client", steps::RunTag(Run(id).run_key)}));
    const Json& folders = (*steps)[1].output;
    ASSERT_EQ(folders["ids"].size(), 2u);
    EXPECT_EQ(folders["folders"][1]["title"], "Invoices");
    EXPECT_EQ(folders["ids"][1], folders["folders"][1]["id"]);
    EXPECT_EQ((*steps)[2].output["files"].size(), 2u);
    EXPECT_EQ((*steps)[3].output["members"][0]["access"], 10);  // editor
    EXPECT_EQ((*steps)[4].output["files"][0]["id"], file_.ToJson());
    EXPECT_EQ((*steps)[4].output["files"][0]["folderId"], folders["ids"][1]);
    EXPECT_EQ((*steps)[4].output["folders"], Json::array());
    EXPECT_EQ((*steps)[5].output["message_id"], mailer_.Sent()[0].message_id);
    EXPECT_EQ((*steps)[5].output["recipients"], 1);
    // The file went to Invoices, and the mail read the room's output.
    EXPECT_EQ(api_.ParentOf(file_)->str(), folders["ids"][1].dump());
    EXPECT_NE(mailer_.Sent()[0].data.find("Subject: Room Client ACME.pdf"), std::string::npos);
    EXPECT_EQ(api_.Shares().at(0).at(0).id, testing::kJaneId);
    EXPECT_EQ(registry_.GetCounter("spacehook_runs_total", "", {{"outcome", "done"}, {"rule", "provision"}})
                  .Value(),
              1u);
}

TEST_F(RunExecutorTest, TransientFailuresBackOffExactlyAndTheRunResumesAtTheFailedStep) {
    const auto id = StartRun();
    const auto t0 = clock_.Now();
    api_.FailNext("CreateFolder", testing::Unavailable());
    EXPECT_EQ(RunNext(), RunOutcome::kRetried);
    auto run = Run(id);
    EXPECT_EQ(run.state, store::RunState::kPending);
    EXPECT_EQ(run.next_step, 1);  // the room is checkpointed
    EXPECT_EQ(run.attempts, 1);
    EXPECT_EQ(run.failed_at, t0);
    EXPECT_EQ(run.next_attempt_at, t0 + seconds(1));  // base 1 s x 2^0, jitter factor exactly 1
    EXPECT_NE(run.last_error.find("step 1 create_folders (create_folders): DocSpace POST: 503"),
              std::string::npos)
        << run.last_error;
    EXPECT_FALSE(RunNext());  // not due yet

    clock_.Set(run.next_attempt_at);
    api_.FailNext("CreateFolder", testing::Unavailable());
    EXPECT_EQ(RunNext(), RunOutcome::kRetried);
    run = Run(id);
    EXPECT_EQ(run.next_attempt_at, t0 + seconds(1) + seconds(2));  // 1 s x 2^1
    EXPECT_EQ(run.failed_at, t0);                                  // the budget runs from the first failure

    clock_.Set(run.next_attempt_at);
    EXPECT_EQ(RunNext(), RunOutcome::kDone);
    ExpectProvisionedOnce(id);
    EXPECT_EQ(api_.Calls("CreateRoom"), 1);  // step 0 never ran again
}

TEST_F(RunExecutorTest, RetryAfterIsAFloorAndJitterComesFromTheInjectedRandom) {
    const auto id = StartRun();
    const auto t0 = clock_.Now();
    api_.FailNext("FindRooms", Error{ErrorCode::kRateLimited, "DocSpace GET: 429", 429, milliseconds(30000)});
    EXPECT_EQ(RunNext(), RunOutcome::kRetried);
    EXPECT_EQ(Run(id).next_attempt_at, t0 + seconds(30));

    // With the random at 0 the jitter takes the full 20% off: 2 s -> 1.6 s.
    FixedRandom low(0.0);
    RunExecutor executor(*store_, steps_, retry_, clock_, low, metrics_);
    clock_.Set(t0 + seconds(30));
    api_.FailNext("FindRooms", Error{ErrorCode::kTimeout, "DocSpace GET: timed out", 0, std::nullopt});
    EXPECT_EQ(executor.RunNext("w1").value(), RunOutcome::kRetried);
    EXPECT_EQ(Run(id).next_attempt_at, t0 + seconds(30) + milliseconds(1600));
}

TEST_F(RunExecutorTest, UsingUpTheAttemptsSendsTheRunToTheDeadLetterList) {
    retry_.max_attempts = 3;
    Build();
    const auto id = StartRun();
    api_.FailNext("FindRooms", testing::Unavailable(), 3);
    EXPECT_EQ(Finish(id),
              (std::vector<RunOutcome>{RunOutcome::kRetried, RunOutcome::kRetried, RunOutcome::kDead}));
    const auto run = Run(id);
    EXPECT_EQ(run.state, store::RunState::kDead);
    EXPECT_EQ(run.attempts, 3);
    EXPECT_NE(run.last_error.find("gave up after 3 failed attempts"), std::string::npos) << run.last_error;
    EXPECT_NE(run.last_error.find("503"), std::string::npos);
    EXPECT_EQ(api_.Effects("rooms_created"), 0);
}

TEST_F(RunExecutorTest, UsingUpTheBudgetSinceTheFirstFailureSendsTheRunToTheDeadLetterList) {
    retry_.max_attempts = 100;
    retry_.budget = seconds(10);
    Build();
    const auto id = StartRun();
    const auto t0 = clock_.Now();
    api_.FailNext("FindRooms", testing::Unavailable(), 10);
    // Failures at t0, +1, +3, +7 (backoff 1, 2, 4 s); the one at +15 is past the 10 s budget.
    EXPECT_EQ(Finish(id),
              (std::vector<RunOutcome>{RunOutcome::kRetried, RunOutcome::kRetried, RunOutcome::kRetried,
                                       RunOutcome::kRetried, RunOutcome::kDead}));
    const auto run = Run(id);
    EXPECT_EQ(clock_.Now(), t0 + seconds(15));
    EXPECT_NE(run.last_error.find("gave up after 15s of failures (runner.retry.budget 10s), 5 attempts"),
              std::string::npos)
        << run.last_error;
}

TEST_F(RunExecutorTest, APermanentFailureGoesToTheDeadLetterListWithThePortalsMessageAndRetryResumesIt) {
    const auto id = StartRun();
    api_.FailNext(
        "SetRoomAccess",
        Error{
            ErrorCode::kForbidden, "DocSpace PUT /api/2.0/files/rooms/5/share: 403 Access denied", 403, {}});
    EXPECT_EQ(RunNext(), RunOutcome::kDead);
    auto run = Run(id);
    EXPECT_EQ(run.state, store::RunState::kDead);
    EXPECT_EQ(run.next_step, 3);
    EXPECT_EQ(run.last_error,
              "step 3 set_access (set_access): DocSpace PUT /api/2.0/files/rooms/5/share: 403 Access denied");
    auto letters = store_->ListDeadLetters(10);
    ASSERT_EQ(letters->size(), 1u);
    EXPECT_EQ((*letters)[0].id, id);
    EXPECT_EQ((*letters)[0].rule, "provision");

    // The operator fixed the cause (the fault is gone) and retries: the run resumes at set_access.
    ASSERT_TRUE(store_->RetryDeadLetter(store::DeadLetter::Kind::kRun, id, clock_.Now()));
    EXPECT_EQ(RunAllDue(), (std::vector<RunOutcome>{RunOutcome::kDone}));
    ExpectProvisionedOnce(id);
    EXPECT_EQ(api_.Calls("CreateRoom"), 1);
    EXPECT_EQ(api_.Calls("CopyFileAs"), 2);
}

TEST_F(RunExecutorTest, ATemplateWithoutAValueIsARenderErrorAndADeadLetter) {
    UseRules(R"(
rules:
  - name: tell
    on: file.created
    do:
      - mail: { to: boss@example.com, subject: "{{ payload.nothing }}", body: x }
)");
    const auto id = StartRun();
    EXPECT_EQ(RunNext(), RunOutcome::kDead);
    EXPECT_NE(Run(id).last_error.find("no value for payload.nothing"), std::string::npos)
        << Run(id).last_error;
    EXPECT_TRUE(mailer_.Sent().empty());
}

TEST_F(RunExecutorTest, AStoredContextThisVersionCannotReadIsADeadLetter) {
    const auto seq = Deliver(Envelope("file.created", FilePayload(EntityId::Number(999), inbox_, "x"), 1));
    ASSERT_TRUE(store_->ClaimEvents("d", 10, clock_.Now()));
    store::NewRun run;
    run.run_key = "future/run";
    run.rule = "future";
    run.step_count = 1;
    run.context = Json{{"format", 99}};
    ASSERT_TRUE(store_->CompleteDispatch(seq, "d", {run}, store::EventState::kDispatched, ""));
    EXPECT_EQ(RunNext(), RunOutcome::kDead);
    EXPECT_NE(Runs().back().last_error.find("layout 99"), std::string::npos) << Runs().back().last_error;
}

// --- look before act: the effect happened, the checkpoint did not ------------------------------------

/// The call did its work and then failed on the way back (a timeout after the POST went through):
/// the retried step (BeginStep says kStarted) must find the work instead of doing it again.
class LookBeforeActTest : public RunExecutorTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(LookBeforeActTest, ARetriedStepFindsItsOwnEffect) {
    const auto id = StartRun();
    api_.FailNext(GetParam(),
                  Error{ErrorCode::kTimeout, "DocSpace: timed out after 30000 ms", 0, std::nullopt}, 1,
                  /*after_effect=*/true);
    const auto outcomes = Finish(id);
    ASSERT_FALSE(outcomes.empty());
    EXPECT_EQ(outcomes.front(), RunOutcome::kRetried);
    EXPECT_EQ(outcomes.back(), RunOutcome::kDone);
    ExpectProvisionedOnce(id);
}

INSTANTIATE_TEST_SUITE_P(EveryDocSpaceStep, LookBeforeActTest,
                         ::testing::Values("CreateRoom", "CreateFolder", "CopyFileAs", "SetRoomAccess",
                                           "MoveItems"));

TEST_F(RunExecutorTest, SetAccessSimplyPutsTheSameMembersAgain) {
    const auto id = StartRun();
    api_.FailNext("SetRoomAccess", Error{ErrorCode::kTimeout, "timed out", 0, std::nullopt}, 1, true);
    Finish(id);
    const auto shares = api_.Shares();
    ASSERT_EQ(shares.size(), 2u);  // PUT share is idempotent: the same invitations twice
    EXPECT_EQ(shares[0].size(), shares[1].size());
    EXPECT_EQ(shares[0][0].id, shares[1][0].id);
    EXPECT_EQ(shares[0][0].access, shares[1][0].access);
}

TEST_F(RunExecutorTest, CopyLooksAtTheDestinationWhenResumedOrSkippingConflicts) {
    const auto dest = api_.AddFolder(inbox_, "Processing");
    UseRules(R"(
rules:
  - name: copy-skip
    on: file.created
    if: { title: { starts_with: a } }
    do: [ { copy: { to: ${DEST} } } ]
  - name: copy-overwrite
    on: file.created
    if: { title: { starts_with: b } }
    do: [ { copy: { to: ${DEST}, conflict: overwrite } } ]
)",
             {{"DEST", dest.str()}});
    // Skip: the copy happened, the answer was lost; the retry finds it by title.
    const auto a = StartRun("a.docx");
    api_.FailNext("CopyItems", Error{ErrorCode::kTimeout, "timed out", 0, std::nullopt}, 1, true);
    EXPECT_EQ(Finish(a).back(), RunOutcome::kDone);
    EXPECT_EQ(api_.Effects("copied"), 1);
    EXPECT_EQ(Run(a).state, store::RunState::kDone);

    // Overwrite: a same-titled file in the destination does not stop a first attempt (a new version is
    // wanted)...
    api_.AddFile(dest, "b.docx");
    const auto b = StartRun("b.docx");
    EXPECT_EQ(RunNext(), RunOutcome::kDone);
    EXPECT_EQ(api_.Calls("CopyItems"), 2);
    // ...but a resumed attempt takes it for its own copy.
    const auto b2 = StartRun("b2.docx");
    api_.FailNext("CopyItems", Error{ErrorCode::kTimeout, "timed out", 0, std::nullopt}, 1, true);
    EXPECT_EQ(Finish(b2).back(), RunOutcome::kDone);
    EXPECT_EQ(api_.Calls("CopyItems"), 3);
    EXPECT_EQ(api_.FileTitles(dest), (std::vector<std::string>{"a.docx", "b.docx", "b.docx", "b2.docx"}));
    (void)b;
}

TEST_F(RunExecutorTest, ASingleFolderAndFolderCopiesAndMovesFindTheirOwnEffect) {
    const auto filed = api_.AddFolder(inbox_, "Filed");
    const auto archive = api_.AddFolder(inbox_, "Archive");
    UseRules(R"(
rules:
  - name: file-folder
    on: folder.created
    do:
      - create_folder: { in: ${FILED}, title: "Box {{ entity.title }}" }
        id: box
      - copy: { to: "{{ steps.box.id }}", conflict: duplicate }
      - move: { to: ${ARCHIVE} }
)",
             {{"FILED", filed.str()}, {"ARCHIVE", archive.str()}});
    const auto q3 = api_.AddFolder(inbox_, "Q3");
    Deliver(Envelope("folder.created", testing::FolderPayload(q3, inbox_, "Q3"), 500));
    DispatchAll();
    const auto id = Runs().back().id;
    // Every step's call does its work and then loses the answer (a timeout after the portal acted).
    for (const char* call : {"CreateFolder", "CopyItems", "MoveItems"}) {
        api_.FailNext(call, Error{ErrorCode::kTimeout, "timed out", 0, std::nullopt}, 1,
                      /*after_effect=*/true);
    }
    EXPECT_EQ(Finish(id), (std::vector<RunOutcome>{RunOutcome::kRetried, RunOutcome::kRetried,
                                                   RunOutcome::kRetried, RunOutcome::kDone}));

    // create_folder found "Box Q3" in Filed; the duplicate-conflict copy, resumed, found its "Q3" (it
    // would otherwise have made "Q3 (1)"); the move found Q3's parent already Archive.
    EXPECT_EQ(api_.Effects("folders_created"), 1);
    EXPECT_EQ(api_.Effects("copied"), 1);
    EXPECT_EQ(api_.Effects("moved"), 1);
    EXPECT_EQ(api_.FolderTitles(filed), (std::vector<std::string>{"Box Q3"}));
    const auto steps = store_->GetSteps(id);
    ASSERT_TRUE(steps);
    ASSERT_EQ(steps->size(), 3u);
    const Json box = (*steps)[0].output["id"];
    EXPECT_EQ(api_.FolderTitles(*EntityId::FromJson(box)), (std::vector<std::string>{"Q3"}));
    EXPECT_EQ((*steps)[1].output["folders"][0]["title"], "Q3");
    EXPECT_EQ((*steps)[1].output["folders"][0]["parentId"], box);
    EXPECT_EQ((*steps)[2].output["folders"][0]["id"], q3.ToJson());
    EXPECT_EQ(api_.ParentOf(q3)->str(), archive.str());
}

TEST_F(RunExecutorTest, AWorkerThatDiedAfterCreatingTheRoomLeavesItToBeFoundByTag) {
    const auto id = StartRun();
    // The dead worker: claimed, began step 0, created the room, died before the checkpoint.
    auto claimed = store_->ClaimRun("dead-worker", clock_.Now());
    ASSERT_TRUE(claimed && *claimed);
    ASSERT_EQ(store_->BeginStep(id, "dead-worker", 0, "room", clock_.Now()).value(),
              store::StepStatus::kNone);
    ASSERT_TRUE(api_.CreateRoom("Client ACME.pdf", 5, {"client", steps::RunTag((*claimed)->run_key)}));

    clock_.Advance(lease_);  // its lease runs out
    EXPECT_EQ(RunNext(), RunOutcome::kTakenOver);
    EXPECT_EQ(Run(id).attempts, 1);  // a takeover counts as an attempt
    EXPECT_EQ(RunNext(), RunOutcome::kDone);
    ExpectProvisionedOnce(id);
    EXPECT_EQ(api_.Calls("CreateRoom"), 1);  // only the dead worker's
}

TEST_F(RunExecutorTest, AMailResentAfterACrashInItsWindowCarriesTheSameMessageId) {
    UseRules(R"(
rules:
  - name: tell
    on: file.created
    do:
      - mail: { to: boss@example.com, subject: "New file {{ entity.title }}", body: hello }
)");
    const auto id = StartRun();
    auto claimed = store_->ClaimRun("dead-worker", clock_.Now());
    ASSERT_TRUE(claimed && *claimed);
    ASSERT_TRUE(store_->BeginStep(id, "dead-worker", 0, "mail", clock_.Now()));
    // The server said 250; the worker died before FinishStep.
    notify::MailMessage sent;
    sent.to = {"boss@example.com"};
    sent.subject = "New file ACME.pdf";
    sent.text_body = "hello";
    sent.message_id_seed = steps::MessageIdSeed((*claimed)->run_key, 0);
    ASSERT_TRUE(mailer_.Send(sent));

    clock_.Advance(lease_);
    EXPECT_EQ(RunAllDue(), (std::vector<RunOutcome>{RunOutcome::kTakenOver, RunOutcome::kDone}));
    const auto mails = mailer_.Sent();
    ASSERT_EQ(mails.size(), 2u);                          // SMTP cannot look: the mail goes out once more...
    EXPECT_EQ(mails[0].message_id, mails[1].message_id);  // ...as the identical message a receiver can drop
    EXPECT_EQ((*store_->GetSteps(id))[0].output["message_id"], mails[0].message_id);
}

TEST_F(RunExecutorTest, ARunWhoseWorkerDiesEveryTimeEndsInTheDeadLetterList) {
    retry_.max_attempts = 3;
    Build();
    const auto id = StartRun();
    std::vector<RunOutcome> outcomes;
    for (int i = 0; i < 3; ++i) {
        auto claimed = store_->ClaimRun("doomed-" + std::to_string(i), clock_.Now());
        ASSERT_TRUE(claimed && *claimed);
        ASSERT_TRUE(store_->BeginStep(id, "doomed-" + std::to_string(i), 0, "room", clock_.Now()));
        clock_.Advance(lease_);
        outcomes.push_back(RunNext().value());
    }
    EXPECT_EQ(outcomes,
              (std::vector<RunOutcome>{RunOutcome::kTakenOver, RunOutcome::kTakenOver, RunOutcome::kDead}));
    const auto run = Run(id);
    EXPECT_EQ(run.state, store::RunState::kDead);
    EXPECT_NE(run.last_error.find("gave up after 3 failed attempts"), std::string::npos) << run.last_error;
    EXPECT_NE(run.last_error.find("taken over at step 0"), std::string::npos) << run.last_error;
    EXPECT_EQ(api_.Effects("rooms_created"), 0);
}

TEST_F(RunExecutorTest, AStopRequestReleasesTheRunBetweenStepsUntouched) {
    const auto id = StartRun();
    std::atomic<bool> stop{true};
    auto outcome = executor_->RunNext("w1", &stop);
    ASSERT_TRUE(outcome && *outcome);
    EXPECT_EQ(**outcome, RunOutcome::kReleased);
    const auto run = Run(id);
    EXPECT_EQ(run.state, store::RunState::kPending);
    EXPECT_EQ(run.attempts, 0);
    EXPECT_EQ(run.lease_owner, "");
    EXPECT_EQ(api_.TotalCalls() - api_.Calls("GetFolderPath"), 0);  // no step ran
    EXPECT_EQ(RunAllDue(), (std::vector<RunOutcome>{RunOutcome::kDone}));
}

TEST_F(RunExecutorTest, ConsecutiveStepsShareACommitAndTheLastOneCompletesTheRun) {
    const auto id = StartRun();
    const auto commits_before = store_->Stats()->commits;
    EXPECT_EQ(RunNext(), RunOutcome::kDone);
    // The claim, BeginStep of step 0, FinishAndBeginStep between the six steps (5) and FinishLastStep: 8
    // commits, where separate writes would make 14.
    EXPECT_EQ(store_->Stats()->commits - commits_before, 8);
    ExpectProvisionedOnce(id);
}

TEST_F(RunExecutorTest, AStopRequestedDuringAStepCheckpointsItAloneAndReleasesTheRun) {
    const auto id = StartRun();
    api_.SetDelay("CreateRoom", milliseconds(300));
    std::atomic<bool> stop{false};
    std::thread stopper([&] {
        std::this_thread::sleep_for(milliseconds(50));
        stop = true;
    });
    auto outcome = executor_->RunNext("w1", &stop);
    stopper.join();
    ASSERT_TRUE(outcome && *outcome);
    EXPECT_EQ(**outcome, RunOutcome::kReleased);
    const auto run = Run(id);
    EXPECT_EQ(run.state, store::RunState::kPending);
    EXPECT_EQ(run.next_step, 1);
    // Step 0 is done; step 1 was never begun, so the next attempt does not treat it as maybe done.
    auto steps = store_->GetSteps(id);
    ASSERT_TRUE(steps);
    ASSERT_EQ(steps->size(), 1u);
    EXPECT_EQ((*steps)[0].status, store::StepStatus::kDone);
    api_.SetDelay("CreateRoom", milliseconds(0));
    EXPECT_EQ(RunAllDue(), (std::vector<RunOutcome>{RunOutcome::kDone}));
    ExpectProvisionedOnce(id);
}

TEST_F(RunExecutorTest, ANextStepThatCannotRenderIsNeverBegunAndTheRunIsDeadLettered) {
    UseRules(R"(
rules:
  - name: broken
    on: file.created
    do:
      - create_room: { title: "Client {{ entity.title }}", type: custom }
        id: room
      - create_folders: { in: "{{ steps.room.no_such_field }}", titles: [Documents] }
)");
    const auto id = StartRun();
    EXPECT_EQ(RunAllDue(), (std::vector<RunOutcome>{RunOutcome::kDead}));
    const auto run = Run(id);
    EXPECT_EQ(run.state, store::RunState::kDead);
    EXPECT_NE(run.last_error.find("no_such_field"), std::string::npos) << run.last_error;
    EXPECT_EQ(run.next_step, 1);
    auto steps = store_->GetSteps(id);
    ASSERT_TRUE(steps);
    ASSERT_EQ(steps->size(), 1u);  // the room's checkpoint; create_folders never begun
    EXPECT_EQ((*steps)[0].status, store::StepStatus::kDone);
    EXPECT_EQ(api_.Effects("rooms_created"), 1);
    EXPECT_EQ(api_.Effects("folders_created"), 0);
}

TEST(LeaseKeeper, ARefusalAboutAnEarlierAttemptKeepsTheNextAttemptTracked) {
    LeaseKeeper keeper;
    keeper.Track(7, "w1");
    int calls = 0;
    keeper.RenewAll([&](std::int64_t run_id, const std::string& owner) -> Status {
        ++calls;
        // Between the heartbeat's snapshot and the store's answer, the worker ended that attempt (a
        // takeover's RetryRun, due at once) and claimed the run straight back.
        keeper.Untrack(run_id);
        keeper.Track(run_id, owner);
        return Fail(ErrorCode::kConflict, "run 7 is not running");
    });
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(keeper.Tracked(), (std::vector<std::pair<std::int64_t, std::string>>{{7, "w1"}}));
    // A refusal about the attempt that is tracked now drops it.
    keeper.RenewAll([](std::int64_t, const std::string&) -> Status {
        return Fail(ErrorCode::kConflict, "run 7 was taken over");
    });
    EXPECT_EQ(keeper.size(), 0u);
}

TEST_F(RunExecutorTest, TheHeartbeatKeepsALongStepsLeaseAndForgetsALostOne) {
    const auto id = StartRun();
    auto claimed = store_->ClaimRun("w1", clock_.Now());
    ASSERT_TRUE(claimed && *claimed);
    leases_.Track(id, "w1");
    clock_.Advance(lease_ - seconds(1));
    leases_.RenewAll(*store_, clock_.Now());
    clock_.Advance(seconds(2));  // past the first lease, within the renewed one
    EXPECT_FALSE(*store_->ClaimRun("w2", clock_.Now()));
    clock_.Advance(lease_);
    ASSERT_TRUE(*store_->ClaimRun("w2", clock_.Now()));  // taken over: w1 stopped renewing
    leases_.RenewAll(*store_, clock_.Now());
    EXPECT_EQ(leases_.size(), 0u);
}

}  // namespace
}  // namespace spacehook::runner

namespace spacehook::runner {
namespace {

// A run keeps the rule's ${VAR} as written in its stored context; the step reads them when it runs.
TEST_F(RunExecutorTest, AStoredRunHoldsVariableReferencesAndStepsReadThemWhenTheyRun) {
    UseRules(R"(
rules:
  - name: tell
    on: file.created
    do:
      - mail: { to: "${MANAGER_EMAIL}", subject: "New {{ entity.title }}", body: "key ${SERVICE_TOKEN}" }
)",
             {{"MANAGER_EMAIL", "first@example.com"}, {"SERVICE_TOKEN", "tok-5c1e9a"}});
    const auto id = StartRun();
    const std::string stored = Run(id).context.dump();
    EXPECT_NE(stored.find("${MANAGER_EMAIL}"), std::string::npos) << stored;
    EXPECT_NE(stored.find("${SERVICE_TOKEN}"), std::string::npos);
    EXPECT_EQ(stored.find("first@example.com"), std::string::npos);
    EXPECT_EQ(stored.find("tok-5c1e9a"), std::string::npos);

    // The values when the step runs, not those at load: a manager changed in between gets the mail.
    steps_.variables =
        config::MapEnv({{"MANAGER_EMAIL", "second@example.com"}, {"SERVICE_TOKEN", "tok-7d2f"}});
    Build();
    EXPECT_EQ(RunNext(), RunOutcome::kDone);
    ASSERT_EQ(mailer_.Sent().size(), 1u);
    EXPECT_EQ(mailer_.Sent()[0].recipients, std::vector<std::string>{"second@example.com"});
    EXPECT_NE(mailer_.Sent()[0].data.find("key tok-7d2f"), std::string::npos);
    EXPECT_EQ(spacehook::log::Redact("x tok-7d2f y"),
              "x [redacted] y");  // a secret read at send time is redacted

    // A variable gone by then is a dead letter naming it, not a mail to "${MANAGER_EMAIL}".
    steps_.variables = config::MapEnv({{"SERVICE_TOKEN", "tok-7d2f"}});
    Build();
    const auto second = StartRun("Other.pdf");
    EXPECT_EQ(RunNext(), RunOutcome::kDead);
    EXPECT_NE(Run(second).last_error.find("environment variable MANAGER_EMAIL is not set"), std::string::npos)
        << Run(second).last_error;
    EXPECT_EQ(mailer_.Sent().size(), 1u);
}

}  // namespace
}  // namespace spacehook::runner
