#include "rules/facts.hpp"

#include <fmt/format.h>

namespace spacehook::rules {

NeededFacts& NeededFacts::operator|=(const NeededFacts& other) {
    path = path || other.path;
    room = room || other.room;
    file = file || other.file;
    folder = folder || other.folder;
    user = user || other.user;
    actor = actor || other.actor;
    return *this;
}

std::vector<std::string_view> NeededFacts::Names() const {
    std::vector<std::string_view> out;
    if (path) out.push_back("room path");
    if (room) out.push_back("room info");
    if (file) out.push_back("file info");
    if (folder) out.push_back("folder info");
    if (user) out.push_back("user info");
    if (actor) out.push_back("actor info");
    return out;
}

Result<Facts> Facts::FromJson(const Json& json) {
    if (!json.is_object()) return Fail(ErrorCode::kInvalidArgument, "facts must be a JSON object");
    Facts facts;
    for (const auto& [key, value] : json.items()) {
        if (key == "path") {
            if (value.is_null()) continue;
            if (!value.is_array())
                return Fail(ErrorCode::kInvalidArgument, "facts.path must be a list of ids");
            std::vector<EntityId> ids;
            for (const auto& item : value) {
                auto id = EntityId::FromJson(item);
                if (!id) return Fail(ErrorCode::kInvalidArgument, "facts.path must be a list of ids");
                ids.push_back(*id);
            }
            facts.path = std::move(ids);
        } else if (key == "room" || key == "file" || key == "folder" || key == "user" || key == "actor") {
            if (!value.is_null() && !value.is_object()) {
                return Fail(ErrorCode::kInvalidArgument, fmt::format("facts.{} must be an object", key));
            }
            Json& slot = key == "room"     ? facts.room
                         : key == "file"   ? facts.file
                         : key == "folder" ? facts.folder
                         : key == "user"   ? facts.user
                                           : facts.actor;
            slot = value;
        } else {
            return Fail(
                ErrorCode::kInvalidArgument,
                fmt::format("unknown key '{}' in facts; expected path, room, file, folder, user, actor",
                            key));
        }
    }
    if (facts.room.is_object() && !EntityId::FromJson(facts.room.value("id", Json()))) {
        return Fail(ErrorCode::kInvalidArgument, "facts.room needs an id");
    }
    return facts;
}

Json Facts::ToJson() const {
    Json out = Json::object();
    if (path) {
        Json ids = Json::array();
        for (const auto& id : *path) ids.push_back(id.ToJson());
        out["path"] = std::move(ids);
    }
    if (!room.is_null()) out["room"] = room;
    if (!file.is_null()) out["file"] = file;
    if (!folder.is_null()) out["folder"] = folder;
    if (!user.is_null()) out["user"] = user;
    if (!actor.is_null()) out["actor"] = actor;
    return out;
}

}  // namespace spacehook::rules
