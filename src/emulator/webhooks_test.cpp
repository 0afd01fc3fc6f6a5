// Webhook subscription and delivery over real HTTP (docs/docspace-api.md §1): the HEAD probe and the portal's
// checks, signed bodies, event pairs, filters, the journal, manual retries, 410 and the retry schedule.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "core/hmac_sha256.hpp"
#include "emulator/emulator_test_support.hpp"

namespace spacehook::emulator::testing {
namespace {

using std::chrono::milliseconds;

constexpr char kSecret[] = "s3cret-key!";
constexpr std::int64_t kFileCreated = 128;
constexpr std::int64_t kFileUploaded = 256;
constexpr std::int64_t kFileUpdated = 512;
constexpr std::int64_t kFolderUpdated = 65536;
constexpr std::int64_t kRoomCreated = 4194304;

std::string S(const Json& id) {
    return id.is_string() ? id.get<std::string>() : id.dump();
}

bool SignatureValid(const Received& r) {
    const auto header = r.Header("x-docspace-signature-256");
    return header == "sha256=" + HmacSha256Hex(kSecret, r.body, true);
}

std::vector<std::string> Triggers(const std::vector<Received>& posts) {
    std::vector<std::string> out;
    out.reserve(posts.size());
    for (const auto& p : posts) out.push_back(p.Parsed()["event"]["trigger"]);
    return out;
}

class WebhooksTest : public ::testing::Test {
protected:
    RunningEmulator emu;
    Api& api = *emu.api;
    Receiver receiver;
};

TEST_F(WebhooksTest, RoomCreatedIsSignedAndShapedAsOnTheWire) {
    Subscribe(api, kRoomAdminKey, "rooms", receiver.url(), kRoomCreated);
    EXPECT_EQ(receiver.heads(), 1);  // probed with HEAD on create
    const auto room =
        api.Post("/api/2.0/files/rooms", kRoomAdminKey, Json{{"title", "Client &Ж'"}, {"roomType", 2}});
    const auto posts = receiver.WaitPosts(1);
    ASSERT_EQ(posts.size(), 1U);
    const auto& p = posts[0];
    EXPECT_TRUE(SignatureValid(p));
    const auto sig = p.Header("x-docspace-signature-256");
    EXPECT_EQ(sig, "sha256=" + HmacSha256Hex(kSecret, p.body, true));
    EXPECT_EQ(sig.substr(7).find_first_of("abcdef"), std::string::npos);  // upper-case hex
    EXPECT_EQ(p.Header("accept"), "*/*");
    EXPECT_EQ(p.Header("content-type"), "application/json; charset=utf-8");
    EXPECT_EQ(p.Header("user-agent"), "");
    // Compact, ordered, STJ-escaped.
    EXPECT_EQ(p.body.rfind(R"({"event":{"id":)", 0), 0U);
    EXPECT_LT(p.body.find(R"(,"payload":{)"), p.body.find(R"(,"webhook":{)"));
    // "<" and ">" are not allowed in titles (the portal stores "_"); "&" and "'" are, and STJ escapes them.
    EXPECT_NE(p.body.find(R"("title":"Client \u0026\u0416\u0027")"), std::string::npos);
    EXPECT_EQ(p.body.find(' '), p.body.find("Client") + 6);  // the only space is inside the title
    const auto body = p.Parsed();
    EXPECT_EQ(body["event"]["trigger"], "room.created");
    EXPECT_EQ(body["event"]["triggerId"], kRoomCreated);
    EXPECT_EQ(body["event"]["createBy"], emu.emulator.UserIdOf("rachel.admin"));
    EXPECT_EQ(body["event"]["createOn"].get<std::string>().size(), 20U);  // second precision, Z
    EXPECT_EQ(body["payload"]["id"], room.response()["id"]);
    EXPECT_EQ(body["payload"]["rootId"], emu.emulator.rooms_root_id().ToJson());
    EXPECT_EQ(body["payload"]["parentId"], emu.emulator.rooms_root_id().ToJson());
    EXPECT_FALSE(body["payload"].contains("roomType"));
    EXPECT_EQ(body["webhook"]["triggers"], Json::array({"room.created"}));
    EXPECT_EQ(body["webhook"]["url"], receiver.url());
}

TEST_F(WebhooksTest, SubscriptionChecks) {
    const std::string hooks = "/api/2.0/settings/webhook";
    auto create = [&](const std::string& key, Json body) { return api.Post(hooks, key, body); };
    Json base = {{"name", "a"}, {"uri", receiver.url()}, {"secretKey", kSecret}, {"enabled", true}};
    // HEAD answered non-2xx -> 400; nobody listening -> 500 (docs/docspace-api.md §1.10).
    receiver.SetHeadStatus(404);
    auto a = create(kOwnerKey, base);
    EXPECT_EQ(a.status, 400);
    EXPECT_EQ(a.json["error"]["message"],
              "Webhook URL is not available. HEAD request is not response 200 http status.");
    receiver.SetHeadStatus(200);
    Json refused = base;
    refused["uri"] = "http://127.0.0.1:9/hook";
    EXPECT_EQ(create(kOwnerKey, refused).status, 500);
    // A plain user may not subscribe to user.created (available to A and R only).
    Json users = base;
    users["name"] = "users";
    users["triggers"] = 1;
    EXPECT_EQ(create(kJaneKey, users).json["error"]["message"], "Trigger is not available");
    EXPECT_EQ(create(kRoomAdminKey, users).status, 200);
    // Secret policy: 8-30 printable ASCII without spaces.
    for (const std::string& secret :
         std::vector<std::string>{"short", "has space inside", std::string(31, 'x'), ""}) {
        Json bad = base;
        bad["name"] = "secret-" + std::to_string(secret.size());
        bad["secretKey"] = secret;
        EXPECT_EQ(create(kOwnerKey, bad).status, 400) << secret;
    }
    // Same name + uri.
    EXPECT_EQ(create(kOwnerKey, base).status, 200);
    EXPECT_EQ(create(kOwnerKey, base).json["error"]["message"],
              "Webhook with the same name and payload URL already exists");
    // Guests cannot manage webhooks; model checks are validation problems.
    EXPECT_EQ(create(kGuestKey, Json{{"name", "g"}, {"uri", receiver.url()}, {"secretKey", kSecret}}).status,
              403);
    EXPECT_EQ(create(kOwnerKey, Json{{"uri", receiver.url()}, {"secretKey", kSecret}}).json["statusCode"],
              400);
    // Jane sees only her own; the owner sees all.
    EXPECT_EQ(api.Get(hooks, kJaneKey).response().size(), 0U);
    const auto all = api.Get(hooks, kOwnerKey);
    ASSERT_EQ(all.response().size(), 2U);
    EXPECT_TRUE(all.response()[0]["configs"].contains("uri"));
    EXPECT_FALSE(all.response()[0]["configs"].contains("secretKey"));
    EXPECT_EQ(all.response()[0]["status"], 0);
}

TEST_F(WebhooksTest, SsrfGuardRefusesLoopbackAndPlainHttpWithSsl) {
    Options options = RunningEmulator::FastOptions();
    options.ssrf_guard = true;
    RunningEmulator guarded(options);
    // A literal IP is judged as written; a host name by what it resolves to (UrlValidator's two messages).
    const auto a = guarded.api->Post("/api/2.0/settings/webhook", kOwnerKey,
                                     Json{{"name", "x"}, {"uri", receiver.url()}, {"secretKey", kSecret}});
    EXPECT_EQ(a.status, 400);
    EXPECT_EQ(a.json["error"]["message"], "URL host is in the blacklist");
    std::string by_name = receiver.url();
    by_name.replace(by_name.find("127.0.0.1"), 9, "localhost");
    const auto named = guarded.api->Post("/api/2.0/settings/webhook", kOwnerKey,
                                         Json{{"name", "x"}, {"uri", by_name}, {"secretKey", kSecret}});
    EXPECT_EQ(named.status, 400);
    EXPECT_EQ(named.json["error"]["message"], "URL resolves to a blacklisted IP address");
    const auto ssl = guarded.api->Post(
        "/api/2.0/settings/webhook", kOwnerKey,
        Json{{"name", "y"}, {"uri", "http://hooks.example.com/x"}, {"secretKey", kSecret}, {"ssl", true}});
    EXPECT_EQ(ssl.status, 400);
    EXPECT_EQ(ssl.json["error"]["message"], "HTTPS is required");
}

TEST_F(WebhooksTest, PutIsAFullReplace) {
    const auto id = Subscribe(api, kOwnerKey, "full", receiver.url(), kFileCreated, "42");
    const auto put = api.Put("/api/2.0/settings/webhook", kOwnerKey,
                             Json{{"id", id}, {"name", "full"}, {"uri", receiver.url()}});
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(put.response()["enabled"], false);  // omitted -> false
    EXPECT_EQ(put.response()["triggers"], 0);     // omitted -> All
    EXPECT_FALSE(put.response().contains("targetId"));
    // Enabling probes again and keeps the secret.
    const int heads = receiver.heads();
    const auto enabled =
        api.Put("/api/2.0/settings/webhook/enable", kOwnerKey,
                Json{{"id", id}, {"enabled", true}, {"name", "full"}, {"uri", receiver.url()}});
    ASSERT_EQ(enabled.status, 200) << enabled.body;
    EXPECT_EQ(receiver.heads(), heads + 1);
    ASSERT_TRUE(emu.emulator.UploadFile(
        {"rachel.admin", EntityId::Parse(S(IdOf(emu.emulator.State(), "Incoming"))), "x.docx", 10, true}));
    const auto posts = receiver.WaitPosts(1);
    ASSERT_EQ(posts.size(), 1U);
    EXPECT_TRUE(SignatureValid(posts[0]));  // the old secret still signs
    EXPECT_EQ(posts[0].Parsed()["webhook"]["triggers"], Json::array({"*"}));
    const auto removed = api.Call("DELETE", "/api/2.0/settings/webhook/" + std::to_string(id), kOwnerKey);
    EXPECT_EQ(removed.response()["id"], id);
    EXPECT_EQ(api.Get("/api/2.0/settings/webhook", kOwnerKey).response().size(), 0U);
}

TEST_F(WebhooksTest, TriggerBitmaskAndExactTargetFilter) {
    const auto state = emu.emulator.State();
    const auto incoming = S(IdOf(state, "Incoming"));
    Receiver target_receiver;
    Subscribe(api, kOwnerKey, "files", receiver.url(), kFileCreated);
    Subscribe(api, kOwnerKey, "watch", target_receiver.url(), kFolderUpdated, incoming);
    // A rename of the target folder reaches only the target config, with webhook.target.
    api.Put("/api/2.0/files/folder/" + incoming, kOwnerKey, Json{{"title", "Inbox"}});
    // A rename of another folder reaches nobody; a file created inside the target folder is not the target.
    api.Put("/api/2.0/files/folder/" + S(IdOf(state, "Archive 2025")), kOwnerKey, Json{{"title", "Old"}});
    ASSERT_TRUE(emu.emulator.UploadFile({"owner", EntityId::Parse(incoming), "in.docx", 10, false}));
    ASSERT_TRUE(emu.emulator.WaitIdle(milliseconds(5000)));
    const auto targeted = target_receiver.Posts();
    ASSERT_EQ(targeted.size(), 1U);
    const auto body = targeted[0].Parsed();
    EXPECT_EQ(body["event"]["trigger"], "folder.updated");
    EXPECT_EQ(body["webhook"]["target"], Json({{"id", IdOf(state, "Incoming")}, {"type", "folder"}}));
    EXPECT_EQ(Triggers(receiver.Posts()), std::vector<std::string>{"file.created"});
}

TEST_F(WebhooksTest, UploadsAndCopyAsFireTheirEventPairs) {
    Subscribe(api, kOwnerKey, "files", receiver.url(), kFileCreated | kFileUploaded | kFileUpdated);
    const auto state = emu.emulator.State();
    const auto incoming = EntityId::Parse(S(IdOf(state, "Incoming")));
    // Simple upload: file.created then file.uploaded for one id; chunked: only file.uploaded (§1.12).
    const auto simple = emu.emulator.UploadFile({"jane.doe", incoming, "a.docx", 10, false});
    ASSERT_FALSE(simple.has_value());  // an editor may not upload
    const auto up = emu.emulator.UploadFile({"rachel.admin", incoming, "a.docx", 10, false});
    ASSERT_TRUE(up) << up.error().message;
    ASSERT_TRUE(emu.emulator.WaitIdle(milliseconds(5000)));
    auto posts = receiver.Posts();
    ASSERT_EQ(posts.size(), 2U);
    std::multiset<std::string> kinds;
    for (const auto& p : posts) {
        kinds.insert(p.Parsed()["event"]["trigger"]);
        EXPECT_EQ(p.Parsed()["payload"]["id"], (*up)["id"]);
    }
    EXPECT_EQ(kinds, (std::multiset<std::string>{"file.created", "file.uploaded"}));
    ASSERT_TRUE(emu.emulator.UploadFile({"rachel.admin", incoming, "b.docx", 10, true}));
    // copyas: same extension -> file.created; conversion -> file.created + file.uploaded.
    const auto src = S((*up)["id"]);
    const auto same = api.Post("/api/2.0/files/file/" + src + "/copyas", kRoomAdminKey,
                               Json{{"destTitle", "same.docx"}, {"destFolderId", (*up)["folderId"]}});
    const auto conv = api.Post("/api/2.0/files/file/" + src + "/copyas", kRoomAdminKey,
                               Json{{"destTitle", "conv.pdf"}, {"destFolderId", (*up)["folderId"]}});
    // An editor save.
    ASSERT_TRUE(emu.emulator.EditFile("jane.doe", EntityId::Parse(src)));
    ASSERT_TRUE(emu.emulator.WaitIdle(milliseconds(5000)));
    posts = receiver.Posts();
    std::map<std::string, std::multiset<std::string>> per_id;
    for (const auto& p : posts) per_id[S(p.Parsed()["payload"]["id"])].insert(p.Parsed()["event"]["trigger"]);
    EXPECT_EQ(per_id[S(same.response()["id"])], (std::multiset<std::string>{"file.created"}));
    EXPECT_EQ(per_id[S(conv.response()["id"])],
              (std::multiset<std::string>{"file.created", "file.uploaded"}));
    EXPECT_EQ(per_id[src], (std::multiset<std::string>{"file.created", "file.updated", "file.uploaded"}));
    EXPECT_EQ(posts.size(), 7U);
    EXPECT_EQ(api.Get("/api/2.0/files/file/" + src, kOwnerKey).response()["version"], 2);
}

TEST_F(WebhooksTest, RetriesFollowTheBackoffAndAreResigned) {
    Options options = RunningEmulator::FastOptions();
    options.retry_base_seconds = 0.04;
    RunningEmulator slow(options);
    receiver.SetPostScript({503, 503, 503, 200});
    Subscribe(*slow.api, kOwnerKey, "retry", receiver.url(), kRoomCreated);
    slow.api->Post("/api/2.0/files/rooms", kOwnerKey, Json{{"title", "R"}, {"roomType", 5}});
    const auto posts = receiver.WaitPosts(4);
    ASSERT_EQ(posts.size(), 4U);
    const std::int64_t waits[] = {40, 80, 160};
    for (std::size_t i = 1; i < posts.size(); ++i) {
        const auto gap = std::chrono::duration_cast<milliseconds>(posts[i].at - posts[i - 1].at).count();
        EXPECT_GE(gap, waits[i - 1] - 5) << i;
        EXPECT_LT(gap, waits[i - 1] + 200) << i;
        const auto body = posts[i].Parsed();
        EXPECT_EQ(body["webhook"]["retryCount"], static_cast<int>(i));
        EXPECT_EQ(body["event"]["id"], posts[0].Parsed()["event"]["id"]);
        EXPECT_EQ(body["event"]["createOn"], posts[0].Parsed()["event"]["createOn"]);
        EXPECT_TRUE(SignatureValid(posts[i]));
        EXPECT_NE(posts[i].Header("x-docspace-signature-256"),
                  posts[i - 1].Header("x-docspace-signature-256"));
    }
    ASSERT_TRUE(slow.emulator.WaitIdle(milliseconds(5000)));
    EXPECT_EQ(receiver.Posts().size(), 4U);  // the 2xx ended it
}

TEST_F(WebhooksTest, FinalGoneDeletesTheSubscription) {
    receiver.SetPostScript({410});
    Subscribe(api, kOwnerKey, "gone", receiver.url(), kRoomCreated);
    api.Post("/api/2.0/files/rooms", kOwnerKey, Json{{"title", "R"}, {"roomType", 5}});
    EXPECT_EQ(receiver.WaitPosts(6).size(), 6U);
    ASSERT_TRUE(emu.emulator.WaitIdle(milliseconds(5000)));
    EXPECT_EQ(api.Get("/api/2.0/settings/webhook", kOwnerKey).response().size(), 0U);
    EXPECT_EQ(emu.emulator.Counter("webhooks_deleted_gone"), 1);
}

TEST_F(WebhooksTest, JournalAndManualRetry) {
    const auto id = Subscribe(api, kOwnerKey, "log", receiver.url(), kRoomCreated);
    api.Post("/api/2.0/files/rooms", kOwnerKey, Json{{"title", "R"}, {"roomType", 5}});
    const auto first = receiver.WaitPosts(1);
    ASSERT_TRUE(emu.emulator.WaitIdle(milliseconds(5000)));
    const auto log = api.Get("/api/2.0/settings/webhooks/log?configId=" + std::to_string(id), kOwnerKey);
    ASSERT_EQ(log.status, 200) << log.body;
    EXPECT_EQ(log.json["total"], 1);
    const auto& entry = log.response()[0];
    EXPECT_EQ(entry["requestPayload"], first[0].body);  // the exact body sent
    EXPECT_EQ(entry["status"], 200);
    EXPECT_EQ(entry["trigger"], kRoomCreated);
    EXPECT_EQ(Json::parse(entry["requestHeaders"].get<std::string>())["x-docspace-signature-256"][0],
              first[0].Header("x-docspace-signature-256"));
    const auto retried =
        api.Put("/api/2.0/settings/webhook/" + S(entry["id"]) + "/retry", kOwnerKey, Json::object());
    ASSERT_EQ(retried.status, 200) << retried.body;
    EXPECT_NE(retried.response()["id"], entry["id"]);  // a manual retry is a new log entry
    const auto both = receiver.WaitPosts(2);
    ASSERT_EQ(both.size(), 2U);
    EXPECT_EQ(both[1].Parsed()["event"]["id"], retried.response()["id"]);
    EXPECT_EQ(both[1].Parsed()["payload"], both[0].Parsed()["payload"]);
    EXPECT_EQ(api.Put("/api/2.0/settings/webhook/99999/retry", kOwnerKey, Json::object()).status, 404);
    const auto two = api.Get("/api/2.0/settings/webhooks/log?groupStatus=2", kOwnerKey);
    ASSERT_TRUE(emu.emulator.WaitIdle(milliseconds(5000)));
    EXPECT_GE(two.json["total"].get<int>(), 1);
}

TEST_F(WebhooksTest, TriggerListMarksAvailabilityByRole) {
    // GetWebhookTriggers lists every entry with `available` for the caller's type; guests are not refused.
    const auto admin = api.Get("/api/2.0/settings/webhook/triggers", kOwnerKey).response();
    const auto user = api.Get("/api/2.0/settings/webhook/triggers", kJaneKey).response();
    const auto guest = api.Get("/api/2.0/settings/webhook/triggers", kGuestKey);
    auto available = [](const Json& list, const std::string& name) -> std::optional<bool> {
        for (const auto& t : list) {
            if (t["name"] == name) return t["available"].get<bool>();
        }
        return std::nullopt;
    };
    EXPECT_EQ(available(admin, "user.created"), true);
    EXPECT_EQ(available(user, "user.created"), false);
    EXPECT_EQ(available(user, "file.created"), true);
    ASSERT_EQ(guest.status, 200) << guest.body;
    EXPECT_EQ(available(guest.response(), "file.created"), false);
    EXPECT_EQ(available(guest.response(), "*"), false);
    // "*" and the 36 triggers, in the enum's [Order]: the downloads follow the moves.
    ASSERT_EQ(admin.size(), 37U);
    EXPECT_EQ(admin[0]["name"], "*");
    EXPECT_EQ(admin[0]["id"], 0);
    std::vector<std::string> names;
    for (const auto& t : admin) names.push_back(t["name"]);
    const auto at = [&](const std::string& n) {
        return std::find(names.begin(), names.end(), n) - names.begin();
    };
    EXPECT_EQ(at("file.downloaded"), at("file.moved") + 1);
    EXPECT_EQ(at("folder.created"), at("file.downloaded") + 1);
    EXPECT_EQ(at("folder.downloaded"), at("folder.moved") + 1);
    EXPECT_EQ(at("agent.deleted"), 36);
}

}  // namespace
}  // namespace spacehook::emulator::testing
