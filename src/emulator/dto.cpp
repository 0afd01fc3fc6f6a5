#include "emulator/dto.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace spacehook::emulator {
namespace {

OJson EntryId(const EntityId& id) {
    return id.is_number() ? OJson(std::stoll(id.str())) : OJson(id.str());
}

std::string AvatarPath(std::string_view size) {
    return fmt::format("/static/images/default_user_photo_size_{0}-{0}.png", size);
}

const User* UserById(const Portal& portal, const std::string& id) {
    for (const auto& u : portal.users()) {
        if (u.id == id) return &u;
    }
    return nullptr;
}

OJson EmployeeOrEmpty(const DtoContext& ctx, const std::string& id) {
    if (const User* u = UserById(ctx.portal, id)) return EmployeeDto(ctx, *u);
    return OJson::object();
}

OJson FileSecurity(int access) {
    const bool manage = access == kAccessRoomManager || access == kAccessReadWrite;
    const bool create = manage || access == kAccessContentCreator;
    const bool edit = create || access == kAccessEditing;
    OJson s = OJson::object();
    s["Read"] = access != kAccessNone && access != kAccessRestrict;
    s["Comment"] = edit || access == 5 || access == 6;
    s["FillForms"] = edit || access == 7;
    s["Review"] = edit || access == 5;
    s["Edit"] = edit;
    s["Delete"] = manage;
    s["Rename"] = create;
    s["Copy"] = s["Read"];
    s["Move"] = manage;
    s["Download"] = s["Read"];
    return s;
}

OJson FolderSecurity(int access, bool is_room) {
    const bool manage = access == kAccessRoomManager || access == kAccessReadWrite;
    const bool create = manage || access == kAccessContentCreator;
    OJson s = OJson::object();
    s["Read"] = access != kAccessNone && access != kAccessRestrict;
    s["Create"] = create;
    s["Delete"] = manage;
    s["EditRoom"] = is_room && manage;
    s["Rename"] = manage;
    s["CopyTo"] = create;
    s["Copy"] = s["Read"];
    s["MoveTo"] = create;
    s["Move"] = manage;
    s["EditAccess"] = is_room && manage;
    s["Download"] = s["Read"];
    return s;
}

// FileEntryDto's own properties, appended after the derived DTO's.
void AppendEntryBase(const DtoContext& ctx, const Entry& e, int access, OJson& out) {
    const Entry& root = ctx.portal.RootOf(e);
    out["id"] = EntryId(e.id);
    out["rootFolderId"] = EntryId(root.id);
    out["canShare"] = e.IsRoom() && access == kAccessRoomManager;
    out["security"] = e.is_folder ? FolderSecurity(access, e.IsRoom()) : FileSecurity(access);
    out["title"] = e.title;
    out["access"] = access;
    out["shared"] = false;
    out["created"] = ApiDateTime(e.create_on);
    out["createdBy"] = EmployeeOrEmpty(ctx, e.create_by);
    out["updated"] = ApiDateTime(e.modified_on);
    out["rootFolderType"] = root.folder_type;
    if (const Entry* room = ctx.portal.RoomOf(e); room != nullptr && room != &e) {
        // FileEntryDto.parentRoomType is the containing room's FolderType (docs/docspace-api.md §2.5).
        out["parentRoomType"] = room->folder_type;
    }
    out["updatedBy"] = EmployeeOrEmpty(ctx, e.modified_by);
    if (!e.provider_key.empty()) {
        out["providerItem"] = true;
        out["providerKey"] = e.provider_key;
    }
    out["fileEntryType"] = e.is_folder ? 1 : 2;
}

int ViewerAccess(const DtoContext& ctx, const Entry& e) {
    return ctx.viewer != nullptr ? ctx.portal.AccessOf(*ctx.viewer, e) : kAccessNone;
}

}  // namespace

std::string ApiDateTime(TimePoint t) {
    auto iso = FormatIso8601(t, true);  // 2026-06-30T10:15:41.123Z
    const auto dot = iso.find('.');
    if (dot == std::string::npos) return iso;
    return iso.substr(0, dot) + "." + iso.substr(dot + 1, 3) + "0000Z";
}

std::string ContentLengthText(std::int64_t bytes) {
    static const char* kUnits[] = {"bytes", "KB", "MB", "GB", "TB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024.0 && unit < 4) {
        value /= 1024.0;
        ++unit;
    }
    if (unit == 0) return fmt::format("{} bytes", bytes);
    // "#,0.##": at most two decimals, trailing zeros dropped.
    const double rounded = std::round(value * 100.0) / 100.0;
    std::string text = fmt::format("{:.2f}", rounded);
    while (!text.empty() && text.back() == '0') text.pop_back();
    if (!text.empty() && text.back() == '.') text.pop_back();
    return fmt::format("{} {}", text, kUnits[unit]);
}

