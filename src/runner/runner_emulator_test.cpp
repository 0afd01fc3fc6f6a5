// The runner against the in-process DocSpace emulator (real REST shapes, real file operations, real
// webhooks), a real SMTP server (aiosmtpd with notify's sink) and a real HTTP endpoint: a run whose API
// calls fail for a while (5xx, 429 with Retry-After, a timeout after the portal did the work, a dropped
// connection) completes once the API recovers, with no duplicate room, folder, copy, move, mail or
// http call; and the service's own actions, delivered back as webhooks, are ignored by the loop guard.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <set>
#include <thread>

#include "config/document.hpp"
#include "docspace/client.hpp"
#include "emulator/emulator_test_support.hpp"
#include "httpc/testing/child_process.hpp"
#include "notify/smtp_mailer.hpp"
#include "runner/engine.hpp"
#include "steps/catalog.hpp"

namespace spacehook::runner {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
namespace emu = emulator::testing;
namespace ht = httpc::testing;

/// aiosmtpd with notify's ParsingSink: one <n>.json per accepted message.
class SmtpSink {
public:
    SmtpSink() {
        auto port = ht::PickFreePort();
        if (!port) throw std::runtime_error(port.error().message);
        port_ = *port;
        auto child = ht::ChildProcess::Start(
            {"/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(port_), "-c",
             "smtp_sink.ParsingSink", dir_.path()},
            {{"PYTHONPATH", SPACEHOOK_NOTIFY_TESTDATA}});
        if (!child) throw std::runtime_error(child.error().message);
        child_ = std::make_unique<ht::ChildProcess>(std::move(*child));
        if (!ht::WaitForPort(port_, milliseconds(10000))) throw std::runtime_error("aiosmtpd did not start");
    }
    [[nodiscard]] std::string Url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
    /// The accepted messages' records.
    [[nodiscard]] std::vector<Json> Messages() const {
        std::vector<Json> out;
        for (int n = 1;; ++n) {
            const std::string path = dir_.path() + "/" + std::to_string(n) + ".json";
            if (!std::filesystem::exists(path)) return out;
            out.push_back(Json::parse(ht::ReadFile(path)));
        }
    }

private:
    ht::TempDir dir_;
    std::unique_ptr<ht::ChildProcess> child_;
    std::uint16_t port_ = 0;
};

class RunnerEmulatorTest : public ::testing::Test {
protected:
    void SetUp() override {
        emulator::Options options = emu::RunningEmulator::FastOptions();
        options.operation_delay = milliseconds(100);
        running_ = std::make_unique<emu::RunningEmulator>(options);
        state_ = running_->emulator.State();

        store::StoreOptions store_options;
        store_options.durable = false;
        store_options.lease = seconds(30);
        auto opened = store::OpenStore("sqlite:" + dir_.path() + "/runner.db", store_options, clock_);
        ASSERT_TRUE(opened) << opened.error().message;
        store_ = std::move(*opened);

        docspace::ClientOptions client;
        client.base_url = running_->emulator.base_url();
        client.api_key = running_->emulator.ApiKeyOf("spacehook");
        client.total_timeout = milliseconds(1000);  // the "slow" fault below outlasts it
        client.connect_timeout = milliseconds(1000);
        client.rate_per_second = 1000;
        client.burst = 1000;
        client.poll_interval = milliseconds(20);
        client.poll_timeout = milliseconds(10000);
        api_ = std::make_unique<docspace::DocSpaceClient>(
            client, std::make_shared<docspace::RateLimiter>(docspace::RateLimitOptions{1000, 1000}));

        notify::SmtpOptions smtp;
        smtp.url = sink_.Url();
        smtp.from = "spacehook <bot@example.com>";
        smtp.timeout = milliseconds(10000);
        auto mailer = notify::SmtpMailer::Create(smtp);
        ASSERT_TRUE(mailer) << mailer.error().message;
        mailer_ = std::move(*mailer);
    }

    void TearDown() override {
        if (engine_) engine_->Stop(seconds(5));
        engine_.reset();
        if (store_) store_->Close();
        running_->emulator.Stop();
    }

    std::string IdText(const std::string& title) { return emu::IdOf(state_, title).dump(); }

