// The webhook log and the enable endpoint over real HTTP, as DocSpace's WebhooksController and DbWorker
// answer them (docs/docspace-api.md §1.9, §1.13): paging newest first with `total`, every filter, what a
// row holds after success, failure and giving up, rows leaving with their config, enable probing again,
// and the control API's give-up and disable that tests of catch-up rely on.
#include <gtest/gtest.h>

#include <set>

#include "emulator/emulator_test_support.hpp"

namespace spacehook::emulator::testing {
namespace {

using std::chrono::milliseconds;

constexpr char kSecret[] = "s3cret-key!";
constexpr std::int64_t kFolderCreated = 32768;
constexpr std::int64_t kFolderUpdated = 65536;
constexpr char kLog[] = "/api/2.0/settings/webhooks/log";
constexpr char kClientRoom[] = "5";  // "Client ACME" in the default seed

class WebhookLogTest : public ::testing::Test {
protected:
    RunningEmulator emu;
    Api& api = *emu.api;
    Receiver receiver;

    /// A folder made by `key` in the client room: one folder.created event.
    Json MakeFolder(const std::string& title, const std::string& key = kOwnerKey) {
        const auto made =
            api.Post(std::string("/api/2.0/files/folder/") + kClientRoom, key, Json{{"title", title}});
        EXPECT_EQ(made.status, 200) << made.body;
        return made.response()["id"];
    }
    Answer Log(const std::string& query, const std::string& key = kOwnerKey) {
        return api.Get(std::string(kLog) + (query.empty() ? "" : "?" + query), key);
    }
    void Idle() { ASSERT_TRUE(emu.emulator.WaitIdle(milliseconds(10000))); }
};

std::vector<std::int64_t> Ids(const Answer& a) {
    std::vector<std::int64_t> ids;
    for (const auto& row : a.response()) ids.push_back(row["id"].get<std::int64_t>());
    return ids;
}

TEST_F(WebhookLogTest, PagesNewestFirstWithTheTotalOfAllMatches) {
    Subscribe(api, kOwnerKey, "log", receiver.url(), kFolderCreated);
    for (int i = 0; i < 5; ++i) MakeFolder("F" + std::to_string(i));
    Idle();
    const auto all = Log("");
    ASSERT_EQ(all.status, 200) << all.body;
    const auto ids = Ids(all);
    ASSERT_EQ(ids.size(), 5U);
    EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend()));  // newest (highest id) first
    EXPECT_EQ(all.json["total"], 5);
    const auto page = Log("count=2&startIndex=1");
    EXPECT_EQ(Ids(page), (std::vector<std::int64_t>{ids[1], ids[2]}));
    EXPECT_EQ(page.json["total"], 5);  // every match, not the page
    EXPECT_EQ(Log("startIndex=5").response().size(), 0U);
    // count is [Range(1, 100)]: outside it the model validation answers 400.
    for (const char* bad : {"count=0", "count=101", "count=x", "configId=abc", "eventId=1.5"}) {
        const auto refused = Log(bad);
        EXPECT_EQ(refused.status, 400) << bad;
        EXPECT_EQ(refused.json["statusCode"], 400) << bad;
    }
}

TEST_F(WebhookLogTest, RowIdIsTheEventIdAndRequestPayloadTheExactBody) {
    Subscribe(api, kOwnerKey, "exact", receiver.url(), kFolderCreated);
    MakeFolder("Exact");
    const auto posts = receiver.WaitPosts(1);
    ASSERT_EQ(posts.size(), 1U);
    Idle();
    const auto rows = Log("").response();
    ASSERT_EQ(rows.size(), 1U);
    const auto& row = rows[0];
    EXPECT_EQ(row["id"], posts[0].Parsed()["event"]["id"]);
    EXPECT_EQ(row["requestPayload"], posts[0].body);
    EXPECT_EQ(row["status"], 200);
    EXPECT_EQ(row["trigger"], kFolderCreated);
    EXPECT_EQ(row["configName"], "exact");
    EXPECT_TRUE(row.contains("delivery"));
    EXPECT_TRUE(row.contains("responseHeaders"));
    // The row has no method or route, and nulls are omitted.
    EXPECT_FALSE(row.contains("method"));
    EXPECT_FALSE(row.contains("route"));
    EXPECT_EQ(row["creationTime"].get<std::string>().back(), 'Z');
}

