#include "emulator/seed.hpp"

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <sstream>

#include "config/document.hpp"
#include "core/text.hpp"
#include "docspace/names.hpp"
#include "emulator/api_call.hpp"

namespace spacehook::emulator {
namespace {

tl::unexpected<Error> SeedError(const std::string& pointer, const std::string& message) {
    return Fail(ErrorCode::kConfig, fmt::format("seed {}: {}", pointer.empty() ? "/" : pointer, message));
}

Status CheckKeys(const Json& object, const std::string& pointer, std::initializer_list<const char*> allowed) {
    if (!object.is_object()) return SeedError(pointer, "must be a mapping");
    for (auto it = object.begin(); it != object.end(); ++it) {
        bool known = false;
        for (const char* key : allowed) known = known || it.key() == key;
        if (!known) {
            std::string list;
            for (const char* key : allowed) list += fmt::format("{}{}", list.empty() ? "" : ", ", key);
            return SeedError(pointer + "/" + it.key(),
                             fmt::format("unknown key (expected one of: {})", list));
        }
    }
    return Ok();
}

Result<std::string> Text(const Json& object, const char* key, const std::string& pointer, bool required,
                         std::string fallback = {}) {
    if (!object.contains(key) || object[key].is_null()) {
        if (required) return SeedError(pointer + "/" + key, "is required");
        return fallback;
    }
    const auto& v = object[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
    return SeedError(pointer + "/" + key, "must be a string");
}

Result<UserType> ParseSeedUserType(const std::string& text, bool& owner, const std::string& pointer) {
    const auto t = ToLower(text);
    owner = t == "owner";
    if (t == "owner" || t == "docspace_admin" || t == "docspaceadmin" || t == "admin")
        return UserType::kDocSpaceAdmin;
    if (t == "room_admin" || t == "roomadmin") return UserType::kRoomAdmin;
    if (t == "user" || t.empty()) return UserType::kUser;
    if (t == "guest") return UserType::kGuest;
    return SeedError(
        pointer,
        fmt::format("unknown user type '{}' (owner, docspace_admin, room_admin, user, guest)", text));
}

/// "editor"/"viewer"/... (docspace names) or a FileShare number.
Result<int> ParseSeedAccess(const Json& v, const std::string& pointer) {
    if (v.is_number_integer()) return v.get<int>();
    if (v.is_string()) {
        if (auto level = docspace::ParseAccessLevel(v.get<std::string>())) return *level;
        return SeedError(pointer, docspace::ParseAccessLevel(v.get<std::string>()).error().message);
    }
    return SeedError(pointer, "must be an access name or number");
}

Result<int> ParseSeedRoomType(const Json& v, const std::string& pointer) {
    std::string text = v.is_number_integer() ? std::to_string(v.get<int>())
                       : v.is_string()       ? v.get<std::string>()
                                             : "";
    static const std::pair<const char*, int> kDocSpaceNames[] = {{"fillingformsroom", 1}, {"editingroom", 2},
                                                                 {"customroom", 5},       {"publicroom", 6},
                                                                 {"virtualdataroom", 8},  {"airoom", 9}};
    for (const auto& [name, n] : kDocSpaceNames) {
        if (ToLower(text) == name) return n;
    }
    auto parsed = docspace::ParseRoomType(text);
    if (!parsed) return SeedError(pointer, parsed.error().message);
    return *parsed;
}

std::optional<EntityId> SeedId(const Json& object) {
    if (!object.contains("id")) return std::nullopt;
    return JsonId(ToOrdered(object["id"]));
}

struct SeedContext {
    PortalState& state;
    TimePoint now;
    std::string owner_id;
    std::set<std::string> folder_ids;
    std::set<std::string> file_ids;
};

Result<std::string> UserRef(SeedContext& ctx, const Json& object, const char* key, const std::string& pointer,
                            const std::string& fallback) {
    auto text = Text(object, key, pointer, false);
    if (!text) return tl::unexpected(text.error());
    if (text->empty()) return fallback;
    const User* u = ctx.state.FindAnyUser(*text);
    if (u == nullptr) return SeedError(pointer + "/" + key, fmt::format("unknown user '{}'", *text));
    return u->id;
}

Status SeedFiles(SeedContext& ctx, const Json& files, const EntityId& parent, const std::string& pointer,
                 const std::string& default_by) {
    if (!files.is_array()) return SeedError(pointer, "must be a list");
    for (std::size_t i = 0; i < files.size(); ++i) {
        const auto p = fmt::format("{}/{}", pointer, i);
        const auto& f = files[i];
        if (auto ok = CheckKeys(f, p, {"id", "title", "size", "created_by", "version"}); !ok) return ok;
        auto title = Text(f, "title", p, true);
        if (!title) return tl::unexpected(title.error());
        auto by = UserRef(ctx, f, "created_by", p, default_by);
        if (!by) return tl::unexpected(by.error());
        const auto id = SeedId(f);
        if (id && !ctx.file_ids.insert(id->str()).second) return SeedError(p + "/id", "duplicate file id");
        const std::int64_t size = f.value("size", static_cast<std::int64_t>(1024));
        Entry& file = ctx.state.portal.CreateFile(parent, *title, size, *by, ctx.now, id);
        ctx.file_ids.insert(file.id.str());
        file.version = file.version_group = f.value("version", 1);
    }
    return Ok();
}

Status SeedFolders(SeedContext& ctx, const Json& folders, const EntityId& parent, const std::string& pointer,
                   const std::string& default_by) {
    if (!folders.is_array()) return SeedError(pointer, "must be a list");
    for (std::size_t i = 0; i < folders.size(); ++i) {
        const auto p = fmt::format("{}/{}", pointer, i);
        const auto& f = folders[i];
        if (auto ok = CheckKeys(f, p, {"id", "title", "created_by", "folders", "files"}); !ok) return ok;
        auto title = Text(f, "title", p, true);
        if (!title) return tl::unexpected(title.error());
        auto by = UserRef(ctx, f, "created_by", p, default_by);
        if (!by) return tl::unexpected(by.error());
        const auto id = SeedId(f);
        if (id && !ctx.folder_ids.insert(id->str()).second)
            return SeedError(p + "/id", "duplicate folder id");
        const EntityId folder_id = ctx.state.portal.CreateFolder(parent, *title, *by, ctx.now, id).id;
        ctx.folder_ids.insert(folder_id.str());
        if (f.contains("folders")) {
            if (auto ok = SeedFolders(ctx, f["folders"], folder_id, p + "/folders", *by); !ok) return ok;
        }
        if (f.contains("files")) {
            if (auto ok = SeedFiles(ctx, f["files"], folder_id, p + "/files", *by); !ok) return ok;
        }
    }
    return Ok();
}

Status SeedUsers(SeedContext& ctx, const Json& users) {
    if (!users.is_array() || users.empty()) return SeedError("/users", "must be a non-empty list");
    bool have_owner = false;
    for (std::size_t i = 0; i < users.size(); ++i) {
        const auto p = fmt::format("/users/{}", i);
        const auto& u = users[i];
        if (auto ok = CheckKeys(u, p,
                                {"id", "user_name", "first_name", "last_name", "email", "type", "api_key",
                                 "culture", "activation_status"});
            !ok) {
            return ok;
        }
        User user;
        auto user_name = Text(u, "user_name", p, true);
        auto email = Text(u, "email", p, false);
        auto type = Text(u, "type", p, false, "user");
        auto id = Text(u, "id", p, false);
        if (!user_name) return tl::unexpected(user_name.error());
        if (!email) return tl::unexpected(email.error());
        if (!type) return tl::unexpected(type.error());
        if (!id) return tl::unexpected(id.error());
        bool owner = false;
        auto parsed_type = ParseSeedUserType(*type, owner, p + "/type");
        if (!parsed_type) return tl::unexpected(parsed_type.error());
        if (owner && have_owner) return SeedError(p + "/type", "only one owner");
        have_owner = have_owner || owner;
        if (ctx.state.portal.FindUser(*user_name) != nullptr)
            return SeedError(p + "/user_name", "duplicate user name");
        user.id = id->empty() ? NewGuid() : ToLower(*id);
        user.user_name = *user_name;
        user.email = email->empty() ? fmt::format("{}@example.com", *user_name) : *email;
        user.first_name = u.value("first_name", std::string());
        user.last_name = u.value("last_name", std::string());
        user.culture = u.value("culture", std::string("en-US"));
        user.activation_status = u.value("activation_status", 1);
        user.type = *parsed_type;
        user.is_owner = owner;
        user.created = user.last_modified = ctx.now;
        const User& added = ctx.state.portal.AddUser(std::move(user));
        if (u.contains("api_key")) {
            auto key = Text(u, "api_key", p, true);
            if (!key) return tl::unexpected(key.error());
            if (ctx.state.api_keys.count(*key) != 0) return SeedError(p + "/api_key", "duplicate API key");
            ctx.state.api_keys[*key] = added.id;
        }
    }
    if (!have_owner) {
        // The first DocSpace admin owns the portal when nobody is marked owner.
        for (const auto& u : ctx.state.portal.users()) {
            if (u.type == UserType::kDocSpaceAdmin) {
                ctx.state.portal.FindUser(u.id)->is_owner = true;
                have_owner = true;
                break;
            }
        }
    }
    if (!have_owner) return SeedError("/users", "needs an owner or a docspace_admin");
    ctx.owner_id = ctx.state.portal.owner()->id;
    return Ok();
}

Status SeedGroups(SeedContext& ctx, const Json& groups) {
    if (!groups.is_array()) return SeedError("/groups", "must be a list");
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const auto p = fmt::format("/groups/{}", i);
        const auto& g = groups[i];
        if (auto ok = CheckKeys(g, p, {"id", "name", "manager", "members"}); !ok) return ok;
        Group group;
        auto name = Text(g, "name", p, true);
        auto id = Text(g, "id", p, false);
        if (!name) return tl::unexpected(name.error());
        if (!id) return tl::unexpected(id.error());
        group.name = *name;
        group.id = id->empty() ? NewGuid() : ToLower(*id);
        auto manager = UserRef(ctx, g, "manager", p, "");
        if (!manager) return tl::unexpected(manager.error());
        group.manager = *manager;
        if (g.contains("members")) {
            if (!g["members"].is_array()) return SeedError(p + "/members", "must be a list");
            for (std::size_t k = 0; k < g["members"].size(); ++k) {
                const auto& m = g["members"][k];
                const User* u = m.is_string() ? ctx.state.FindAnyUser(m.get<std::string>()) : nullptr;
                if (u == nullptr) return SeedError(fmt::format("{}/members/{}", p, k), "unknown user");
                group.members.push_back(u->id);
            }
        }
        ctx.state.portal.AddGroup(std::move(group));
    }
    return Ok();
}

Status SeedRooms(SeedContext& ctx, const Json& rooms) {
    if (!rooms.is_array()) return SeedError("/rooms", "must be a list");
    auto& portal = ctx.state.portal;
    for (std::size_t i = 0; i < rooms.size(); ++i) {
        const auto p = fmt::format("/rooms/{}", i);
        const auto& r = rooms[i];
        if (auto ok = CheckKeys(r, p,
                                {"id", "title", "type", "owner", "tags", "provider", "archived", "members",
                                 "folders", "files"});
            !ok) {
            return ok;
        }
        auto title = Text(r, "title", p, true);
        if (!title) return tl::unexpected(title.error());
        auto type = ParseSeedRoomType(r.contains("type") ? r["type"] : Json("custom"), p + "/type");
        if (!type) return tl::unexpected(type.error());
        auto owner = UserRef(ctx, r, "owner", p, ctx.owner_id);
        if (!owner) return tl::unexpected(owner.error());
        auto provider = Text(r, "provider", p, false);
        if (!provider) return tl::unexpected(provider.error());
        const auto id = SeedId(r);
        if (id && !ctx.folder_ids.insert(id->str()).second)
            return SeedError(p + "/id", "duplicate folder id");
        Entry& room = portal.CreateRoom(*title, *type, *owner, ctx.now, *provider, id);
        const EntityId room_id = room.id;
        ctx.folder_ids.insert(room_id.str());
        if (r.value("archived", false)) portal.Move(room, portal.archive_root());
        if (r.contains("tags")) {
            if (!r["tags"].is_array()) return SeedError(p + "/tags", "must be a list");
            for (const auto& t : r["tags"]) {
                if (!t.is_string()) return SeedError(p + "/tags", "tags are strings");
                portal.Folder(room_id)->tags.push_back(t.get<std::string>());
            }
        }
        if (r.contains("members")) {
            if (!r["members"].is_array()) return SeedError(p + "/members", "must be a list");
            for (std::size_t k = 0; k < r["members"].size(); ++k) {
                const auto mp = fmt::format("{}/members/{}", p, k);
                const auto& m = r["members"][k];
                if (auto ok = CheckKeys(m, mp, {"user", "group", "access"}); !ok) return ok;
                auto access =
                    ParseSeedAccess(m.contains("access") ? m["access"] : Json("viewer"), mp + "/access");
                if (!access) return tl::unexpected(access.error());
                Member member;
                member.access = *access;
                if (m.contains("group")) {
                    const auto name = m["group"].is_string() ? m["group"].get<std::string>() : "";
                    const Group* g = portal.FindGroup(name);
                    for (const auto& candidate : portal.groups()) {
                        if (g == nullptr && ToLower(candidate.name) == ToLower(name)) g = &candidate;
                    }
                    if (g == nullptr)
                        return SeedError(mp + "/group", fmt::format("unknown group '{}'", name));
                    member.subject = g->id;
                    member.is_group = true;
                } else {
                    auto user = UserRef(ctx, m, "user", mp, "");
                    if (!user) return tl::unexpected(user.error());
                    if (user->empty()) return SeedError(mp, "needs user or group");
                    member.subject = *user;
                }
                portal.Folder(room_id)->members.push_back(member);
            }
        }
        if (r.contains("folders")) {
            if (auto ok = SeedFolders(ctx, r["folders"], room_id, p + "/folders", *owner); !ok) return ok;
        }
        if (r.contains("files")) {
            if (auto ok = SeedFiles(ctx, r["files"], room_id, p + "/files", *owner); !ok) return ok;
        }
    }
    return Ok();
}

Status SeedWebhooks(SeedContext& ctx, const Json& hooks, WebhookBook& book) {
    if (!hooks.is_array()) return SeedError("/webhooks", "must be a list");
    for (std::size_t i = 0; i < hooks.size(); ++i) {
        const auto p = fmt::format("/webhooks/{}", i);
        const auto& h = hooks[i];
        if (auto ok = CheckKeys(
                h, p, {"name", "uri", "secret", "triggers", "target_id", "enabled", "ssl", "owner"});
            !ok) {
            return ok;
        }
        WebhookConfig c;
        auto name = Text(h, "name", p, true);
        auto uri = Text(h, "uri", p, true);
        auto secret = Text(h, "secret", p, true);
        auto target = Text(h, "target_id", p, false);
        auto owner = UserRef(ctx, h, "owner", p, ctx.owner_id);
        for (const auto* r : {&name, &uri, &secret, &target}) {
            if (!*r) return tl::unexpected(r->error());
        }
        if (!owner) return tl::unexpected(owner.error());
        c.name = *name;
        c.uri = *uri;
        c.secret = *secret;
        c.target_id = *target;
        c.enabled = h.value("enabled", true);
        c.ssl = h.value("ssl", false);
        c.created_by = c.modified_by = *owner;
        c.created_on = c.modified_on = ctx.now;
        if (h.contains("triggers")) {
            const auto& t = h["triggers"];
            if (t.is_number_integer()) {
                c.triggers = t.get<std::int64_t>();
            } else if (t.is_array()) {
                for (const auto& n : t) {
                    const auto bit =
                        n.is_string() ? docspace::TriggerBit(n.get<std::string>()) : std::nullopt;
                    if (!bit) return SeedError(p + "/triggers", fmt::format("unknown trigger {}", n.dump()));
                    c.triggers |= *bit;
                }
            } else {
                return SeedError(p + "/triggers", "must be a list of trigger names or a bitmask");
            }
        }
        book.Add(c);
    }
    return Ok();
}

}  // namespace

const Json& DefaultSeed() {
    // Fixed GUIDs and keys so tests, the demo and docs can name them.
    static const Json kSeed = Json::parse(R"({
      "users": [
        {"id": "66faa6e4-f133-11ea-b126-00ffeec8b4ef", "user_name": "owner", "first_name": "Olivia",
         "last_name": "Owner", "email": "owner@example.com", "type": "owner", "api_key": "sk-emulator-owner"},
        {"id": "2f1b7c3a-5d4e-4c1b-9a8f-000000000002", "user_name": "spacehook", "first_name": "Spacehook",
         "last_name": "Service", "email": "spacehook@example.com", "type": "docspace_admin",
         "api_key": "sk-emulator-spacehook"},
        {"id": "2f1b7c3a-5d4e-4c1b-9a8f-000000000003", "user_name": "rachel.admin", "first_name": "Rachel",
         "last_name": "Admin", "email": "rachel.admin@example.com", "type": "room_admin",
         "api_key": "sk-emulator-roomadmin"},
        {"id": "5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b", "user_name": "jane.doe", "first_name": "Jane",
         "last_name": "Doe", "email": "jane.doe@example.com", "type": "user", "api_key": "sk-emulator-jane"},
        {"id": "2f1b7c3a-5d4e-4c1b-9a8f-000000000005", "user_name": "gary.guest", "first_name": "Gary",
         "last_name": "Guest", "email": "gary.guest@example.com", "type": "guest", "api_key": "sk-emulator-guest"}
      ],
      "groups": [
        {"id": "b1f7c3a2-0000-4000-8000-000000000001", "name": "HR", "manager": "rachel.admin",
         "members": ["rachel.admin"]},
        {"id": "b1f7c3a2-0000-4000-8000-000000000002", "name": "Sales", "members": ["jane.doe"]}
      ],
      "rooms": [
        {"title": "Templates", "type": "custom", "tags": ["templates"],
         "members": [{"group": "HR", "access": "viewer"}],
         "files": [{"title": "Welcome.docx", "size": 12350}, {"title": "Checklist.xlsx", "size": 8200}]},
        {"title": "Client ACME", "type": "collaboration", "owner": "rachel.admin", "tags": ["client"],
         "members": [{"user": "jane.doe", "access": "editor"}, {"group": "Sales", "access": "viewer"}],
         "folders": [{"title": "Incoming"}, {"title": "Archive 2025"}],
         "files": [{"title": "Contract.docx", "size": 20480, "created_by": "rachel.admin"}]}
      ],
      "trash": {"files": [{"title": "Old draft.docx", "size": 5000}]},
      "webhooks": []
    })");
    return kSeed;
}

