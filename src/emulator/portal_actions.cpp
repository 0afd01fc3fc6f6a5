#include "emulator/portal_actions.hpp"

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

const User& InviteUser(PortalState& state, const std::string& email, UserType type,
                       const std::string& actor) {
    User u;
    u.id = NewGuid();
    u.email = email;
    u.user_name = UniqueUserName(state.portal, email);
    u.type = type;
    u.status = 1;
    u.activation_status = 2;  // pending until the invitation is accepted
    u.created_by = actor;
    u.created = u.last_modified = state.Now();
    const User& added = state.portal.AddUser(std::move(u));
    state.Count("users_invited");
    state.FireUser("user.invited", added, actor);
    return added;
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
