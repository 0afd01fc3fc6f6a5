#include "emulator/portal_actions.hpp"

#include <fmt/format.h>

#include "core/enum_names.hpp"

namespace spacehook::emulator {

Outcome<const Entry*> UploadFile(PortalState& state, const User& user, const EntityId& folder_id,
                                 const std::string& title, std::int64_t size, bool chunked) {
    auto& portal = state.portal;
    const Entry* folder = portal.Folder(folder_id);
    if (folder == nullptr) return tl::unexpected(NotFound("The required folder was not found"));
    if (title.empty()) return tl::unexpected(BadArgument("Title is required"));
    if (!portal.CanCreateIn(user, *folder)) return tl::unexpected(AccessDenied());
    const Entry& file = portal.CreateFile(folder_id, title, size, user.id, state.Now());
    state.Count("files_uploaded");
    if (!chunked) state.FireEntry("file.created", file, user.id);
    state.FireEntry("file.uploaded", file, user.id);
    return &file;
}

std::string UniqueUserName(Portal& portal, const std::string& email) {
    const std::string base = email.substr(0, email.find('@'));
    std::string candidate = base;
    for (int n = 1; portal.FindUser(candidate) != nullptr; ++n) candidate = base + std::to_string(n);
    return candidate;
}

const User& AddInvitedUser(PortalState& state, const std::string& email, UserType type,
                           const std::string& actor) {
    User u;
    u.id = NewGuid();
    u.email = email;
    u.user_name = UniqueUserName(state.portal, email);
    u.type = type;
    u.status = 4;             // EmployeeStatus.Pending
    u.activation_status = 2;  // pending until the invitation is accepted
    u.created_by = actor;
    u.created = u.last_modified = state.Now();
    return state.portal.AddUser(std::move(u));
}

const User& InviteUser(PortalState& state, const std::string& email, UserType type,
                       const std::string& actor) {
    const User& added = AddInvitedUser(state, email, type, actor);
    state.Count("users_invited");
    state.FireUser("user.invited", added, actor);
    return added;
}

Outcome<const User*> AcceptInvitation(PortalState& state, const std::string& email,
                                      const std::string& first_name, const std::string& last_name) {
    User* u = state.portal.FindUserByEmail(email);
    if (u == nullptr || u->activation_status != 2) {
        return tl::unexpected(NotFound("No pending invitation for that e-mail"));
    }
    u->first_name = first_name;
    u->last_name = last_name;
    u->status = 1;
    u->activation_status = 1;
    u->last_modified = state.Now();
    state.Count("invitations_accepted");
    // The confirm link authenticates the one who sent it: they become event.createBy.
    state.FireUser("user.created", *u, u->created_by);
    return u;
}

namespace {

constexpr EnumNames<PersonAction, 11> kPersonActions{{{
    {PersonAction::kTrash, "trash"},
    {PersonAction::kDelete, "delete"},
    {PersonAction::kDownload, "download"},
    {PersonAction::kSubmitForm, "submit-form"},
    {PersonAction::kFillForm, "fill-form"},
    {PersonAction::kStopForm, "stop-form"},
    {PersonAction::kUpdateUser, "update-user"},
    {PersonAction::kDeleteUser, "delete-user"},
    {PersonAction::kUpdateGroup, "update-group"},
    {PersonAction::kDeleteGroup, "delete-group"},
    {PersonAction::kCreateAgent, "create-agent"},
}}};
static_assert(kPersonActions.Unique());

/// The file or folder an action is about: files first, as the portal's ids overlap between the two.
Entry* FindEntry(Portal& portal, const std::string& id, bool& is_folder) {
    const auto entity = EntityId::Parse(id);
    if (Entry* file = portal.File(entity)) {
        is_folder = false;
        return file;
    }
    is_folder = true;
    return portal.Folder(entity);
}

Outcome<OJson> EntryAction(PortalState& state, const User& user, PersonAction action, const ActionInput& in) {
    auto& portal = state.portal;
    bool is_folder = false;
    Entry* entry = FindEntry(portal, in.id, is_folder);
    if (entry == nullptr) return tl::unexpected(NotFound("The required file was not found"));
    if (!portal.CanRead(user, *entry)) return tl::unexpected(AccessDenied());
    const std::string family = is_folder ? "folder" : "file";
    switch (action) {
        case PersonAction::kTrash: {
            if (entry->IsRoom() || entry->parent_id.empty() || !portal.CanRemove(user, *entry)) {
                return tl::unexpected(AccessDenied());
            }
            // FileDeleteOperation publishes the entry as it was, with its old parent.
            const OJson payload = FileEntryPayload(portal, *entry);
            state.FireEntry(family + ".trashed", *entry, user.id);
            portal.Move(*entry, portal.trash_root());
            state.Count(family + "s_trashed");
            return payload;
        }
        case PersonAction::kDelete: {
            if (entry->parent_id.empty() || !portal.CanRemove(user, *entry))
                return tl::unexpected(AccessDenied());
            const OJson payload = FileEntryPayload(portal, *entry);
            if (entry->IsRoom()) {
                state.FireEntry(PortalState::RoomTrigger(*entry, "room.deleted"), *entry, user.id);
                state.Count("rooms_deleted");
                portal.RemoveTree(entry->id);
                return payload;
            }
            state.FireEntry(family + ".deleted", *entry, user.id);
            state.Count(family + "s_deleted");
            if (is_folder) {
                portal.RemoveTree(entry->id);
            } else {
                portal.RemoveFile(entry->id);
            }
            return payload;
        }
        case PersonAction::kDownload:
            state.FireEntry(family + ".downloaded", *entry, user.id);
            state.Count(family + "s_downloaded");
            return FileEntryPayload(portal, *entry);
        default:
            break;
    }
    // The form actions: a file.
    if (is_folder) return tl::unexpected(BadArgument("a form is a file"));
    if (action == PersonAction::kSubmitForm) {
        // The submitted copy sits next to the form, named after the person who filled it.
        const auto dot = entry->title.rfind('.');
        const std::string stem = dot == std::string::npos ? entry->title : entry->title.substr(0, dot);
        const std::string ext = dot == std::string::npos ? std::string() : entry->title.substr(dot);
        const EntityId original = entry->id;
        const auto size = entry->size;
        const Entry& submitted =
            portal.CreateFile(entry->parent_id, fmt::format("{} - {}{}", stem, user.DisplayName(), ext), size,
                              user.id, state.Now());
        state.Count("forms_submitted");
        state.FireSubmittedForm(*portal.File(original), submitted, user.id);
        return FileEntryPayload(portal, submitted);
    }
    state.FireEntry(action == PersonAction::kFillForm ? "form.filled.out" : "form.stopped", *entry, user.id);
    state.Count(action == PersonAction::kFillForm ? "forms_filled_out" : "forms_stopped");
    return FileEntryPayload(portal, *entry);
}

}  // namespace

std::optional<PersonAction> ParsePersonAction(std::string_view name) {
    return kPersonActions.Parse(name);
}

Outcome<OJson> ActAsPerson(PortalState& state, const User& user, PersonAction action, const ActionInput& in) {
    auto& portal = state.portal;
    switch (action) {
        case PersonAction::kUpdateUser:
        case PersonAction::kDeleteUser: {
            User* person = state.FindAnyUser(in.id);
            if (person == nullptr) return tl::unexpected(NotFound("The user could not be found"));
            if (!user.IsAdmin() && person->id != user.id) return tl::unexpected(AccessDenied());
            if (action == PersonAction::kDeleteUser) {
                if (person->is_owner) return tl::unexpected(AccessDenied());
                const OJson payload = UserInfoPayload(*person);
                state.FireUser("user.deleted", *person, user.id);
                state.Count("users_deleted");
                portal.RemoveUser(person->id);
                return payload;
            }
            if (!in.first_name.empty()) person->first_name = in.first_name;
            if (!in.last_name.empty()) person->last_name = in.last_name;
            person->last_modified = state.Now();
            state.Count("users_updated");
            state.FireUser("user.updated", *person, user.id);
            return UserInfoPayload(*person);
        }
        case PersonAction::kUpdateGroup:
        case PersonAction::kDeleteGroup: {
            Group* group = portal.FindGroup(in.id);
            if (group == nullptr) return tl::unexpected(NotFound("The group could not be found"));
            if (!user.IsAdmin()) return tl::unexpected(AccessDenied());
            if (action == PersonAction::kDeleteGroup) {
                const OJson payload = GroupInfoPayload(*group);
                state.FireGroup("group.deleted", *group, user.id);
                state.Count("groups_deleted");
                portal.RemoveGroup(group->id);
                return payload;
            }
            if (!in.title.empty()) group->name = in.title;
            state.Count("groups_updated");
            state.FireGroup("group.updated", *group, user.id);
            return GroupInfoPayload(*group);
        }
        case PersonAction::kCreateAgent: {
            if (!user.IsAdmin() && user.type != UserType::kRoomAdmin) return tl::unexpected(AccessDenied());
            if (StoredTitle(in.title, true).empty()) {
                return tl::unexpected(
                    BadArgument("The value cannot be an empty string. (Parameter 'title')"));
            }
            Entry& agent = portal.CreateRoom(in.title, 9, user.id, state.Now());
            agent.is_agent = true;
            state.Count("agents_created");
            state.FireEntry("agent.created", agent, user.id);
            return FileEntryPayload(portal, agent);
        }
        default:
            return EntryAction(state, user, action, in);
    }
}

Outcome<const Entry*> SaveFileVersion(PortalState& state, const User& user, const EntityId& file_id) {
    auto& portal = state.portal;
    Entry* file = portal.File(file_id);
    if (file == nullptr) return tl::unexpected(NotFound("The required file was not found"));
    if (!portal.CanEdit(user, *file)) return tl::unexpected(AccessDenied());
    ++file->version;
    ++file->version_group;
    file->modified_by = user.id;
    file->modified_on = state.Now();
    state.Count("files_edited");
    state.FireEntry("file.updated", *file, user.id);
    return file;
}

}  // namespace spacehook::emulator
