// Watcher rounds against the emulator over loopback, a real SQLite store and alerts into a RecordingMailer:
// a disabled webhook with given-up deliveries is enabled again and caught up, and a person gets one mail
// saying both; a second replica on the same store leaves the round to the first; an unreachable portal is
// alerted after alerts.portal_down and resolved when it answers again; status tells it all.
#include "watch/watcher.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <future>

#include "docspace/client.hpp"
#include "docspace/names.hpp"
#include "emulator/emulator_test_support.hpp"
#include "watch/watch_status.hpp"

namespace spacehook::watch {
namespace {

using emulator::testing::kOwnerKey;
using std::chrono::milliseconds;
using std::chrono::minutes;

constexpr std::int64_t kFolderCreated = 32768;
constexpr char kClientRoom[] = "5";  // "Client ACME" in the default seed

class WatcherTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/spacehook-watcher-XXXXXX";
        ASSERT_NE(mkdtemp(pattern), nullptr);
        dir_ = pattern;
        store_ = Open();
        docspace::ClientOptions options;
        options.base_url = emu.emulator.base_url();
        options.api_key = emu.emulator.ApiKeyOf("spacehook");
        options.total_timeout = milliseconds(3000);
        docspace::RateLimitOptions rate;
        rate.rate_per_second = 1000;
        rate.burst = 1000;
        client_ = std::make_unique<docspace::DocSpaceClient>(options,
                                                             std::make_shared<docspace::RateLimiter>(rate));
        std::vector<std::unique_ptr<AlertChannel>> channels;
        channels.push_back(MailAlertChannel(mailer_, {"ops@example.com"}, "portal"));
        OutboxOptions fast;
        fast.retry_base = milliseconds(5);
        outbox_ = std::make_unique<AlertOutbox>(std::move(channels), fast);
    }
    void TearDown() override {
        outbox_->Stop();
        store_->Close();
        std::filesystem::remove_all(dir_);
    }
    std::unique_ptr<store::Store> Open() {
        auto opened = store::OpenStore("sqlite:" + dir_ + "/store.db", store::StoreOptions{}, clock_);
        EXPECT_TRUE(opened) << opened.error().message;
        return opened ? std::move(*opened) : nullptr;
    }
    WatcherOptions Options() const {
        WatcherOptions options;
        options.portal = "portal";
        options.subscription.url = receiver.url("/hook");
        options.subscription.secret = "watcher-Secret-1";
        options.catch_up_limits.settle = milliseconds(0);
        options.alert_throttle = minutes(15);
        options.portal_down = minutes(5);
        options.version = "test";
        return options;
    }
    std::unique_ptr<Watcher> MakeWatcher(store::Store& store, MetricsRegistry& metrics, std::string owner,
                                         std::optional<WatcherOptions> options = std::nullopt) {
        WatcherDeps deps;
        deps.api = client_.get();
        deps.store = &store;
        deps.metrics = &metrics;
        deps.clock = &clock_;
        deps.alerts = outbox_.get();
        deps.trigger_mask = [] { return std::optional<std::int64_t>(kFolderCreated); };
        deps.owner = std::move(owner);
        return std::make_unique<Watcher>(std::move(deps), options ? std::move(*options) : Options());
    }
    void MakeFolders(int n) {
        for (int i = 0; i < n; ++i) {
            const auto made = emu.api->Post(std::string("/api/2.0/files/folder/") + kClientRoom, kOwnerKey,
                                            Json{{"title", "F" + std::to_string(i)}});
            ASSERT_EQ(made.status, 200) << made.body;
        }
        ASSERT_TRUE(emu.emulator.WaitIdle(milliseconds(30000)));
    }
    Json Status() {
        auto status = StatusJson(*store_, *store_, clock_.Now(), "test");
        EXPECT_TRUE(status) << status.error().message;
        return status ? *status : Json();
    }
    static std::string Metrics(MetricsRegistry& metrics) { return metrics.RenderPrometheus(); }
    /// A live delivery journaled now (pending until dispatched); its seq.
    std::int64_t Journal(const std::string& event_id) {
        store::NewDelivery delivery;
        delivery.webhook_id = "1";
        delivery.event_id = event_id;
        delivery.trigger = "folder.created";
        delivery.body = R"({"event":{"id":)" + event_id + "}}";
        delivery.received_at = clock_.Now();
        std::promise<Result<store::AppendOutcome>> appended;
        auto outcome = appended.get_future();
        store_->Append(std::move(delivery),
                       [&appended](Result<store::AppendOutcome> r) { appended.set_value(std::move(r)); });
        EXPECT_EQ(outcome.wait_for(std::chrono::seconds(20)), std::future_status::ready);
        EXPECT_TRUE(outcome.get());
        auto event = store_->FindEvent(event_id);
        EXPECT_TRUE(event && *event);
        return event && *event ? (*event)->seq : 0;
    }
    /// A client of the emulator with `api_key` (the spacehook account's unless told).
    std::unique_ptr<docspace::DocSpaceClient> Client(std::string api_key) {
        docspace::ClientOptions options;
        options.base_url = emu.emulator.base_url();
        options.api_key = std::move(api_key);
        options.total_timeout = milliseconds(3000);
        docspace::RateLimitOptions rate;
        rate.rate_per_second = 1000;
        rate.burst = 1000;
        return std::make_unique<docspace::DocSpaceClient>(options,
                                                          std::make_shared<docspace::RateLimiter>(rate));
    }
    std::string LastMail() {
        const auto sent = mailer_.Sent();
        return sent.empty() ? std::string() : sent.back().data;
    }

