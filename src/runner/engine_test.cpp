// The engine's threads against the fake portal and a real SQLite store, in real time (SystemClock):
// wake-ups, the capped sleep that picks up another process's writes, the service-account retry at
// start, and graceful shutdown. Every wait is bounded.
#include "runner/engine.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "config/document.hpp"
#include "httpc/testing/child_process.hpp"
#include "runner/testing/fake_docspace.hpp"
#include "runner/testing/runner_test_support.hpp"

namespace spacehook::runner {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Envelope;
using testing::FilePayload;

constexpr char kRules[] = R"(
rules:
  - name: provision
    on: file.created
    do:
      - create_room: { title: "Client {{ entity.title }}", type: custom }
        id: room
      - create_folders: { in: "{{ steps.room.id }}", titles: [Documents, Invoices] }
      - mail: { to: boss@example.com, subject: "Room {{ steps.room.title }}", body: "{{ steps.room.webUrl }}" }
)";

class EngineTest : public ::testing::Test {
protected:
    void SetUp() override {
        store::StoreOptions options;
        options.durable = false;
        options.lease = seconds(30);
        auto opened = store::OpenStore(Url(), options, clock_);
        ASSERT_TRUE(opened) << opened.error().message;
        store_ = std::move(*opened);
        auto doc = config::LoadYamlText(kRules, "rules.yaml", config::MapEnv({}));
        ASSERT_TRUE(doc) << doc.error().message;
        auto compiled = rules::Compile({*doc}, steps::Kinds());
        ASSERT_TRUE(compiled) << compiled.error().message;
        rules_ = std::move(*compiled);
        inbox_ = api_.AddRoom("Inbox", 2);
    }

    void TearDown() override {
        if (engine_) engine_->Stop(seconds(5));
        engine_.reset();
        if (store_) store_->Close();
    }

    [[nodiscard]] std::string Url() const { return "sqlite:" + dir_.path() + "/engine.db"; }

    void StartEngine(EngineOptions options = {}, int workers = 2) {
        options.workers = workers;
        options.owner_prefix = "test";
        options.retry.backoff = BackoffPolicy{milliseconds(20), milliseconds(200), 2.0, 0.0};
        options.self_backoff = BackoffPolicy{milliseconds(5), milliseconds(20), 2.0, 0.0};
        EngineDeps deps;
        deps.store = store_.get();
        deps.rules = &rules_;
        deps.api = &api_;
        deps.mailer = mailer_in_use_;
        deps.metrics = &registry_;
        deps.clock = &clock_;
        deps.random = &random_;
        engine_ = std::make_unique<Engine>(std::move(deps), options);
        engine_->Start();
    }

    /// A file.created for a new file in `room` (default: the inbox), journaled as ingress would.
    void Upload(const std::string& title, std::int64_t event_id,
                std::optional<EntityId> room = std::nullopt) {
        const EntityId parent = room.value_or(inbox_);
        const auto file = api_.AddFile(parent, title);
        store::NewDelivery delivery;
        const Json envelope = Envelope("file.created", FilePayload(file, parent, title), event_id);
        delivery.webhook_id = "7";
        delivery.event_id = std::to_string(event_id);
        delivery.trigger = "file.created";
        delivery.body = envelope.dump();
        delivery.received_at = clock_.Now();
        std::promise<void> done;
        store_->Append(std::move(delivery), [&](Result<store::AppendOutcome> r) {
            EXPECT_TRUE(r);
            done.set_value();
        });
        ASSERT_EQ(done.get_future().wait_for(testing::kWait), std::future_status::ready);
    }

    /// Polls (bounded) until `done` holds.
    template <class Pred>
    bool Eventually(Pred done, milliseconds timeout = milliseconds(10000)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (done()) return true;
            std::this_thread::sleep_for(milliseconds(10));
        }
        return done();
    }

    std::vector<store::RunRecord> Runs() {
        store::RunFilter filter;
        filter.limit = 100;
        auto runs = store_->ListRuns(filter);
        return runs ? *runs : std::vector<store::RunRecord>{};
    }

    bool AllDone(std::size_t n) {
        auto runs = Runs();
        return runs.size() == n && std::all_of(runs.begin(), runs.end(), [](const auto& r) {
                   return r.state == store::RunState::kDone;
               });
    }

    const Clock& clock_ = SystemClock::Instance();
    SeededRandom random_{42};
    httpc::testing::TempDir dir_;
    std::unique_ptr<store::Store> store_;
    rules::CompiledRules rules_;
    testing::FakeDocSpace api_;
    notify::RecordingMailer mailer_{"spacehook <bot@example.com>"};
    notify::Mailer* mailer_in_use_ = &mailer_;
    MetricsRegistry registry_;
    std::unique_ptr<Engine> engine_;
    EntityId inbox_;
};

