#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/entity_id.hpp"

namespace spacehook::runner {

/// One folder on the way from a section root (Rooms, My documents, ...) down to a folder.
struct PathNode {
    EntityId id;
    std::string title;
    /// The room is the part of a path that has a roomType (docs/docspace-api.md §1.7); room.created events
    /// tell it without one (their payload has no roomType, §1.6).
    bool is_room = false;
    std::optional<int> room_type;
};

struct FolderPathCacheOptions {
    std::size_t capacity = 20000;  ///< folders remembered; the least recently used go first
    /// A cached path is trusted this long. Renames and moves seen as events drop entries at once
    /// (Invalidate); this bounds how stale a path can get through changes we never hear about
    /// (a webhook subscription without folder.* triggers, a missed delivery).
    std::chrono::milliseconds ttl{std::chrono::minutes(10)};
};

/// folder id -> its path from the section root down to the folder itself. It spares the dispatcher a
/// GET files/folder/{id}/path per event in a busy folder, and folder.created / room.created events fill
/// it before anyone asks (a new folder's path is its parent's path plus itself; a new room is its own
/// room), so the automation that reacts to a new folder usually costs no lookup. Thread-safe.
class FolderPathCache {
public:
    explicit FolderPathCache(FolderPathCacheOptions options, const Clock& clock);

    /// The path of `folder` (the last node is the folder), if cached and fresh.
    std::optional<std::vector<PathNode>> Get(const EntityId& folder);
    /// Remembers `path` for its last node and, since every prefix of a path is the path of that
    /// ancestor, for every node in it.
    void Put(const std::vector<PathNode>& path);
    /// A new folder or room `child` directly inside `parent`: cached when the parent's path is known
    /// (or, for a room, always: a room sits right under its section root).
    void AddChild(const EntityId& parent, PathNode child);
    /// Forgets every path that runs through `id` (it was renamed, moved, trashed or deleted).
    void Invalidate(const EntityId& id);

    [[nodiscard]] std::size_t size() const;

private:
    struct Slot {
        std::vector<PathNode> path;
        TimePoint expires;
        std::list<EntityId>::iterator lru;
    };
    void PutLocked(const std::vector<PathNode>& path, TimePoint now);

    FolderPathCacheOptions options_;
    const Clock& clock_;
    mutable std::mutex mu_;
    std::unordered_map<EntityId, Slot> slots_;
    std::list<EntityId> lru_;  ///< most recently used first
};

}  // namespace spacehook::runner