    emulator::testing::RunningEmulator emu;
    emulator::testing::Receiver receiver;
    ManualClock clock_{SystemClock::Instance().Now()};
    notify::RecordingMailer mailer_{"spacehook <bot@example.com>"};
    std::string dir_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<docspace::DocSpaceClient> client_;
    std::unique_ptr<AlertOutbox> outbox_;
};

TEST_F(WatcherTest, ADisabledWebhookIsEnabledCaughtUpAndOnePersonIsToldOnce) {
    const auto id =
        emulator::testing::Subscribe(*emu.api, kOwnerKey, "spacehook", receiver.url("/hook"), kFolderCreated);
    MetricsRegistry metrics;
    auto watcher = MakeWatcher(*store_, metrics, "host:1");
    ASSERT_TRUE(watcher->Round());  // the first round: a position in the (empty) log
    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    EXPECT_TRUE(mailer_.Sent().empty());

    emu.emulator.GiveUpDeliveries(3, 0, id);
    MakeFolders(3);
    ASSERT_TRUE(emu.emulator.DisableWebhook(id));
    clock_.Advance(minutes(1));
    ASSERT_TRUE(watcher->Round());

    auto events = store_->ListEvents({});
    ASSERT_TRUE(events);
    EXPECT_EQ(events->size(), 3U);
    for (const auto& event : *events) EXPECT_TRUE(event.recovered);
    const Json hooks = emu.emulator.State()["webhooks"];
    ASSERT_EQ(hooks.size(), 1U);
    EXPECT_EQ(hooks[0]["enabled"], true);

    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    auto sent = mailer_.Sent();
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_NE(sent[0].data.find("Subject: spacehook on portal: subscription, recovered deliveries"),
              std::string::npos)
        << sent[0].data;
    EXPECT_NE(sent[0].data.find("re-enabled"), std::string::npos);
    EXPECT_NE(sent[0].data.find("journaled 3 deliveries"), std::string::npos);

    const std::string rendered = Metrics(metrics);
    EXPECT_NE(rendered.find("spacehook_recovered_deliveries_total 3"), std::string::npos) << rendered;
    EXPECT_NE(rendered.find("spacehook_subscription_up{state=\"enabled\"} 1"), std::string::npos);
    EXPECT_NE(rendered.find("spacehook_subscription_up{state=\"disabled\"} 0"), std::string::npos);
    EXPECT_NE(rendered.find("spacehook_alerts_total{kind=\"recovered\"} 1"), std::string::npos);
    EXPECT_NE(rendered.find("spacehook_alerts_total{kind=\"subscription\"} 1"), std::string::npos);

    const Json status = Status();
    EXPECT_TRUE(status["healthy"].get<bool>()) << status.dump(2);
    EXPECT_EQ(status["watch"]["subscription"]["state"], "enabled");
    EXPECT_EQ(status["watch"]["subscription"]["webhooks"][0]["repairs"], Json::array({"re-enabled"}));
    EXPECT_EQ(status["watch"]["catch_up"]["last_pass_recovered"], 3);
    EXPECT_EQ(status["watch"]["catch_up"]["recovered_total"], 3);
    ASSERT_GE(status["watch"]["recent"].size(), 2U);
    EXPECT_NE(StatusText(status).find("3 recovered"), std::string::npos) << StatusText(status);

    // Nothing new: no mail, and the history stays.
    clock_.Advance(minutes(1));
    ASSERT_TRUE(watcher->Round());
    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    EXPECT_EQ(mailer_.Sent().size(), 1U);
    EXPECT_EQ(Status()["watch"]["catch_up"]["recovered_total"], 3);
}