TEST_F(EngineTest, WorkIsDispatchedAndRunToTheEndThenTheEngineStops) {
    StartEngine();
    Upload("ACME.pdf", 1);
    Upload("Globex.pdf", 2);
    ASSERT_TRUE(Eventually([&] { return AllDone(2); }));
    EXPECT_EQ(api_.Effects("rooms_created"), 2);
    EXPECT_EQ(api_.Effects("folders_created"), 4);
    EXPECT_EQ(mailer_.Sent().size(), 2u);
    // A worker counts a run after its last checkpoint is committed, so the store says "done" a moment
    // before the metrics do: they are read once Stop has joined every thread.
    engine_->Stop(seconds(1));
    const auto rendered = registry_.RenderPrometheus();
    EXPECT_NE(rendered.find("spacehook_runs_total{outcome=\"done\",rule=\"provision\"} 2"), std::string::npos)
        << rendered;
    EXPECT_NE(rendered.find("spacehook_dispatch_total{outcome=\"dispatched\"} 2"), std::string::npos);
    EXPECT_NE(rendered.find("spacehook_step_duration_seconds_count{kind=\"create_room\"} 2"),
              std::string::npos);
    EXPECT_NE(rendered.find("spacehook_runs_in_progress 0"), std::string::npos);
}

TEST_F(EngineTest, RunsOfOneRoomNeverOverlapWhileOtherRoomsRunAlongside) {
    const EntityId other = api_.AddRoom("Other", 2);
    api_.SetDelay("CreateFolder", milliseconds(60));  // each run takes a while inside create_folders
    StartEngine({}, /*workers=*/4);
    for (int n = 1; n <= 3; ++n) {
        Upload(fmt::format("in-{}.pdf", n), n);
        Upload(fmt::format("other-{}.pdf", n), 10 + n, other);
    }
    ASSERT_TRUE(Eventually([&] { return AllDone(6); }, seconds(20)));

    // A run's span: from its first step's start to its last step's checkpoint.
    struct Span {
        std::string lock;
        TimePoint from;
        TimePoint to;
    };
    std::vector<Span> spans;
    for (const auto& run : Runs()) {
        auto steps = store_->GetSteps(run.id);
        ASSERT_TRUE(steps && steps->size() == 3u);
        spans.push_back({run.lock_key, steps->front().started_at, steps->back().finished_at});
    }
    int same_room_overlaps = 0;
    int cross_room_overlaps = 0;
    for (std::size_t a = 0; a < spans.size(); ++a) {
        for (std::size_t b = a + 1; b < spans.size(); ++b) {
            const bool overlap = spans[a].from < spans[b].to && spans[b].from < spans[a].to;
            if (!overlap) continue;
            ++(spans[a].lock == spans[b].lock ? same_room_overlaps : cross_room_overlaps);
        }
    }
    EXPECT_EQ(Runs().front().lock_key, "room:" + other.str());
    EXPECT_EQ(same_room_overlaps, 0);   // room:<id> serializes the runs of one room...
    EXPECT_GT(cross_room_overlaps, 0);  // ...and only them: the two rooms' runs ran side by side
    EXPECT_EQ(api_.Effects("rooms_created"), 6);
}

TEST_F(EngineTest, NothingIsDispatchedUntilThePortalNamesTheServiceAccount) {
    api_.FailNext("GetSelf", testing::Unavailable(), 3);
    Upload("ACME.pdf", 1);
    StartEngine();
    ASSERT_TRUE(Eventually([&] { return AllDone(1); }));
    EXPECT_EQ(api_.Calls("GetSelf"), 4);
    EXPECT_NE(registry_.RenderPrometheus().find("spacehook_docspace_errors_total{class=\"unavailable\"} 3"),
              std::string::npos);
}

