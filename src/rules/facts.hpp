#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/entity_id.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

namespace spacehook::rules {

/// What a rule needs resolved through the API before it can be matched and its steps rendered. The
/// webhook payload is thin (docs/docspace-api.md §1.6, §1.7): it has no room, no webUrl, no version. Compile
/// records the needs of every rule so the dispatcher fetches only those.
struct NeededFacts {
    /// The entity's ancestors and its room (GET files/folder/{parentId}/path): `in_room`, subtree
    /// `in_folder`, `{{ room.id }}` / `{{ room.title }}`.
    bool path = false;
    /// The whole room FolderDto (GET files/rooms/{id}): `{{ room.<other fields> }}`.
    bool room = false;
    bool file = false;  ///< FileDto of the entity (GET files/file/{id}): `{{ file.* }}`
    /// FolderDto of the entity for folder events, of the entity's parent folder for file events
    /// (GET files/{id}): `{{ folder.* }}`.
    bool folder = false;
    bool user = false;   ///< people info of payload.id for user.* events (GET people/{id}): `{{ user.* }}`
    bool actor = false;  ///< people info of event.createBy: `actor:` by e-mail, `{{ actor.* }}`

    NeededFacts& operator|=(const NeededFacts& other);
    [[nodiscard]] bool any() const { return path || room || file || folder || user || actor; }
    /// "room path", "room info", "file info", "folder info", "user info", "actor info".
    [[nodiscard]] std::vector<std::string_view> Names() const;
    friend bool operator==(const NeededFacts&, const NeededFacts&) = default;
};

/// What the dispatcher resolved for one event. A Json member that is null was not resolved.
struct Facts {
    /// The entity's ancestors from the section root down to its direct parent, as ids (the answer of
    /// GET files/folder/{parentId}/path). nullopt = not resolved. Resolved but with no room in it
    /// means the entity is not in a room (e.g. "My documents").
    std::optional<std::vector<EntityId>> path;
    /// The room holding the entity: at least {id, title}; the whole FolderDto when NeededFacts::room.
    /// For room.* and agent.* events the entity is its own room and need not be resolved.
    Json room;
    Json file;
    Json folder;
    Json user;
    Json actor;

    /// The `--facts` file of test-rule and the golden tests: {"path": [3, 890, 567], "room": {...},
    /// "file": {...}, "folder": {...}, "user": {...}, "actor": {...}}, every key optional.
    static Result<Facts> FromJson(const Json& json);
    [[nodiscard]] Json ToJson() const;
};

}  // namespace spacehook::rules
