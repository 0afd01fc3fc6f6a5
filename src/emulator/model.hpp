#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/entity_id.hpp"

namespace spacehook::emulator {

// The portal's data: people and the file tree. Plain values guarded by the emulator's one state
// mutex; nothing here does I/O or knows about HTTP.

/// EmployeeType (docs/docspace-api.md §2.4).
enum class UserType { kRoomAdmin = 1, kGuest = 2, kDocSpaceAdmin = 3, kUser = 4 };

/// FolderType numbers used here (docs/docspace-api.md §2.4).
inline constexpr int kFolderDefault = 0;
inline constexpr int kFolderTrash = 3;
inline constexpr int kFolderVirtualRooms = 14;
inline constexpr int kFolderArchive = 20;

/// FileShare numbers used here (docs/docspace-api.md §2.4).
inline constexpr int kAccessNone = 0;
inline constexpr int kAccessReadWrite = 1;
inline constexpr int kAccessRead = 2;
inline constexpr int kAccessRestrict = 3;
inline constexpr int kAccessRoomManager = 9;
inline constexpr int kAccessEditing = 10;
inline constexpr int kAccessContentCreator = 11;

struct User {
    std::string id;  ///< GUID, lower case
    std::string first_name;
    std::string last_name;
    std::string user_name;
    std::string email;
    UserType type = UserType::kUser;
    bool is_owner = false;      ///< the portal owner (one per portal)
    int status = 1;             ///< EmployeeStatus: 1 Active
    int activation_status = 1;  ///< EmployeeActivationStatus: 1 Activated, 2 Pending (invited)
    std::string created_by;
    TimePoint created{};
    TimePoint last_modified{};
    std::string culture = "en-US";

    [[nodiscard]] std::string DisplayName() const;
    [[nodiscard]] bool IsAdmin() const { return is_owner || type == UserType::kDocSpaceAdmin; }
};

struct Group {
    std::string id;  ///< GUID
    std::string name;
    std::string manager;               ///< user id or empty
    std::vector<std::string> members;  ///< user ids
};

/// A room member: a user or a group with a FileShare level.
struct Member {
    std::string subject;  ///< user or group GUID
    int access = kAccessRead;
    bool is_group = false;
};

/// A file or folder; rooms and section roots are folders.
struct Entry {
    EntityId id;
    bool is_folder = true;
    std::string title;
    EntityId parent_id;  ///< empty for section roots
    int folder_type = kFolderDefault;
    int room_type = 0;  ///< RoomType for rooms, 0 otherwise
    std::vector<std::string> tags;
    std::vector<Member> members;  ///< rooms only, in invitation order
    std::string provider_key;     ///< third-party room ("box"): its subtree gets string ids
    std::string create_by;
    std::string modified_by;
    TimePoint create_on{};
    TimePoint modified_on{};
    std::vector<EntityId> folders;  ///< child folders in creation order (folders only)
    std::vector<EntityId> files;    ///< child files in creation order (folders only)
    // Files only.
    int version = 1;
    int version_group = 1;
    std::int64_t size = 0;
    std::string comment;

    bool is_agent = false;  ///< an AI agent (a room of type 9 whose events are agent.*)

    [[nodiscard]] bool IsRoom() const { return room_type != 0; }
    /// ".docx" (lower case) or empty.
    [[nodiscard]] std::string Extension() const;
};

/// Numbers by value, then string ids by text (for stable listings).
bool IdLess(const EntityId& a, const EntityId& b);
/// FolderType of a room of this RoomType (1->15, 2->16, 5->19, 6->22, 8->29, 9->31; docs/docspace-api.md
/// §2.4).
int RoomFolderType(int room_type);
/// FileShare values a room of this type accepts for a user (groups: the same minus RoomManager),
/// docs/docspace-api.md §2.4 `AvailableRoomAccesses`. Empty for an unknown type.
const std::vector<int>& AllowedRoomAccesses(int room_type);
bool IsKnownRoomType(int room_type);
/// Lower-case extension of a title, with the dot ("Report.DOCX" -> ".docx"); empty when none.
std::string ExtensionOf(std::string_view title);
/// What FolderDao/FileDao store for a requested title (docs/docspace-api.md §2.5 "Titles"): every create,
/// copy and rename goes through it.
std::string StoredTitle(std::string_view requested, bool is_folder);
/// The n-th numbered copy of a title that collides (Global.GetAvailableTitleAsync): "Report (1).docx" for
/// a file, "v1.2 (1)" for a folder.
std::string DuplicateTitle(std::string_view title, int n, bool is_folder);

/// Users, groups and the tree, with the lookups and the access rules the REST layer needs.
class Portal {
public:
    Portal() = default;

    // --- people ---
    User& AddUser(User user);
    Group& AddGroup(Group group);
    [[nodiscard]] User* FindUser(std::string_view id_or_user_name);
    [[nodiscard]] User* FindUserByEmail(std::string_view email);
    [[nodiscard]] Group* FindGroup(std::string_view id);
    [[nodiscard]] const std::deque<User>& users() const { return users_; }
    [[nodiscard]] const std::deque<Group>& groups() const { return groups_; }
    [[nodiscard]] const User* owner() const;
    /// Groups the user belongs to.
    [[nodiscard]] std::vector<const Group*> GroupsOf(std::string_view user_id) const;