TEST_F(EngineTest, AnotherProcesssWriteIsPickedUpWithoutAWakeup) {
    StartEngine();
    api_.FailNext("FindRooms", Error{ErrorCode::kForbidden, "DocSpace GET: 403 Access denied", 403, {}});
    Upload("ACME.pdf", 1);
    ASSERT_TRUE(Eventually([&] {
        auto runs = Runs();
        return runs.size() == 1 && runs[0].state == store::RunState::kDead;
    }));
    // `spacehook dlq retry` from another process: its own store handle, whose wake-up reaches nobody.
    auto cli = store::OpenStore(Url(), store::StoreOptions{}, clock_);
    ASSERT_TRUE(cli) << cli.error().message;
    const auto before = std::chrono::steady_clock::now();
    ASSERT_TRUE((*cli)->RetryDeadLetter(store::DeadLetter::Kind::kRun, Runs()[0].id, clock_.Now()));
    (*cli)->Close();
    ASSERT_TRUE(Eventually([&] { return AllDone(1); }, seconds(5)));
    EXPECT_LT(std::chrono::steady_clock::now() - before, milliseconds(3000));  // max_sleep is 1 s
}

TEST_F(EngineTest, AWakeUpWakesOneIdleWorkerNotAll) {
    StartEngine({}, 16);
    ASSERT_TRUE(Eventually([&] { return api_.Calls("GetSelf") >= 1; }));
    std::this_thread::sleep_for(milliseconds(300));  // every worker has looked once and sleeps
    const std::uint64_t before = engine_->claim_attempts();
    // 40 deliveries no rule listens to, one commit (and one wake-up) each.
    for (int i = 0; i < 40; ++i) {
        store::NewDelivery delivery;
        delivery.webhook_id = "7";
        delivery.event_id = fmt::format("u{}", i);
        delivery.trigger = "user.created";
        delivery.body = Envelope("user.created", Json{{"id", fmt::format("user-{}", i)}}, 1000 + i).dump();
        delivery.received_at = clock_.Now();
        std::promise<void> done;
        store_->Append(std::move(delivery), [&](Result<store::AppendOutcome>) { done.set_value(); });
        ASSERT_EQ(done.get_future().wait_for(testing::kWait), std::future_status::ready);
    }
    std::this_thread::sleep_for(milliseconds(300));
    const std::uint64_t claims = engine_->claim_attempts() - before;
    // One worker per wake-up (40), worker 1 every 50 ms while events wait, the others once per max_sleep:
    // well under the 640 claims of waking all 16 workers on every commit.
    EXPECT_LT(claims, 200u);
    EXPECT_GE(claims, 1u);
}

TEST_F(EngineTest, ABurstOfDueRunsReachesEveryIdleWorker) {
    api_.SetDelay("CreateFolder", milliseconds(150));  // each run spends 300 ms in create_folders
    // Every worker may be in a portal call here (the default keeps one free for other dependencies,
    // which would hold the fourth run back: that is AHangingSmtpServer...'s business, not this test's).
    EngineOptions options;
    options.max_per_dependency = 4;
    StartEngine(options, 4);
    for (int i = 0; i < 4; ++i) {
        const EntityId room = api_.AddRoom(fmt::format("Room {}", i), 2);
        Upload(fmt::format("client-{}.pdf", i), 10 + i, room);
    }
    ASSERT_TRUE(Eventually([&] { return AllDone(4); }, seconds(20)));
    // Wake-ups pass from worker to worker: all four runs (four rooms) were inside their steps at once.
    TimePoint latest_start = TimePoint::min();
    TimePoint earliest_end = TimePoint::max();
    for (const auto& run : Runs()) {
        auto steps = store_->GetSteps(run.id);
        ASSERT_TRUE(steps && steps->size() == 3u);
        latest_start = std::max(latest_start, steps->front().started_at);
        earliest_end = std::min(earliest_end, steps->back().finished_at);
    }
    EXPECT_LT(latest_start, earliest_end);
}