TEST_F(WatcherTest, OneReplicaWatchesAndTheOtherMirrorsItsReport) {
    emulator::testing::Subscribe(*emu.api, kOwnerKey, "spacehook", receiver.url("/hook"), kFolderCreated);
    auto other_store = Open();
    ASSERT_NE(other_store, nullptr);
    MetricsRegistry first_metrics;
    MetricsRegistry second_metrics;
    auto first = MakeWatcher(*store_, first_metrics, "host-a:1");
    auto second = MakeWatcher(*other_store, second_metrics, "host-b:2");
    ASSERT_TRUE(first->Round());
    const auto calls = emu.emulator.Counter("api_calls");
    EXPECT_FALSE(second->Round());
    EXPECT_EQ(emu.emulator.Counter("api_calls"), calls);  // the second asked the portal nothing
    EXPECT_NE(Metrics(second_metrics).find("spacehook_subscription_up{state=\"enabled\"} 1"),
              std::string::npos);
    // The first stops and gives the lease up: the second watches from its next round.
    first->Stop();
    EXPECT_TRUE(second->Round());
    second->Stop();
    other_store->Close();
}

TEST_F(WatcherTest, AnUnreachablePortalIsAlertedAfterAWhileAndResolvedWhenItAnswers) {
    emulator::testing::Subscribe(*emu.api, kOwnerKey, "spacehook", receiver.url("/hook"), kFolderCreated);
    MetricsRegistry metrics;
    auto watcher = MakeWatcher(*store_, metrics, "host:1");
    ASSERT_TRUE(watcher->Round());
    emulator::FaultSpec outage;
    outage.status = 503;
    outage.count = 0;  // every call
    emu.emulator.AddFault(outage);
    clock_.Advance(minutes(1));
    ASSERT_TRUE(watcher->Round());  // unreachable for less than alerts.portal_down: quiet
    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    EXPECT_TRUE(mailer_.Sent().empty());
    EXPECT_FALSE(Status()["healthy"].get<bool>());
    clock_.Advance(minutes(5));
    ASSERT_TRUE(watcher->Round());
    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    ASSERT_EQ(mailer_.Sent().size(), 1U);
    EXPECT_NE(mailer_.Sent()[0].data.find("FIRING portal unreachable"), std::string::npos)
        << mailer_.Sent()[0].data;
    EXPECT_NE(Metrics(metrics).find("spacehook_subscription_up{state=\"unknown\"} 1"), std::string::npos);

    emu.emulator.ClearFaults();
    clock_.Advance(minutes(20));
    ASSERT_TRUE(watcher->Round());
    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    ASSERT_EQ(mailer_.Sent().size(), 2U);
    EXPECT_NE(mailer_.Sent()[1].data.find("Subject: spacehook on portal: resolved: portal unreachable"),
              std::string::npos)
        << mailer_.Sent()[1].data;
    EXPECT_TRUE(Status()["healthy"].get<bool>());
}