    void Compile(const std::string& yaml) {
        auto doc = config::LoadYamlText(yaml, "rules.yaml", config::MapEnv({}));
        ASSERT_TRUE(doc) << doc.error().message;
        auto compiled = rules::Compile({*doc}, steps::Kinds());
        ASSERT_TRUE(compiled) << compiled.error().message;
        rules_ = std::move(*compiled);
    }

    void StartEngine() {
        EngineOptions options;
        options.workers = 2;
        options.owner_prefix = "it";
        // A constant 1 s between attempts: longer than the slow fault's tail (the timed-out call
        // still completes on the portal 0.5 s after our timeout), so the retry sees its effect.
        options.retry.backoff = BackoffPolicy{seconds(1), seconds(1), 1.0, 0.0};
        options.retry.max_attempts = 50;
        options.http_timeout = milliseconds(5000);
        EngineDeps deps;
        deps.store = store_.get();
        deps.rules = &rules_;
        deps.api = api_.get();
        deps.mailer = mailer_.get();
        deps.http = &http_;
        deps.metrics = &registry_;
        deps.clock = &clock_;
        deps.random = &random_;
        engine_ = std::make_unique<Engine>(std::move(deps), options);
        engine_->Start();
    }

    /// Journals what the emulator delivered to `hooks_` that is not journaled yet (ingress's job in serve).
    void Feed() {
        for (const auto& post : hooks_.Posts()) {
            const Json body = post.Parsed();
            const std::string event_id = body["event"]["id"].dump();
            if (!fed_.insert(event_id).second) continue;
            store::NewDelivery delivery;
            delivery.webhook_id = body["webhook"]["id"].dump();
            delivery.event_id = event_id;
            delivery.trigger = body["event"]["trigger"].get<std::string>();
            delivery.actor = body["event"].value("createBy", "");
            delivery.body = post.body;
            delivery.received_at = clock_.Now();
            std::promise<void> done;
            store_->Append(std::move(delivery), [&](Result<store::AppendOutcome> r) {
                EXPECT_TRUE(r);
                done.set_value();
            });
            ASSERT_EQ(done.get_future().wait_for(seconds(20)), std::future_status::ready);
        }
    }

    /// Feeds deliveries and polls (bounded) until `done` holds.
    template <class Pred>
    bool FeedUntil(Pred done, milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            Feed();
            if (done()) return true;
            std::this_thread::sleep_for(milliseconds(20));
        }
        return done();
    }

    std::vector<store::RunRecord> Runs() {
        store::RunFilter filter;
        filter.limit = 100;
        auto runs = store_->ListRuns(filter);
        return runs ? *runs : std::vector<store::RunRecord>{};
    }

    std::vector<store::EventRecord> Events() {
        store::EventFilter filter;
        filter.limit = 1000;
        auto events = store_->ListEvents(filter);
        return events ? *events : std::vector<store::EventRecord>{};
    }

    const Clock& clock_ = SystemClock::Instance();
    SeededRandom random_;
    ht::TempDir dir_;
    SmtpSink sink_;
    emu::Receiver hooks_;     ///< the emulator's webhook subscription points here
    emu::Receiver endpoint_;  ///< the rule's `http` step calls this
    std::unique_ptr<emu::RunningEmulator> running_;
    Json state_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<docspace::DocSpaceClient> api_;
    std::unique_ptr<notify::SmtpMailer> mailer_;
    httpc::Client http_;
    MetricsRegistry registry_;
    rules::CompiledRules rules_;
    std::unique_ptr<Engine> engine_;
    std::set<std::string> fed_;
};

