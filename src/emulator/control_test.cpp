// The control API and fault injection over HTTP (docs/emulator.md): faults by status, Retry-After,
// path prefix and method, time windows, latency, slow answers, dropped connections; state dump,
// counters, reset, seeds, uploads, wait-idle and the control token.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "emulator/emulator_test_support.hpp"

namespace spacehook::emulator::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::string S(const Json& id) {
    return id.is_string() ? id.get<std::string>() : id.dump();
}

class ControlTest : public ::testing::Test {
protected:
    RunningEmulator emu;
    Api& api = *emu.api;
};

TEST_F(ControlTest, StatusFaultFailsTheNextCallsOnAPathPrefix) {
    const auto set =
        api.Control("POST", "faults", Json{{"status", 503}, {"count", 2}, {"pathPrefix", "/api/2.0/people"}});
    ASSERT_EQ(set.status, 200) << set.body;
    EXPECT_EQ(api.Get("/api/2.0/files/rooms", kOwnerKey).status, 200);  // other prefix untouched
    const auto first = api.Get("/api/2.0/people/@self", kOwnerKey);
    EXPECT_EQ(first.status, 503);
    EXPECT_EQ(first.json["statusCode"], 503);
    EXPECT_EQ(first.json["status"], 1);
    EXPECT_EQ(api.Get("/api/2.0/people/@self", kOwnerKey).status, 503);
    EXPECT_EQ(api.Get("/api/2.0/people/@self", kOwnerKey).status, 200);
    EXPECT_EQ(emu.emulator.Counter("faults_injected"), 2);
    EXPECT_EQ(emu.emulator.Counter("faults_injected.503"), 2);
}

TEST_F(ControlTest, RateLimitFaultSendsRetryAfterAndNoBody) {
    api.Control("POST", "faults", Json{{"status", 429}, {"retryAfter", 7}, {"method", "PUT"}});
    EXPECT_EQ(api.Get("/api/2.0/people/@self", kOwnerKey).status, 200);  // GET is not PUT
    const auto limited = api.Put("/api/2.0/files/fileops/copy", kOwnerKey, Json{{"fileIds", Json::array()}});
    EXPECT_EQ(limited.status, 429);
    EXPECT_EQ(limited.Header("retry-after"), "7");
    EXPECT_TRUE(limited.body.empty());
}

TEST_F(ControlTest, FaultWindowEndsByItself) {
    api.Control("POST", "faults", Json{{"status", 500}, {"durationMs", 300}});
    EXPECT_EQ(api.Get("/api/2.0/people/@self", kOwnerKey).status, 500);
    EXPECT_EQ(api.Get("/api/2.0/people/@self", kOwnerKey).status, 500);
    std::this_thread::sleep_for(milliseconds(350));
    EXPECT_EQ(api.Get("/api/2.0/people/@self", kOwnerKey).status, 200);
}

TEST_F(ControlTest, LatencyDelaysEveryAnswer) {
    ASSERT_EQ(api.Control("PUT", "latency", Json{{"ms", 150}}).status, 200);
    const auto started = Clock::now();
    EXPECT_EQ(api.Get("/api/2.0/people/@self", kOwnerKey).status, 200);
    EXPECT_GE(std::chrono::duration_cast<milliseconds>(Clock::now() - started).count(), 150);
    api.Control("DELETE", "faults");
    const auto again = Clock::now();
    api.Get("/api/2.0/people/@self", kOwnerKey);
    EXPECT_LT(std::chrono::duration_cast<milliseconds>(Clock::now() - again).count(), 150);
}

TEST_F(ControlTest, SlowAnswerOutlastsTheClientTimeout) {
    api.Control("POST", "faults", Json{{"kind", "slow"}, {"delayMs", 1500}});
    const auto timed_out = api.Call("GET", "/api/2.0/people/@self", kOwnerKey, "", milliseconds(300));
    EXPECT_EQ(timed_out.status, -1);  // the client gave up
    EXPECT_EQ(api.Get("/api/2.0/people/@self", kOwnerKey).status, 200);
    // Counted on arrival, although nobody waited for the answer.
    EXPECT_EQ(emu.emulator.Counter("faults_injected.slow"), 1);
}