TEST_F(WebhookLogTest, AGivenUpDeliveryIsStatusZeroWithTheLastBodySent) {
    const auto id = Subscribe(api, kOwnerKey, "down", receiver.url(), kFolderCreated);
    ASSERT_EQ(api.Control("POST", "sender/give-up", Json{{"count", 2}, {"webhookId", id}}).status, 200);
    MakeFolder("Lost 1");
    MakeFolder("Lost 2");
    MakeFolder("Arrives");
    Idle();
    EXPECT_EQ(receiver.Posts().size(), 1U);    // only the third reached the receiver
    const auto failed = Log("groupStatus=1");  // NotSent: status 0
    ASSERT_EQ(failed.response().size(), 2U) << failed.body;
    for (const auto& row : failed.response()) {
        EXPECT_EQ(row["status"], 0);
        EXPECT_FALSE(row.contains("delivery"));
        EXPECT_FALSE(row.contains("responseHeaders"));
        EXPECT_NE(row["responsePayload"].get<std::string>().find("Connection refused"), std::string::npos);
        // The exact body of the last attempt: retry 5, with this row's id as event.id.
        const auto body = Json::parse(row["requestPayload"].get<std::string>());
        EXPECT_EQ(body["event"]["id"], row["id"]);
        EXPECT_EQ(body["webhook"]["retryCount"], 5);
    }
    EXPECT_EQ(Log("groupStatus=2").response().size(), 1U);
    EXPECT_EQ(Log("groupStatus=3").response().size(), 3U);
    EXPECT_EQ(Log("groupStatus=16").response().size(), 0U);
    const auto hooks = api.Get("/api/2.0/settings/webhook", kOwnerKey).response();
    ASSERT_EQ(hooks.size(), 1U);
    EXPECT_TRUE(hooks[0]["configs"].contains("lastFailureOn"));
    EXPECT_NE(hooks[0]["configs"]["lastFailureContent"].get<std::string>().find("Connection refused"),
              std::string::npos);
    EXPECT_EQ(hooks[0]["status"], 200);  // the status of the newest delivered row
}

TEST_F(WebhookLogTest, GroupStatusBucketsByHttpStatus) {
    Subscribe(api, kOwnerKey, "codes", receiver.url(), kFolderCreated);
    emu.emulator.GiveUpDeliveries(1, 503);
    MakeFolder("A");
    Idle();
    emu.emulator.GiveUpDeliveries(1, 404);
    MakeFolder("B");
    Idle();
    emu.emulator.GiveUpDeliveries(1, 302);
    MakeFolder("C");
    Idle();
    MakeFolder("D");
    Idle();
    auto statuses = [&](const std::string& query) {
        std::multiset<int> out;
        const auto answer = Log(query);
        for (const auto& row : answer.response()) out.insert(row["status"].get<int>());
        return out;
    };
    EXPECT_EQ(statuses("groupStatus=16"), (std::multiset<int>{503}));
    EXPECT_EQ(statuses("groupStatus=8"), (std::multiset<int>{404}));
    EXPECT_EQ(statuses("groupStatus=4"), (std::multiset<int>{302}));
    EXPECT_EQ(statuses("groupStatus=2"), (std::multiset<int>{200}));
    EXPECT_EQ(statuses("groupStatus=24"), (std::multiset<int>{404, 503}));
    EXPECT_EQ(statuses("groupStatus=0"), (std::multiset<int>{200, 302, 404, 503}));  // None: no filter
    // A 3xx is a failure: no redirect is followed, nothing is delivered.
    const auto redirects = Log("groupStatus=4");
    for (const auto& row : redirects.response()) EXPECT_FALSE(row.contains("delivery"));
}

TEST_F(WebhookLogTest, DeliveryDatesMatchOnlyDeliveredRows) {
    Subscribe(api, kOwnerKey, "dates", receiver.url(), kFolderCreated);
    emu.emulator.GiveUpDeliveries(1);
    MakeFolder("Never");
    MakeFolder("Delivered");
    Idle();
    const auto from = Log("deliveryFrom=2000-01-01T00:00:00Z");
    ASSERT_EQ(from.response().size(), 1U) << from.body;
    EXPECT_EQ(from.response()[0]["status"], 200);
    EXPECT_EQ(Log("deliveryTo=2200-01-01T00:00:00Z").response().size(), 1U);
    EXPECT_EQ(Log("deliveryFrom=2200-01-01T00:00:00Z").response().size(), 0U);
    EXPECT_EQ(Log("").response().size(), 2U);
}

