// The webhook body against docs/docspace-api.md §1.4 and §1.6: envelope order, field names, omitted defaults,
// the thin FileEntry payload and the retry block.
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "emulator/dto.hpp"
#include "emulator/model.hpp"
#include "emulator/webhook_book.hpp"

namespace spacehook::emulator {
namespace {

const std::string kOwner = "66faa6e4-f133-11ea-b126-00ffeec8b4ef";

TimePoint At(const char* iso) {
    return *ParseIso8601(iso);
}

struct Fixture {
    Portal portal;
    Fixture() {
        User owner;
        owner.id = kOwner;
        owner.user_name = "owner";
        owner.type = UserType::kDocSpaceAdmin;
        owner.is_owner = true;
        portal.AddUser(owner);
        portal.CreateSections(kOwner, At("2026-06-30T10:00:00Z"));
    }
};

TEST(WebhookBodyTest, FileCreatedMatchesTheWireExample) {
    Fixture f;
    const auto now = At("2026-06-30T10:15:41Z");
    Entry& room = f.portal.CreateRoom("Client ACME", 2, kOwner, now);
    Entry& folder = f.portal.CreateFolder(room.id, "Incoming", kOwner, now);
    const Entry& file = f.portal.CreateFile(folder.id, "Invoice-0042.docx", 1200, kOwner, now);

    WebhookConfig config;
    config.id = 7;
    config.name = "automation";
    config.uri = "https://hooks.example.com/docspace";
    config.triggers = 128 | 256 | 4194304;
    WebhookLogEntry entry;
    entry.id = 4821;
    entry.creation_time = At("2026-06-30T10:15:42Z");
    entry.create_by = kOwner;
    entry.trigger = 128;
    entry.trigger_name = "file.created";
    entry.payload = FileEntryPayload(f.portal, file);

    const std::string expected =
        R"({"event":{"id":4821,"createOn":"2026-06-30T10:15:42Z","createBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef",)"
        R"("trigger":"file.created","triggerId":128},)"
        R"("payload":{"id":)" +
        file.id.str() + R"(,"parentId":)" + folder.id.str() + R"(,"securityByUsers":{},"folderIdDisplay":)" +
        folder.id.str() + R"(,"rootId":)" + f.portal.rooms_root().str() +
        R"(,"title":"Invoice-0042.docx","createBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef",)"
        R"("modifiedBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef","createOn":"2026-06-30T10:15:41Z",)"
        R"("modifiedOn":"2026-06-30T10:15:41Z","rootFolderType":14,)"
        R"("rootCreateBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef","fileEntryType":2},)"
        R"("webhook":{"id":7,"name":"automation","url":"https://hooks.example.com/docspace",)"
        R"("triggers":["file.created","file.uploaded","room.created"]}})";
    EXPECT_EQ(BuildWebhookBody(entry, config, nullptr), expected);
}

TEST(WebhookBodyTest, PayloadIsTheThinFileEntry) {
    Fixture f;
    const auto now = At("2026-06-30T10:15:41Z");
    Entry& room = f.portal.CreateRoom("Room", 5, kOwner, now);
    const Entry& file = f.portal.CreateFile(room.id, "a.docx", 10, kOwner, now);
    const auto payload = FileEntryPayload(f.portal, file);
    for (const char* absent :
         {"webUrl", "version", "contentLength", "fileExst", "roomType", "folderType", "roomId"}) {
        EXPECT_FALSE(payload.contains(absent)) << absent;
    }
    // rootId is the section root (VirtualRooms), never the room (docs/docspace-api.md §1.6).
    EXPECT_EQ(payload["rootId"].get<std::int64_t>(), std::stoll(f.portal.rooms_root().str()));
    EXPECT_EQ(payload["parentId"].get<std::int64_t>(), std::stoll(room.id.str()));
    EXPECT_TRUE(payload["securityByUsers"].is_object());
    EXPECT_TRUE(payload["securityByUsers"].empty());
}

TEST(WebhookBodyTest, RoomPayloadParentIsTheRoomsFolder) {
    Fixture f;
    const Entry& room = f.portal.CreateRoom("Client ACME", 2, kOwner, At("2026-06-30T10:20:00Z"));
    const auto payload = FileEntryPayload(f.portal, room);
    EXPECT_EQ(payload["parentId"], payload["rootId"]);
    EXPECT_EQ(payload["fileEntryType"], 1);
}

TEST(WebhookBodyTest, DefaultsAreOmitted) {
    Fixture f;
    WebhookConfig config;
    config.id = 3;
    config.name = "legacy";
    config.uri = "https://x";
    WebhookLogEntry entry;
    entry.id = 9;
    entry.creation_time = At("2026-06-30T10:00:00Z");
    entry.create_by = "00000000-0000-0000-0000-000000000000";  // Guid.Empty
    entry.trigger = 0;                                         // a legacy send: triggerId omitted
    entry.trigger_name = "*";
    entry.payload = OJson::object();
    const auto body = OJson::parse(BuildWebhookBody(entry, config, nullptr));
    EXPECT_FALSE(body["event"].contains("createBy"));
    EXPECT_FALSE(body["event"].contains("triggerId"));
    EXPECT_EQ(body["webhook"]["triggers"], OJson::array({"*"}));
    EXPECT_FALSE(body["webhook"].contains("target"));
    EXPECT_FALSE(body["webhook"].contains("retryCount"));
}

TEST(WebhookBodyTest, UserPayloadKeepsEmailAndOmitsDefaults) {
    User u;
    u.id = "5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b";
    u.first_name = "Jane";
    u.last_name = "Doe";
    u.user_name = "jane.doe";
    u.email = "jane.doe@example.com";
    u.created_by = kOwner;
    u.created = u.last_modified = At("2026-06-30T10:25:01Z");
    const auto p = UserInfoPayload(u);
    const std::vector<std::string> keys = {
        "id",           "firstName", "lastName", "userName",    "status",     "activationStatus", "email",
        "lastModified", "tenantId",  "isActive", "cultureName", "createDate", "createdBy"};
    std::vector<std::string> got;
    for (auto it = p.begin(); it != p.end(); ++it) got.push_back(it.key());
    EXPECT_EQ(got, keys);
    EXPECT_EQ(p["lastModified"], "2026-06-30T10:25:01.000Z");
    EXPECT_EQ(p["createDate"], "2026-06-30T10:25:01Z");
}

TEST(WebhookBodyTest, GroupPayload) {
    Group g;
    g.id = "b1f7c3a2-0000-4000-8000-000000000001";
    g.name = "Sales";
    EXPECT_EQ(WriteStj(GroupInfoPayload(g)),
              R"({"id":"b1f7c3a2-0000-4000-8000-000000000001","name":"Sales","authenticationType":"ASC",)"
              R"("key":"b1f7c3a2-0000-4000-8000-000000000001"})");
}

TEST(WebhookBodyTest, RetryBlockFollowsTheTriggersAndTarget) {
    WebhookConfig config;
    config.id = 9;
    config.name = "watch-567";
    config.uri = "https://h";
    config.triggers = 65536;
    WebhookLogEntry entry;
    entry.id = 4830;
    entry.creation_time = At("2026-06-30T10:15:42Z");
    entry.trigger = 65536;
    entry.trigger_name = "folder.updated";
    entry.payload = OJson::object();
    entry.target = OJson{{"id", 567}, {"type", "folder"}};
    RetryFields retry;
    retry.last_failure_on = At("2026-06-30T10:15:43Z");
    retry.last_failure_content = "Response status code does not indicate success: 503 (Service Unavailable).";
    retry.last_success_on = At("2026-06-29T08:00:00Z");
    retry.retry_count = 2;
    retry.retry_on = At("2026-06-30T10:15:46Z");
    const auto body = BuildWebhookBody(entry, config, &retry);
    EXPECT_NE(
        body.find(R"("webhook":{"id":9,"name":"watch-567","url":"https://h","triggers":["folder.updated"],)"
                  R"("target":{"id":567,"type":"folder"},"lastFailureOn":"2026-06-30T10:15:43Z",)"
                  R"("lastFailureContent":"Response status code does not indicate success: 503 )"
                  R"((Service Unavailable).","lastSuccessOn":"2026-06-29T08:00:00","retryCount":2,)"
                  R"("retryOn":"2026-06-30T10:15:46Z"})"),
        std::string::npos)
        << body;
}