/// An SMTP server that hangs: Send blocks until Release (at most 10 s), as a stalled session does.
class HangingMailer final : public notify::Mailer {
public:
    Result<notify::MailReceipt> Send(const notify::MailMessage& /*message*/) override {
        std::unique_lock lock(mu_);
        ++inside_;
        most_inside_ = std::max(most_inside_, inside_);
        cv_.wait_for(lock, seconds(10), [&] { return released_; });
        --inside_;
        return notify::MailReceipt{"<sh.test@example.com>", 1};
    }
    void Release() {
        {
            std::lock_guard lock(mu_);
            released_ = true;
        }
        cv_.notify_all();
    }
    int Inside() {
        std::lock_guard lock(mu_);
        return inside_;
    }
    int MostInside() {
        std::lock_guard lock(mu_);
        return most_inside_;
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    int inside_ = 0;
    int most_inside_ = 0;
    bool released_ = false;
};

TEST_F(EngineTest, AHangingSmtpServerHoldsAtMostItsShareOfTheWorkersAndPortalRulesKeepRunning) {
    auto doc = config::LoadYamlText(R"(
rules:
  - name: tell
    on: file.created
    if: { title: { starts_with: mail } }
    do:
      - mail: { to: boss@example.com, subject: "{{ entity.title }}", body: "new" }
  - name: provision
    on: file.created
    if: { title: { starts_with: room } }
    do:
      - create_room: { title: "Client {{ entity.title }}", type: custom }
)",
                                    "rules.yaml", config::MapEnv({}));
    ASSERT_TRUE(doc);
    auto compiled = rules::Compile({*doc}, steps::Kinds());
    ASSERT_TRUE(compiled) << compiled.error().message;
    rules_ = std::move(*compiled);
    HangingMailer smtp;
    mailer_in_use_ = &smtp;
    StartEngine({}, /*workers=*/4);  // runner.max_per_dependency: 3, one less than the workers
    for (int i = 1; i <= 5; ++i)
        Upload(fmt::format("mail-{}.pdf", i), i, api_.AddRoom(fmt::format("R{}", i), 2));
    ASSERT_TRUE(Eventually([&] { return smtp.Inside() == 3; }));

    // Every mail is stuck, yet a portal rule runs to the end at once: one worker was kept free.
    Upload("room-1.pdf", 10, api_.AddRoom("Portal", 2));
    const bool portal_done = Eventually(
        [&] {
            for (const auto& run : Runs()) {
                if (run.rule == "provision") return run.state == store::RunState::kDone;
            }
            return false;
        },
        seconds(5));
    EXPECT_EQ(smtp.Inside(), 3);  // still hanging while the portal rule ran
    smtp.Release();
    ASSERT_TRUE(portal_done);
    EXPECT_EQ(smtp.MostInside(), 3);
    EXPECT_EQ(api_.Effects("rooms_created"), 1);
    // The mails waiting for the SMTP server were given back, not failed: every one is sent in the end.
    ASSERT_TRUE(Eventually([&] { return AllDone(6); }, seconds(20)));
    for (const auto& run : Runs()) EXPECT_EQ(run.attempts, 0) << run.run_key;
    engine_->Stop(seconds(1));
    EXPECT_NE(registry_.RenderPrometheus().find("spacehook_runs_total{outcome=\"deferred\",rule=\"tell\"}"),
              std::string::npos);
}

TEST_F(EngineTest, StopLetsTheStepFinishWithinTheGraceAndReleasesTheRun) {
    api_.SetDelay("CreateFolder", milliseconds(300));
    StartEngine();
    Upload("ACME.pdf", 1);
    ASSERT_TRUE(Eventually([&] {
        auto steps = store_->GetSteps(Runs().empty() ? 0 : Runs()[0].id);
        return steps && steps->size() == 2;  // inside create_folders
    }));
    engine_->Stop(seconds(5));
    const auto run = Runs().at(0);
    EXPECT_EQ(run.state, store::RunState::kPending);  // released between steps, not failed
    EXPECT_EQ(run.next_step, 2);                      // the step in progress finished and was checkpointed
    EXPECT_EQ(run.attempts, 0);
    EXPECT_EQ(api_.Effects("folders_created"), 2);
    EXPECT_TRUE(mailer_.Sent().empty());
}

TEST_F(EngineTest, PastTheGraceARunStillInAStepIsReleasedAndItsStepLooksAgainLater) {
    api_.SetDelay("CreateFolder", milliseconds(400));
    StartEngine();
    Upload("ACME.pdf", 1);
    ASSERT_TRUE(Eventually([&] {
        auto steps = store_->GetSteps(Runs().empty() ? 0 : Runs()[0].id);
        return steps && steps->size() == 2;
    }));
    engine_->Stop(milliseconds(50));  // returns once the call in flight ended (its own timeout bounds it)
    auto run = Runs().at(0);
    EXPECT_EQ(run.state, store::RunState::kPending);
    EXPECT_EQ(run.lease_owner, "");
    EXPECT_EQ(run.next_step, 1);  // its late checkpoint was refused
    EXPECT_EQ(api_.Effects("folders_created"), 2);

    // The next start resumes the step, which finds both folders.
    api_.SetDelay("CreateFolder", milliseconds(0));
    StartEngine();
    ASSERT_TRUE(Eventually([&] { return AllDone(1); }));
    EXPECT_EQ(api_.Effects("folders_created"), 2);
    EXPECT_EQ(api_.Effects("rooms_created"), 1);
    EXPECT_EQ(mailer_.Sent().size(), 1u);
}

}  // namespace
}  // namespace spacehook::runner