TEST_F(WebhookLogTest, FiltersByConfigEventTriggerAndUri) {
    Receiver other;
    const auto a = Subscribe(api, kOwnerKey, "a", receiver.url(), kFolderCreated | kFolderUpdated);
    const auto b = Subscribe(api, kOwnerKey, "b", other.url(), kFolderCreated);
    const auto folder = MakeFolder("Named");
    ASSERT_EQ(api.Put("/api/2.0/files/folder/" + folder.dump(), kOwnerKey, Json{{"title", "Renamed"}}).status,
              200);
    Idle();
    EXPECT_EQ(Log("").json["total"], 3);
    EXPECT_EQ(Log("configId=" + std::to_string(a)).json["total"], 2);
    EXPECT_EQ(Log("configId=" + std::to_string(b)).json["total"], 1);
    EXPECT_EQ(Log("hookUri=" + other.url()).json["total"], 1);
    const auto newest = Ids(Log(""))[0];
    const auto one = Log("eventId=" + std::to_string(newest));
    EXPECT_EQ(Ids(one), std::vector<std::int64_t>{newest});
    // The trigger binds as the enum: its number or its member name, never the dotted name.
    EXPECT_EQ(Log("trigger=65536").json["total"], 1);
    EXPECT_EQ(Log("trigger=FolderUpdated").json["total"], 1);
    EXPECT_EQ(Log("trigger=foldercreated").json["total"], 2);
    EXPECT_EQ(Log("trigger=0").json["total"], 3);  // All: no filter
    EXPECT_EQ(Log("trigger=folder.updated").status, 400);
}

TEST_F(WebhookLogTest, UsersSeeTheRowsOfTheirOwnWebhooksOnly) {
    Receiver mine;
    Subscribe(api, kOwnerKey, "owner's", receiver.url(), kFolderCreated);
    Subscribe(api, kJaneKey, "jane's", mine.url(), kFolderCreated);
    MakeFolder("Seen by both");
    Idle();
    EXPECT_EQ(Log("").json["total"], 2);
    // userId filters by the webhook's creator; a non-admin's is forced to themself.
    EXPECT_EQ(Log(std::string("userId=") + kJaneId).json["total"], 1);
    const auto jane = Log(std::string("userId=") + kOwnerId, kJaneKey);
    ASSERT_EQ(jane.status, 200) << jane.body;
    EXPECT_EQ(jane.json["total"], 1);
    EXPECT_EQ(jane.response()[0]["configName"], "jane's");
    EXPECT_EQ(Log("", kGuestKey).status, 403);
}

TEST_F(WebhookLogTest, RowsLeaveWithTheirConfig) {
    const auto id = Subscribe(api, kOwnerKey, "gone", receiver.url(), kFolderCreated);
    MakeFolder("Before");
    Idle();
    EXPECT_EQ(Log("").json["total"], 1);
    ASSERT_EQ(api.Call("DELETE", "/api/2.0/settings/webhook/" + std::to_string(id), kOwnerKey).status, 200);
    EXPECT_EQ(Log("").json["total"], 0);
    EXPECT_EQ(api.Call("DELETE", "/api/2.0/settings/webhook/abc", kOwnerKey).status, 404);  // {id:int}
}

TEST_F(WebhookLogTest, GoneAfterTheRetriesDeletesTheWebhook) {
    Subscribe(api, kOwnerKey, "410", receiver.url(), kFolderCreated);
    receiver.SetPostScript({410});
    MakeFolder("Unwanted");
    Idle();
    EXPECT_EQ(receiver.Posts().size(), 6U);  // 410 is retried like any failure first
    EXPECT_EQ(api.Get("/api/2.0/settings/webhook", kOwnerKey).response().size(), 0U);
    EXPECT_EQ(Log("").json["total"], 0);
    EXPECT_EQ(emu.emulator.Counter("webhooks_deleted_gone"), 1);
}

TEST_F(WebhookLogTest, EnableProbesTheUrlAgain) {
    const auto id = Subscribe(api, kOwnerKey, "probe", receiver.url(), kFolderCreated);
    ASSERT_EQ(api.Control("POST", "webhooks/" + std::to_string(id) + "/disable").status, 200);
    EXPECT_EQ(api.Control("POST", "webhooks/999/disable").status, 404);
    auto hooks = api.Get("/api/2.0/settings/webhook", kOwnerKey).response();
    EXPECT_EQ(hooks[0]["configs"]["enabled"], false);
    MakeFolder("While disabled");
    Idle();
    EXPECT_EQ(Log("").json["total"], 0);  // a disabled webhook gets nothing, not even a row

    const Json enable = {{"id", id}, {"name", "probe"}, {"uri", receiver.url()}, {"enabled", true}};
    const int heads = receiver.heads();
    receiver.SetHeadStatus(503);
    const auto refused = api.Put("/api/2.0/settings/webhook/enable", kOwnerKey, enable);
    EXPECT_EQ(refused.status, 400);
    EXPECT_EQ(refused.json["error"]["message"],
              "Webhook URL is not available. HEAD request is not response 200 http status.");
    EXPECT_EQ(receiver.heads(), heads + 1);
    hooks = api.Get("/api/2.0/settings/webhook", kOwnerKey).response();
    EXPECT_EQ(hooks[0]["configs"]["enabled"], false);

    receiver.SetHeadStatus(200);
    const auto enabled = api.Put("/api/2.0/settings/webhook/enable", kOwnerKey, enable);
    ASSERT_EQ(enabled.status, 200) << enabled.body;
    EXPECT_EQ(enabled.response()["enabled"], true);
    EXPECT_EQ(receiver.heads(), heads + 2);
    // Disabling does not probe; other users' webhooks are refused, unknown ids are 404.
    Json disable = enable;
    disable["enabled"] = false;
    EXPECT_EQ(api.Put("/api/2.0/settings/webhook/enable", kOwnerKey, disable).status, 200);
    EXPECT_EQ(receiver.heads(), heads + 2);
    EXPECT_EQ(api.Put("/api/2.0/settings/webhook/enable", kJaneKey, enable).status, 403);
    Json unknown = enable;
    unknown["id"] = 999;
    EXPECT_EQ(api.Put("/api/2.0/settings/webhook/enable", kOwnerKey, unknown).status, 404);
}

