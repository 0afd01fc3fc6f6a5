#include "runner/context_resolver.hpp"

#include <gtest/gtest.h>

#include "runner/testing/fake_docspace.hpp"
#include "runner/testing/runner_test_support.hpp"

namespace spacehook::runner {
namespace {

using testing::FakeDocSpace;

class ContextResolverTest : public ::testing::Test {
protected:
    rules::Event Parse(const Json& envelope) {
        auto event = rules::ParseEvent(envelope);
        EXPECT_TRUE(event) << event.error().message;
        return event ? *event : rules::Event{};
    }
    static rules::NeededFacts Needs(bool path, bool room, bool file, bool folder, bool user, bool actor) {
        rules::NeededFacts needs;
        needs.path = path;
        needs.room = room;
        needs.file = file;
        needs.folder = folder;
        needs.user = user;
        needs.actor = actor;
        return needs;
    }

    ManualClock clock_;
    FakeDocSpace api_;
    FolderPathCache cache_{FolderPathCacheOptions{}, clock_};
    ContextResolver resolver_{api_, cache_};
};

TEST_F(ContextResolverTest, TheRoomIsThePartOfThePathWithARoomTypeAndPathsAreCached) {
    const auto room = api_.AddRoom("Client ACME", 2);
    const auto incoming = api_.AddFolder(room, "Incoming");
    const auto file = api_.AddFile(incoming, "Invoice.pdf");
    const auto event =
        Parse(testing::Envelope("file.created", testing::FilePayload(file, incoming, "Invoice.pdf"), 1));

    Resolution first;
    ASSERT_TRUE(resolver_.Resolve(event, Needs(true, false, false, false, false, false), first));
    ASSERT_TRUE(first.facts.path);
    EXPECT_EQ(first.facts.path->size(), 3u);  // Rooms, the room, Incoming
    EXPECT_EQ(first.facts.room, (Json{{"id", room.ToJson()}, {"title", "Client ACME"}, {"roomType", 2}}));
    EXPECT_EQ(first.api_calls, 1);

    // A second file in the same folder: the path comes from the cache.
    const auto other = api_.AddFile(incoming, "Invoice-2.pdf");
    Resolution second;
    ASSERT_TRUE(resolver_.Resolve(
        Parse(testing::Envelope("file.created", testing::FilePayload(other, incoming, "x"), 2)),
        Needs(true, false, false, false, false, false), second));
    EXPECT_EQ(second.api_calls, 0);
    EXPECT_EQ(second.facts.room["id"], room.ToJson());
    EXPECT_EQ(api_.Calls("GetFolderPath"), 1);
}

TEST_F(ContextResolverTest, CreatedFoldersAndRoomsWarmTheCacheBeforeAnyoneAsks) {
    const auto room = api_.AddRoom("New room", 5);
    const auto folder = api_.AddFolder(room, "Documents");
    const auto file = api_.AddFile(folder, "a.docx");
    // room.created: the payload's parentId is the Rooms section (docs/docspace-api.md §1.6); no roomType in
    // it.
    Json room_payload = testing::FolderPayload(room, EntityId::Number(FakeDocSpace::kRoomsRoot), "New room");
    resolver_.Observe(Parse(testing::Envelope("room.created", room_payload, 1)));
    resolver_.Observe(
        Parse(testing::Envelope("folder.created", testing::FolderPayload(folder, room, "Documents"), 2)));

    Resolution facts;
    const auto event =
        Parse(testing::Envelope("file.created", testing::FilePayload(file, folder, "a.docx"), 3));
    ASSERT_TRUE(resolver_.Resolve(event, Needs(true, false, false, false, false, false), facts));
    EXPECT_EQ(facts.api_calls, 0);
    EXPECT_EQ(facts.facts.room["id"], room.ToJson());
    EXPECT_EQ(facts.facts.room["title"], "New room");
    EXPECT_EQ(api_.TotalCalls(), 0);

    // A rename drops the paths through the folder: the next lookup asks the portal.
    resolver_.Observe(
        Parse(testing::Envelope("folder.updated", testing::FolderPayload(folder, room, "Docs"), 4)));
    Resolution again;
    ASSERT_TRUE(resolver_.Resolve(event, Needs(true, false, false, false, false, false), again));
    EXPECT_EQ(again.api_calls, 1);
}

TEST_F(ContextResolverTest, FileFolderRoomUserAndActorInfo) {
    const auto room = api_.AddRoom("ACME", 2);
    const auto folder = api_.AddFolder(room, "Incoming");
    const auto file = api_.AddFile(folder, "Invoice.pdf");
    api_.AddUser(testing::kJaneId, "Jane Doe", "jane@example.com");
    const auto event =
        Parse(testing::Envelope("file.created", testing::FilePayload(file, folder, "Invoice.pdf"), 1));

    Resolution facts;
    ASSERT_TRUE(resolver_.Resolve(event, Needs(false, true, true, true, false, true), facts));
    EXPECT_EQ(facts.facts.file["id"], file.ToJson());
    EXPECT_EQ(facts.facts.file["webUrl"],
              "https://portal.test/doceditor?fileid=" + file.str() + "&version=1");
    EXPECT_EQ(facts.facts.folder["title"], "Incoming");  // the file's parent folder
    EXPECT_TRUE(facts.facts.folder.contains("webUrl"));
    EXPECT_EQ(facts.facts.room["roomType"], 2);  // the room's whole FolderDto
    EXPECT_TRUE(facts.room_info);
    EXPECT_EQ(facts.facts.actor["displayName"], "Jane Doe");
    EXPECT_TRUE(facts.unavailable.empty());

    const auto user_event = Parse(testing::Envelope("user.created", Json{{"id", testing::kJaneId}}, 2));
    Resolution user;
    ASSERT_TRUE(resolver_.Resolve(user_event, Needs(false, false, false, false, true, false), user));
    EXPECT_EQ(user.facts.user["email"], "jane@example.com");
}

TEST_F(ContextResolverTest, AGoneEntityMakesItsFactUnavailableOtherFailuresEndTheCall) {
    const auto room = api_.AddRoom("ACME", 2);
    const auto folder = api_.AddFolder(room, "Incoming");
    const auto file = api_.AddFile(folder, "Invoice.pdf");
    const auto event =
        Parse(testing::Envelope("file.created", testing::FilePayload(file, folder, "Invoice.pdf"), 1));
    api_.Remove(file);

    Resolution facts;
    ASSERT_TRUE(resolver_.Resolve(event, Needs(true, false, true, false, false, false), facts));
    EXPECT_TRUE(facts.facts.path);
    EXPECT_TRUE(facts.facts.file.is_null());
    ASSERT_EQ(facts.unavailable.count("file info"), 1u);
    EXPECT_NE(facts.unavailable["file info"].find("404"), std::string::npos);

    api_.FailNext("GetFile", testing::Unavailable());
    Resolution transient;
    auto st = resolver_.Resolve(event, Needs(false, false, true, false, false, false), transient);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);

    api_.FailNext("GetFolderPath",
                  Error{ErrorCode::kUnauthorized, "DocSpace GET: 401 Unauthorized", 401, {}});
    cache_.Invalidate(folder);
    Resolution refused;
    auto key = resolver_.Resolve(event, Needs(true, false, false, false, false, false), refused);
    ASSERT_FALSE(key);
    EXPECT_EQ(key.error().code, ErrorCode::kUnauthorized);
}

}  // namespace
}  // namespace spacehook::runner
