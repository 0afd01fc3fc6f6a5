#include "emulator/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "core/text.hpp"
#include "docspace/titles.hpp"

namespace spacehook::emulator {
namespace {}  // namespace

std::string User::DisplayName() const {
    // DisplayUserSettingsHelper.GetFullUserName: the formatted names, or the e-mail when they are blank
    // (a person invited by e-mail has no names until they accept).
    const auto blank = [](const std::string& text) {
        return std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c) != 0; });
    };
    if (blank(first_name) && blank(last_name)) return email;
    if (blank(first_name)) return last_name;
    if (blank(last_name)) return first_name;
    return first_name + " " + last_name;
}

std::string Entry::Extension() const {
    return is_folder ? std::string() : ExtensionOf(title);
}

bool IdLess(const EntityId& a, const EntityId& b) {
    if (a.is_number() != b.is_number()) return a.is_number();
    if (a.is_number()) return std::stoll(a.str()) < std::stoll(b.str());
    return a.str() < b.str();
}

int RoomFolderType(int room_type) {
    switch (room_type) {
        case 1:
            return 15;
        case 2:
            return 16;
        case 5:
            return 19;
        case 6:
            return 22;
        case 8:
            return 29;
        case 9:
            return 31;
        default:
            return kFolderDefault;
    }
}

const std::vector<int>& AllowedRoomAccesses(int room_type) {
    // FileSecurity.AvailableRoomAccesses (docs/docspace-api.md §2.4).
    static const std::vector<int> kCustom = {9, 11, 10, 5, 6, 2, 0};
    static const std::vector<int> kPublic = {9, 11, 0};
    static const std::vector<int> kFillingForms = {9, 11, 7, 0};
    static const std::vector<int> kEditing = {9, 11, 10, 2, 0};
    static const std::vector<int> kVirtualData = {9, 11, 10, 2, 7, 0};
    static const std::vector<int> kAi = {9, 11, 2, 0};
    static const std::vector<int> kNone;
    switch (room_type) {
        case 5:
            return kCustom;
        case 6:
            return kPublic;
        case 1:
            return kFillingForms;
        case 2:
            return kEditing;
        case 8:
            return kVirtualData;
        case 9:
            return kAi;
        default:
            return kNone;
    }
}

bool IsKnownRoomType(int room_type) {
    return !AllowedRoomAccesses(room_type).empty();
}