TEST_F(RunnerEmulatorTest, ARunSurvivesAFlakyPortalWithoutDoingAnythingTwiceAndIgnoresItsOwnEvents) {
    const std::string jane = running_->emulator.UserIdOf("jane.doe");
    Compile(fmt::format(R"(
rules:
  - name: intake
    on: [file.created, file.uploaded]
    if: {{ in_room: {acme} }}
    do:
      - create_room: {{ title: "Case {{{{ entity.title }}}}", type: custom, tags: [case] }}
        id: room
      - create_folders: {{ in: "{{{{ steps.room.id }}}}", titles: [Documents, Notes] }}
      - copy_as: {{ files: "{welcome},{checklist}", to: "{{{{ steps.room.id }}}}" }}
      - set_access: {{ room: "{{{{ steps.room.id }}}}", entries: [ {{ user: "{jane}", access: editor }} ] }}
      - copy: {{ to: "{{{{ steps.create_folders.ids[0] }}}}" }}
      - move: {{ to: {archive} }}
      - mail: {{ to: manager@example.com, subject: "Case {{{{ entity.title }}}}", body: "{{{{ steps.room.webUrl }}}}" }}
      - http: {{ url: "{hook}", body: {{ room: "{{{{ steps.room.id }}}}" }} }}
)",
                        fmt::arg("acme", IdText("Client ACME")), fmt::arg("welcome", IdText("Welcome.docx")),
                        fmt::arg("checklist", IdText("Checklist.xlsx")), fmt::arg("jane", jane),
                        fmt::arg("archive", IdText("Archive 2025")),
                        fmt::arg("hook", endpoint_.url("/case"))));
    emu::Subscribe(*running_->api, emu::kOwnerKey, "spacehook", hooks_.url("/hook"), 0);
    endpoint_.SetPostScript({503, 200});

    // The portal misbehaves in every way a step can meet.
    auto& portal = running_->emulator;
    portal.AddFault(
        {emulator::FaultKind::kStatus, 503, -1, 2, milliseconds(0), "POST", "/api/2.0/files/rooms", {}});
    portal.AddFault({emulator::FaultKind::kSlow, 200, -1, 1, milliseconds(0), "POST",
                     "/api/2.0/files/folder/",
                     milliseconds(1500)});  // times out at 1 s; the folder appears at 1.5 s
    portal.AddFault(
        {emulator::FaultKind::kDrop, 0, -1, 2, milliseconds(0), "POST", "/api/2.0/files/file/", {}});
    portal.AddFault(
        {emulator::FaultKind::kStatus, 429, 1, 1, milliseconds(0), "PUT", "/api/2.0/files/fileops/copy", {}});
    portal.AddFault({emulator::FaultKind::kStatus,
                     502,
                     -1,
                     1,
                     milliseconds(0),
                     "PUT",
                     "/api/2.0/files/fileops/move",
                     {}});

    // A person uploads an invoice: file.created and file.uploaded for one file (docs/docspace-api.md §1.12).
    emulator::UploadSpec upload;
    upload.user = "rachel.admin";  // the room's owner (jane is an editor: editors may not create)
    upload.folder_id = *EntityId::FromJson(emu::IdOf(state_, "Incoming"));
    upload.title = "Invoice-7.pdf";
    auto uploaded = portal.UploadFile(upload);
    ASSERT_TRUE(uploaded) << uploaded.error().message;
    StartEngine();

    ASSERT_TRUE(FeedUntil(
        [&] {
            auto runs = Runs();
            return runs.size() == 1 &&
                   (runs[0].state == store::RunState::kDone || runs[0].state == store::RunState::kDead);
        },
        seconds(60)));
    const auto run = Runs().at(0);
    ASSERT_EQ(run.state, store::RunState::kDone) << run.last_error;
    EXPECT_GE(run.attempts, 6);  // 2 x 503, the timeout, the drop, the 429, the 502, the http 503

    // Nothing happened twice.
    EXPECT_EQ(portal.Counter("rooms_created"), 1);
    EXPECT_EQ(portal.Counter("folders_created"), 2);
    EXPECT_EQ(portal.Counter("copyas"), 2);
    EXPECT_EQ(portal.Counter("copy_operations"), 1);
    EXPECT_EQ(portal.Counter("files_copied"), 1);
    EXPECT_EQ(portal.Counter("move_operations"), 1);
    EXPECT_EQ(portal.Counter("files_moved"), 1);
    const auto mails = sink_.Messages();
    ASSERT_EQ(mails.size(), 1u);
    EXPECT_EQ(mails[0]["parsed"]["subject"], "Case Invoice-7.pdf");
    EXPECT_EQ(mails[0]["rcpt_tos"], Json::array({"manager@example.com"}));
    const auto calls = endpoint_.Posts();
    ASSERT_EQ(calls.size(), 2u);  // the 503, then the 200: one effect, one key
    EXPECT_EQ(calls[0].Header("idempotency-key"), calls[1].Header("idempotency-key"));
    EXPECT_EQ(calls[0].Header("idempotency-key").size(), 64u);

    const Json room = emu::FindNode(portal.State(), "Case Invoice-7.pdf");
    ASSERT_FALSE(room.is_null());
    EXPECT_EQ(room["folders"].size(), 2u);
    const Json docs = emu::FindNode(portal.State(), "Documents");
    EXPECT_EQ(docs["files"].size(), 1u);  // the copy

    // Every action of the run fired webhooks back (room.created, folder.created, file.created,
    // file.copied, file.moved, ...); each one is the service's own and starts nothing.
    ASSERT_TRUE(portal.WaitIdle(seconds(10)));
    ASSERT_TRUE(FeedUntil(
        [&] {
            auto events = Events();
            return events.size() >= 8 && std::all_of(events.begin(), events.end(), [](const auto& e) {
                       return e.state != store::EventState::kPending;
                   });
        },
        seconds(20)));
    const std::string self = portal.UserIdOf("spacehook");
    int own = 0;
    for (const auto& event : Events()) {
        if (event.actor == self) {
            ++own;
            EXPECT_EQ(event.state, store::EventState::kIgnored) << event.trigger;
            EXPECT_NE(event.last_error.find("own event"), std::string::npos);
        } else {
            EXPECT_EQ(event.state, store::EventState::kDispatched)
                << event.trigger << " " << event.last_error;
        }
    }
    EXPECT_GE(own, 6);
    EXPECT_EQ(Runs().size(), 1u);
}