TEST_F(WatcherTest, AWebhookNeverSeenIsToldAfterAGraceADeletedOneAtOnce) {
    // No subscription.url: the watchdog cannot create the webhook, only report it missing.
    WatcherOptions options = Options();
    options.subscription.url.clear();
    MetricsRegistry metrics;
    auto watcher = MakeWatcher(*store_, metrics, "host:1", options);
    ASSERT_TRUE(watcher->Round());  // a first start before `spacehook subscribe`
    EXPECT_EQ(Status()["watch"]["subscription"]["state"], "missing");
    EXPECT_FALSE(Status()["healthy"].get<bool>());
    clock_.Advance(minutes(14));
    ASSERT_TRUE(watcher->Round());
    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    EXPECT_TRUE(mailer_.Sent().empty());  // still within the grace
    EXPECT_NE(Metrics(metrics).find("spacehook_subscription_up{state=\"missing\"} 1"), std::string::npos);

    clock_.Advance(minutes(2));
    ASSERT_TRUE(watcher->Round());
    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    ASSERT_EQ(mailer_.Sent().size(), 1U);
    EXPECT_NE(mailer_.Sent()[0].data.find("FIRING subscription"), std::string::npos)
        << mailer_.Sent()[0].data;
    EXPECT_NE(mailer_.Sent()[0].data.find("set subscription.url"), std::string::npos);

    const auto id =
        emulator::testing::Subscribe(*emu.api, kOwnerKey, "spacehook", receiver.url("/hook"), kFolderCreated);
    clock_.Advance(minutes(20));
    ASSERT_TRUE(watcher->Round());
    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    ASSERT_EQ(mailer_.Sent().size(), 2U);
    EXPECT_NE(mailer_.Sent()[1].data.find("resolved: subscription"), std::string::npos)
        << mailer_.Sent()[1].data;
    EXPECT_TRUE(Status()["healthy"].get<bool>()) << Status().dump(2);

    // Deleted after it was seen (a 410, a blacklisted address, a person): told at the next round, no grace.
    const auto removed =
        emu.api->Call("DELETE", "/api/2.0/settings/webhook/" + std::to_string(id), kOwnerKey);
    ASSERT_EQ(removed.status, 200) << removed.body;
    clock_.Advance(minutes(20));
    ASSERT_TRUE(watcher->Round());
    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    ASSERT_EQ(mailer_.Sent().size(), 3U);
    EXPECT_NE(mailer_.Sent()[2].data.find("deleted: the portal has no webhook"), std::string::npos)
        << mailer_.Sent()[2].data;
}