std::string ExtensionOf(std::string_view title) {
    const auto dot = title.rfind('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == title.size()) return {};
    return ToLower(title.substr(dot));
}

std::string StoredTitle(std::string_view requested, bool is_folder) {
    return docspace::PortalTitle(requested,
                                 is_folder ? docspace::TitleKind::kFolder : docspace::TitleKind::kFile);
}

std::string DuplicateTitle(std::string_view title, int n, bool is_folder) {
    return docspace::NumberedTitle(title, n,
                                   is_folder ? docspace::TitleKind::kFolder : docspace::TitleKind::kFile);
}

// --- people -------------------------------------------------------------------------------------------

User& Portal::AddUser(User user) {
    users_.push_back(std::move(user));
    return users_.back();
}

Group& Portal::AddGroup(Group group) {
    groups_.push_back(std::move(group));
    return groups_.back();
}

User* Portal::FindUser(std::string_view id_or_user_name) {
    for (auto& u : users_) {
        if (EqualsIgnoreCase(u.id, id_or_user_name) || EqualsIgnoreCase(u.user_name, id_or_user_name))
            return &u;
    }
    return nullptr;
}

User* Portal::FindUserByEmail(std::string_view email) {
    for (auto& u : users_) {
        if (EqualsIgnoreCase(u.email, email)) return &u;
    }
    return nullptr;
}

Group* Portal::FindGroup(std::string_view id) {
    for (auto& g : groups_) {
        if (EqualsIgnoreCase(g.id, id)) return &g;
    }
    return nullptr;
}

const User* Portal::owner() const {
    for (const auto& u : users_) {
        if (u.is_owner) return &u;
    }
    return users_.empty() ? nullptr : &users_.front();
}

std::vector<const Group*> Portal::GroupsOf(std::string_view user_id) const {
    std::vector<const Group*> out;
    for (const auto& g : groups_) {
        if (std::find(g.members.begin(), g.members.end(), user_id) != g.members.end()) out.push_back(&g);
    }
    return out;
}

// --- tree ---------------------------------------------------------------------------------------------

void Portal::CreateSections(const std::string& owner_id, TimePoint now) {
    auto make = [&](std::string title, int folder_type) {
        Entry e;
        e.id = EntityId::Number(next_folder_id_++);
        e.is_folder = true;
        e.title = std::move(title);
        e.folder_type = folder_type;
        e.create_by = e.modified_by = owner_id;
        e.create_on = e.modified_on = now;
        return Insert(std::move(e)).id;
    };
    rooms_root_ = make("Rooms", kFolderVirtualRooms);
    archive_root_ = make("Archive", kFolderArchive);
    trash_root_ = make("Trash", kFolderTrash);
}

Entry* Portal::Folder(const EntityId& id) {
    auto it = folders_.find(id.str());
    return it == folders_.end() ? nullptr : &it->second;
}
const Entry* Portal::Folder(const EntityId& id) const {
    auto it = folders_.find(id.str());
    return it == folders_.end() ? nullptr : &it->second;
}
Entry* Portal::File(const EntityId& id) {
    auto it = files_.find(id.str());
    return it == files_.end() ? nullptr : &it->second;
}
const Entry* Portal::File(const EntityId& id) const {
    auto it = files_.find(id.str());
    return it == files_.end() ? nullptr : &it->second;
}
Entry* Portal::Find(const EntityId& id, bool is_folder) {
    return is_folder ? Folder(id) : File(id);
}

EntityId Portal::NextId(const EntityId& parent, bool is_folder) {
    // Inside a third-party room every id is a string (FileEntry<string>, docs/docspace-api.md §1.7).
    for (const Entry* p = Folder(parent); p != nullptr; p = Folder(p->parent_id)) {
        if (!p->provider_key.empty()) {
            return EntityId::String(fmt::format("{}-{}", p->provider_key, next_third_party_id_++));
        }
    }
    return EntityId::Number(is_folder ? next_folder_id_++ : next_file_id_++);
}

Entry& Portal::Insert(Entry entry) {
    // Seeds may fix ids; keep the counters ahead of them.
    if (entry.id.is_number()) {
        const auto n = std::stoll(entry.id.str());
        auto& counter = entry.is_folder ? next_folder_id_ : next_file_id_;
        counter = std::max<std::int64_t>(counter, n + 1);
    }
    auto& map = entry.is_folder ? folders_ : files_;
    const std::string key = entry.id.str();
    auto [it, inserted] = map.insert_or_assign(key, std::move(entry));
    (void)inserted;
    Entry& stored = it->second;
    if (Entry* parent = Folder(stored.parent_id)) {
        (stored.is_folder ? parent->folders : parent->files).push_back(stored.id);
    }
    return stored;
}

void Portal::Unlink(const Entry& entry) {
    if (Entry* parent = Folder(entry.parent_id)) {
        auto& list = entry.is_folder ? parent->folders : parent->files;
        list.erase(std::remove(list.begin(), list.end(), entry.id), list.end());
    }
}

Entry& Portal::CreateRoom(const std::string& title, int room_type, const std::string& by, TimePoint now,
                          const std::string& provider_key, std::optional<EntityId> id) {
    Entry e;
    if (id) {
        e.id = *id;
    } else if (!provider_key.empty()) {
        e.id = EntityId::String(fmt::format("{}-{}", provider_key, next_third_party_id_++));
    } else {
        e.id = NextId(rooms_root_, true);
    }
    e.is_folder = true;
    e.title = StoredTitle(title, true);
    e.parent_id = rooms_root_;
    e.room_type = room_type;
    e.folder_type = RoomFolderType(room_type);
    e.provider_key = provider_key;
    e.create_by = e.modified_by = by;
    e.create_on = e.modified_on = now;
    return Insert(std::move(e));
}

Entry& Portal::CreateFolder(const EntityId& parent, const std::string& title, const std::string& by,
                            TimePoint now, std::optional<EntityId> id) {
    Entry e;
    e.id = id ? *id : NextId(parent, true);
    e.is_folder = true;
    e.title = StoredTitle(title, true);
    e.parent_id = parent;
    e.create_by = e.modified_by = by;
    e.create_on = e.modified_on = now;
    return Insert(std::move(e));
}

Entry& Portal::CreateFile(const EntityId& parent, const std::string& title, std::int64_t size,
                          const std::string& by, TimePoint now, std::optional<EntityId> id) {
    Entry e;
    e.id = id ? *id : NextId(parent, false);
    e.is_folder = false;
    e.title = StoredTitle(title, false);
    e.parent_id = parent;
    e.size = size;
    e.create_by = e.modified_by = by;
    e.create_on = e.modified_on = now;
    return Insert(std::move(e));
}

void Portal::Move(Entry& entry, const EntityId& new_parent) {
    Unlink(entry);
    entry.parent_id = new_parent;
    if (Entry* parent = Folder(new_parent))
        (entry.is_folder ? parent->folders : parent->files).push_back(entry.id);
}

void Portal::RemoveFile(const EntityId& id) {
    auto it = files_.find(id.str());
    if (it == files_.end()) return;
    Unlink(it->second);
    files_.erase(it);
}

void Portal::RemoveFolder(const EntityId& id) {
    auto it = folders_.find(id.str());
    if (it == folders_.end() || !it->second.files.empty() || !it->second.folders.empty()) return;
    Unlink(it->second);
    folders_.erase(it);
}

void Portal::RemoveTree(const EntityId& id) {
    Entry* folder = Folder(id);
    if (folder == nullptr) return;
    const auto files = folder->files;
    const auto folders = folder->folders;
    for (const auto& file : files) RemoveFile(file);
    for (const auto& child : folders) RemoveTree(child);
    RemoveFolder(id);
}

void Portal::RemoveUser(std::string id) {
    users_.erase(std::remove_if(users_.begin(), users_.end(), [&](const User& u) { return u.id == id; }),
                 users_.end());
    for (auto& g : groups_)
        g.members.erase(std::remove(g.members.begin(), g.members.end(), id), g.members.end());
    for (auto& [key, folder] : folders_) {
        auto& m = folder.members;
        m.erase(std::remove_if(m.begin(), m.end(), [&](const Member& x) { return x.subject == id; }),
                m.end());
    }
}

void Portal::RemoveGroup(std::string id) {
    groups_.erase(std::remove_if(groups_.begin(), groups_.end(), [&](const Group& g) { return g.id == id; }),
                  groups_.end());
    for (auto& [key, folder] : folders_) {
        auto& m = folder.members;
        m.erase(std::remove_if(m.begin(), m.end(), [&](const Member& x) { return x.subject == id; }),
                m.end());
    }
}

const Entry& Portal::RootOf(const Entry& entry) const {
    const Entry* current = entry.is_folder ? &entry : Folder(entry.parent_id);
    if (current == nullptr) return entry;
    while (const Entry* parent = Folder(current->parent_id)) current = parent;
    return *current;
}

const Entry* Portal::RoomOf(const Entry& entry) const {
    for (const Entry* p = entry.is_folder ? &entry : Folder(entry.parent_id); p != nullptr;
         p = Folder(p->parent_id)) {
        if (p->IsRoom()) return p;
    }
    return nullptr;
}

std::vector<const Entry*> Portal::PathTo(const Entry& folder) const {
    std::vector<const Entry*> path;
    for (const Entry* p = &folder; p != nullptr; p = Folder(p->parent_id)) path.push_back(p);
    std::reverse(path.begin(), path.end());
    return path;
}

bool Portal::IsWithin(const Entry& entry, const EntityId& ancestor) const {
    if (entry.is_folder && entry.id == ancestor) return true;
    for (const Entry* p = Folder(entry.parent_id); p != nullptr; p = Folder(p->parent_id)) {
        if (p->id == ancestor) return true;
    }
    return false;
}

Entry* Portal::ChildByTitle(const Entry& folder, std::string_view title, bool is_folder) {
    for (const auto& id : is_folder ? folder.folders : folder.files) {
        Entry* child = Find(id, is_folder);
        if (child != nullptr && EqualsIgnoreCase(child->title, title)) return child;
    }
    return nullptr;
}

// --- access -------------------------------------------------------------------------------------------

int Portal::AccessOf(const User& user, const Entry& entry) const {
    if (user.IsAdmin()) return kAccessRoomManager;
    const Entry* room = RoomOf(entry);
    if (room == nullptr) {
        // Section roots are visible to every member of the portal (their content is rooms, filtered
        // one by one); anything else outside a room belongs to admins.
        return entry.is_folder && entry.parent_id.empty() ? kAccessRead : kAccessNone;
    }
    if (room->create_by == user.id) return kAccessRoomManager;
    for (const auto& m : room->members) {
        if (!m.is_group && m.subject == user.id) return m.access;
    }
    int best = kAccessNone;
    for (const Group* g : GroupsOf(user.id)) {
        for (const auto& m : room->members) {
            if (m.is_group && m.subject == g->id && best == kAccessNone) best = m.access;
        }
    }
    return best;
}

bool Portal::CanRead(const User& user, const Entry& entry) const {
    const int access = AccessOf(user, entry);
    return access != kAccessNone && access != kAccessRestrict;
}

bool Portal::CanCreateIn(const User& user, const Entry& folder) const {
    // Nothing is created directly in a section (Rooms, Archive, Trash): rooms have their own call.
    if (RoomOf(folder) == nullptr) return false;
    const int access = AccessOf(user, folder);
    return access == kAccessRoomManager || access == kAccessContentCreator || access == kAccessReadWrite;
}

bool Portal::CanEdit(const User& user, const Entry& entry) const {
    const int access = AccessOf(user, entry);
    return access == kAccessRoomManager || access == kAccessContentCreator || access == kAccessReadWrite ||
           access == kAccessEditing;
}

bool Portal::CanRemove(const User& user, const Entry& entry) const {
    const int access = AccessOf(user, entry);
    if (access == kAccessRoomManager || access == kAccessReadWrite) return true;
    return access == kAccessContentCreator && entry.create_by == user.id;
}

bool Portal::CanManageRoom(const User& user, const Entry& room) const {
    return AccessOf(user, room) == kAccessRoomManager;
}

}  // namespace spacehook::emulator