int FileTypeOf(const std::string& ext) {
    static const std::vector<std::pair<std::vector<std::string>, int>> kTypes = {
        {{".docx", ".doc", ".odt", ".rtf", ".txt", ".md", ".html", ".docm", ".dotx"}, 7},
        {{".xlsx", ".xls", ".ods", ".csv", ".xlsm"}, 5},
        {{".pptx", ".ppt", ".odp", ".pptm"}, 6},
        {{".pdf"}, 10},
        {{".png", ".jpg", ".jpeg", ".gif", ".bmp", ".svg", ".webp"}, 4},
        {{".zip", ".rar", ".7z", ".tar", ".gz"}, 1},
        {{".mp4", ".avi", ".mov", ".mkv", ".webm"}, 2},
        {{".mp3", ".wav", ".ogg", ".flac"}, 3},
    };
    for (const auto& [exts, type] : kTypes) {
        if (std::find(exts.begin(), exts.end(), ext) != exts.end()) return type;
    }
    return 0;
}

OJson EmployeeDto(const DtoContext& ctx, const User& user) {
    OJson o = OJson::object();
    o["id"] = user.id;
    o["displayName"] = user.DisplayName();
    o["avatar"] = AvatarPath("82");
    o["avatarOriginal"] = AvatarPath("200");
    o["avatarMax"] = AvatarPath("200");
    o["avatarMedium"] = AvatarPath("48");
    o["avatarSmall"] = AvatarPath("32");
    o["profileUrl"] = fmt::format("{}/accounts/people/filter?search={}", ctx.base_url, user.email);
    o["hasAvatar"] = false;
    o["isAnonim"] = false;
    return o;
}

OJson EmployeeFullDto(const DtoContext& ctx, const User& user) {
    OJson o = OJson::object();
    o["firstName"] = user.first_name;
    o["lastName"] = user.last_name;
    o["userName"] = user.user_name;
    o["email"] = user.email;
    o["status"] = user.status;
    o["activationStatus"] = user.activation_status;
    o["department"] = "";
    o["workFrom"] = ApiDateTime(user.created);
    OJson groups = OJson::array();
    for (const Group* g : ctx.portal.GroupsOf(user.id)) groups.push_back(GroupSummaryDto(ctx, *g));
    o["groups"] = std::move(groups);
    o["isActivated"] = user.activation_status == 1;
    o["isVisitor"] = user.type == UserType::kGuest;
    o["isAdmin"] = user.IsAdmin();
    o["isOwner"] = user.is_owner;
    o["isRoomAdmin"] = user.type == UserType::kRoomAdmin;
    o["isCollaborator"] = false;
    o["isLDAP"] = false;
    o["isSSO"] = false;
    o["cultureName"] = user.culture;
    o["registrationDate"] = ApiDateTime(user.created);
    if (!user.created_by.empty()) o["createdBy"] = user.created_by;
    const OJson base = EmployeeDto(ctx, user);
    for (auto it = base.begin(); it != base.end(); ++it) o[it.key()] = it.value();
    return o;
}

OJson GroupSummaryDto(const DtoContext& ctx, const Group& group) {
    OJson o = OJson::object();
    o["id"] = group.id;
    o["name"] = group.name;
    if (!group.manager.empty()) {
        if (const User* m = UserById(ctx.portal, group.manager)) o["manager"] = m->user_name;
    }
    o["isLDAP"] = false;
    return o;
}

OJson FileDto(const DtoContext& ctx, const Entry& f) {
    const int access = ViewerAccess(ctx, f);
    const std::string ext = f.Extension();
    OJson o = OJson::object();
    o["folderId"] = EntryId(f.parent_id);
    o["version"] = f.version;
    o["versionGroup"] = f.version_group;
    o["contentLength"] = ContentLengthText(f.size);
    o["pureContentLength"] = f.size;
    o["fileStatus"] = 0;
    o["mute"] = false;
    o["viewUrl"] = fmt::format("{}/filehandler.ashx?action=download&fileid={}", ctx.base_url, f.id.str());
    o["webUrl"] = fmt::format("{}/doceditor?fileid={}&version={}", ctx.base_url, f.id.str(), f.version);
    o["fileType"] = FileTypeOf(ext);
    o["fileExst"] = ext;
    if (!f.comment.empty()) o["comment"] = f.comment;
    o["thumbnailStatus"] = 0;
    o["denyDownload"] = false;
    o["isForm"] = false;
    AppendEntryBase(ctx, f, access, o);
    return o;
}

OJson FolderDto(const DtoContext& ctx, const Entry& f) {
    const int access = ViewerAccess(ctx, f);
    OJson o = OJson::object();
    o["parentId"] = f.parent_id.empty() ? OJson(0) : EntryId(f.parent_id);
    o["filesCount"] = static_cast<int>(f.files.size());
    o["foldersCount"] = static_cast<int>(f.folders.size());
    o["new"] = 0;
    o["mute"] = false;
    if (f.IsRoom()) {
        o["tags"] = f.tags;
        o["pinned"] = false;
        o["roomType"] = f.room_type;
        o["private"] = false;
        o["indexing"] = false;
        o["denyDownload"] = false;
        o["inRoom"] = access != kAccessNone;
        o["usedSpace"] = 0;
    }
    o["type"] = f.folder_type;
    AppendEntryBase(ctx, f, access, o);
    return o;
}