TEST_F(ControlTest, DroppedConnectionGetsNoAnswer) {
    // Unlimited: libcurl silently retries once on a fresh connection when a reused one dies.
    api.Control("POST", "faults", Json{{"kind", "drop"}, {"count", 0}});
    const auto dropped = api.Get("/api/2.0/people/@self", kOwnerKey);
    EXPECT_EQ(dropped.status, -1) << dropped.body;
    EXPECT_GE(emu.emulator.Counter("faults_injected"), 1);
    EXPECT_EQ(emu.emulator.Counter("faults_injected.drop"), emu.emulator.Counter("faults_injected"));
    api.Control("DELETE", "faults");
    EXPECT_EQ(api.Get("/api/2.0/people/@self", kOwnerKey).status, 200);
}

TEST_F(ControlTest, ControlApiIsNeverFaulted) {
    api.Control("POST", "faults", Json{{"status", 503}, {"count", 0}});
    EXPECT_EQ(api.Get("/api/2.0/people/@self", kOwnerKey).status, 503);
    EXPECT_EQ(api.Control("GET", "state").status, 200);
    const auto faults = api.Control("GET", "faults");
    EXPECT_EQ(faults.json["faults"].size(), 1U);
    EXPECT_EQ(api.Control("POST", "faults", Json{{"kind", "nope"}}).status, 400);
}

TEST_F(ControlTest, StateDumpCountsEveryMutation) {
    const auto room =
        api.Post("/api/2.0/files/rooms", kOwnerKey, Json{{"title", "Counted"}, {"roomType", 2}});
    api.Post("/api/2.0/files/folder/" + S(room.response()["id"]), kOwnerKey, Json{{"title", "F"}});
    api.Put("/api/2.0/files/rooms/" + S(room.response()["id"]) + "/share", kOwnerKey,
            Json{{"invitations", {{{"id", kJaneId}, {"access", 10}}}}});
    const auto state = api.Control("GET", "state").json;
    EXPECT_EQ(state["counters"]["rooms_created"], 1);
    EXPECT_EQ(state["counters"]["folders_created"], 1);
    EXPECT_EQ(state["counters"]["share_calls"], 1);
    EXPECT_EQ(state["counters"]["members_added"], 1);
    EXPECT_EQ(state["counters"]["events.room.created"], 1);
    const auto node = FindNode(state, "Counted");
    EXPECT_EQ(node["kind"], "room");
    EXPECT_EQ(node["members"][0]["access"], 10);
    EXPECT_EQ(node["members"][0]["accessName"], "editor");
    EXPECT_EQ(node["folders"][0]["title"], "F");
    EXPECT_EQ(state["users"].size(), 5U);
    EXPECT_EQ(state["users"][0]["apiKeys"][0], kOwnerKey);
    EXPECT_EQ(state["portal"]["roomsRootId"], emu.emulator.rooms_root_id().ToJson());
    // Reset returns to the seed: the room and the counters are gone.
    ASSERT_EQ(api.Control("POST", "reset").status, 200);
    const auto fresh = api.Control("GET", "state").json;
    EXPECT_TRUE(FindNode(fresh, "Counted").is_null());
    EXPECT_FALSE(fresh["counters"].contains("rooms_created"));
    EXPECT_EQ(api.Control("GET", "counters").json.size(), 0U);
}

TEST_F(ControlTest, CountsEveryRestCallByMethodButNotControlCalls) {
    EXPECT_EQ(api.Get("/api/2.0/people/@self", kOwnerKey).status, 200);
    EXPECT_EQ(api.Get("/api/2.0/files/rooms/999999", kOwnerKey).status, 404);  // failed calls count too
    api.Control("POST", "faults", Json{{"status", 503}, {"method", "POST"}});
    EXPECT_EQ(api.Post("/api/2.0/files/rooms", kOwnerKey, Json{{"title", "X"}, {"roomType", 2}}).status, 503);
    api.Control("GET", "state");
    const auto counters = api.Control("GET", "counters").json;
    EXPECT_EQ(counters["api_calls"], 3);
    EXPECT_EQ(counters["api_calls.GET"], 2);
    EXPECT_EQ(counters["api_calls.POST"], 1);
    EXPECT_FALSE(counters.contains("api_calls.PUT"));
}

