// File operations over HTTP (docs/docspace-api.md §2.5): asynchronous copy/move, capital "Operation", string
// "processed", per-user results, dequeue-on-finish, conflicts, and the events they fire (§1.12).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "emulator/emulator_test_support.hpp"

namespace spacehook::emulator::testing {
namespace {

using std::chrono::milliseconds;

std::string S(const Json& id) {
    return id.is_string() ? id.get<std::string>() : id.dump();
}

class FileOpsTest : public ::testing::Test {
protected:
    RunningEmulator emu;
    Api& api = *emu.api;
    Json state = emu.emulator.State();

    Answer Copy(const Json& body, const std::string& key = kRoomAdminKey) {
        return api.Put("/api/2.0/files/fileops/copy", key, body);
    }
    Answer Move(const Json& body, const std::string& key = kRoomAdminKey) {
        return api.Put("/api/2.0/files/fileops/move", key, body);
    }
    /// Polls GET fileops?id= until the operation is reported finished (bounded); the finished DTO.
    Json PollFinished(const std::string& id, const std::string& key = kRoomAdminKey) {
        for (int i = 0; i < 150; ++i) {
            const auto a = api.Get("/api/2.0/files/fileops?id=" + id, key);
            if (a.status == 200 && !a.response().empty() && a.response()[0]["finished"] == true)
                return a.response()[0];
            std::this_thread::sleep_for(milliseconds(20));
        }
        return nullptr;
    }
};

TEST_F(FileOpsTest, CopyRunsAsynchronouslyAndIsDequeuedWhenFirstSeenFinished) {
    Receiver receiver;
    Subscribe(api, kOwnerKey, "copies", receiver.url(), 8192);  // file.copied
    const auto start = Copy(Json{{"fileIds", {IdOf(state, "Contract.docx")}},
                                 {"destFolderId", IdOf(state, "Incoming")},
                                 {"returnSingleOperation", true}});
    ASSERT_EQ(start.status, 200) << start.body;
    ASSERT_EQ(start.response().size(), 1U);
    const auto& op = start.response()[0];
    EXPECT_EQ(op["Operation"], 1);  // capital O: FileOperationType.Copy
    EXPECT_FALSE(op.contains("operation"));
    EXPECT_EQ(op["processed"], "0");  // a string
    EXPECT_EQ(op["finished"], false);
    EXPECT_NE(start.body.find(R"("Operation":1)"), std::string::npos);

    const auto done = PollFinished(op["id"]);
    ASSERT_FALSE(done.is_null());
    EXPECT_EQ(done["progress"], 100);
    EXPECT_EQ(done["processed"], "1");
    EXPECT_EQ(done["status"], 2);
    EXPECT_EQ(done["error"], "");
    ASSERT_EQ(done["files"].size(), 1U);
    const auto& copy = done["files"][0];
    EXPECT_EQ(copy["title"], "Contract.docx");
    EXPECT_EQ(copy["folderId"], IdOf(state, "Incoming"));
    EXPECT_NE(copy["id"], IdOf(state, "Contract.docx"));
    // Dequeued: the next poll no longer lists it.
    EXPECT_TRUE(api.Get("/api/2.0/files/fileops?id=" + op["id"].get<std::string>(), kRoomAdminKey)
                    .response()
                    .empty());
    // file.copied fires with the new copy, by the acting user, when the operation completes.
    const auto posts = receiver.WaitPosts(1);
    ASSERT_EQ(posts.size(), 1U);
    const auto body = posts[0].Parsed();
    EXPECT_EQ(body["event"]["trigger"], "file.copied");
    EXPECT_EQ(body["payload"]["id"], copy["id"]);
    EXPECT_EQ(body["event"]["createBy"], emu.emulator.UserIdOf("rachel.admin"));
    EXPECT_EQ(emu.emulator.Counter("copy_operations"), 1);
    EXPECT_EQ(emu.emulator.Counter("files_copied"), 1);
}

TEST_F(FileOpsTest, WithoutSingleOperationTheArrayHoldsAllOfTheUsersOperationsOfThatType) {
    const Json body = {{"fileIds", {IdOf(state, "Contract.docx")}},
                       {"destFolderId", IdOf(state, "Archive 2025")},
                       {"conflictResolveType", "Duplicate"}};
    ASSERT_EQ(Copy(body).response().size(), 1U);
    const auto second = Copy(body);
    ASSERT_EQ(second.response().size(), 2U);
    EXPECT_EQ(second.json["count"], 1);  // an IAsyncEnumerable endpoint (docs/docspace-api.md §2.2)
    // Other users see none of them; a move is not listed under copy.
    EXPECT_TRUE(api.Get("/api/2.0/files/fileops", kJaneKey).response().empty());
    const auto move = Move(Json{{"fileIds", {IdOf(state, "Contract.docx")}},
                                {"destFolderId", IdOf(state, "Incoming")},
                                {"returnSingleOperation", true}});
    EXPECT_EQ(move.response()[0]["Operation"], 0);
    ASSERT_TRUE(emu.emulator.WaitIdle(milliseconds(5000)));
    const auto copies = api.Get("/api/2.0/files/fileops/copy", kRoomAdminKey).response();
    EXPECT_EQ(copies.size(), 2U);
    for (const auto& c : copies) EXPECT_EQ(c["Operation"], 1);
    const auto moves = api.Get("/api/2.0/files/fileops/Move", kRoomAdminKey).response();
    ASSERT_EQ(moves.size(), 1U);
    // Both copies were dequeued by the first look at them.
    EXPECT_TRUE(api.Get("/api/2.0/files/fileops/1", kRoomAdminKey).response().empty());
    EXPECT_EQ(FindNode(emu.emulator.State(), "Contract (1).docx")["title"], "Contract (1).docx");
}

TEST_F(FileOpsTest, EmptyIdListsCreateNoOperation) {
    const auto a = Copy(Json{{"fileIds", Json::array()},
                             {"folderIds", Json::array()},
                             {"destFolderId", 1},
                             {"returnSingleOperation", true}});
    EXPECT_EQ(a.status, 200);
    EXPECT_TRUE(a.response().empty());
    EXPECT_EQ(emu.emulator.Counter("copy_operations"), 0);
    EXPECT_EQ(emu.emulator.Counter("copy_calls"), 1);
}

TEST_F(FileOpsTest, ConflictsSkipOverwriteDuplicate) {
    const auto room = IdOf(state, "Client ACME");
    const auto contract = IdOf(state, "Contract.docx");
    auto run = [&](Json resolve) {
        const auto a = Copy(Json{{"fileIds", {contract}},
                                 {"destFolderId", room},
                                 {"conflictResolveType", resolve},
                                 {"returnSingleOperation", true}});
        return PollFinished(a.response()[0]["id"]);
    };
    const auto skipped = run("Skip");
    EXPECT_TRUE(skipped["files"].empty());
    const auto duplicated = run(2);
    ASSERT_EQ(duplicated["files"].size(), 1U);
    EXPECT_EQ(duplicated["files"][0]["title"], "Contract (1).docx");
    const auto overwritten = run("overwrite");
    ASSERT_EQ(overwritten["files"].size(), 1U);
    EXPECT_EQ(overwritten["files"][0]["id"], contract);  // the existing file got a new version
    EXPECT_EQ(overwritten["files"][0]["version"], 2);
    const auto bad =
        Copy(Json{{"fileIds", {contract}}, {"destFolderId", room}, {"conflictResolveType", "Merge"}});
    EXPECT_EQ(bad.json["statusCode"], 400);
}

TEST_F(FileOpsTest, MovesFireMovedOrRestored) {
    Receiver receiver;
    Subscribe(api, kOwnerKey, "moves", receiver.url(),
              16384 | 4096 | 2097152);  // file.moved, file.restored, folder.moved
    const auto incoming = IdOf(state, "Incoming");
    const auto a = Move(Json{{"fileIds", {IdOf(state, "Contract.docx")}},
                             {"folderIds", {IdOf(state, "Archive 2025")}},
                             {"destFolderId", incoming},
                             {"returnSingleOperation", true}});
    const auto done = PollFinished(a.response()[0]["id"]);
    ASSERT_FALSE(done.is_null());
    EXPECT_EQ(done["processed"], "2");
    EXPECT_EQ(done["files"][0]["folderId"], incoming);
    // With files in the request the result lists only them (docs/docspace-api.md §2.5); the folder moved.
    EXPECT_TRUE(done["folders"].empty());
    const auto moved = FindNode(emu.emulator.State(), "Incoming");
    ASSERT_EQ(moved["folders"].size(), 1U);
    EXPECT_EQ(moved["folders"][0]["title"], "Archive 2025");
    // Out of Trash (an admin's move): file.restored.
    const auto restore = Move(Json{{"fileIds", {IdOf(state, "Old draft.docx")}},
                                   {"destFolderId", incoming},
                                   {"returnSingleOperation", true}},
                              kOwnerKey);
    ASSERT_FALSE(PollFinished(restore.response()[0]["id"], kOwnerKey).is_null());
    ASSERT_TRUE(emu.emulator.WaitIdle(milliseconds(5000)));
    std::multiset<std::string> triggers;
    for (const auto& p : receiver.Posts()) triggers.insert(p.Parsed()["event"]["trigger"]);
    EXPECT_EQ(triggers, (std::multiset<std::string>{"file.moved", "folder.moved", "file.restored"}));
    const auto now = emu.emulator.State();
    EXPECT_EQ(FindNode(now, "Incoming")["files"].size(), 2U);
}

TEST_F(FileOpsTest, FolderCopyCopiesTheSubtreeAndFiresForEveryEntry) {
    Receiver receiver;
    Subscribe(api, kOwnerKey, "folders", receiver.url(), 1048576 | 8192);  // folder.copied, file.copied
    ASSERT_TRUE(emu.emulator.UploadFile(
        {"owner", EntityId::Parse(S(IdOf(state, "Incoming"))), "inner.docx", 5, true}));
    const auto a = Copy(Json{{"folderIds", {IdOf(state, "Incoming")}},
                             {"destFolderId", IdOf(state, "Archive 2025")},
                             {"returnSingleOperation", true}});
    const auto done = PollFinished(a.response()[0]["id"]);
    // Without files in the request the result's folders start with the destination itself.
    ASSERT_EQ(done["folders"].size(), 2U);
    EXPECT_EQ(done["folders"][0]["id"], IdOf(state, "Archive 2025"));
    const auto& copy = done["folders"][1];
    EXPECT_EQ(copy["filesCount"], 1);
    // The copied folder is counted when made and again once its content is done, plus its file.
    EXPECT_EQ(done["processed"], "3");
    ASSERT_TRUE(emu.emulator.WaitIdle(milliseconds(5000)));
    // The recursion publishes an event for the folder and then for everything in it. Deliveries go out
    // in parallel, as a portal's do, so publishing order is event.id order, not arrival order.
    auto posts = receiver.Posts();
    std::sort(posts.begin(), posts.end(), [](const auto& left, const auto& right) {
        return left.Parsed()["event"]["id"].template get<std::int64_t>() <
               right.Parsed()["event"]["id"].template get<std::int64_t>();
    });
    std::vector<std::string> triggers;
    triggers.reserve(posts.size());
    for (const auto& p : posts) triggers.push_back(p.Parsed()["event"]["trigger"]);
    EXPECT_EQ(triggers, (std::vector<std::string>{"folder.copied", "file.copied"}));
    for (const auto& p : posts) {
        const auto parsed = p.Parsed();
        if (parsed["event"]["trigger"] == "folder.copied") {
            EXPECT_EQ(parsed["payload"]["id"], copy["id"]);
        }
        if (parsed["event"]["trigger"] == "file.copied") {
            EXPECT_EQ(parsed["payload"]["parentId"], copy["id"]);
        }
    }
}

TEST_F(FileOpsTest, DeleteAfterMeansTheResultIsNotHeld) {
    const auto a = Copy(Json{{"fileIds", {IdOf(state, "Contract.docx")}},
                             {"destFolderId", IdOf(state, "Incoming")},
                             {"deleteAfter", true},
                             {"returnSingleOperation", true}});
    ASSERT_TRUE(emu.emulator.WaitIdle(milliseconds(5000)));
    EXPECT_TRUE(
        api.Get("/api/2.0/files/fileops?id=" + a.response()[0]["id"].get<std::string>(), kRoomAdminKey)
            .response()
            .empty());
    // The source is still there: deleteAfter never deletes (docs/docspace-api.md §2.5).
    EXPECT_EQ(FindNode(emu.emulator.State(), "Client ACME")["files"].size(), 1U);
    EXPECT_EQ(emu.emulator.Counter("files_copied"), 1);
}

TEST_F(FileOpsTest, BadRequestsAreRefusedBeforeAnyOperationStarts) {
    // PermissionCheckStarter runs in the PUT: what it refuses never becomes an operation.
    const auto contract = IdOf(state, "Contract.docx");
    const auto incoming = IdOf(state, "Incoming");
    auto copy = [&](Json body, const std::string& key = kRoomAdminKey) {
        body["returnSingleOperation"] = true;
        return Copy(body, key);
    };
    // Jane (editor) may not create in Incoming.
    const auto jane = copy(Json{{"fileIds", {contract}}, {"destFolderId", incoming}}, kJaneKey);
    EXPECT_EQ(jane.status, 403);
    EXPECT_EQ(jane.json["error"]["message"], "Access denied");
    const auto nowhere = copy(Json{{"fileIds", {contract}}, {"destFolderId", 99999}});
    EXPECT_EQ(nowhere.status, 404);
    EXPECT_EQ(nowhere.json["error"]["message"], "The required folder was not found");
    // A missing file after the first: 404; the first one missing reads as no permission on nothing: 403.
    const auto second = copy(Json{{"fileIds", {contract, 99999}}, {"destFolderId", incoming}});
    EXPECT_EQ(second.status, 404);
    EXPECT_EQ(second.json["error"]["message"], "The required file was not found");
    EXPECT_EQ(copy(Json{{"fileIds", {99999}}, {"destFolderId", incoming}}).status, 403);
    // A folder into its own subtree: InvalidOperation, 403 with its message.
    const auto inside = copy(Json{{"folderIds", {incoming}}, {"destFolderId", incoming}});
    EXPECT_EQ(inside.status, 403);
    EXPECT_EQ(inside.json["error"]["message"], "You cannot copy the folder to its subfolder");
    // A file straight into the Rooms section.
    EXPECT_EQ(
        copy(Json{{"fileIds", {contract}}, {"destFolderId", emu.emulator.rooms_root_id().ToJson()}}).status,
        403);
    EXPECT_EQ(emu.emulator.Counter("copy_operations"), 0);
}

TEST_F(FileOpsTest, SkippedItemsAndSwallowedOperationsFinishWithoutAnError) {
    // A move with Skip over a file of the same title in the destination: nothing happens, nothing says so.
    const auto incoming = IdOf(state, "Incoming");
    const auto contract = IdOf(state, "Contract.docx");
    const auto copied =
        Copy(Json{{"fileIds", {contract}}, {"destFolderId", incoming}, {"returnSingleOperation", true}});
    ASSERT_FALSE(PollFinished(copied.response()[0]["id"]).is_null());
    const auto skip =
        Move(Json{{"fileIds", {contract}}, {"destFolderId", incoming}, {"returnSingleOperation", true}});
    ASSERT_EQ(skip.status, 200) << skip.body;
    const auto skipped = PollFinished(skip.response()[0]["id"]);
    ASSERT_FALSE(skipped.is_null());
    EXPECT_EQ(skipped["error"], "");
    EXPECT_EQ(skipped["progress"], 100);
    EXPECT_EQ(skipped["processed"], "0");
    EXPECT_TRUE(skipped["files"].empty());
    EXPECT_EQ(FindNode(emu.emulator.State(), "Client ACME")["files"].size(), 1U);  // still there

    // An operation the portal gave up on inside: answered, finished, no error, nothing done.
    ASSERT_EQ(api.Control("POST", "faults",
                          Json{{"kind", "swallow"}, {"pathPrefix", "/api/2.0/files/fileops/move"}})
                  .status,
              200);
    const auto lost = Move(Json{{"fileIds", {contract}},
                                {"destFolderId", IdOf(state, "Archive 2025")},
                                {"returnSingleOperation", true}});
    ASSERT_EQ(lost.status, 200) << lost.body;
    const auto swallowed = PollFinished(lost.response()[0]["id"]);
    ASSERT_FALSE(swallowed.is_null());
    EXPECT_EQ(swallowed["error"], "");
    EXPECT_EQ(swallowed["progress"], 100);
    EXPECT_EQ(swallowed["finished"], true);
    EXPECT_EQ(FindNode(emu.emulator.State(), "Archive 2025")["files"].size(), 0U);
    EXPECT_EQ(emu.emulator.Counter("operations_swallowed"), 1);
}

TEST_F(FileOpsTest, AMoveNeverRenamesAndFolderCopiesAreNumberedAtTheEnd) {
    const auto incoming = IdOf(state, "Incoming");
    const auto contract = IdOf(state, "Contract.docx");
    const auto copied =
        Copy(Json{{"fileIds", {contract}}, {"destFolderId", incoming}, {"returnSingleOperation", true}});
    ASSERT_FALSE(PollFinished(copied.response()[0]["id"]).is_null());
    // Duplicate does not rename a moved file: Incoming holds two "Contract.docx".
    const auto moved = Move(Json{{"fileIds", {contract}},
                                 {"destFolderId", incoming},
                                 {"conflictResolveType", "Duplicate"},
                                 {"returnSingleOperation", true}});
    const auto done = PollFinished(moved.response()[0]["id"]);
    ASSERT_FALSE(done.is_null());
    EXPECT_EQ(done["files"][0]["title"], "Contract.docx");
    std::multiset<std::string> titles;
    const auto after = FindNode(emu.emulator.State(), "Incoming");
    for (const auto& f : after["files"]) titles.insert(f["title"].get<std::string>());
    EXPECT_EQ(titles, (std::multiset<std::string>{"Contract.docx", "Contract.docx"}));

    // A folder copy that collides is numbered at the end of the whole name.
    const auto room = IdOf(state, "Client ACME");
    const auto v12 = api.Post("/api/2.0/files/folder/" + S(room), kRoomAdminKey, Json{{"title", "v1.2"}});
    ASSERT_EQ(v12.status, 200) << v12.body;
    const auto dup = Copy(Json{{"folderIds", {v12.response()["id"]}},
                               {"destFolderId", room},
                               {"conflictResolveType", 2},
                               {"returnSingleOperation", true}});
    ASSERT_FALSE(PollFinished(dup.response()[0]["id"]).is_null());
    EXPECT_FALSE(FindNode(emu.emulator.State(), "v1.2 (1)").is_null());
    // Outside Duplicate a folder of the same title is merged into, not numbered.
    const auto merged = Copy(
        Json{{"folderIds", {v12.response()["id"]}}, {"destFolderId", room}, {"returnSingleOperation", true}});
    ASSERT_FALSE(PollFinished(merged.response()[0]["id"]).is_null());
    EXPECT_TRUE(FindNode(emu.emulator.State(), "v1.2 (2)").is_null());
}

TEST_F(FileOpsTest, RoomsAreArchivedRestoredAndDuplicatedByOperations) {
    Receiver receiver;
    Subscribe(api, kOwnerKey, "rooms", receiver.url(), 16777216 | 67108864 | 134217728);
    const auto acme = IdOf(state, "Client ACME");
    const auto rooms = emu.emulator.rooms_root_id().ToJson();
    const Json archive = emu.emulator.State()["portal"]["archiveRootId"];
    auto run = [&](bool copy, const Json& dest) {
        const Json body = {{"folderIds", {acme}}, {"destFolderId", dest}, {"returnSingleOperation", true}};
        const auto a = copy ? Copy(body, kOwnerKey) : Move(body, kOwnerKey);
        EXPECT_EQ(a.status, 200) << a.body;
        return PollFinished(a.response()[0]["id"], kOwnerKey);
    };
    ASSERT_FALSE(run(false, archive).is_null());
    ASSERT_FALSE(run(false, rooms).is_null());
    ASSERT_FALSE(run(true, rooms).is_null());
    ASSERT_TRUE(emu.emulator.WaitIdle(milliseconds(5000)));
    std::vector<std::string> triggers;
    for (const auto& p : receiver.Posts()) triggers.push_back(p.Parsed()["event"]["trigger"]);
    std::sort(triggers.begin(), triggers.end());
    EXPECT_EQ(triggers, (std::vector<std::string>{"room.archived", "room.copied", "room.restored"}));
    EXPECT_FALSE(FindNode(emu.emulator.State(), "Client ACME (1)").is_null());
    // A room goes nowhere but the Rooms section and the Archive.
    EXPECT_EQ(Move(Json{{"folderIds", {acme}}, {"destFolderId", IdOf(state, "Incoming")}}, kOwnerKey).status,
              403);
}

}  // namespace
}  // namespace spacehook::emulator::testing
