#include "runner/dispatcher.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "runner/stored_run.hpp"
#include "runner/testing/runner_test_support.hpp"

namespace spacehook::runner {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Envelope;
using testing::FakeDocSpace;
using testing::FilePayload;

class DispatcherTest : public testing::RunnerTest {
protected:
    void SetUp() override {
        RunnerTest::SetUp();
        room_ = api_.AddRoom("Client ACME", 2);
        incoming_ = api_.AddFolder(room_, "Incoming");
        archive_ = api_.AddFolder(room_, "Archive");
    }

    std::map<std::string, std::string> Env() const {
        return {{"ROOM", room_.str()}, {"ARCHIVE", archive_.str()}};
    }

    EntityId room_, incoming_, archive_;
};

constexpr char kIntake[] = R"(
rules:
  - name: invoice-intake
    on: [file.created, file.uploaded]
    if: { title: { starts_with: invoice, ignore_case: true } }
    do:
      - move: { to: ${ARCHIVE} }
)";

TEST_F(DispatcherTest, AnEventNoRuleMatchesCostsNoApiCall) {
    UseRules(kIntake, Env());
    const auto file = api_.AddFile(incoming_, "Report.docx");
    const auto other_trigger = Deliver(
        Envelope("folder.created", testing::FolderPayload(api_.AddFolder(room_, "X"), room_, "X"), 1));
    const auto wrong_title =
        Deliver(Envelope("file.created", FilePayload(file, incoming_, "Report.docx"), 2));
    DispatchAll();
    for (auto seq : {other_trigger, wrong_title}) {
        const auto event = Event(seq);
        EXPECT_EQ(event.state, store::EventState::kIgnored);
        EXPECT_EQ(event.last_error, "no rule matched");
        EXPECT_EQ(event.runs_created, 0);
    }
    EXPECT_EQ(api_.TotalCalls(), 0);
    EXPECT_EQ(registry_.GetCounter("spacehook_dispatch_total", "", {{"outcome", "no_match"}}).Value(), 2u);
}

TEST_F(DispatcherTest, AClaimedBatchIsCompletedInOneCommitInJournalOrder) {
    UseRules(kIntake, Env());
    std::vector<std::int64_t> seqs;
    for (int i = 0; i < 6; ++i) {
        const std::string title =
            i % 2 == 0 ? fmt::format("Invoice-{}.pdf", i) : fmt::format("Notes-{}.txt", i);
        const auto file = api_.AddFile(incoming_, title);
        seqs.push_back(Deliver(Envelope("file.created", FilePayload(file, incoming_, title), 100 + i)));
    }
    const auto before = store_->Stats()->commits;
    ASSERT_EQ(dispatcher_->DispatchDue().value(), 6u);
    EXPECT_EQ(store_->Stats()->commits - before, 2);  // the claim, then every completion together
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(Event(seqs[i]).state,
                  i % 2 == 0 ? store::EventState::kDispatched : store::EventState::kIgnored);
    }
    const auto runs = Runs();
    ASSERT_EQ(runs.size(), 3u);
    for (std::size_t i = 1; i < runs.size(); ++i) EXPECT_LT(runs[i - 1].event_seq, runs[i].event_seq);
    EXPECT_EQ(registry_.GetCounter("spacehook_dispatch_total", "", {{"outcome", "dispatched"}}).Value(), 3u);
    EXPECT_EQ(registry_.GetCounter("spacehook_dispatch_total", "", {{"outcome", "no_match"}}).Value(), 3u);
}

TEST_F(DispatcherTest, TheServicesOwnEventsAreIgnoredByTheLoopGuard) {
    UseRules(kIntake, Env());
    const auto file = api_.AddFile(incoming_, "Invoice-1.pdf");
    // The service moved an invoice: DocSpace fires file.moved, and copies fire file.created
    // (docs/docspace-api.md §1.12).
    std::string self = FakeDocSpace::kSelfId;
    for (auto& c : self)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));  // GUIDs ignore case
    const auto seq =
        Deliver(Envelope("file.created", FilePayload(file, incoming_, "Invoice-1.pdf"), 1, self));
    DispatchAll();
    const auto event = Event(seq);
    EXPECT_EQ(event.state, store::EventState::kIgnored);
    EXPECT_NE(event.last_error.find("own event"), std::string::npos);
    EXPECT_TRUE(Runs().empty());
    EXPECT_EQ(api_.TotalCalls(), 0);
}

TEST_F(DispatcherTest, NothingIsDispatchedBeforeTheServiceAccountIsKnown) {
    UseRules(kIntake, Env());
    Dispatcher fresh(*store_, rules_, api_, resolver_, DispatcherOptions{}, clock_, random_, metrics_);
    const auto seq = Deliver(Envelope(
        "file.created", FilePayload(api_.AddFile(incoming_, "Invoice.pdf"), incoming_, "Invoice.pdf"), 1));
    EXPECT_FALSE(fresh.DispatchDue());
    EXPECT_EQ(Event(seq).state, store::EventState::kPending);

    api_.FailNext("GetSelf", testing::Unavailable());
    EXPECT_EQ(fresh.LearnSelf().error().code, ErrorCode::kUnavailable);
    EXPECT_FALSE(fresh.self_id());
    ASSERT_TRUE(fresh.LearnSelf());
    EXPECT_EQ(fresh.self_id(), FakeDocSpace::kSelfId);
    ASSERT_EQ(fresh.DispatchDue().value(), 1u);
    EXPECT_EQ(Event(seq).state, store::EventState::kDispatched);
}

