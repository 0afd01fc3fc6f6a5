#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

#include "emulator/envelope.hpp"
#include "emulator/portal_state.hpp"

namespace spacehook::emulator {

// What people do in the portal without a REST call spacehook makes: uploads and editor saves. Shared by
// the control API and the in-process Emulator methods. Call with PortalState::mu held.

template <class T>
using Outcome = tl::expected<T, ApiFailure>;

/// A file uploaded into `folder_id`. A simple upload/insert fires file.created then file.uploaded
/// for the same id; a chunked (UI) upload only file.uploaded (docs/docspace-api.md §1.12).
Outcome<const Entry*> UploadFile(PortalState& state, const User& user, const EntityId& folder_id,
                                 const std::string& title, std::int64_t size, bool chunked);

/// A free userName from an e-mail's local part ("jane.doe", "jane.doe1", ...).
std::string UniqueUserName(Portal& portal, const std::string& email);

/// UserManagerWrapper.AddInvitedUserAsync: a person invited by e-mail, pending (status 4, activationStatus 2)
/// until they accept, without names, of `type`, created by `actor`. Fires nothing (docs/docspace-api.md
/// §2.5: an unknown address in rooms/{id}/share becomes a Guest this way, with no webhook).
const User& AddInvitedUser(PortalState& state, const std::string& email, UserType type,
                           const std::string& actor);

/// POST people/invite for one address: AddInvitedUser, then user.invited by `actor` (docs/docspace-api.md
/// §1.5: the only call that fires it).
const User& InviteUser(PortalState& state, const std::string& email, UserType type, const std::string& actor);

/// The invited person accepts (POST people from their invitation link): active, with names, and
/// user.created fires for them, acting as the one who invited them. kNotFound when no pending person has
/// that address.
Outcome<const User*> AcceptInvitation(PortalState& state, const std::string& email,
                                      const std::string& first_name, const std::string& last_name);

/// What a person does in the portal's UI that fires the triggers no emulated REST call fires
/// (docs/docspace-api.md §1.5), each with the payload DocSpace publishes (§1.6). POST /__emulator/act
/// names them: {"action": <name>, "user": <who>, "id": <entity>, ...}.
enum class PersonAction {
    kTrash,        ///< a file or folder to Trash: file.trashed / folder.trashed (the entry as it was)
    kDelete,       ///< for good: file.deleted / folder.deleted, room.deleted / agent.deleted
    kDownload,     ///< file.downloaded / folder.downloaded
    kSubmitForm,   ///< a filled copy of a form in its folder: form.submit {originalForm, submittedForm}
    kFillForm,     ///< form.filled.out
    kStopForm,     ///< form.stopped
    kUpdateUser,   ///< new names: user.updated
    kDeleteUser,   ///< user.deleted
    kUpdateGroup,  ///< a new name: group.updated
    kDeleteGroup,  ///< group.deleted
    kCreateAgent,  ///< an AI agent (a room of type 9): agent.created
};
std::optional<PersonAction> ParsePersonAction(std::string_view name);

/// The arguments of an action: `id` (an entry, person or group), `title` / `first_name` / `last_name`
/// where the action renames or creates.
struct ActionInput {
    std::string id;
    std::string title;
    std::string first_name;
    std::string last_name;
};

/// Performs `action` as `user`. Answers the entity the event is about (a FileEntry, UserInfo or
/// GroupInfo payload, for form.submit the submitted form's).
Outcome<OJson> ActAsPerson(PortalState& state, const User& user, PersonAction action,
                           const ActionInput& input);

/// An editor save: version + 1, fires file.updated (DocumentServiceTracker, docs/docspace-api.md §1.5).
Outcome<const Entry*> SaveFileVersion(PortalState& state, const User& user, const EntityId& file_id);

}  // namespace spacehook::emulator