TEST_F(WatcherTest, ABacklogAndDeadLettersAreToldFromTheStoreAndResolvedWhenCleared) {
    emulator::testing::Subscribe(*emu.api, kOwnerKey, "spacehook", receiver.url("/hook"), kFolderCreated);
    WatcherOptions options = Options();
    options.catch_up = false;  // the journal here is the test's, not the portal's log
    options.backlog_age = minutes(15);
    MetricsRegistry metrics;
    auto watcher = MakeWatcher(*store_, metrics, "host:1", options);
    const std::vector<std::int64_t> seqs = {Journal("101"), Journal("102"), Journal("103")};
    ASSERT_TRUE(watcher->Round());
    clock_.Advance(minutes(10));
    ASSERT_TRUE(watcher->Round());
    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    EXPECT_TRUE(mailer_.Sent().empty());  // waiting 10 minutes is within alerts.backlog_age

    clock_.Advance(minutes(6));
    ASSERT_TRUE(watcher->Round());
    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    ASSERT_EQ(mailer_.Sent().size(), 1U);
    EXPECT_NE(LastMail().find("FIRING backlog: the oldest pending event has waited 16m (3 pending)"),
              std::string::npos)
        << LastMail();
    EXPECT_FALSE(Status()["healthy"].get<bool>());

    // The dispatcher fails two of them for good and finishes the third: the backlog clears and two dead
    // letters are told in one line, both in one message.
    auto claimed = store_->ClaimEvents("dispatcher", 10, clock_.Now());
    ASSERT_TRUE(claimed && claimed->size() == 3U);
    ASSERT_TRUE(store_->FailDispatch(seqs[0], "dispatcher", "rule intake: no such folder"));
    ASSERT_TRUE(store_->FailDispatch(seqs[1], "dispatcher", "rule intake: no such folder"));
    ASSERT_TRUE(store_->CompleteDispatch(seqs[2], "dispatcher", {}, store::EventState::kIgnored, "no rule"));
    clock_.Advance(minutes(20));
    ASSERT_TRUE(watcher->Round());
    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    ASSERT_EQ(mailer_.Sent().size(), 2U);
    const std::string second = LastMail();
    EXPECT_NE(second.find("RESOLVED backlog"), std::string::npos) << second;
    EXPECT_NE(second.find("2 were dead-lettered: events (dispatch) (2)"), std::string::npos) << second;
    EXPECT_NE(second.find("Subject: spacehook on portal: dead letters, backlog"), std::string::npos)
        << second;
    EXPECT_NE(Metrics(metrics).find("spacehook_alerts_total{kind=\"dead_letters\"} 1"), std::string::npos);

    // Nothing new: nobody is told again. Dropped: resolved.
    clock_.Advance(minutes(20));
    ASSERT_TRUE(watcher->Round());
    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    EXPECT_EQ(mailer_.Sent().size(), 2U);
    store::DeadLetterFilter all;
    ASSERT_EQ(store_->DropDeadLetters(all).value(), 2);
    clock_.Advance(minutes(1));
    ASSERT_TRUE(watcher->Round());
    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    ASSERT_EQ(mailer_.Sent().size(), 3U);
    EXPECT_NE(LastMail().find("Subject: spacehook on portal: resolved: dead letters"), std::string::npos)
        << LastMail();
    EXPECT_TRUE(Status()["healthy"].get<bool>()) << Status().dump(2);
}

TEST_F(WatcherTest, ARefusedKeyIsToldAtOnceAndResolvedAfterARestartWithAGoodOne) {
    emulator::testing::Subscribe(*emu.api, kOwnerKey, "spacehook", receiver.url("/hook"), kFolderCreated);
    client_ = Client("sk-revoked-key");
    MetricsRegistry metrics;
    auto watcher = MakeWatcher(*store_, metrics, "host:1");
    ASSERT_TRUE(watcher->Round());
    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    ASSERT_EQ(mailer_.Sent().size(), 1U);
    EXPECT_NE(LastMail().find("FIRING API key refused: portal refuses the API key"), std::string::npos)
        << LastMail();
    const Json refused = Status();
    EXPECT_FALSE(refused["healthy"].get<bool>());
    EXPECT_EQ(refused["watch"]["portal"]["state"], "key_refused") << refused.dump(2);
    EXPECT_NE(Metrics(metrics).find("spacehook_subscription_up{state=\"unknown\"} 1"), std::string::npos);
    watcher->Stop();

    // The operator puts a good key in and restarts: the new process is told what was announced.
    client_ = Client(emu.emulator.ApiKeyOf("spacehook"));
    MetricsRegistry restarted;
    watcher = MakeWatcher(*store_, restarted, "host:2");
    clock_.Advance(minutes(20));
    ASSERT_TRUE(watcher->Round());
    ASSERT_TRUE(outbox_->WaitIdle(milliseconds(5000)));
    ASSERT_EQ(mailer_.Sent().size(), 2U);
    EXPECT_NE(LastMail().find("Subject: spacehook on portal: resolved: API key refused"), std::string::npos)
        << LastMail();
    EXPECT_TRUE(Status()["healthy"].get<bool>()) << Status().dump(2);
}

}  // namespace
}  // namespace spacehook::watch