TEST_F(DispatcherTest, RunsOfMatchingFileEventsLockOnTheirRoomEvenWhenNoRuleNeededIt) {
    UseRules(kIntake, Env());
    const auto a = api_.AddFile(incoming_, "Invoice-A.pdf");
    const auto b = api_.AddFile(room_, "invoice-b.pdf");
    Deliver(Envelope("file.created", FilePayload(a, incoming_, "Invoice-A.pdf"), 1));
    Deliver(Envelope("file.uploaded", FilePayload(b, room_, "invoice-b.pdf"), 2));
    DispatchAll();
    const auto runs = Runs();
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(runs[0].lock_key, "room:" + room_.str());
    EXPECT_EQ(runs[1].lock_key, "room:" + room_.str());
    EXPECT_EQ(runs[0].run_key, "invoice-intake/file.created/file:" + a.str());
    EXPECT_EQ(runs[1].run_key, "invoice-intake/file.created/file:" + b.str());
    // One lookup: Incoming's path [Rooms, room, Incoming] also tells the room's own path.
    EXPECT_EQ(api_.Calls("GetFolderPath"), 1);

    // The room's runs never run together: while one holds the lock the other is not claimable.
    auto first = store_->ClaimRun("w1", clock_.Now());
    ASSERT_TRUE(first && *first);
    EXPECT_FALSE(*store_->ClaimRun("w2", clock_.Now()));
}

TEST_F(DispatcherTest, AFileSeenAsCreatedAndUploadedMakesOneRunWithEverythingTheRunnerNeeds) {
    UseRules(kIntake, Env());
    const auto file = api_.AddFile(incoming_, "Invoice.pdf");
    const auto created = Deliver(Envelope("file.created", FilePayload(file, incoming_, "Invoice.pdf"), 1));
    const auto uploaded = Deliver(Envelope("file.uploaded", FilePayload(file, incoming_, "Invoice.pdf"), 2));
    DispatchAll();
    EXPECT_EQ(Event(created).runs_created, 1);
    EXPECT_EQ(Event(uploaded).state, store::EventState::kDispatched);
    EXPECT_EQ(Event(uploaded).runs_created, 0);  // the same run key: the store made none
    const auto runs = Runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].step_count, 1);
    auto stored = ParseStoredRun(runs[0].context);
    ASSERT_TRUE(stored) << stored.error().message;
    EXPECT_EQ(stored->rule, "invoice-intake");
    EXPECT_EQ(stored->fingerprint, rules_.Find("invoice-intake")->fingerprint);
    ASSERT_EQ(stored->steps.size(), 1u);
    EXPECT_EQ(stored->steps[0].kind->name(), "move");
    EXPECT_EQ(stored->context.values()["run"]["key"], runs[0].run_key);
    EXPECT_EQ(stored->context.values()["room"]["id"], room_.ToJson());
    EXPECT_EQ(stored->context.values()["entity"]["id"], file.ToJson());
}

TEST_F(DispatcherTest, TransientLookupFailuresRetryWithExactBackoffAndRetryAfterAsAFloor) {
    UseRules(R"(
rules:
  - name: in-room
    on: file.created
    if: { in_room: ${ROOM} }
    do: [ { move: { to: ${ARCHIVE} } } ]
)",
             Env());
    const auto t0 = clock_.Now();
    const auto seq = Deliver(
        Envelope("file.created", FilePayload(api_.AddFile(incoming_, "a.pdf"), incoming_, "a.pdf"), 1));
    api_.FailNext("GetFolderPath", testing::Unavailable());
    DispatchAll();
    auto event = Event(seq);
    EXPECT_EQ(event.state, store::EventState::kPending);
    EXPECT_EQ(event.attempts, 1);
    EXPECT_EQ(event.next_attempt_at, t0 + seconds(1));  // base 1 s, jitter factor 1.0
    EXPECT_NE(event.last_error.find("503"), std::string::npos);

    clock_.Advance(seconds(1));
    api_.FailNext("GetFolderPath", Error{ErrorCode::kRateLimited, "DocSpace GET: 429 Too Many Requests", 429,
                                         milliseconds(7000)});
    DispatchAll();
    event = Event(seq);
    EXPECT_EQ(event.attempts, 2);
    EXPECT_EQ(event.next_attempt_at, t0 + seconds(1) + seconds(7));  // 2 s backoff, but the portal said 7

    clock_.Advance(seconds(7));
    DispatchAll();
    EXPECT_EQ(Event(seq).state, store::EventState::kDispatched);
    EXPECT_EQ(Runs().size(), 1u);
}

