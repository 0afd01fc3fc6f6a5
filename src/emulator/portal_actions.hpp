#pragma once

#include <cstdint>
#include <string>
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

/// Someone invited by e-mail (people/invite, or an unknown address in rooms/{id}/share): a pending user
/// (activationStatus 2) of `type`, firing user.invited by `actor` (docs/docspace-api.md §1.5).
const User& InviteUser(PortalState& state, const std::string& email, UserType type, const std::string& actor);

/// An editor save: version + 1, fires file.updated (DocumentServiceTracker, docs/docspace-api.md §1.5).
Outcome<const Entry*> SaveFileVersion(PortalState& state, const User& user, const EntityId& file_id);

}  // namespace spacehook::emulator