OJson PathPartDto(const Entry& folder) {
    OJson o = OJson::object();
    o["id"] = EntryId(folder.id);
    o["title"] = folder.title;
    if (folder.IsRoom()) o["roomType"] = folder.room_type;
    o["folderType"] = folder.folder_type;
    return o;
}

OJson FolderContentDto(const DtoContext& ctx, const Entry& current, const std::vector<const Entry*>& files,
                       const std::vector<const Entry*>& folders, int start_index, int total) {
    OJson o = OJson::object();
    OJson files_json = OJson::array();
    for (const Entry* f : files) files_json.push_back(FileDto(ctx, *f));
    OJson folders_json = OJson::array();
    for (const Entry* f : folders) folders_json.push_back(FolderDto(ctx, *f));
    OJson path = OJson::array();
    for (const Entry* p : ctx.portal.PathTo(current)) path.push_back(PathPartDto(*p));
    o["files"] = std::move(files_json);
    o["folders"] = std::move(folders_json);
    o["current"] = FolderDto(ctx, current);
    o["pathParts"] = std::move(path);
    o["startIndex"] = start_index;
    o["count"] = static_cast<int>(files.size() + folders.size());
    o["total"] = total;
    o["new"] = 0;
    return o;
}

OJson FileShareDto(const DtoContext& ctx, const Entry& room, const Member& member) {
    OJson o = OJson::object();
    o["access"] = member.access;
    const bool is_owner = !member.is_group && member.subject == room.create_by;
    if (member.is_group) {
        for (const auto& g : ctx.portal.groups()) {
            if (g.id == member.subject) {
                o["sharedTo"] = GroupSummaryDto(ctx, g);
                o["sharedToGroup"] = GroupSummaryDto(ctx, g);
            }
        }
    } else if (const User* u = UserById(ctx.portal, member.subject)) {
        o["sharedTo"] = EmployeeFullDto(ctx, *u);
        o["sharedToUser"] = EmployeeFullDto(ctx, *u);
    }
    o["isLocked"] = is_owner;
    o["isOwner"] = is_owner;
    o["canEditAccess"] = !is_owner;
    o["canEditInternal"] = false;
    o["canEditDenyDownload"] = false;
    o["canEditExpirationDate"] = false;
    o["canRevoke"] = false;
    o["subjectType"] = member.is_group ? 2 : 0;  // SubjectType: User 0, Group 2
    return o;
}

// --- webhook payloads -----------------------------------------------------------------------------------

OJson FileEntryPayload(const Portal& portal, const Entry& e) {
    const Entry& root = portal.RootOf(e);
    OJson o = OJson::object();
    o["id"] = EntryId(e.id);
    if (!e.parent_id.empty()) o["parentId"] = EntryId(e.parent_id);
    // Initialised to an empty dictionary in FileEntry<T>, so present even though empty (docs/docspace-api.md
    // §1.6).
    o["securityByUsers"] = OJson::object();
    if (!e.parent_id.empty()) o["folderIdDisplay"] = EntryId(e.parent_id);
    o["rootId"] = EntryId(root.id);
    o["title"] = e.title;
    if (!e.create_by.empty()) o["createBy"] = e.create_by;
    if (!e.modified_by.empty()) o["modifiedBy"] = e.modified_by;
    o["createOn"] = FormatIso8601(e.create_on);
    o["modifiedOn"] = FormatIso8601(e.modified_on);
    if (root.folder_type != 0) o["rootFolderType"] = root.folder_type;
    if (!root.create_by.empty()) o["rootCreateBy"] = root.create_by;
    o["fileEntryType"] = e.is_folder ? 1 : 2;
    return o;
}

OJson UserInfoPayload(const User& u) {
    // Core UserInfo with WhenWritingDefault: null strings, false, 0 and Guid.Empty are omitted.
    OJson o = OJson::object();
    o["id"] = u.id;
    if (!u.first_name.empty()) o["firstName"] = u.first_name;
    if (!u.last_name.empty()) o["lastName"] = u.last_name;
    if (!u.user_name.empty()) o["userName"] = u.user_name;
    if (u.status != 0) o["status"] = u.status;
    if (u.activation_status != 0) o["activationStatus"] = u.activation_status;
    if (!u.email.empty()) o["email"] = u.email;
    o["lastModified"] = FormatIso8601(u.last_modified, true);
    o["tenantId"] = 1;
    // IsActive => ActivationStatus.HasFlag(Activated): a person who has not accepted an invitation has
    // none (docs/docspace-api.md §1.6), whatever their status.
    const bool active = (u.activation_status & 1) != 0;
    if (active) o["isActive"] = true;
    if (!u.culture.empty()) o["cultureName"] = u.culture;
    o["createDate"] = FormatIso8601(u.created);
    if (!u.created_by.empty()) o["createdBy"] = u.created_by;
    if (!active) o["checkActivation"] = true;  // CheckActivation => !IsActive
    return o;
}

OJson GroupInfoPayload(const Group& g) {
    OJson o = OJson::object();
    o["id"] = g.id;
    o["name"] = g.name;
    o["authenticationType"] = "ASC";
    o["key"] = g.id;
    return o;
}

}  // namespace spacehook::emulator
