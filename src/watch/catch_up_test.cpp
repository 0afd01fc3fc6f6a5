// CatchUpWebhook against the emulator's webhook log over loopback and a real SQLite store: deliveries the
// sender gave up on are journaled once, marked recovered, oldest first, past a hundred rows; rows the
// journal has and another webhook's rows are left alone; the position survives a restart; a portal error
// loses nothing.
#include "watch/catch_up.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <future>

#include "docspace/client.hpp"
#include "emulator/emulator_test_support.hpp"
#include "ingress/envelope.hpp"

namespace spacehook::watch {
namespace {

using emulator::testing::kOwnerKey;
using std::chrono::milliseconds;

constexpr std::int64_t kFolderCreated = 32768;
constexpr char kClientRoom[] = "5";  // "Client ACME" in the default seed

emulator::Options QuickSender() {
    auto options = emulator::testing::RunningEmulator::FastOptions();
    options.retry_count = 1;  // a given-up delivery is two attempts: quick, and still a retry body
    return options;
}

class CatchUpTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/spacehook-catchup-XXXXXX";
        ASSERT_NE(mkdtemp(pattern), nullptr);
        dir_ = pattern;
        OpenStore();
        docspace::ClientOptions options;
        options.base_url = emu.emulator.base_url();
        options.api_key = emu.emulator.ApiKeyOf("spacehook");
        docspace::RateLimitOptions rate;
        rate.rate_per_second = 1000;
        rate.burst = 1000;
        client_ = std::make_unique<docspace::DocSpaceClient>(options,
                                                             std::make_shared<docspace::RateLimiter>(rate));
    }
    void TearDown() override {
        if (store_) store_->Close();
        std::filesystem::remove_all(dir_);
    }
    void OpenStore() {
        if (store_) store_->Close();
        auto opened = store::OpenStore("sqlite:" + dir_ + "/store.db", store::StoreOptions{}, clock_);
        ASSERT_TRUE(opened) << opened.error().message;
        store_ = std::move(*opened);
    }

    std::int64_t Subscribe(const std::string& name, const std::string& path = "/hook") {
        return emulator::testing::Subscribe(*emu.api, kOwnerKey, name, receiver.url(path), kFolderCreated);
    }
    void MakeFolders(int n, const std::string& prefix) {
        for (int i = 0; i < n; ++i) {
            const auto made = emu.api->Post(std::string("/api/2.0/files/folder/") + kClientRoom, kOwnerKey,
                                            Json{{"title", prefix + std::to_string(i)}});
            ASSERT_EQ(made.status, 200) << made.body;
        }
        ASSERT_TRUE(emu.emulator.WaitIdle(milliseconds(30000)));
    }
    CatchUpResult Pass(std::int64_t webhook) {
        CatchUpLimits limits;
        limits.settle = milliseconds(0);
        return CatchUpWebhook(*client_, *store_, *store_, *store_, webhook, limits, clock_);
    }
    std::vector<store::EventRecord> Events() {
        store::EventFilter all;
        all.limit = 10000;
        auto events = store_->ListEvents(all);
        EXPECT_TRUE(events) << events.error().message;
        return events ? *events : std::vector<store::EventRecord>{};
    }
    /// Journals what the receiver got on `path`, as the ingress does for a live delivery.
    void JournalLiveDeliveries(const std::string& path) {
        for (const auto& post : receiver.Posts()) {
            if (post.path != path) continue;
            auto envelope = ingress::ParseEnvelope(post.body);
            ASSERT_TRUE(envelope);
            auto promise = std::make_shared<std::promise<Result<store::AppendOutcome>>>();
            store_->Append(ingress::ToNewDelivery(*envelope, post.body, clock_.Now()),
                           [promise](Result<store::AppendOutcome> r) { promise->set_value(std::move(r)); });
            auto future = promise->get_future();
            ASSERT_EQ(future.wait_for(std::chrono::seconds(20)), std::future_status::ready);
            ASSERT_TRUE(future.get());
        }
    }

    emulator::testing::RunningEmulator emu{QuickSender()};
    emulator::testing::Receiver receiver;
    SystemClock clock_;
    std::string dir_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<docspace::DocSpaceClient> client_;
};