    // --- tree ---
    /// Creates the section roots (VirtualRooms, Archive, Trash) owned by `owner_id`.
    void CreateSections(const std::string& owner_id, TimePoint now);
    [[nodiscard]] const EntityId& rooms_root() const { return rooms_root_; }
    [[nodiscard]] const EntityId& archive_root() const { return archive_root_; }
    [[nodiscard]] const EntityId& trash_root() const { return trash_root_; }

    [[nodiscard]] Entry* Folder(const EntityId& id);
    [[nodiscard]] const Entry* Folder(const EntityId& id) const;
    [[nodiscard]] Entry* File(const EntityId& id);
    [[nodiscard]] const Entry* File(const EntityId& id) const;
    /// A folder when `is_folder`, a file otherwise.
    [[nodiscard]] Entry* Find(const EntityId& id, bool is_folder);

    Entry& CreateRoom(const std::string& title, int room_type, const std::string& by, TimePoint now,
                      const std::string& provider_key = {}, std::optional<EntityId> id = std::nullopt);
    Entry& CreateFolder(const EntityId& parent, const std::string& title, const std::string& by,
                        TimePoint now, std::optional<EntityId> id = std::nullopt);
    Entry& CreateFile(const EntityId& parent, const std::string& title, std::int64_t size,
                      const std::string& by, TimePoint now, std::optional<EntityId> id = std::nullopt);
    /// Moves a file or folder under `new_parent` (keeps its id).
    void Move(Entry& entry, const EntityId& new_parent);
    /// Removes a file (a move with Overwrite deletes its source).
    void RemoveFile(const EntityId& id);
    /// Removes an empty folder (a move merged into another folder deletes its emptied source).
    void RemoveFolder(const EntityId& id);
    /// Removes a folder (a room included) with everything in it.
    void RemoveTree(const EntityId& id);
    /// Removes a person, or a group, for good.
    void RemoveUser(std::string id);  // by value: callers pass the entry's own id
    void RemoveGroup(std::string id);

    /// The section root (highest ancestor): `rootId` in payloads (docs/docspace-api.md §1.6).
    [[nodiscard]] const Entry& RootOf(const Entry& entry) const;
    /// The room containing (or being) the entry; nullptr outside rooms.
    [[nodiscard]] const Entry* RoomOf(const Entry& entry) const;
    /// Folders from the section root down to `folder` (inclusive).
    [[nodiscard]] std::vector<const Entry*> PathTo(const Entry& folder) const;
    /// True when `ancestor` is `entry` or one of its ancestors.
    [[nodiscard]] bool IsWithin(const Entry& entry, const EntityId& ancestor) const;
    /// Child with this title (case-insensitive, as DocSpace compares titles), or nullptr.
    [[nodiscard]] Entry* ChildByTitle(const Entry& folder, std::string_view title, bool is_folder);

    // --- access ---
    /// The user's FileShare level on the entry's room: the direct grant wins over group grants;
    /// admins and the room owner count as RoomManager. kAccessNone outside any visibility.
    [[nodiscard]] int AccessOf(const User& user, const Entry& entry) const;
    [[nodiscard]] bool CanRead(const User& user, const Entry& entry) const;
    /// Create files/folders inside `folder` (RoomManager, ContentCreator, ReadWrite, admins).
    [[nodiscard]] bool CanCreateIn(const User& user, const Entry& folder) const;
    /// Edit/rename a file or folder.
    [[nodiscard]] bool CanEdit(const User& user, const Entry& entry) const;
    /// Move away / delete (RoomManager, admins, or the author inside a room they may create in).
    [[nodiscard]] bool CanRemove(const User& user, const Entry& entry) const;
    /// Change a room's members.
    [[nodiscard]] bool CanManageRoom(const User& user, const Entry& room) const;

    [[nodiscard]] const std::map<std::string, Entry>& all_folders() const { return folders_; }
    [[nodiscard]] const std::map<std::string, Entry>& all_files() const { return files_; }

private:
    EntityId NextId(const EntityId& parent, bool is_folder);
    Entry& Insert(Entry entry);
    void Unlink(const Entry& entry);

    std::deque<User> users_;  // deque: pointers handed out stay valid on AddUser
    std::deque<Group> groups_;
    std::map<std::string, Entry> folders_;  // by id text; node-based, so references stay valid
    std::map<std::string, Entry> files_;
    // DocSpace keeps files and folders in separate tables with separate id sequences.
    std::int64_t next_folder_id_ = 1;
    std::int64_t next_file_id_ = 1;
    std::int64_t next_third_party_id_ = 1;
    EntityId rooms_root_;
    EntityId archive_root_;
    EntityId trash_root_;
};

}  // namespace spacehook::emulator
