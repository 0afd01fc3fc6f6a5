#include "docspace/names.hpp"

#include <gtest/gtest.h>

using namespace spacehook::docspace;

TEST(Names, AccessLevelsMapToFileShare) {
    EXPECT_EQ(*ParseAccessLevel("room_manager"), 9);
    EXPECT_EQ(*ParseAccessLevel("editor"), 10);
    EXPECT_EQ(*ParseAccessLevel("viewer"), 2);
    EXPECT_EQ(*ParseAccessLevel("content_creator"), 11);
    EXPECT_EQ(*ParseAccessLevel("reviewer"), 5);
    EXPECT_EQ(*ParseAccessLevel("commenter"), 6);
    EXPECT_EQ(*ParseAccessLevel("form_filler"), 7);
    EXPECT_EQ(*ParseAccessLevel("remove"), 0);
}

TEST(Names, UnknownAccessIsAnErrorNeverZero) {
    for (auto bad : {"full", "Editor", "", "4", "read", "none"}) {
        auto r = ParseAccessLevel(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message.find("room_manager"), std::string::npos);
    }
    EXPECT_EQ(AccessLevelName(10), "editor");
    EXPECT_EQ(AccessLevelName(4), "access_4");
}

TEST(Names, RoomTypes) {
    EXPECT_EQ(*ParseRoomType("collaboration"), 2);
    EXPECT_EQ(*ParseRoomType("editing"), 2);
    EXPECT_EQ(*ParseRoomType("custom"), 5);
    EXPECT_EQ(*ParseRoomType("2"), 2);
    EXPECT_EQ(*ParseRoomType("9"), 9);
    EXPECT_FALSE(ParseRoomType("3"));
    EXPECT_FALSE(ParseRoomType("private"));
    EXPECT_EQ(RoomTypeName(5), "custom");
}

TEST(Names, Triggers) {
    EXPECT_EQ(*TriggerBit("file.created"), 128);
    EXPECT_EQ(*TriggerBit("room.created"), 4194304);
    EXPECT_EQ(*TriggerBit("folder.downloaded"), 34359738368LL);
    EXPECT_EQ(*TriggerBit("*"), 0);
    EXPECT_FALSE(TriggerBit("file.create"));
    EXPECT_EQ(TriggerName(512), "file.updated");
    auto names = TriggerNames(128 | 256);
    ASSERT_EQ(names.size(), 2u);
    EXPECT_EQ(names[0], "file.created");
    EXPECT_EQ(names[1], "file.uploaded");
    EXPECT_EQ(TriggerNames(0).front(), "*");
    EXPECT_EQ(AllTriggers().size(), 36u);
}

TEST(Names, TriggerBitsFollowThePortalsOrder) {
    // docs/docspace-api.md §1.5: bit i for the i-th trigger, 1 (user.created) .. 1<<35 (folder.downloaded).
    const auto& triggers = AllTriggers();
    for (std::size_t i = 0; i < triggers.size(); ++i)
        EXPECT_EQ(triggers[i].second, std::int64_t{1} << i) << triggers[i].first;
    EXPECT_EQ(*TriggerBit("form.submit"), 268435456);
    EXPECT_EQ(TriggerFamily("form.filled.out"), "form");
    EXPECT_EQ(TriggerFamily("file.created"), "file");
}