TEST_F(CatchUpTest, DeliveriesTheSenderGaveUpOnAreJournaledOncePastAHundredRows) {
    const auto ours = Subscribe("spacehook");
    EXPECT_EQ(Pass(ours).recovered, 0);  // an empty log: every row from now on is new
    emu.emulator.GiveUpDeliveries(130, 0, ours);
    MakeFolders(130, "Lost ");
    ASSERT_TRUE(receiver.Posts().empty());

    const auto pass = Pass(ours);
    ASSERT_FALSE(pass.error) << pass.error->message;
    EXPECT_EQ(pass.recovered, 130);
    EXPECT_EQ(pass.pages, 2);
    EXPECT_TRUE(pass.finished);
    ASSERT_TRUE(pass.oldest_recovered);
    const auto events = Events();
    ASSERT_EQ(events.size(), 130U);
    std::int64_t previous_id = std::numeric_limits<std::int64_t>::max();
    for (const auto& event : events) {  // newest seq first: the highest row id, published last
        EXPECT_TRUE(event.recovered);
        EXPECT_EQ(event.webhook_id, std::to_string(ours));
        EXPECT_EQ(event.trigger, "folder.created");
        const auto id = std::stoll(event.event_id);
        EXPECT_LT(id, previous_id);
        previous_id = id;
        // The body is the last one sent, the retry's, with the row's id as event.id.
        const Json body = Json::parse(event.body);
        EXPECT_EQ(body["event"]["id"], id);
        EXPECT_EQ(body["webhook"]["retryCount"], 1);
    }
    // Again: nothing new, whatever is re-read within the margin is found in the journal.
    const auto again = Pass(ours);
    EXPECT_EQ(again.recovered, 0);
    EXPECT_EQ(again.journaled, 130);
    EXPECT_EQ(Events().size(), 130U);
}

TEST_F(CatchUpTest, RowsTheJournalHasAndAnotherWebhooksRowsAreLeftAlone) {
    const auto ours = Subscribe("spacehook");
    Subscribe("someone-else", "/theirs");
    EXPECT_EQ(Pass(ours).recovered, 0);
    MakeFolders(3, "Arrived ");  // delivered to both receivers' paths
    // Two events, each lost by both webhooks (one give-up rule covers the four deliveries).
    emu.emulator.GiveUpDeliveries(4, 503, 0);
    MakeFolders(2, "Lost ");
    EXPECT_EQ(receiver.Posts().size(), 6U);
    // The live deliveries of ours reach the journal, as the ingress would have stored them.
    JournalLiveDeliveries("/hook");
    ASSERT_EQ(Events().size(), 3U);

    const auto pass = Pass(ours);
    ASSERT_FALSE(pass.error) << pass.error->message;
    EXPECT_EQ(pass.recovered, 2);
    EXPECT_EQ(pass.journaled, 3);
    const auto events = Events();
    ASSERT_EQ(events.size(), 5U);
    int recovered = 0;
    for (const auto& event : events) {
        EXPECT_EQ(event.webhook_id, std::to_string(ours));
        recovered += event.recovered ? 1 : 0;
    }
    EXPECT_EQ(recovered, 2);
}

TEST_F(CatchUpTest, ThePositionSurvivesARestartAndOnlyNewRowsAreRead) {
    const auto ours = Subscribe("spacehook");
    EXPECT_EQ(Pass(ours).recovered, 0);
    emu.emulator.GiveUpDeliveries(4, 0, ours);
    MakeFolders(4, "Before ");
    EXPECT_EQ(Pass(ours).recovered, 4);
    auto stored = store_->GetValue(CatchUpPositionName(ours));
    ASSERT_TRUE(stored && *stored);

    OpenStore();  // a restart: a new store object on the same file
    EXPECT_EQ(store_->GetValue(CatchUpPositionName(ours)).value(), *stored);
    emu.emulator.GiveUpDeliveries(3, 0, ours);
    MakeFolders(3, "After ");
    const auto pass = Pass(ours);
    EXPECT_EQ(pass.recovered, 3);
    EXPECT_EQ(pass.pages, 1);
    EXPECT_EQ(Events().size(), 7U);
}

TEST_F(CatchUpTest, APortalErrorLosesNothingAndTheNextPassGetsIt) {
    const auto ours = Subscribe("spacehook");
    EXPECT_EQ(Pass(ours).recovered, 0);
    emu.emulator.GiveUpDeliveries(5, 0, ours);
    MakeFolders(5, "Lost ");
    const auto before = store_->GetValue(CatchUpPositionName(ours)).value();

    emulator::FaultSpec outage;
    outage.status = 503;
    outage.count = 1;
    outage.path_prefix = "/api/2.0/settings/webhooks/log";
    emu.emulator.AddFault(outage);
    const auto failed = Pass(ours);
    ASSERT_TRUE(failed.error);
    EXPECT_TRUE(failed.error->IsTransient());
    EXPECT_EQ(failed.recovered, 0);
    EXPECT_EQ(store_->GetValue(CatchUpPositionName(ours)).value(), before);  // the position did not move

    const auto next = Pass(ours);
    ASSERT_FALSE(next.error) << next.error->message;
    EXPECT_EQ(next.recovered, 5);
    EXPECT_EQ(Events().size(), 5U);
}

}  // namespace
}  // namespace spacehook::watch
