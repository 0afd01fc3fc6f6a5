// Room endpoints (VirtualRoomsController, docs/docspace-api.md §2.5): create, read, list/search, rename, tags
// and membership (PUT rooms/{id}/share).

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/text.hpp"
#include "docspace/titles.hpp"
#include "emulator/api_call.hpp"
#include "emulator/portal_actions.hpp"
#include "emulator/portal_state.hpp"

namespace spacehook::emulator {
namespace {

bool IsGuid(const std::string& text) {
    if (text.size() != 36) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return true;
}

/// RoomType from a number or an enum name (JsonStringEnumConverter on CreateRoomRequestDto.RoomType).
std::optional<int> ParseRoomTypeValue(const OJson& value) {
    if (value.is_number_integer()) return value.get<int>();
    if (!value.is_string()) return std::nullopt;
    const auto text = ToLower(value.get<std::string>());
    static const std::pair<const char*, int> kNames[] = {
        {"fillingformsroom", 1}, {"editingroom", 2},     {"customroom", 5},
        {"publicroom", 6},       {"virtualdataroom", 8}, {"airoom", 9},
    };
    for (const auto& [name, n] : kNames) {
        if (text == name) return n;
    }
    if (!text.empty() &&
        std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
        return std::stoi(text);
    }
    return std::nullopt;
}

/// FileShare as FileShareConverter reads it: a number, or a member name; any other string is 0 =
/// None, which removes the member (docs/docspace-api.md §2.4). Numeric strings count as unrecognised (the
/// generated TryParse matches names; §4.8 leaves it unverified, and the strict reading is the one
/// that exposes a client sending strings).
int ParseAccess(const OJson* value) {
    if (value == nullptr || value->is_null()) return kAccessNone;
    if (value->is_number_integer()) return value->get<int>();
    if (!value->is_string()) return kAccessNone;
    static const char* kNames[] = {"none",         "readwrite",   "read",    "restrict",
                                   "varies",       "review",      "comment", "fillforms",
                                   "customfilter", "roommanager", "editing", "contentcreator"};
    const auto text = ToLower(value->get<std::string>());
    for (int i = 0; i < 12; ++i) {
        if (text == kNames[i]) return i;
    }
    return kAccessNone;
}

const Entry* ReadableRoom(ApiServices& s, const ApiCall& call, const std::string& id_text, Reply& error) {
    const Entry* room = s.state.portal.Folder(RouteId(id_text));
    if (room == nullptr) {
        error = call.Fail(NotFound("Folder not found"));
        return nullptr;
    }
    if (!s.state.portal.CanRead(call.user, *room)) {
        error = call.Fail(AccessDenied());
        return nullptr;
    }
    return room;
}

Reply CreateRoom(ApiServices& s, ApiCall& call) {
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    const OJson* title = Field(body, "title");
    if (title == nullptr || !title->is_string() || title->get<std::string>().empty()) {
        return call.Invalid({{"Title", {"The Title field is required."}}});
    }
    if (docspace::Utf16Length(title->get<std::string>()) > 170) {
        return call.Invalid({{"Title", {"The field Title must be a string with a maximum length of 170."}}});
    }
    const OJson* type_field = Field(body, "roomType");
    if (type_field == nullptr) return call.Invalid({{"RoomType", {"The RoomType field is required."}}});
    const auto room_type = ParseRoomTypeValue(*type_field);
    if (!room_type) {
        return call.Invalid({{"$.roomType",
                              {"The JSON value could not be converted to "
                               "ASC.Files.Core.ApiModels.RequestDto.RoomType. Path: $.roomType"}}});
    }
    if (!IsKnownRoomType(*room_type)) return call.Fail(BadArgument("Unsupported room type"));
    // Creating rooms is for DocSpace admins and room admins.
    if (!call.user.IsAdmin() && call.user.type != UserType::kRoomAdmin) return call.Fail(AccessDenied());
    if (StoredTitle(title->get<std::string>(), true).empty()) {
        return call.Fail(BadArgument("The value cannot be an empty string. (Parameter 'title')"));
    }

    auto& portal = s.state.portal;
    Entry& room = portal.CreateRoom(title->get<std::string>(), *room_type, call.user.id, s.state.Now());
    if (const OJson* tags = Field(body, "tags"); tags != nullptr && tags->is_array()) {
        for (const auto& t : *tags) {
            if (t.is_string() &&
                std::find(room.tags.begin(), room.tags.end(), t.get<std::string>()) == room.tags.end()) {
                room.tags.push_back(t.get<std::string>());
            }
        }
    }
    // share[]: {shareTo: GUID, access} applied as the room is made.
    if (const OJson* share = Field(body, "share"); share != nullptr && share->is_array()) {
        for (const auto& item : *share) {
            const OJson* to = Field(item, "shareTo");
            if (to == nullptr || !to->is_string()) continue;
            const int access = ParseAccess(Field(item, "access"));
            const auto& allowed = AllowedRoomAccesses(room.room_type);
            if (access == kAccessNone || std::find(allowed.begin(), allowed.end(), access) == allowed.end())
                continue;
            if (portal.FindUser(to->get<std::string>()) != nullptr) {
                room.members.push_back({ToLower(to->get<std::string>()), access, false});
            } else if (portal.FindGroup(to->get<std::string>()) != nullptr) {
                room.members.push_back({ToLower(to->get<std::string>()), access, true});
            }
        }
    }
    s.state.Count("rooms_created");
    s.state.FireEntry("room.created", room, call.user.id);
    return call.Ok(FolderDto(s.state.Dto(&call.user), room));
}

Reply GetRoom(ApiServices& s, ApiCall& call) {
    Reply error;
    const Entry* room = ReadableRoom(s, call, call.params[0], error);
    if (room == nullptr) return error;
    return call.Ok(FolderDto(s.state.Dto(&call.user), *room));
}

Reply RenameRoom(ApiServices& s, ApiCall& call) {
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    Reply error;
    const Entry* found = ReadableRoom(s, call, call.params[0], error);
    if (found == nullptr) return error;
    Entry* room = s.state.portal.Folder(found->id);
    if (!s.state.portal.CanManageRoom(call.user, *room)) return call.Fail(AccessDenied());
    const OJson* title = Field(body, "title");
    const std::string next =
        title != nullptr && title->is_string() ? StoredTitle(title->get<std::string>(), true) : "";
    if (!next.empty() && next != room->title) {
        room->title = next;
        room->modified_by = call.user.id;
        room->modified_on = s.state.Now();
        s.state.Count("rooms_updated");
        s.state.FireEntry(PortalState::RoomTrigger(*room, "room.updated"), *room, call.user.id);
    }
    return call.Ok(FolderDto(s.state.Dto(&call.user), *room));
}

/// GET files/rooms: the "Rooms" section as FolderContentDto. Query parameters as DocSpace-server's
/// VirtualRoomsController.GetRoomsFolder(RoomContentRequestDto) binds them
/// (ONLYOFFICE/DocSpace-server products/ASC.Files/Server/Api/VirtualRoomsController.cs): `type` (RoomType
/// list), `subjectId` + `subjectFilter` (0 owner, 1 member), `searchArea` (Active/Archive), `withoutTags`,
/// `tags` = a JSON-serialized string array (`JsonSerializer.Deserialize<IEnumerable<string>>(inDto.Tags)`,
/// e.g. tags=["run:abc"]), `filterValue` (title search), `startIndex`, `count`, `sortBy`, `sortOrder`.
/// A room matches `tags` when it carries any of them (a join on the tag links; case-insensitive).
Reply ListRooms(ApiServices& s, ApiCall& call) {
    auto& portal = s.state.portal;
    const auto area = ToLower(call.Query("searchArea").value_or(""));
    const bool archive = area == "archive" || area == "2";
    const Entry* section = portal.Folder(archive ? portal.archive_root() : portal.rooms_root());

    std::optional<std::vector<std::string>> tags;
    if (const auto raw = call.Query("tags"); raw && !raw->empty()) {
        const auto parsed = OJson::parse(*raw, nullptr, false);
        if (parsed.is_discarded() || !parsed.is_array()) {
            // JsonSerializer.Deserialize throws a JsonException: not mapped, so 500 (docs/docspace-api.md
            // §2.2).
            return call.Fail(
                Internal("System.Text.Json.JsonException",
                         fmt::format("'{}' is an invalid JSON literal. Path: $ | LineNumber: 0 | "
                                     "BytePositionInLine: 0.",
                                     raw->substr(0, 1))));
        }
        tags.emplace();
        for (const auto& t : parsed) {
            if (t.is_string()) tags->push_back(ToLower(t.get<std::string>()));
        }
    }
    const bool without_tags = ToLower(call.Query("withoutTags").value_or("")) == "true";
    std::set<int> types;
    for (const auto& t : call.QueryAll("type")) {
        if (auto n = ParseRoomTypeValue(OJson(t))) types.insert(*n);
    }
    const auto text = ToLower(call.Query("filterValue").value_or(""));
    const auto subject = ToLower(call.Query("subjectId").value_or(""));
    const bool subject_member = call.Query("subjectFilter").value_or("0") == "1" ||
                                ToLower(call.Query("subjectFilter").value_or("")) == "member";

    std::vector<const Entry*> rooms;
    for (const auto& id : section->folders) {
        const Entry* room = portal.Folder(id);
        if (room == nullptr || !room->IsRoom() || !portal.CanRead(call.user, *room)) continue;
        if (!types.empty() && types.count(room->room_type) == 0) continue;
        if (!text.empty() && ToLower(room->title).find(text) == std::string::npos) continue;
        if (without_tags && !room->tags.empty()) continue;
        if (tags && !tags->empty()) {
            const bool any = std::any_of(room->tags.begin(), room->tags.end(), [&](const std::string& t) {
                return std::find(tags->begin(), tags->end(), ToLower(t)) != tags->end();
            });
            if (!any) continue;
        }
        if (!subject.empty()) {
            const bool owner = room->create_by == subject;
            const bool member = std::any_of(room->members.begin(), room->members.end(),
                                            [&](const Member& m) { return m.subject == subject; });
            if (subject_member ? !(owner || member) : !owner) continue;
        }
        rooms.push_back(room);
    }
    // Default order is DateAndTime descending, as the portal lists rooms.
    const auto sort_by = ToLower(call.Query("sortBy").value_or("DateAndTime"));
    const bool ascending = ToLower(call.Query("sortOrder").value_or("descending")) == "ascending";
    std::stable_sort(rooms.begin(), rooms.end(), [&](const Entry* a, const Entry* b) {
        if (sort_by == "title" || sort_by == "az") {
            return ascending ? ToLower(a->title) < ToLower(b->title) : ToLower(a->title) > ToLower(b->title);
        }
        const auto& ta = sort_by == "datetimecreation" ? a->create_on : a->modified_on;
        const auto& tb = sort_by == "datetimecreation" ? b->create_on : b->modified_on;
        if (ta != tb) return ascending ? ta < tb : ta > tb;
        return ascending ? IdLess(a->id, b->id) : IdLess(b->id, a->id);
    });
    const int total = static_cast<int>(rooms.size());
    int start = 0;
    int count = 100;
    try {
        start = std::max(0, std::stoi(call.Query("startIndex").value_or("0")));
        count = std::clamp(std::stoi(call.Query("count").value_or("100")), 1, 100);
    } catch (const std::exception&) {
        return call.Invalid({{"count", {"The value is not valid."}}});
    }
    std::vector<const Entry*> page;
    for (int i = start; i < total && static_cast<int>(page.size()) < count; ++i)
        page.push_back(rooms[static_cast<std::size_t>(i)]);
    return call.Ok(FolderContentDto(s.state.Dto(&call.user), *section, {}, page, start, total));
}

Reply AddTags(ApiServices& s, ApiCall& call) {
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    Reply error;
    const Entry* found = ReadableRoom(s, call, call.params[0], error);
    if (found == nullptr) return error;
    Entry* room = s.state.portal.Folder(found->id);
    if (!s.state.portal.CanManageRoom(call.user, *room)) return call.Fail(AccessDenied());
    if (const OJson* names = Field(body, "names"); names != nullptr && names->is_array()) {
        for (const auto& n : *names) {
            if (n.is_string() &&
                std::find(room->tags.begin(), room->tags.end(), n.get<std::string>()) == room->tags.end()) {
                room->tags.push_back(n.get<std::string>());
                s.state.Count("room_tags_added");
            }
        }
    }
    return call.Ok(FolderDto(s.state.Dto(&call.user), *room));
}

Reply GetShare(ApiServices& s, ApiCall& call) {
    Reply error;
    const Entry* room = ReadableRoom(s, call, call.params[0], error);
    if (room == nullptr) return error;
    const auto ctx = s.state.Dto(&call.user);
    OJson list = OJson::array();
    list.push_back(FileShareDto(ctx, *room, Member{room->create_by, kAccessRoomManager, false}));
    for (const auto& m : room->members) {
        if (m.subject != room->create_by) list.push_back(FileShareDto(ctx, *room, m));
    }
    return call.Ok(std::move(list));
}

/// PUT files/rooms/{id}/share (docs/docspace-api.md §2.5): invitations by id (user or group GUID) or e-mail;
/// access checked against the room type's allowed set (§2.4); 0 removes; an empty list answers {"error":0}.
Reply SetShare(ApiServices& s, ApiCall& call) {
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    auto& portal = s.state.portal;
    Entry* room = portal.Folder(RouteId(call.params[0]));
    if (room == nullptr || !room->IsRoom()) return call.Fail(NotFound("The required folder was not found"));
    s.state.Count("share_calls");
    const OJson* invitations = Field(body, "invitations");
    if (invitations == nullptr || !invitations->is_array() || invitations->empty()) {
        OJson empty = OJson::object();
        empty["error"] = 0;
        return call.Ok(std::move(empty));
    }
    if (!portal.CanManageRoom(call.user, *room)) return call.Fail(AccessDenied());

    struct Change {
        std::string subject;  // empty: invite `email` as a new user
        std::string email;
        bool is_group;
        int access;
    };
    std::vector<Change> changes;
    const auto& allowed = AllowedRoomAccesses(room->room_type);
    for (const auto& inv : *invitations) {
        const int access = ParseAccess(Field(inv, "access"));
        const OJson* id = Field(inv, "id");
        const OJson* email = Field(inv, "email");
        Change change{"", "", false, access};
        if (id != nullptr && id->is_string() && !id->get<std::string>().empty()) {
            const auto text = ToLower(id->get<std::string>());
            if (!IsGuid(text)) {
                return call.Invalid(
                    {{"$.invitations.id", {"The JSON value could not be converted to System.Guid."}}});
            }
            if (portal.FindUser(text) != nullptr) {
                change.subject = text;
            } else if (portal.FindGroup(text) != nullptr) {
                change.subject = text;
                change.is_group = true;
            } else {
                continue;  // a subject the caller cannot see is silently dropped
            }
        } else if (email != nullptr && email->is_string() && !email->get<std::string>().empty()) {
            if (const User* u = portal.FindUserByEmail(email->get<std::string>())) {
                change.subject = u->id;
            } else {
                change.email = email->get<std::string>();
            }
        } else {
            return call.Fail(BadArgument("Invitation must have an id or an email"));
        }
        if (access != kAccessNone) {
            if (std::find(allowed.begin(), allowed.end(), access) == allowed.end()) {
                return call.Fail(
                    InvalidOperation(fmt::format("The role {} is not available for this room type", access)));
            }
            if (access == kAccessRoomManager) {
                // RoomManager is a paid role: never for groups, only for admins and room admins.
                const User* u = change.subject.empty() ? nullptr : portal.FindUser(change.subject);
                const bool eligible =
                    !change.is_group && u != nullptr && (u->IsAdmin() || u->type == UserType::kRoomAdmin);
                if (!eligible)
                    return call.Fail(
                        InvalidOperation("The room manager role is not available for this user"));
            }
        }
        changes.push_back(std::move(change));
    }

    std::vector<std::string> touched;
    for (auto& change : changes) {
        if (change.subject.empty()) {
            if (change.access == kAccessNone) continue;
            // FileSharing: AddInvitedUserAsync(email, EmployeeType.Guest), no webhook (docs/docspace-api.md
            // §2.5); user.created fires when the guest accepts.
            change.subject = AddInvitedUser(s.state, change.email, UserType::kGuest, call.user.id).id;
            s.state.Count("guests_invited");
        }
        if (change.subject == room->create_by) continue;  // the owner's access does not change
        auto it = std::find_if(room->members.begin(), room->members.end(),
                               [&](const Member& m) { return m.subject == change.subject; });
        if (change.access == kAccessNone) {
            if (it != room->members.end()) {
                room->members.erase(it);
                s.state.Count("members_removed");
            }
        } else if (it != room->members.end()) {
            if (it->access != change.access) s.state.Count("members_changed");
            it->access = change.access;
        } else {
            room->members.push_back({change.subject, change.access, change.is_group});
            s.state.Count("members_added");
        }
        touched.push_back(change.subject);
    }

    const auto ctx = s.state.Dto(&call.user);
    OJson members = OJson::array();
    for (const auto& subject : touched) {
        for (const auto& m : room->members) {
            if (m.subject == subject) members.push_back(FileShareDto(ctx, *room, m));
        }
    }
    OJson result = OJson::object();
    result["members"] = std::move(members);
    result["error"] = 0;
    return call.Ok(std::move(result));
}

}  // namespace

std::vector<ApiRoute> RoomRoutes() {
    return {
        {"GET", "files/rooms", ListRooms, "VirtualRoomsController.GetRoomsFolder"},
        {"POST", "files/rooms", CreateRoom, "VirtualRoomsController.CreateRoom"},
        {"GET", "files/rooms/{id}", GetRoom, "VirtualRoomsController.GetRoomInfo"},
        {"PUT", "files/rooms/{id}", RenameRoom, "VirtualRoomsController.UpdateRoom"},
        {"PUT", "files/rooms/{id}/tags", AddTags, "VirtualRoomsController.AddTags"},
        {"GET", "files/rooms/{id}/share", GetShare, "VirtualRoomsController.GetRoomSecurityInfo"},
        {"PUT", "files/rooms/{id}/share", SetShare, "VirtualRoomsController.SetRoomSecurity"},
    };
}

}  // namespace spacehook::emulator