TEST_F(RunnerEmulatorTest, TitlesThePortalRewritesAreFoundAgainAfterALostAnswer) {
    // The portal stores "Q1: Plans" as "Q1_ Plans" (docs/docspace-api.md §2.5 "Titles"). A step that looks
    // for the title it asked for finds nothing after a 504 that came once the folder existed, and makes
    // another one on every attempt.
    Compile(fmt::format(R"(
rules:
  - name: plans
    on: [file.created, file.uploaded]
    if: {{ in_room: {acme} }}
    do:
      - create_room: {{ title: "Case: {{{{ entity.title }}}}", type: custom }}
        id: room
      - create_folder: {{ in: "{{{{ steps.room.id }}}}", title: "Q1: Plans" }}
      - create_folders: {{ in: "{{{{ steps.room.id }}}}", titles: ["Q2: Plans", " Q3 * Draft "] }}
      - copy_as: {{ files: "{welcome}", to: "{{{{ steps.room.id }}}}", title: "Welcome: Q1.DOCX" }}
)",
                        fmt::arg("acme", IdText("Client ACME")),
                        fmt::arg("welcome", IdText("Welcome.docx"))));
    auto& portal = running_->emulator;
    // 504 after the effect: the room, the folders and the copy are made, the answers lost.
    auto lost = [](std::string path, int count) {
        emulator::FaultSpec fault{
            emulator::FaultKind::kStatus, 504, -1, count, milliseconds(0), "POST", std::move(path), {}};
        fault.after_effect = true;
        return fault;
    };
    portal.AddFault(lost("/api/2.0/files/rooms", 2));
    portal.AddFault(lost("/api/2.0/files/folder/", 4));
    portal.AddFault(lost("/api/2.0/files/file/", 2));

    emu::Subscribe(*running_->api, emu::kOwnerKey, "spacehook", hooks_.url("/hook"), 0);
    emulator::UploadSpec upload;
    upload.user = "rachel.admin";
    upload.folder_id = *EntityId::FromJson(emu::IdOf(state_, "Incoming"));
    upload.title = "Plans.pdf";
    auto uploaded = portal.UploadFile(upload);
    ASSERT_TRUE(uploaded) << uploaded.error().message;
    StartEngine();
    ASSERT_TRUE(FeedUntil(
        [&] {
            auto runs = Runs();
            return runs.size() == 1 &&
                   (runs[0].state == store::RunState::kDone || runs[0].state == store::RunState::kDead);
        },
        seconds(60)));
    const auto run = Runs().at(0);
    ASSERT_EQ(run.state, store::RunState::kDone) << run.last_error;

    const Json state = portal.State();
    const Json room = emu::FindNode(state, "Case_ Plans.pdf");
    ASSERT_FALSE(room.is_null()) << state.dump();
    std::multiset<std::string> folders;
    for (const auto& f : room["folders"]) folders.insert(f["title"].get<std::string>());
    EXPECT_EQ(folders, (std::multiset<std::string>{"Q1_ Plans", "Q2_ Plans", "Q3 _ Draft"}));
    std::multiset<std::string> files;
    for (const auto& f : room["files"]) files.insert(f["title"].get<std::string>());
    EXPECT_EQ(files, (std::multiset<std::string>{"Welcome_ Q1.docx"}));
    EXPECT_EQ(portal.Counter("rooms_created"), 1);
    EXPECT_EQ(portal.Counter("folders_created"), 3);
    EXPECT_EQ(portal.Counter("copyas"), 1);
}