Result<Json> LoadSeedFile(const std::string& path) {
    const bool yaml = path.size() > 5 &&
                      (path.substr(path.size() - 5) == ".yaml" || path.substr(path.size() - 4) == ".yml");
    if (yaml) {
        auto doc = config::LoadYamlFile(path, config::ProcessEnv());
        if (!doc) return tl::unexpected(doc.error());
        return doc->root;
    }
    std::ifstream in(path);
    if (!in) return Fail(ErrorCode::kConfig, fmt::format("{}: cannot read seed file", path));
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = Json::parse(text.str(), nullptr, false);
    if (parsed.is_discarded()) return Fail(ErrorCode::kConfig, fmt::format("{}: not valid JSON", path));
    return parsed;
}

Status ApplySeed(const Json& seed, PortalState& state, WebhookBook& book) {
    if (auto ok = CheckKeys(seed, "", {"users", "groups", "rooms", "trash", "webhooks"}); !ok) return ok;
    if (!seed.contains("users")) return SeedError("/users", "is required");
    SeedContext ctx{state, state.Now(), "", {}, {}};
    if (auto ok = SeedUsers(ctx, seed["users"]); !ok) return ok;
    state.portal.CreateSections(ctx.owner_id, ctx.now);
    for (const auto* id :
         {&state.portal.rooms_root(), &state.portal.archive_root(), &state.portal.trash_root()}) {
        ctx.folder_ids.insert(id->str());
    }
    if (seed.contains("groups")) {
        if (auto ok = SeedGroups(ctx, seed["groups"]); !ok) return ok;
    }
    if (seed.contains("rooms")) {
        if (auto ok = SeedRooms(ctx, seed["rooms"]); !ok) return ok;
    }
    if (seed.contains("trash")) {
        // Items already in Trash: a move out of it fires *.restored (docs/docspace-api.md §1.5).
        const auto& trash = seed["trash"];
        if (auto ok = CheckKeys(trash, "/trash", {"folders", "files"}); !ok) return ok;
        if (trash.contains("folders")) {
            if (auto ok = SeedFolders(ctx, trash["folders"], state.portal.trash_root(), "/trash/folders",
                                      ctx.owner_id);
                !ok) {
                return ok;
            }
        }
        if (trash.contains("files")) {
            if (auto ok =
                    SeedFiles(ctx, trash["files"], state.portal.trash_root(), "/trash/files", ctx.owner_id);
                !ok) {
                return ok;
            }
        }
    }
    if (seed.contains("webhooks")) {
        if (auto ok = SeedWebhooks(ctx, seed["webhooks"], book); !ok) return ok;
    }
    return Ok();
}

}  // namespace spacehook::emulator
