#include "runner/folder_path_cache.hpp"

#include <algorithm>

namespace spacehook::runner {

FolderPathCache::FolderPathCache(FolderPathCacheOptions options, const Clock& clock)
    : options_(options), clock_(clock) {
    options_.capacity = std::max<std::size_t>(options_.capacity, 1);
}

std::optional<std::vector<PathNode>> FolderPathCache::Get(const EntityId& folder) {
    std::lock_guard lock(mu_);
    auto it = slots_.find(folder);
    if (it == slots_.end()) return std::nullopt;
    if (it->second.expires <= clock_.Now()) {
        lru_.erase(it->second.lru);
        slots_.erase(it);
        return std::nullopt;
    }
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second.path;
}

void FolderPathCache::Put(const std::vector<PathNode>& path) {
    std::lock_guard lock(mu_);
    PutLocked(path, clock_.Now());
}

void FolderPathCache::PutLocked(const std::vector<PathNode>& path, TimePoint now) {
    const TimePoint expires = now + options_.ttl;
    for (std::size_t n = 1; n <= path.size(); ++n) {
        const EntityId& id = path[n - 1].id;
        if (id.empty()) return;
        std::vector<PathNode> prefix(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(n));
        if (auto it = slots_.find(id); it != slots_.end()) {
            it->second.path = std::move(prefix);
            it->second.expires = expires;
            lru_.splice(lru_.begin(), lru_, it->second.lru);
            continue;
        }
        lru_.push_front(id);
        slots_.emplace(id, Slot{std::move(prefix), expires, lru_.begin()});
    }
    while (slots_.size() > options_.capacity) {
        slots_.erase(lru_.back());
        lru_.pop_back();
    }
}

void FolderPathCache::AddChild(const EntityId& parent, PathNode child) {
    if (parent.empty() || child.id.empty()) return;
    std::lock_guard lock(mu_);
    const TimePoint now = clock_.Now();
    std::vector<PathNode> path;
    if (auto it = slots_.find(parent); it != slots_.end() && it->second.expires > now) {
        path = it->second.path;
    } else if (child.is_room) {
        // A room's parent is its section root (VirtualRooms, docs/docspace-api.md §1.6): [root, room] is the
        // whole path even though the root's title is not in the event.
        path.push_back(PathNode{parent, "", false, std::nullopt});
    } else {
        return;
    }
    path.push_back(std::move(child));
    PutLocked(path, now);
}

void FolderPathCache::Invalidate(const EntityId& id) {
    std::lock_guard lock(mu_);
    for (auto it = slots_.begin(); it != slots_.end();) {
        const auto& path = it->second.path;
        const bool through =
            std::any_of(path.begin(), path.end(), [&](const PathNode& n) { return n.id == id; });
        if (through) {
            lru_.erase(it->second.lru);
            it = slots_.erase(it);
        } else {
            ++it;
        }
    }
}

std::size_t FolderPathCache::size() const {
    std::lock_guard lock(mu_);
    return slots_.size();
}

}  // namespace spacehook::runner