TEST_F(ControlTest, UploadEditApiKeysGroupsAndWaitIdle) {
    Receiver receiver;
    Subscribe(api, kOwnerKey, "all", receiver.url(), 0);
    const auto incoming = IdOf(emu.emulator.State(), "Incoming");
    const auto up =
        api.Control("POST", "upload",
                    Json{{"user", "rachel.admin"}, {"folderId", incoming}, {"title", "Invoice-0042.docx"}});
    ASSERT_EQ(up.status, 200) << up.body;
    EXPECT_EQ(up.json["title"], "Invoice-0042.docx");
    const auto edited = api.Control("POST", "edit", Json{{"user", "jane.doe"}, {"fileId", up.json["id"]}});
    EXPECT_EQ(edited.json["version"], 2);
    EXPECT_EQ(
        api.Control("POST", "upload", Json{{"user", "gary.guest"}, {"folderId", incoming}, {"title", "x"}})
            .status,
        403);
    const auto key = api.Control("POST", "api-keys", Json{{"user", "jane.doe"}, {"key", "sk-jane-2"}});
    EXPECT_EQ(key.json["apiKey"], "sk-jane-2");
    EXPECT_EQ(api.Get("/api/2.0/people/@self", "sk-jane-2").response()["id"], kJaneId);
    const auto group = api.Control("POST", "groups", Json{{"name", "Legal"}, {"members", {"jane.doe"}}});
    ASSERT_EQ(group.status, 200) << group.body;
    const auto idle = api.Control("POST", "wait-idle?timeoutMs=5000");
    EXPECT_EQ(idle.json["idle"], true);
    std::multiset<std::string> triggers;
    for (const auto& p : receiver.Posts()) triggers.insert(p.Parsed()["event"]["trigger"]);
    EXPECT_EQ(triggers,
              (std::multiset<std::string>{"file.created", "file.uploaded", "file.updated", "group.created"}));
    const auto deliveries = api.Control("GET", "deliveries").json;
    EXPECT_EQ(deliveries.size(), 4U);
    EXPECT_EQ(deliveries[0]["status"], 200);
}

TEST(ControlTokenTest, RequiredWhenConfigured) {
    Options options = RunningEmulator::FastOptions();
    options.control_token = "let-me-in";
    RunningEmulator emu(options);
    EXPECT_EQ(emu.api->Control("GET", "state").status, 401);
}

TEST(SeedTest, JsonAndYamlSeedFilesAndErrors) {
    const auto dir = std::filesystem::temp_directory_path() / ("emulator-seed-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    {
        std::ofstream(dir / "seed.yaml") << R"(users:
  - user_name: boss
    type: owner
    api_key: k-boss
  - user_name: ann
    api_key: k-ann
groups:
  - name: Team
    members: [ann]
rooms:
  - title: Projects
    type: custom
    tags: [p]
    members:
      - {user: ann, access: content_creator}
      - {group: Team, access: viewer}
    folders:
      - title: Q1
        files: [{title: plan.xlsx, size: 2048}]
webhooks:
  - name: seeded
    uri: http://127.0.0.1:9/hook
    secret: seeded-secret
    triggers: [file.created]
)";
        std::ofstream(dir / "bad.json")
            << R"({"users":[{"user_name":"x","type":"owner"}],"rooms":[{"title":"r","colour":"red"}]})";
    }
    Options options = RunningEmulator::FastOptions();
    options.seed_file = (dir / "seed.yaml").string();
    RunningEmulator emu(options);
    const auto state = emu.emulator.State();
    const auto room = FindNode(state, "Projects");
    ASSERT_FALSE(room.is_null());
    EXPECT_EQ(room["members"][0]["access"], 11);
    EXPECT_EQ(room["members"][1]["isGroup"], true);
    EXPECT_EQ(FindNode(state, "plan.xlsx")["size"], 2048);
    EXPECT_EQ(state["webhooks"][0]["triggerNames"], Json::array({"file.created"}));
    EXPECT_EQ(emu.emulator.admin_api_key(), "k-boss");
    EXPECT_EQ(emu.api->Get("/api/2.0/files/" + S(room["id"]), "k-ann").status, 200);

    Options bad = RunningEmulator::FastOptions();
    bad.seed_file = (dir / "bad.json").string();
    Emulator broken(bad);
    const auto started = broken.Start();
    ASSERT_FALSE(started);
    EXPECT_EQ(started.error().code, ErrorCode::kConfig);
    EXPECT_NE(started.error().message.find("/rooms/0/colour"), std::string::npos) << started.error().message;
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace spacehook::emulator::testing
