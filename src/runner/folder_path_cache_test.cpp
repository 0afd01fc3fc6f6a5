#include "runner/folder_path_cache.hpp"

#include <gtest/gtest.h>

namespace spacehook::runner {
namespace {

using std::chrono::minutes;

PathNode Node(std::int64_t id, std::string title, bool room = false) {
    return PathNode{EntityId::Number(id), std::move(title), room,
                    room ? std::optional<int>(2) : std::nullopt};
}

std::vector<std::string> Ids(const std::optional<std::vector<PathNode>>& path) {
    std::vector<std::string> out;
    if (path) {
        for (const auto& node : *path) out.push_back(node.id.str());
    }
    return out;
}

TEST(FolderPathCache, APathIsCachedForEveryFolderOnIt) {
    ManualClock clock;
    FolderPathCache cache({}, clock);
    cache.Put({Node(1, "Rooms"), Node(5, "Client ACME", true), Node(6, "Incoming")});
    EXPECT_EQ(Ids(cache.Get(EntityId::Number(6))), (std::vector<std::string>{"1", "5", "6"}));
    EXPECT_EQ(Ids(cache.Get(EntityId::Number(5))), (std::vector<std::string>{"1", "5"}));
    EXPECT_TRUE(cache.Get(EntityId::Number(5))->back().is_room);
    EXPECT_FALSE(cache.Get(EntityId::Number(7)));
    EXPECT_EQ(cache.size(), 3u);
}

TEST(FolderPathCache, EntriesExpireAfterTheTtl) {
    ManualClock clock;
    FolderPathCache cache({100, minutes(10)}, clock);
    cache.Put({Node(1, "Rooms"), Node(5, "ACME", true)});
    clock.Advance(minutes(10) - std::chrono::milliseconds(1));
    EXPECT_TRUE(cache.Get(EntityId::Number(5)));
    clock.Advance(std::chrono::milliseconds(1));
    EXPECT_FALSE(cache.Get(EntityId::Number(5)));
}

TEST(FolderPathCache, TheLeastRecentlyUsedGoFirstAtCapacity) {
    ManualClock clock;
    FolderPathCache cache({3, minutes(10)}, clock);
    cache.Put({Node(1, "Rooms"), Node(5, "A", true)});
    cache.Put({Node(1, "Rooms"), Node(6, "B", true)});
    ASSERT_TRUE(cache.Get(EntityId::Number(5)));  // 5 is used; 1 (touched by the second Put) and 6 are older
    cache.Put({Node(1, "Rooms"), Node(7, "C", true)});
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_TRUE(cache.Get(EntityId::Number(5)));
    EXPECT_TRUE(cache.Get(EntityId::Number(7)));
    EXPECT_FALSE(cache.Get(EntityId::Number(6)));
}

TEST(FolderPathCache, NewFoldersExtendTheirParentsPathAndANewRoomIsItsOwnRoom) {
    ManualClock clock;
    FolderPathCache cache({}, clock);
    // A folder under an unknown parent cannot be placed.
    cache.AddChild(EntityId::Number(6), Node(8, "Q1"));
    EXPECT_FALSE(cache.Get(EntityId::Number(8)));
    // A room needs no known parent: it sits right under its section root.
    cache.AddChild(EntityId::Number(1), Node(9, "New room", true));
    EXPECT_EQ(Ids(cache.Get(EntityId::Number(9))), (std::vector<std::string>{"1", "9"}));
    cache.AddChild(EntityId::Number(9), Node(10, "Documents"));
    auto path = cache.Get(EntityId::Number(10));
    EXPECT_EQ(Ids(path), (std::vector<std::string>{"1", "9", "10"}));
    EXPECT_TRUE((*path)[1].is_room);
}

TEST(FolderPathCache, InvalidateDropsEveryPathThroughTheFolder) {
    ManualClock clock;
    FolderPathCache cache({}, clock);
    cache.Put({Node(1, "Rooms"), Node(5, "A", true), Node(6, "In"), Node(8, "Deep")});
    cache.Put({Node(1, "Rooms"), Node(7, "B", true)});
    cache.Invalidate(EntityId::Number(6));
    EXPECT_FALSE(cache.Get(EntityId::Number(6)));
    EXPECT_FALSE(cache.Get(EntityId::Number(8)));
    EXPECT_TRUE(cache.Get(EntityId::Number(5)));
    EXPECT_TRUE(cache.Get(EntityId::Number(7)));
}

}  // namespace
}  // namespace spacehook::runner
