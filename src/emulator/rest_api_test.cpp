// REST conformance over HTTP (docs/docspace-api.md §2): envelopes, errors, people, rooms, sharing, folders,
// files.
#include <gtest/gtest.h>

#include "emulator/emulator_test_support.hpp"

namespace spacehook::emulator::testing {
namespace {

std::string S(const Json& id) {
    return id.is_string() ? id.get<std::string>() : id.dump();
}

class RestApiTest : public ::testing::Test {
protected:
    RunningEmulator emu;
    Api& api = *emu.api;
};

TEST_F(RestApiTest, MissingOrUnknownKeyIs401WithTheErrorEnvelope) {
    for (const std::string key : {"", "sk-wrong"}) {
        const auto a = api.Get("/api/2.0/people/@self", key);
        EXPECT_EQ(a.status, 401);
        EXPECT_EQ(a.json["error"]["message"], "Unauthorized");
        EXPECT_EQ(a.json["status"], 1);
        EXPECT_EQ(a.json["statusCode"], 401);
        EXPECT_TRUE(a.json["error"]["stack"].is_null());
    }
}

TEST_F(RestApiTest, SuccessEnvelope) {
    const auto a = api.Get("/api/2.0/people/@self", kJaneKey);
    ASSERT_EQ(a.status, 200);
    EXPECT_EQ(a.body.rfind(R"({"response":{)", 0), 0U);  // response, count, links, status, statusCode
    EXPECT_EQ(a.json["count"], 1);
    EXPECT_EQ(a.json["status"], 0);
    EXPECT_EQ(a.json["statusCode"], 200);
    EXPECT_EQ(a.json["links"][0]["href"], emu.emulator.base_url() + "/api/2.0/people/@self");
    EXPECT_EQ(a.json["links"][0]["action"], "GET");
    EXPECT_EQ(a.response()["id"], kJaneId);
    EXPECT_EQ(a.response()["displayName"], "Jane Doe");
    EXPECT_EQ(a.response()["email"], "jane.doe@example.com");
}

TEST_F(RestApiTest, NotFoundIsAnItemNotFoundEnvelope) {
    const auto a = api.Get("/api/2.0/files/file/987654", kOwnerKey);
    EXPECT_EQ(a.status, 404);
    EXPECT_EQ(a.json["error"]["message"], "The required file was not found");
    EXPECT_EQ(a.json["error"]["type"], "ASC.Common.Web.ItemNotFoundException");
    EXPECT_TRUE(a.json["error"]["stack"].is_string());
    EXPECT_TRUE(a.json["error"]["hresult"].is_number_integer());
    EXPECT_EQ(a.json["statusCode"], 404);
    EXPECT_EQ(api.Get("/api/2.0/no/such/route", kOwnerKey).status, 404);
    EXPECT_EQ(api.Call("DELETE", "/api/2.0/people/@self", kOwnerKey).status, 405);
}

TEST_F(RestApiTest, ModelValidationIsASuccessEnvelopeWithStatus1) {
    const auto a = api.Post("/api/2.0/files/rooms", kOwnerKey, Json{{"roomType", 2}});
    EXPECT_EQ(a.status, 400);
    EXPECT_EQ(a.json["status"], 1);
    EXPECT_EQ(a.json["statusCode"], 400);
    EXPECT_EQ(a.response()["title"], "One or more validation errors occurred.");
    EXPECT_TRUE(a.response()["errors"].contains("Title"));
    const auto long_title =
        api.Post("/api/2.0/files/rooms", kOwnerKey, Json{{"title", std::string(171, 'x')}, {"roomType", 2}});
    EXPECT_EQ(long_title.status, 400);
    EXPECT_EQ(api.Call("POST", "/api/2.0/files/rooms", kOwnerKey, "{not json").json["statusCode"], 400);
}

TEST_F(RestApiTest, PeopleLookups) {
    EXPECT_EQ(api.Get("/api/2.0/people/jane.doe", kOwnerKey).response()["id"], kJaneId);
    EXPECT_EQ(api.Get(std::string("/api/2.0/people/") + kJaneId, kOwnerKey).response()["userName"],
              "jane.doe");
    EXPECT_EQ(api.Get("/api/2.0/people/email?email=jane.doe%40example.com", kOwnerKey).response()["id"],
              kJaneId);
    EXPECT_EQ(api.Get("/api/2.0/people/email?email=", kOwnerKey).status, 400);
    EXPECT_EQ(api.Get("/api/2.0/people/email?email=nobody%40example.com", kOwnerKey).status, 404);
    EXPECT_EQ(api.Get("/api/2.0/people/nobody", kOwnerKey).status, 404);
}

TEST_F(RestApiTest, AddingAndInvitingPeople) {
    const auto added =
        api.Post("/api/2.0/people", kOwnerKey,
                 Json{{"firstName", "Ann"}, {"lastName", "Lee"}, {"email", "ann.lee@example.com"}});
    ASSERT_EQ(added.status, 200) << added.body;
    EXPECT_EQ(added.response()["userName"], "ann.lee");
    EXPECT_EQ(added.response()["activationStatus"], 1);
    EXPECT_EQ(api.Post("/api/2.0/people", kOwnerKey, Json{{"email", "ann.lee@example.com"}}).status, 400);
    EXPECT_EQ(api.Post("/api/2.0/people", kJaneKey, Json{{"email", "x@example.com"}}).status, 403);
    const auto invited =
        api.Post("/api/2.0/people/invite", kOwnerKey,
                 Json{{"invitations", {{{"email", "new.one@example.com"}, {"type", "User"}}}}});
    ASSERT_EQ(invited.status, 200) << invited.body;
    EXPECT_EQ(invited.response()[0]["activationStatus"], 2);
    EXPECT_EQ(emu.emulator.Counter("users_created"), 1);
    EXPECT_EQ(emu.emulator.Counter("users_invited"), 1);
}

TEST_F(RestApiTest, CreateAndReadARoom) {
    const auto created =
        api.Post("/api/2.0/files/rooms", kRoomAdminKey,
                 Json{{"title", "Client Ж"}, {"roomType", "CustomRoom"}, {"tags", {"a", "b"}}});
    ASSERT_EQ(created.status, 200) << created.body;
    const auto& room = created.response();
    EXPECT_EQ(room["roomType"], 5);
    EXPECT_EQ(room["rootFolderType"], 14);
    EXPECT_EQ(room["parentId"], emu.emulator.rooms_root_id().ToJson());
    EXPECT_EQ(room["tags"], Json::array({"a", "b"}));
    EXPECT_NE(created.body.find(R"("title":"Client \u0416")"), std::string::npos);  // STJ escaping
    const auto read = api.Get("/api/2.0/files/rooms/" + S(room["id"]), kRoomAdminKey);
    EXPECT_EQ(read.response()["title"], "Client Ж");
    EXPECT_EQ(api.Post("/api/2.0/files/rooms", kJaneKey, Json{{"title", "x"}, {"roomType", 2}}).status, 403);
    EXPECT_EQ(api.Post("/api/2.0/files/rooms", kOwnerKey, Json{{"title", "x"}, {"roomType", 3}}).status, 400);
    EXPECT_EQ(api.Post("/api/2.0/files/rooms", kOwnerKey, Json{{"title", "x"}, {"roomType", "Nope"}})
                  .json["statusCode"],
              400);
    EXPECT_EQ(api.Get("/api/2.0/files/rooms/99999", kOwnerKey).status, 404);
    EXPECT_EQ(emu.emulator.Counter("rooms_created"), 1);
}

TEST_F(RestApiTest, ListRoomsWithFilterValueAndTags) {
    api.Post("/api/2.0/files/rooms", kOwnerKey,
             Json{{"title", "Home of Ann"}, {"roomType", 2}, {"tags", {"run:abc"}}});
    api.Post("/api/2.0/files/rooms", kOwnerKey,
             Json{{"title", "Home of Bob"}, {"roomType", 2}, {"tags", {"run:def"}}});
    const auto by_text = api.Get("/api/2.0/files/rooms?filterValue=home%20of", kOwnerKey);
    ASSERT_EQ(by_text.status, 200);
    EXPECT_EQ(by_text.response()["total"], 2);
    EXPECT_EQ(by_text.response()["current"]["id"], emu.emulator.rooms_root_id().ToJson());
    EXPECT_EQ(by_text.response()["pathParts"][0]["folderType"], 14);
    // tags is a JSON-serialized string array (VirtualRoomsController.GetRoomsFolder).
    const auto by_tag = api.Get("/api/2.0/files/rooms?tags=%5B%22run%3Aabc%22%5D", kOwnerKey);
    ASSERT_EQ(by_tag.response()["folders"].size(), 1U);
    EXPECT_EQ(by_tag.response()["folders"][0]["title"], "Home of Ann");
    EXPECT_EQ(api.Get("/api/2.0/files/rooms?tags=run:abc", kOwnerKey).status, 500);
    // A user sees only rooms they are a member of.
    const auto janes = api.Get("/api/2.0/files/rooms", kJaneKey);
    ASSERT_EQ(janes.response()["folders"].size(), 1U);
    EXPECT_EQ(janes.response()["folders"][0]["title"], "Client ACME");
    const auto paged = api.Get("/api/2.0/files/rooms?count=1&startIndex=1", kOwnerKey);
    EXPECT_EQ(paged.response()["folders"].size(), 1U);
    EXPECT_EQ(paged.response()["total"], 4);
}

TEST_F(RestApiTest, ShareValidatesAccessAgainstTheRoomType) {
    const auto room = api.Post("/api/2.0/files/rooms", kOwnerKey, Json{{"title", "Collab"}, {"roomType", 2}});
    const std::string share = "/api/2.0/files/rooms/" + S(room.response()["id"]) + "/share";
    const std::string sales = "b1f7c3a2-0000-4000-8000-000000000002";
    // Editing (10) for a user and Read (2) for a group are allowed in a collaboration room.
    auto ok =
        api.Put(share, kOwnerKey,
                Json{{"invitations", {{{"id", kJaneId}, {"access", 10}}, {{"id", sales}, {"access", 2}}}}});
    ASSERT_EQ(ok.status, 200) << ok.body;
    ASSERT_EQ(ok.response()["members"].size(), 2U);
    EXPECT_EQ(ok.response()["members"][0]["access"], 10);
    EXPECT_EQ(ok.response()["members"][0]["sharedToUser"]["id"], kJaneId);
    EXPECT_EQ(ok.response()["members"][1]["subjectType"], 2);
    EXPECT_EQ(ok.response()["error"], 0);
    // Review (5) is not in the collaboration room's set; RoomManager is for admins only, never groups.
    EXPECT_EQ(api.Put(share, kOwnerKey, Json{{"invitations", {{{"id", kJaneId}, {"access", 5}}}}}).status,
              403);
    EXPECT_EQ(api.Put(share, kOwnerKey, Json{{"invitations", {{{"id", kJaneId}, {"access", 9}}}}}).status,
              403);
    EXPECT_EQ(api.Put(share, kOwnerKey, Json{{"invitations", {{{"id", sales}, {"access", 9}}}}}).status, 403);
    EXPECT_EQ(
        api.Put(share, kOwnerKey, Json{{"invitations", {{{"id", "not-a-guid"}, {"access", 2}}}}}).status,
        400);
    // Empty invitations: {"error":0} and nothing else.
    const auto empty = api.Put(share, kOwnerKey, Json{{"invitations", Json::array()}});
    EXPECT_EQ(empty.response(), Json({{"error", 0}}));
    // An unrecognised access string reads as 0 = None: the member is removed (docs/docspace-api.md §2.4).
    api.Put(share, kOwnerKey, Json{{"invitations", {{{"id", kJaneId}, {"access", "Editor"}}}}});
    const auto state = emu.emulator.State();
    const auto node = FindNode(state, "Collab");
    ASSERT_EQ(node["members"].size(), 1U);
    EXPECT_EQ(node["members"][0]["subject"], sales);
    // Jane is not a member any more and cannot manage it anyway.
    EXPECT_EQ(api.Put(share, kJaneKey, Json{{"invitations", {{{"id", sales}, {"access", 0}}}}}).status, 403);
    EXPECT_EQ(emu.emulator.Counter("share_calls"), 8);
}

TEST_F(RestApiTest, FolderContentPathAndPaging) {
    const auto state = emu.emulator.State();
    const auto room = S(IdOf(state, "Client ACME"));
    const auto incoming = S(IdOf(state, "Incoming"));
    const auto content = api.Get("/api/2.0/files/" + room, kJaneKey);
    ASSERT_EQ(content.status, 200) << content.body;
    const auto& r = content.response();
    EXPECT_EQ(r["folders"].size(), 2U);
    EXPECT_EQ(r["files"].size(), 1U);
    EXPECT_EQ(r["total"], 3);
    EXPECT_EQ(r["pathParts"].size(), 2U);
    EXPECT_EQ(r["pathParts"][1]["roomType"], 2);
    const auto& file = r["files"][0];
    EXPECT_TRUE(file["contentLength"].is_string());
    EXPECT_EQ(file["contentLength"], "20 KB");
    EXPECT_EQ(file["pureContentLength"], 20480);
    EXPECT_EQ(file["fileExst"], ".docx");
    EXPECT_EQ(file["webUrl"], emu.emulator.base_url() + "/doceditor?fileid=" + S(file["id"]) + "&version=1");
    EXPECT_EQ(file["rootFolderType"], 14);
    EXPECT_TRUE(file["createdBy"].contains("displayName"));
    const auto page = api.Get("/api/2.0/files/" + room + "?startIndex=1&count=1", kJaneKey);
    EXPECT_EQ(page.response()["folders"].size() + page.response()["files"].size(), 1U);
    const auto path = api.Get("/api/2.0/files/folder/" + incoming + "/path", kJaneKey);
    ASSERT_EQ(path.response().size(), 3U);
    EXPECT_EQ(path.response()[0]["id"], emu.emulator.rooms_root_id().ToJson());
    EXPECT_EQ(path.response()[1]["roomType"], 2);
    // Templates is not Jane's room.
    EXPECT_EQ(api.Get("/api/2.0/files/" + S(IdOf(state, "Templates")), kJaneKey).status, 403);
}

TEST_F(RestApiTest, CreateFolderAndCopyAs) {
    const auto state = emu.emulator.State();
    const auto room = S(IdOf(state, "Client ACME"));
    const auto folder = api.Post("/api/2.0/files/folder/" + room, kJaneKey, Json{{"title", "New"}});
    EXPECT_EQ(folder.status, 403);  // an editor may not create folders
    const auto made = api.Post("/api/2.0/files/folder/" + room, kRoomAdminKey, Json{{"title", "New"}});
    ASSERT_EQ(made.status, 200) << made.body;
    EXPECT_EQ(made.response()["parentId"], IdOf(state, "Client ACME"));
    const auto contract = S(IdOf(state, "Contract.docx"));
    const auto copy = api.Post("/api/2.0/files/file/" + contract + "/copyas", kRoomAdminKey,
                               Json{{"destTitle", "Copy.docx"}, {"destFolderId", made.response()["id"]}});
    ASSERT_EQ(copy.status, 200) << copy.body;
    EXPECT_EQ(copy.response()["title"], "Copy.docx");
    EXPECT_EQ(copy.response()["folderId"], made.response()["id"]);
    // destFolderId as a string works; an object answers response: null.
    EXPECT_EQ(api.Post("/api/2.0/files/file/" + contract + "/copyas", kRoomAdminKey,
                       Json{{"destTitle", "C2.pdf"}, {"destFolderId", S(made.response()["id"])}})
                  .response()["fileExst"],
              ".pdf");
    const auto null_answer = api.Post("/api/2.0/files/file/" + contract + "/copyas", kRoomAdminKey,
                                      Json{{"destTitle", "C3.docx"}, {"destFolderId", Json{{"id", 1}}}});
    EXPECT_EQ(null_answer.status, 200);
    EXPECT_TRUE(null_answer.json["response"].is_null());
    EXPECT_EQ(null_answer.json["count"], 0);
    EXPECT_EQ(emu.emulator.Counter("copyas"), 2);
    EXPECT_EQ(emu.emulator.Counter("folders_created"), 1);
}

TEST_F(RestApiTest, RenamesFireUpdates) {
    const auto state = emu.emulator.State();
    const auto contract = S(IdOf(state, "Contract.docx"));
    const auto renamed = api.Put("/api/2.0/files/file/" + contract, kJaneKey, Json{{"title", "Signed"}});
    ASSERT_EQ(renamed.status, 200) << renamed.body;
    EXPECT_EQ(renamed.response()["title"], "Signed.docx");  // the extension is kept
    EXPECT_EQ(emu.emulator.Counter("events.file.updated"), 1);
    const auto folder = S(IdOf(state, "Incoming"));
    EXPECT_EQ(api.Put("/api/2.0/files/folder/" + folder, kRoomAdminKey, Json{{"title", "Inbox"}})
                  .response()["title"],
              "Inbox");
    EXPECT_EQ(emu.emulator.Counter("events.folder.updated"), 1);
}

TEST_F(RestApiTest, ThirdPartyRoomsUseStringIds) {
    Json seed = Json::parse(R"({"users":[{"user_name":"admin","type":"owner","api_key":"k-admin"}],
        "rooms":[{"title":"Box room","type":"custom","provider":"box","folders":[{"title":"Docs"}],
                  "files":[{"title":"a.docx"}]}]})");
    ASSERT_TRUE(emu.emulator.LoadSeed(seed));
    const auto state = emu.emulator.State();
    const auto room = IdOf(state, "Box room");
    ASSERT_TRUE(room.is_string());
    const auto content = api.Get("/api/2.0/files/" + room.get<std::string>(), "k-admin");
    ASSERT_EQ(content.status, 200) << content.body;
    EXPECT_TRUE(content.response()["files"][0]["id"].is_string());
    EXPECT_TRUE(content.response()["folders"][0]["id"].is_string());
    EXPECT_EQ(content.response()["current"]["providerKey"], "box");
}

}  // namespace
}  // namespace spacehook::emulator::testing