TEST(WebhookBookTest, BitmaskAndTargetFilter) {
    ManualClock clock;
    WebhookBook book(clock);
    WebhookConfig all;
    all.name = "all";
    all.enabled = true;
    all.created_by = kOwner;
    WebhookConfig files;
    files.name = "files";
    files.enabled = true;
    files.triggers = 128;
    files.created_by = kOwner;
    WebhookConfig target;
    target.name = "target";
    target.enabled = true;
    target.target_id = "567";
    target.created_by = kOwner;
    WebhookConfig disabled;
    disabled.name = "off";
    disabled.created_by = kOwner;
    for (auto* c : {&all, &files, &target, &disabled}) book.Add(*c);
    auto readable = [](const std::string&) { return true; };
    EXPECT_EQ(book.Publish("file.created", OJson::object(), "12", 12, kOwner, readable).size(), 2U);
    EXPECT_EQ(book.Publish("folder.updated", OJson::object(), "567", 567, kOwner, readable).size(), 2U);
    EXPECT_EQ(book.Publish("room.created", OJson::object(), "13", 13, kOwner, readable).size(), 1U);
    // The creator must be able to read the entity when someone else acted (docs/docspace-api.md §1.8).
    auto unreadable = [](const std::string&) { return false; };
    EXPECT_EQ(book.Publish("file.created", OJson::object(), "12", 12, "someone-else", unreadable).size(), 0U);
}

TEST(WebhookBookTest, ManualRetryGetsANewId) {
    ManualClock clock;
    WebhookBook book(clock);
    WebhookConfig c;
    c.name = "x";
    c.enabled = true;
    c.created_by = kOwner;
    book.Add(c);
    const auto ids =
        book.Publish("file.created", OJson::object(), "1", 1, kOwner, [](const auto&) { return true; });
    ASSERT_EQ(ids.size(), 1U);
    clock.Advance(std::chrono::seconds(30));
    const auto again = book.Requeue(ids[0], kOwner);
    ASSERT_TRUE(again.has_value());
    EXPECT_NE(*again, ids[0]);
    EXPECT_GT(book.Entry(*again)->creation_time, book.Entry(ids[0])->creation_time);
}

}  // namespace
}  // namespace spacehook::emulator
