#pragma once

#include <string>

#include "emulator/portal_state.hpp"

namespace spacehook::emulator {

/// Completes a copy/move operation as FileMoveCopyOperation does (docs/docspace-api.md §2.5 "File
/// operations"): folders first, then files, each firing its event, a copied folder's content included
/// (§1.12); the result entries, `processed` and the first error recorded; finished. Call with
/// PortalState::mu held; a no-op for an unknown or finished operation.
///
/// Conflicts (an item whose title, in any case, is in the destination): Skip leaves a file silently
/// (no error, not processed); Overwrite gives the existing file a new version, and a move then deletes
/// the source; Duplicate numbers a copy ("Report (1).docx", "v1.2 (1)") but moves as it is, leaving two
/// entries of one title. A folder meeting a folder of its title outside Duplicate is merged into it.
/// Rooms are archived and restored by moves between the Rooms section and the Archive, and duplicated
/// by a copy into the Rooms section. An operation marked `swallow` finishes with nothing done and no
/// error, like the portal after an exception it did not expect.
void RunOperation(PortalState& state, const std::string& op_id);

}  // namespace spacehook::emulator