TEST_F(DispatcherTest, ADispatchThatKeepsFailingGoesToTheDeadLetterList) {
    UseRules(R"(
rules:
  - name: in-room
    on: file.created
    if: { in_room: ${ROOM} }
    do: [ { move: { to: ${ARCHIVE} } } ]
)",
             Env());
    retry_.max_attempts = 2;
    Build();
    const auto seq = Deliver(
        Envelope("file.created", FilePayload(api_.AddFile(incoming_, "a.pdf"), incoming_, "a.pdf"), 1));
    api_.FailNext("GetFolderPath", testing::Unavailable(), 2);
    DispatchAll();
    clock_.Advance(seconds(5));
    DispatchAll();
    const auto event = Event(seq);
    EXPECT_EQ(event.state, store::EventState::kFailed);
    EXPECT_NE(event.last_error.find("gave up after 2 attempts"), std::string::npos) << event.last_error;
    auto letters = store_->ListDeadLetters(10);
    ASSERT_EQ(letters->size(), 1u);
    EXPECT_EQ((*letters)[0].kind, store::DeadLetter::Kind::kEvent);
}

TEST_F(DispatcherTest, AGoneEntityFailsTheDispatchOnlyWhenARuleCannotBeDecidedWithoutIt) {
    UseRules(R"(
rules:
  - name: in-room
    on: file.created
    if:
      all:
        - title: { ends_with: .pdf }
        - in_room: ${ROOM}
    do: [ { move: { to: ${ARCHIVE} } } ]
  - name: notify
    on: file.created
    do:
      - mail: { to: boss@example.com, subject: "New: {{ file.title ?? entity.title }}", body: "{{ file.webUrl }}" }
)",
             Env());
    const auto folder = api_.AddFolder(room_, "Gone soon");
    const auto pdf = api_.AddFile(folder, "a.pdf");
    const auto doc = api_.AddFile(folder, "a.docx");
    api_.Remove(folder);
    api_.Remove(pdf);
    api_.Remove(doc);

    // in-room needs the room path of a .pdf, which is gone: the rule cannot be decided.
    const auto undecided = Deliver(Envelope("file.created", FilePayload(pdf, folder, "a.pdf"), 1));
    // For the .docx, in-room is false on the title alone; notify matches without conditions and is
    // planned with what is known. Its body reads file.webUrl, which will fail when rendered.
    const auto decided = Deliver(Envelope("file.created", FilePayload(doc, folder, "a.docx"), 2));
    DispatchAll();

    auto failed = Event(undecided);
    EXPECT_EQ(failed.state, store::EventState::kFailed);
    EXPECT_NE(failed.last_error.find("rule in-room cannot be decided: room path unavailable"),
              std::string::npos)
        << failed.last_error;
    EXPECT_NE(failed.last_error.find("404"), std::string::npos);

    auto dispatched = Event(decided);
    EXPECT_EQ(dispatched.state, store::EventState::kDispatched) << dispatched.last_error;
    EXPECT_NE(dispatched.last_error.find("file info unavailable"), std::string::npos);
    auto runs = Runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].rule, "notify");
    EXPECT_EQ(runs[0].lock_key, "file:" + doc.str());  // the room could not be known
    EXPECT_EQ(RunNext(), RunOutcome::kDead);
    const auto dead = Run(runs[0].id);
    EXPECT_NE(dead.last_error.find("no value for file.webUrl"), std::string::npos) << dead.last_error;
    EXPECT_NE(dead.last_error.find("file info unavailable at dispatch"), std::string::npos)
        << dead.last_error;
}

TEST_F(DispatcherTest, AReplayedEventMakesNewRuns) {
    UseRules(kIntake, Env());
    const auto file = api_.AddFile(incoming_, "Invoice.pdf");
    const auto seq = Deliver(Envelope("file.created", FilePayload(file, incoming_, "Invoice.pdf"), 1));
    DispatchAll();
    ASSERT_TRUE(store_->ReplayEvent(seq, clock_.Now()));
    DispatchAll();
    const auto runs = Runs();
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(runs[1].run_key, runs[0].run_key + "/replay:1");
    auto stored = ParseStoredRun(runs[1].context);
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->context.values()["run"]["key"], runs[1].run_key);  // templates and the room tag see it
    EXPECT_EQ(Event(seq).runs_created, 2);
}

TEST_F(DispatcherTest, AnUnreadableBodyGoesToTheDeadLetterList) {
    UseRules(kIntake, Env());
    Json broken = Envelope("file.created", FilePayload(EntityId::Number(5), incoming_, "x"), 1);
    broken["event"].erase("trigger");
    const auto seq = Deliver(broken);
    DispatchAll();
    EXPECT_EQ(Event(seq).state, store::EventState::kFailed);
    EXPECT_NE(Event(seq).last_error.find("not a webhook envelope"), std::string::npos);
}

}  // namespace
}  // namespace spacehook::runner
