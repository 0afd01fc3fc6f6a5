#include "runner/context_resolver.hpp"

#include <fmt/format.h>

#include "core/text.hpp"
#include "steps/entry_json.hpp"

namespace spacehook::runner {

namespace {

constexpr std::string_view kPath = "room path";
constexpr std::string_view kRoom = "room info";
constexpr std::string_view kFile = "file info";
constexpr std::string_view kFolder = "folder info";
constexpr std::string_view kUser = "user info";
constexpr std::string_view kActor = "actor info";

PathNode NodeOf(const docspace::Entry& entry) {
    return PathNode{entry.id, entry.title, entry.room_type.has_value(), entry.room_type};
}

bool Known(const Resolution& into, std::string_view fact) {
    return into.unavailable.count(std::string(fact)) != 0;
}

void MarkUnavailable(Resolution& into, std::string_view fact, std::string why) {
    into.unavailable.emplace(std::string(fact), std::move(why));
}

}  // namespace

bool IsEntityUnavailable(const Error& error) {
    return error.code == ErrorCode::kNotFound || error.code == ErrorCode::kForbidden;
}

void ContextResolver::Observe(const rules::Event& event) {
    using rules::EntityKind;
    if (!event.entity_id) return;
    const bool folder_like = event.kind == EntityKind::kFolder || event.kind == EntityKind::kRoom;
    if (!folder_like) return;
    const std::string_view trigger = event.trigger;
    const bool is_new = trigger.ends_with(".created") || trigger.ends_with(".copied");
    if (is_new) {
        if (!event.parent_id) return;
        const bool room = event.kind == EntityKind::kRoom;
        cache_.AddChild(*event.parent_id,
                        PathNode{*event.entity_id, event.title.value_or(""), room, std::nullopt});
        return;
    }
    // Anything else that happens to a folder or room may change its title or place: paths through it
    // are no longer what the cache says.
    cache_.Invalidate(*event.entity_id);
}

Result<std::vector<PathNode>> ContextResolver::PathOf(const EntityId& folder, Resolution& into,
                                                      std::vector<docspace::Entry>* entries) {
    if (entries == nullptr) {
        if (auto cached = cache_.Get(folder)) return std::move(*cached);
    }
    ++into.api_calls;
    auto fetched = api_.GetFolderPath(folder);
    if (!fetched) return Fail(fetched.error());
    std::vector<PathNode> path;
    for (const auto& entry : *fetched) path.push_back(NodeOf(entry));
    if (!path.empty() && path.back().id == folder) cache_.Put(path);
    if (entries != nullptr) *entries = std::move(*fetched);
    return path;
}

Status ContextResolver::ResolvePath(const rules::Event& event, Resolution& into) {
    if (into.facts.path || Known(into, kPath)) return Ok();
    if (!event.parent_id) {
        MarkUnavailable(into, kPath, "the event has no parentId");
        return Ok();
    }
    auto path = PathOf(*event.parent_id, into);
    if (!path) {
        if (!IsEntityUnavailable(path.error())) return Fail(path.error());
        MarkUnavailable(into, kPath, path.error().message);
        return Ok();
    }
    std::vector<EntityId> ids;
    for (const auto& node : *path) ids.push_back(node.id);
    into.facts.path = std::move(ids);
    for (const auto& node : *path) {
        if (!node.is_room) continue;
        if (!into.facts.room.is_object()) {
            Json room = {{"id", node.id.ToJson()}, {"title", node.title}};
            if (node.room_type) room["roomType"] = *node.room_type;
            into.facts.room = std::move(room);
        }
        break;
    }
    return Ok();
}

Status ContextResolver::ResolveRoom(const rules::Event& event, Resolution& into) {
    if (into.room_info || Known(into, kRoom)) return Ok();
    std::optional<EntityId> room_id;
    if (event.kind == rules::EntityKind::kRoom) {
        room_id = event.entity_id;
    } else {
        if (auto st = ResolvePath(event, into); !st) return st;
        if (into.facts.room.is_object()) room_id = EntityId::FromJson(into.facts.room.value("id", Json()));
    }
    // Not in a room (My documents), or the path itself is unavailable: nothing to fetch.
    if (!room_id) return Ok();
    ++into.api_calls;
    auto room = api_.GetRoom(*room_id);
    if (!room) {
        if (!IsEntityUnavailable(room.error())) return Fail(room.error());
        MarkUnavailable(into, kRoom, room.error().message);
        return Ok();
    }
    into.facts.room = steps::EntryJson(*room);
    into.room_info = true;
    return Ok();
}

Status ContextResolver::ResolveFile(const rules::Event& event, Resolution& into) {
    if (!into.facts.file.is_null() || Known(into, kFile)) return Ok();
    if (!event.entity_id) {
        MarkUnavailable(into, kFile, "the event names no file");
        return Ok();
    }
    ++into.api_calls;
    auto file = api_.GetFile(*event.entity_id);
    if (!file) {
        if (!IsEntityUnavailable(file.error())) return Fail(file.error());
        MarkUnavailable(into, kFile, file.error().message);
        return Ok();
    }
    into.facts.file = steps::EntryJson(*file);
    return Ok();
}

Status ContextResolver::ResolveFolder(const rules::Event& event, Resolution& into) {
    if (!into.facts.folder.is_null() || Known(into, kFolder)) return Ok();
    // Folder events describe the folder itself, file events the folder holding the file.
    const std::optional<EntityId> folder =
        event.kind == rules::EntityKind::kFolder ? event.entity_id : event.parent_id;
    if (!folder) {
        MarkUnavailable(into, kFolder, "the event names no folder");
        return Ok();
    }
    std::vector<docspace::Entry> entries;
    auto path = PathOf(*folder, into, &entries);
    if (!path) {
        if (!IsEntityUnavailable(path.error())) return Fail(path.error());
        MarkUnavailable(into, kFolder, path.error().message);
        return Ok();
    }
    if (entries.empty() || !(entries.back().id == *folder)) {
        MarkUnavailable(into, kFolder,
                        fmt::format("GET files/folder/{}/path did not end at the folder", folder->str()));
        return Ok();
    }
    into.facts.folder = steps::EntryJson(entries.back());
    return Ok();
}

Status ContextResolver::ResolveUser(const std::string& fact, const std::string& user_id, Json& slot,
                                    Resolution& into) {
    if (!slot.is_null() || Known(into, fact)) return Ok();
    if (user_id.empty()) {
        MarkUnavailable(into, fact, "the event names no user");
        return Ok();
    }
    ++into.api_calls;
    auto user = api_.GetUser(user_id);
    if (!user) {
        if (!IsEntityUnavailable(user.error())) return Fail(user.error());
        MarkUnavailable(into, fact, user.error().message);
        return Ok();
    }
    slot = steps::UserJson(*user);
    return Ok();
}

Status ContextResolver::Resolve(const rules::Event& event, const rules::NeededFacts& needs,
                                Resolution& into) {
    // A file's folder info is the last entry of its parent's path: fetched first, the path below
    // comes from the cache instead of a second call.
    if (needs.folder && event.kind == rules::EntityKind::kFile) {
        if (auto st = ResolveFolder(event, into); !st) return st;
    }
    if (needs.path) {
        if (auto st = ResolvePath(event, into); !st) return st;
    }
    if (needs.room) {
        if (auto st = ResolveRoom(event, into); !st) return st;
    }
    if (needs.file) {
        if (auto st = ResolveFile(event, into); !st) return st;
    }
    if (needs.folder) {
        if (auto st = ResolveFolder(event, into); !st) return st;
    }
    if (needs.user) {
        const std::string id = event.entity_id ? event.entity_id->str() : "";
        if (auto st = ResolveUser(std::string(kUser), id, into.facts.user, into); !st) return st;
    }
    if (needs.actor) {
        if (auto st = ResolveUser(std::string(kActor), event.create_by, into.facts.actor, into); !st)
            return st;
    }
    return Ok();
}

}  // namespace spacehook::runner
