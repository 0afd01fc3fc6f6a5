// The portal model and DTO helpers: ids, sections, rooms, access rules (docs/docspace-api.md §1.6, §1.7,
// §2.4).
#include "emulator/model.hpp"

#include <gtest/gtest.h>

#include "emulator/dto.hpp"

namespace spacehook::emulator {
namespace {

TimePoint Now() {
    return *ParseIso8601("2026-06-30T10:15:41Z");
}

struct Portal3 {
    Portal portal;
    User* admin;
    User* manager;
    User* jane;
    Portal3() {
        auto add = [&](const char* id, const char* name, UserType type) {
            User u;
            u.id = id;
            u.user_name = name;
            u.type = type;
            return &portal.AddUser(u);
        };
        admin = add("a0000000-0000-0000-0000-000000000001", "admin", UserType::kDocSpaceAdmin);
        manager = add("a0000000-0000-0000-0000-000000000002", "manager", UserType::kRoomAdmin);
        jane = add("a0000000-0000-0000-0000-000000000003", "jane", UserType::kUser);
        admin->is_owner = true;
        portal.CreateSections(admin->id, Now());
    }
};

TEST(ModelTest, FilesAndFoldersHaveTheirOwnIdSequences) {
    Portal3 p;
    Entry& room = p.portal.CreateRoom("R", 2, p.manager->id, Now());
    const Entry& file = p.portal.CreateFile(room.id, "a.docx", 1, p.manager->id, Now());
    EXPECT_EQ(room.id.str(), "4");  // after Rooms 1, Archive 2, Trash 3
    EXPECT_EQ(file.id.str(), "1");
    EXPECT_TRUE(file.id.is_number());
}

TEST(ModelTest, ThirdPartyRoomsGiveStringIdsToTheirSubtree) {
    Portal3 p;
    Entry& room = p.portal.CreateRoom("Box", 5, p.admin->id, Now(), "box");
    const EntityId room_id = room.id;
    const Entry& folder = p.portal.CreateFolder(room_id, "F", p.admin->id, Now());
    const Entry& file = p.portal.CreateFile(folder.id, "f.docx", 1, p.admin->id, Now());
    EXPECT_FALSE(room_id.is_number());
    EXPECT_FALSE(folder.id.is_number());
    EXPECT_EQ(file.id.str().rfind("box-", 0), 0U);
}

TEST(ModelTest, RootIsTheSectionAndTheRoomIsFoundByWalkingUp) {
    Portal3 p;
    Entry& room = p.portal.CreateRoom("R", 2, p.manager->id, Now());
    const EntityId room_id = room.id;
    const EntityId folder_id = p.portal.CreateFolder(room_id, "F", p.manager->id, Now()).id;
    const Entry& file = p.portal.CreateFile(folder_id, "a.docx", 1, p.manager->id, Now());
    EXPECT_EQ(p.portal.RootOf(file).id, p.portal.rooms_root());
    EXPECT_EQ(p.portal.RoomOf(file)->id, room_id);
    const auto path = p.portal.PathTo(*p.portal.Folder(folder_id));
    ASSERT_EQ(path.size(), 3U);
    EXPECT_EQ(path[0]->folder_type, kFolderVirtualRooms);
    EXPECT_EQ(path[1]->folder_type, 16);  // EditingRoom <-> FolderType 16
    EXPECT_TRUE(p.portal.IsWithin(file, room_id));
}

TEST(ModelTest, AccessRules) {
    Portal3 p;
    Entry& room = p.portal.CreateRoom("R", 5, p.manager->id, Now());
    EXPECT_EQ(p.portal.AccessOf(*p.admin, room), kAccessRoomManager);
    EXPECT_EQ(p.portal.AccessOf(*p.manager, room), kAccessRoomManager);  // the owner
    EXPECT_EQ(p.portal.AccessOf(*p.jane, room), kAccessNone);
    Group g;
    g.id = "b0000000-0000-0000-0000-000000000001";
    g.members = {p.jane->id};
    p.portal.AddGroup(g);
    room.members.push_back({g.id, kAccessRead, true});
    EXPECT_EQ(p.portal.AccessOf(*p.jane, room), kAccessRead);
    room.members.push_back({p.jane->id, kAccessContentCreator, false});  // a direct grant wins
    EXPECT_EQ(p.portal.AccessOf(*p.jane, room), kAccessContentCreator);
    EXPECT_TRUE(p.portal.CanCreateIn(*p.jane, room));
    EXPECT_FALSE(p.portal.CanCreateIn(*p.admin, *p.portal.Folder(p.portal.rooms_root())));
    const Entry& mine = p.portal.CreateFile(room.id, "mine.docx", 1, p.jane->id, Now());
    const Entry& theirs = p.portal.CreateFile(room.id, "theirs.docx", 1, p.manager->id, Now());
    EXPECT_TRUE(p.portal.CanRemove(*p.jane, mine));
    EXPECT_FALSE(p.portal.CanRemove(*p.jane, theirs));
    EXPECT_FALSE(p.portal.CanManageRoom(*p.jane, room));
}

TEST(ModelTest, AllowedRoomAccessesFollowTheWireTable) {
    EXPECT_EQ(AllowedRoomAccesses(5), (std::vector<int>{9, 11, 10, 5, 6, 2, 0}));
    EXPECT_EQ(AllowedRoomAccesses(6), (std::vector<int>{9, 11, 0}));
    EXPECT_EQ(AllowedRoomAccesses(1), (std::vector<int>{9, 11, 7, 0}));
    EXPECT_EQ(AllowedRoomAccesses(2), (std::vector<int>{9, 11, 10, 2, 0}));
    EXPECT_EQ(AllowedRoomAccesses(8), (std::vector<int>{9, 11, 10, 2, 7, 0}));
    EXPECT_EQ(AllowedRoomAccesses(9), (std::vector<int>{9, 11, 2, 0}));
    EXPECT_TRUE(AllowedRoomAccesses(3).empty());
}

TEST(ModelTest, DisplayNameFallsBackToTheEmailWithoutNames) {
    User u;
    u.email = "omar@example.com";
    EXPECT_EQ(u.DisplayName(), "omar@example.com");  // invited by e-mail: no names yet
    u.first_name = " ";
    EXPECT_EQ(u.DisplayName(), "omar@example.com");
    u.first_name = "Omar";
    EXPECT_EQ(u.DisplayName(), "Omar");
    u.last_name = "Invited";
    EXPECT_EQ(u.DisplayName(), "Omar Invited");
    u.first_name.clear();
    EXPECT_EQ(u.DisplayName(), "Invited");
}

TEST(ModelTest, TitlesAndExtensions) {
    EXPECT_EQ(ExtensionOf("Report.DOCX"), ".docx");
    EXPECT_EQ(ExtensionOf("README"), "");
    EXPECT_EQ(DuplicateTitle("Report.docx", 2, false), "Report (2).docx");
    EXPECT_EQ(DuplicateTitle("Folder", 1, true), "Folder (1)");
    EXPECT_EQ(DuplicateTitle("v1.2", 1, true), "v1.2 (1)");  // a folder's number ends the whole name
    // Every create, copy and rename stores the portal's form of the title.
    EXPECT_EQ(StoredTitle(" Q1: Plans ", true), "Q1_ Plans");
    EXPECT_EQ(StoredTitle("Plan.XLSX", false), "Plan.xlsx");
}

TEST(DtoTest, ContentLengthAndDates) {
    EXPECT_EQ(ContentLengthText(512), "512 bytes");
    EXPECT_EQ(ContentLengthText(1024), "1 KB");
    EXPECT_EQ(ContentLengthText(12350), "12.06 KB");
    EXPECT_EQ(ContentLengthText(3 * 1024 * 1024 + 512 * 1024), "3.5 MB");
    EXPECT_EQ(ApiDateTime(*ParseIso8601("2026-06-30T13:15:41.123Z")), "2026-06-30T13:15:41.1230000Z");
    EXPECT_EQ(FileTypeOf(".docx"), 7);
    EXPECT_EQ(FileTypeOf(".xlsx"), 5);
    EXPECT_EQ(FileTypeOf(".pdf"), 10);
}

}  // namespace
}  // namespace spacehook::emulator
