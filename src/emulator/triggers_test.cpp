// Every trigger DocSpace 3.7/3.8 can send (docs/docspace-api.md §1.5), produced through the emulator's REST
// calls and its control API's person actions, each with the payload shape of §1.6.
#include <gtest/gtest.h>

#include <set>

#include "docspace/names.hpp"
#include "emulator/emulator_test_support.hpp"

namespace spacehook::emulator::testing {
namespace {

using std::chrono::milliseconds;

std::string S(const Json& id) {
    return id.is_string() ? id.get<std::string>() : id.dump();
}

class TriggersTest : public ::testing::Test {
protected:
    RunningEmulator emu;
    Api& api = *emu.api;
    Receiver receiver;
    Json state = emu.emulator.State();

    Json Act(const Json& body) {
        const auto answer = api.Control("POST", "act", body);
        EXPECT_EQ(answer.status, 200) << body.dump() << " -> " << answer.body;
        return answer.json;
    }
    /// Runs a copy/move as the owner and waits for it.
    void Operation(const std::string& kind, const Json& body) {
        Json request = body;
        request["returnSingleOperation"] = true;
        const auto started = api.Put("/api/2.0/files/fileops/" + kind, kOwnerKey, request);
        ASSERT_EQ(started.status, 200) << started.body;
        ASSERT_TRUE(emu.emulator.WaitIdle(milliseconds(5000)));
    }
    /// The bodies of every delivery so far, by trigger.
    std::map<std::string, Json> Delivered() {
        EXPECT_TRUE(emu.emulator.WaitIdle(milliseconds(10000)));
        std::map<std::string, Json> out;
        for (const auto& post : receiver.Posts()) {
            const auto body = post.Parsed();
            out.emplace(body["event"]["trigger"].get<std::string>(), body);
        }
        return out;
    }
};

TEST_F(TriggersTest, AllThirtySixAreSentWithTheirPayloads) {
    Subscribe(api, kOwnerKey, "everything", receiver.url(), 0);
    const auto acme = S(IdOf(state, "Client ACME"));
    const auto incoming = IdOf(state, "Incoming");
    const auto trash = state["portal"]["trashRootId"];
    const auto rooms = emu.emulator.rooms_root_id().ToJson();
    const auto archive = state["portal"]["archiveRootId"];

    // People and groups.
    const auto nina = api.Post(
        "/api/2.0/people", kOwnerKey,
        Json{{"firstName", "Nina"}, {"lastName", "New"}, {"email", "nina@example.com"}, {"type", "User"}});
    ASSERT_EQ(nina.status, 200) << nina.body;
    ASSERT_EQ(api.Post("/api/2.0/people/invite", kOwnerKey,
                       Json{{"invitations", {{{"email", "ivan@example.com"}, {"type", "User"}}}}})
                  .status,
              200);
    Act({{"action", "update-user"}, {"id", nina.response()["id"]}, {"firstName", "Nino"}});
    Act({{"action", "delete-user"}, {"id", nina.response()["id"]}});
    const auto group = api.Control("POST", "groups", Json{{"name", "Ops"}});
    ASSERT_EQ(group.status, 200) << group.body;
    Act({{"action", "update-group"}, {"id", group.json["id"]}, {"title", "Operations"}});
    Act({{"action", "delete-group"}, {"id", group.json["id"]}});

    // Files.
    const auto upload = [&](const std::string& title, const Json& folder) {
        auto file = emu.emulator.UploadFile({"owner", *EntityId::FromJson(folder), title, 100, false});
        EXPECT_TRUE(file) << file.error().message;
        return file->at("id");
    };
    const auto report = upload("Report.docx", incoming);  // file.created + file.uploaded
    ASSERT_TRUE(emu.emulator.EditFile("owner", *EntityId::FromJson(report)));
    Operation("copy", {{"fileIds", {report}}, {"destFolderId", IdOf(state, "Archive 2025")}});
    Operation("move", {{"fileIds", {report}}, {"destFolderId", IdOf(state, "Client ACME")}});
    Act({{"action", "download"}, {"id", report}});
    Act({{"action", "trash"}, {"id", report}});
    Operation("move", {{"fileIds", {report}}, {"destFolderId", incoming}});  // file.restored
    Act({{"action", "trash"}, {"id", report}});
    Act({{"action", "delete"}, {"id", report}});

    // Folders.
    const auto folder = api.Post("/api/2.0/files/folder/" + acme, kOwnerKey, Json{{"title", "Plans"}});
    ASSERT_EQ(folder.status, 200) << folder.body;
    const auto plans = folder.response()["id"];
    ASSERT_EQ(api.Put("/api/2.0/files/folder/" + S(plans), kOwnerKey, Json{{"title", "Plans 2026"}}).status,
              200);
    Operation("copy", {{"folderIds", {plans}}, {"destFolderId", incoming}});
    Operation("move", {{"folderIds", {plans}}, {"destFolderId", IdOf(state, "Archive 2025")}});
    Act({{"action", "download"}, {"id", plans}});
    Act({{"action", "trash"}, {"id", plans}});
    // Out of Trash into a folder without a "Plans 2026" (the copy in Incoming would be merged into).
    Operation("move",
              {{"folderIds", {plans}}, {"destFolderId", IdOf(state, "Client ACME")}});  // folder.restored
    Act({{"action", "trash"}, {"id", plans}});
    Act({{"action", "delete"}, {"id", plans}});

    // Rooms and agents.
    const auto room = api.Post("/api/2.0/files/rooms", kOwnerKey, Json{{"title", "Board"}, {"roomType", 5}});
    ASSERT_EQ(room.status, 200) << room.body;
    const auto board = room.response()["id"];
    ASSERT_EQ(api.Put("/api/2.0/files/rooms/" + S(board), kOwnerKey, Json{{"title", "Board 2026"}}).status,
              200);
    Operation("move", {{"folderIds", {board}}, {"destFolderId", archive}});
    Operation("move", {{"folderIds", {board}}, {"destFolderId", rooms}});
    Operation("copy", {{"folderIds", {board}}, {"destFolderId", rooms}});
    Act({{"action", "delete"}, {"id", board}});
    const auto agent = Act({{"action", "create-agent"}, {"title", "Helper"}});
    ASSERT_EQ(
        api.Put("/api/2.0/files/rooms/" + S(agent["id"]), kOwnerKey, Json{{"title", "Helper 2"}}).status,
        200);
    Act({{"action", "delete"}, {"id", agent["id"]}});

    // Forms.
    const auto form = upload("Application.pdf", incoming);
    Act({{"action", "fill-form"}, {"id", form}});
    const auto submitted = Act({{"action", "submit-form"}, {"id", form}, {"user", "owner"}});
    Act({{"action", "stop-form"}, {"id", form}});
    (void)trash;

    const auto delivered = Delivered();
    std::set<std::string> triggers;
    for (const auto& [trigger, body] : delivered) triggers.insert(trigger);
    std::set<std::string> all;
    for (const auto& [name, bit] : docspace::AllTriggers()) all.insert(std::string(name));
    EXPECT_EQ(triggers, all);
    ASSERT_EQ(all.size(), 36U);

    // Payloads by family (§1.6): FileEntry for files, folders, rooms and agents; UserInfo; GroupInfo;
    // {originalForm, submittedForm} for form.submit.
    EXPECT_EQ(delivered.at("file.trashed")["payload"]["fileEntryType"], 2);
    EXPECT_EQ(delivered.at("file.trashed")["payload"]["parentId"], IdOf(state, "Client ACME"));  // as it was
    EXPECT_EQ(delivered.at("folder.downloaded")["payload"]["fileEntryType"], 1);
    EXPECT_EQ(delivered.at("agent.created")["payload"]["title"], "Helper");
    EXPECT_EQ(delivered.at("agent.updated")["payload"]["title"], "Helper 2");
    EXPECT_EQ(delivered.at("room.deleted")["payload"]["title"], "Board 2026");
    EXPECT_EQ(delivered.at("user.deleted")["payload"]["firstName"], "Nino");
    EXPECT_EQ(delivered.at("group.updated")["payload"]["name"], "Operations");
    const auto& form_submit = delivered.at("form.submit")["payload"];
    ASSERT_TRUE(form_submit.contains("originalForm")) << form_submit.dump();
    EXPECT_EQ(form_submit["originalForm"]["id"], form);
    EXPECT_EQ(form_submit["submittedForm"]["id"], submitted["id"]);
    EXPECT_EQ(form_submit["submittedForm"]["title"], "Application - Olivia Owner.pdf");
    EXPECT_EQ(delivered.at("form.filled.out")["payload"]["id"], form);
}

TEST_F(TriggersTest, AFormTargetIsTheOriginalForm) {
    const auto form =
        emu.emulator.UploadFile({"owner", *EntityId::FromJson(IdOf(state, "Incoming")), "Poll.pdf", 9, true});
    ASSERT_TRUE(form) << form.error().message;
    Subscribe(api, kOwnerKey, "this-form", receiver.url(), *docspace::TriggerBit("form.submit"),
              S(form->at("id")));
    Act({{"action", "submit-form"}, {"id", form->at("id")}});
    const auto delivered = Delivered();
    ASSERT_EQ(delivered.count("form.submit"), 1U);
    EXPECT_EQ(delivered.at("form.submit")["webhook"]["target"],
              (Json{{"id", form->at("id")}, {"type", "form"}}));
}

TEST_F(TriggersTest, BadActionsAreRefused) {
    EXPECT_EQ(api.Control("POST", "act", Json{{"action", "explode"}}).status, 400);
    EXPECT_EQ(api.Control("POST", "act", Json{{"action", "trash"}, {"id", "99999"}}).status, 404);
    // A guest may not remove what is not theirs.
    EXPECT_EQ(
        api.Control("POST", "act",
                    Json{{"action", "delete"}, {"id", IdOf(state, "Contract.docx")}, {"user", "gary.guest"}})
            .status,
        403);
}

}  // namespace
}  // namespace spacehook::emulator::testing