TEST_F(WebhookLogTest, TheNameAndUriCheckComesAfterTheProbe) {
    Subscribe(api, kOwnerKey, "twice", receiver.url(), kFolderCreated);
    const Json again = {
        {"name", "twice"}, {"uri", receiver.url()}, {"secretKey", kSecret}, {"enabled", true}};
    receiver.SetHeadStatus(404);
    EXPECT_EQ(api.Post("/api/2.0/settings/webhook", kOwnerKey, again).json["error"]["message"],
              "Webhook URL is not available. HEAD request is not response 200 http status.");
    receiver.SetHeadStatus(200);
    EXPECT_EQ(api.Post("/api/2.0/settings/webhook", kOwnerKey, again).json["error"]["message"],
              "Webhook with the same name and payload URL already exists");
    // An update is not checked for the pair, and probes before it looks the id up.
    const int heads = receiver.heads();
    const auto missing = api.Put("/api/2.0/settings/webhook", kOwnerKey,
                                 Json{{"id", 999}, {"name", "twice"}, {"uri", receiver.url()}});
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(receiver.heads(), heads + 1);
}

TEST_F(WebhookLogTest, ValidatorMessagesAreThePortals) {
    auto message = [&](const std::string& uri, bool ssl) {
        return api
            .Post("/api/2.0/settings/webhook", kOwnerKey,
                  Json{{"name", "v"}, {"uri", uri}, {"secretKey", kSecret}, {"ssl", ssl}})
            .json["error"]["message"];
    };
    EXPECT_EQ(message("not a url", false), "Invalid URL format");
    EXPECT_EQ(message("ftp://example.com/x", false),
              "Invalid URL scheme: ftp. Only http and https are allowed");
    EXPECT_EQ(message(receiver.url(), true), "HTTPS is required");
    EXPECT_EQ(message("https://no-such-host.invalid/hook", true),
              "DNS resolution failed for no-such-host.invalid");
    EXPECT_EQ(api.Post("/api/2.0/settings/webhook", kOwnerKey,
                       Json{{"name", "v"}, {"uri", receiver.url()}, {"secretKey", "short"}})
                  .json["error"]["message"],
              "Password must contain from 8 to 30 characters, only latin letters, no spaces");
}

TEST_F(WebhookLogTest, AManualRetryKeepsTheEventsTimeAndAuthor) {
    Subscribe(api, kOwnerKey, "again", receiver.url(), kFolderCreated);
    MakeFolder("Once", kRoomAdminKey);
    ASSERT_EQ(receiver.WaitPosts(1).size(), 1U);
    Idle();
    const auto first = Log("").response()[0];
    const auto retried =
        api.Put("/api/2.0/settings/webhook/" + first["id"].dump() + "/retry", kOwnerKey, Json::object());
    ASSERT_EQ(retried.status, 200) << retried.body;
    const auto posts = receiver.WaitPosts(2);
    ASSERT_EQ(posts.size(), 2U);
    const auto original = posts[0].Parsed();
    const auto again = posts[1].Parsed();
    EXPECT_EQ(again["event"]["id"], retried.response()["id"]);
    EXPECT_NE(again["event"]["id"], original["event"]["id"]);
    EXPECT_EQ(again["event"]["createOn"], original["event"]["createOn"]);
    EXPECT_EQ(again["event"]["createBy"],
              original["event"]["createBy"]);  // rachel, not the owner who retried
    EXPECT_EQ(again["payload"], original["payload"]);
    EXPECT_EQ(api.Put("/api/2.0/settings/webhook/0/retry", kOwnerKey, Json::object()).status, 400);
    EXPECT_EQ(api.Put("/api/2.0/settings/webhook/" + first["id"].dump() + "/retry", kJaneKey, Json::object())
                  .status,
              403);
}

}  // namespace
}  // namespace spacehook::emulator::testing
