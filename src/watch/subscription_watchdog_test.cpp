// CheckSubscription against the emulator over loopback: a webhook the portal disabled is enabled again
// (the portal probes it), triggers follow the rules, a deleted webhook is recreated when its URL is known
// and reported otherwise, other webhooks are never touched, and a refused key or an unreachable portal
// are told apart.
#include "watch/subscription_watchdog.hpp"

#include <gtest/gtest.h>

#include "docspace/client.hpp"
#include "docspace/names.hpp"
#include "emulator/emulator_test_support.hpp"

namespace spacehook::watch {
namespace {

using emulator::testing::kOwnerKey;

const std::int64_t kFileCreated = *docspace::TriggerBit("file.created");
const std::int64_t kFileUploaded = *docspace::TriggerBit("file.uploaded");

class WatchdogTest : public ::testing::Test {
protected:
    emulator::testing::RunningEmulator emu;
    emulator::testing::Receiver receiver;

    std::unique_ptr<docspace::DocSpaceClient> Client(std::string key = {}) {
        docspace::ClientOptions options;
        options.base_url = emu.emulator.base_url();
        options.api_key = key.empty() ? emu.emulator.ApiKeyOf("spacehook") : key;
        docspace::RateLimitOptions rate;
        rate.rate_per_second = 1000;
        rate.burst = 1000;
        return std::make_unique<docspace::DocSpaceClient>(options,
                                                          std::make_shared<docspace::RateLimiter>(rate));
    }
    std::int64_t Subscribe(const std::string& name, const std::string& path, std::int64_t triggers) {
        return emulator::testing::Subscribe(*emu.api, kOwnerKey, name, receiver.url(path), triggers);
    }
    WatchdogOptions Options(std::string url = {}) {
        WatchdogOptions options;
        options.url = std::move(url);
        options.secret = "watchdog-Secret-1";
        options.triggers = kFileCreated;
        return options;
    }
    Json Hook(std::int64_t id) {
        const Json state = emu.emulator.State();
        for (const auto& hook : state["webhooks"]) {
            if (hook["id"] == id) return hook;
        }
        return nullptr;
    }
};

TEST_F(WatchdogTest, ADisabledWebhookIsEnabledAgainAndOthersAreLeftAlone) {
    const auto ours = Subscribe("spacehook", "/hook", kFileCreated);
    const auto theirs = Subscribe("someone-else", "/theirs", kFileCreated);
    ASSERT_TRUE(emu.emulator.DisableWebhook(ours));
    ASSERT_TRUE(emu.emulator.DisableWebhook(theirs));
    const int heads = receiver.heads();

    auto client = Client();
    const auto check = CheckSubscription(*client, Options());
    EXPECT_EQ(check.reach, PortalReach::kReachable);
    EXPECT_EQ(check.state, SubscriptionState::kEnabled);
    ASSERT_EQ(check.webhooks.size(), 1U);
    const auto& hook = check.webhooks[0];
    EXPECT_EQ(hook.config.id, ours);
    EXPECT_TRUE(hook.was_disabled);
    EXPECT_TRUE(hook.config.enabled);
    EXPECT_EQ(hook.repairs, (std::vector<std::string>{"re-enabled"}));
    EXPECT_TRUE(hook.problem.empty()) << hook.problem;
    EXPECT_EQ(Hook(ours)["enabled"], true);
    EXPECT_EQ(Hook(theirs)["enabled"], false);
    EXPECT_EQ(receiver.heads(), heads + 1);  // enabling probes the URL again

    // Nothing to do the second time: no call that changes anything.
    const auto changes = emu.emulator.Counter("webhooks_enabled_changes");
    const auto again = CheckSubscription(*client, Options());
    ASSERT_EQ(again.webhooks.size(), 1U);
    EXPECT_TRUE(again.webhooks[0].repairs.empty());
    EXPECT_EQ(emu.emulator.Counter("webhooks_enabled_changes"), changes);
}

TEST_F(WatchdogTest, TriggersTheRulesNeedAreAddedInOneUpdateThatAlsoEnables) {
    const auto ours = Subscribe("spacehook", "/hook", kFileCreated);
    ASSERT_TRUE(emu.emulator.DisableWebhook(ours));
    auto options = Options();
    options.triggers = kFileUploaded;
    auto client = Client();
    const auto check = CheckSubscription(*client, options);
    ASSERT_EQ(check.webhooks.size(), 1U);
    EXPECT_EQ(
        check.webhooks[0].repairs,
        (std::vector<std::string>{"triggers: file.created -> file.created, file.uploaded", "re-enabled"}));
    EXPECT_EQ(Hook(ours)["triggers"], kFileCreated | kFileUploaded);  // added, none taken away
    EXPECT_EQ(Hook(ours)["enabled"], true);
    EXPECT_EQ(emu.emulator.Counter("webhooks_updated"), 1);
    // It has every trigger the rules need: left as it is, as it is without enabled rules.
    options.triggers = kFileCreated;
    EXPECT_TRUE(CheckSubscription(*client, options).webhooks[0].repairs.empty());
    options.triggers.reset();
    EXPECT_TRUE(CheckSubscription(*client, options).webhooks[0].repairs.empty());
    // A rule listening to every trigger makes it all (0).
    options.triggers = 0;
    EXPECT_EQ(CheckSubscription(*client, options).webhooks[0].repairs,
              (std::vector<std::string>{"triggers: file.created, file.uploaded -> *"}));
    EXPECT_EQ(Hook(ours)["triggers"], 0);
    // Subscribed to all, it has everything.
    options.triggers = kFileCreated;
    EXPECT_TRUE(CheckSubscription(*client, options).webhooks[0].repairs.empty());
    EXPECT_EQ(emu.emulator.Counter("webhooks_updated"), 2);
}

TEST_F(WatchdogTest, ADeletedWebhookIsRecreatedWhenItsUrlIsKnownAndReportedOtherwise) {
    const auto ours = Subscribe("spacehook", "/hook", kFileCreated);
    ASSERT_EQ(emu.api->Call("DELETE", "/api/2.0/settings/webhook/" + std::to_string(ours), kOwnerKey).status,
              200);
    auto client = Client();

    const auto unknown_url = CheckSubscription(*client, Options());
    EXPECT_EQ(unknown_url.state, SubscriptionState::kMissing);
    EXPECT_TRUE(unknown_url.webhooks.empty());
    EXPECT_NE(unknown_url.missing_reason.find("set subscription.url"), std::string::npos)
        << unknown_url.missing_reason;

    auto look_only = Options(receiver.url("/hook"));
    look_only.keep_alive = false;
    EXPECT_EQ(CheckSubscription(*client, look_only).state, SubscriptionState::kMissing);
    EXPECT_EQ(emu.emulator.Counter("webhooks_created"), 1);

    const auto recreated = CheckSubscription(*client, Options(receiver.url("/hook")));
    EXPECT_EQ(recreated.state, SubscriptionState::kEnabled);
    ASSERT_EQ(recreated.webhooks.size(), 1U);
    EXPECT_TRUE(recreated.webhooks[0].recreated);
    EXPECT_NE(recreated.webhooks[0].config.id, ours);
    EXPECT_EQ(recreated.webhooks[0].config.triggers, kFileCreated);
    EXPECT_EQ(emu.emulator.Counter("webhooks_created"), 2);
}

TEST_F(WatchdogTest, ARecreateThePortalRefusesIsReported) {
    receiver.SetHeadStatus(404);  // the portal's HEAD probe fails (docs/docspace-api.md §1.10)
    auto client = Client();
    const auto check = CheckSubscription(*client, Options(receiver.url("/hook")));
    EXPECT_EQ(check.state, SubscriptionState::kMissing);
    EXPECT_NE(check.missing_reason.find("recreating it failed"), std::string::npos) << check.missing_reason;
    EXPECT_NE(check.missing_reason.find("HEAD"), std::string::npos) << check.missing_reason;
}

TEST_F(WatchdogTest, ARefusedKeyAndAnUnreachablePortalAreToldApart) {
    auto refused = Client("sk-not-a-key");
    const auto key = CheckSubscription(*refused, Options());
    EXPECT_EQ(key.reach, PortalReach::kKeyRefused);
    EXPECT_EQ(key.state, SubscriptionState::kUnknown);
    EXPECT_FALSE(key.portal_error.empty());

    emulator::FaultSpec outage;
    outage.status = 503;
    outage.count = 0;
    emu.emulator.AddFault(outage);
    auto client = Client();
    const auto down = CheckSubscription(*client, Options());
    EXPECT_EQ(down.reach, PortalReach::kUnreachable);
    EXPECT_EQ(down.state, SubscriptionState::kUnknown);
}

}  // namespace
}  // namespace spacehook::watch