TEST_F(RunnerEmulatorTest, AMoveReportedDoneButNotDoneIsRetriedAndASkippedOneIsDeadWithItsReason) {
    // "Finished, no error" also follows an exception the portal swallowed or a conflict it skipped
    // (docs/docspace-api.md §2.5): the step counts as done only once the file is in the destination.
    Compile(fmt::format(R"(
rules:
  - name: file-it
    on: [file.created, file.uploaded]
    if: {{ in_room: {acme} }}
    do:
      - move: {{ to: {archive} }}
)",
                        fmt::arg("acme", IdText("Client ACME")),
                        fmt::arg("archive", IdText("Archive 2025"))));
    auto& portal = running_->emulator;
    emulator::FaultSpec swallow;
    swallow.kind = emulator::FaultKind::kSwallow;
    swallow.path_prefix = "/api/2.0/files/fileops/move";
    portal.AddFault(swallow);
    const auto incoming = *EntityId::FromJson(emu::IdOf(state_, "Incoming"));
    const auto archive = *EntityId::FromJson(emu::IdOf(state_, "Archive 2025"));
    // One file moves after a retry; the other meets a file of its title in Archive 2025 (conflict skip),
    // put there before anyone listens.
    ASSERT_TRUE(portal.UploadFile({"rachel.admin", archive, "Taken.docx", 10, true}));
    emu::Subscribe(*running_->api, emu::kOwnerKey, "spacehook", hooks_.url("/hook"), 0);
    ASSERT_TRUE(portal.UploadFile({"rachel.admin", incoming, "Once.docx", 10, true}));
    StartEngine();
    ASSERT_TRUE(FeedUntil(
        [&] {
            auto runs = Runs();
            return runs.size() == 1 &&
                   (runs[0].state == store::RunState::kDone || runs[0].state == store::RunState::kDead);
        },
        seconds(60)));
    auto run = Runs().at(0);
    ASSERT_EQ(run.state, store::RunState::kDone) << run.last_error;
    EXPECT_EQ(run.attempts, 1);  // the swallowed operation failed once; the retry moved the file
    EXPECT_EQ(portal.Counter("operations_swallowed"), 1);
    EXPECT_EQ(portal.Counter("files_moved"), 1);
    EXPECT_EQ(emu::FindNode(portal.State(), "Once.docx")["id"].is_null(), false);
    const auto archived = emu::FindNode(portal.State(), "Archive 2025");
    ASSERT_EQ(archived["files"].size(), 2U);

    ASSERT_TRUE(portal.UploadFile({"rachel.admin", incoming, "Taken.docx", 10, true}));
    ASSERT_TRUE(FeedUntil(
        [&] {
            auto runs = Runs();
            return runs.size() == 2 && std::all_of(runs.begin(), runs.end(), [](const auto& r) {
                       return r.state == store::RunState::kDone || r.state == store::RunState::kDead;
                   });
        },
        seconds(60)));
    const auto runs = Runs();
    for (const auto& r : runs) {
        if (r.state != store::RunState::kDead) continue;
        EXPECT_EQ(r.attempts, 1);  // dead at its first failure: a conflict is permanent, no retry changes it
        EXPECT_NE(r.last_error.find("skipped 'Taken.docx'"), std::string::npos) << r.last_error;
        EXPECT_NE(r.last_error.find("conflict"), std::string::npos) << r.last_error;
    }
    EXPECT_EQ(std::count_if(runs.begin(), runs.end(),
                            [](const auto& r) { return r.state == store::RunState::kDead; }),
              1);
}

}  // namespace
}  // namespace spacehook::runner
