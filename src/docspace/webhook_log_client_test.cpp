// DocSpaceClient::ReadWebhookLog against the emulator over loopback (docs/docspace-api.md §1.13): one
// webhook's rows newest first with the envelope's total, what a delivered row and a given-up row hold,
// and paging by startIndex.
#include <gtest/gtest.h>

#include "docspace/client.hpp"
#include "emulator/emulator_test_support.hpp"

namespace spacehook::docspace {
namespace {

using emulator::testing::kOwnerKey;
using std::chrono::milliseconds;

constexpr std::int64_t kFolderCreated = 32768;
constexpr char kClientRoom[] = "5";  // "Client ACME" in the default seed

class WebhookLogClientTest : public ::testing::Test {
protected:
    emulator::testing::RunningEmulator emu;
    emulator::testing::Receiver receiver;

    DocSpaceClient Client() {
        ClientOptions options;
        options.base_url = emu.emulator.base_url();
        options.api_key = emu.emulator.ApiKeyOf("spacehook");
        RateLimitOptions rate;
        rate.rate_per_second = 1000;
        rate.burst = 1000;
        return DocSpaceClient(options, std::make_shared<RateLimiter>(rate));
    }
    void MakeFolder(const std::string& title) {
        const auto made = emu.api->Post(std::string("/api/2.0/files/folder/") + kClientRoom, kOwnerKey,
                                        Json{{"title", title}});
        ASSERT_EQ(made.status, 200) << made.body;
    }
};

TEST_F(WebhookLogClientTest, ReadsOneWebhooksRowsNewestFirstWithTheirState) {
    const auto ours =
        emulator::testing::Subscribe(*emu.api, kOwnerKey, "spacehook", receiver.url(), kFolderCreated);
    const auto other =
        emulator::testing::Subscribe(*emu.api, kOwnerKey, "other", receiver.url("/other"), kFolderCreated);
    emu.emulator.GiveUpDeliveries(1, 0, ours);
    MakeFolder("Lost");
    MakeFolder("Arrives");
    ASSERT_TRUE(emu.emulator.WaitIdle(milliseconds(10000)));

    auto client = Client();
    WebhookLogQuery query;
    query.config_id = ours;
    auto page = client.ReadWebhookLog(query);
    ASSERT_TRUE(page) << page.error().message;
    EXPECT_EQ(page->total, 2);
    ASSERT_EQ(page->rows.size(), 2U);
    const auto& arrived = page->rows[0];  // newest first
    const auto& lost = page->rows[1];
    EXPECT_GT(arrived.id, lost.id);
    EXPECT_EQ(arrived.config_name, "spacehook");
    EXPECT_EQ(arrived.trigger, kFolderCreated);
    EXPECT_EQ(arrived.status, 200);
    EXPECT_TRUE(arrived.finished);
    EXPECT_TRUE(arrived.delivered_at.has_value());
    ASSERT_TRUE(arrived.created_at.has_value());
    EXPECT_LE(*arrived.created_at, *arrived.delivered_at);
    EXPECT_EQ(Json::parse(arrived.request_payload)["event"]["id"], arrived.id);
    // Given up: nothing answered, finished all the same, never delivered; the last body went out as retry 5.
    EXPECT_EQ(lost.status, 0);
    EXPECT_TRUE(lost.finished);
    EXPECT_FALSE(lost.delivered_at.has_value());
    EXPECT_EQ(Json::parse(lost.request_payload)["webhook"]["retryCount"], 5);

    // Paging: one row a page, the total of every match each time; the other webhook's rows apart.
    query.count = 1;
    query.start_index = 1;
    auto second = client.ReadWebhookLog(query);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->total, 2);
    ASSERT_EQ(second->rows.size(), 1U);
    EXPECT_EQ(second->rows[0].id, lost.id);
    query = WebhookLogQuery{};
    query.config_id = other;
    auto theirs = client.ReadWebhookLog(query);
    ASSERT_TRUE(theirs) << theirs.error().message;
    ASSERT_EQ(theirs->rows.size(), 2U);
    for (const auto& row : theirs->rows) EXPECT_EQ(row.config_name, "other");
}

TEST_F(WebhookLogClientTest, AQueryThePortalRefusesIsAnError) {
    auto client = Client();
    WebhookLogQuery query;
    query.count = 101;  // [Range(1, 100)]
    auto refused = client.ReadWebhookLog(query);
    ASSERT_FALSE(refused);
    EXPECT_FALSE(refused.error().IsTransient());
    emulator::FaultSpec outage;
    outage.status = 503;
    emu.emulator.AddFault(outage);
    auto unavailable = client.ReadWebhookLog(WebhookLogQuery{});
    ASSERT_FALSE(unavailable);
    EXPECT_TRUE(unavailable.error().IsTransient());
}

}  // namespace
}  // namespace spacehook::docspace
