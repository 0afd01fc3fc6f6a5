#pragma once

#include <string>

#include "emulator/portal_state.hpp"

namespace spacehook::emulator {

/// Completes a copy/move operation (FileMoveCopyOperation): applies it to the tree, records the
/// result entries, marks it finished and fires one event per item (docs/docspace-api.md §1.5, §1.12). Call
/// with PortalState::mu held; a no-op for an unknown or finished operation.
///
/// Conflicts (an item with the same title in the destination): Skip leaves it; Duplicate names the
/// new item "Title (n).ext"; Overwrite gives an existing *file* a new version (copy) or replaces it
/// (move). A folder conflict with Overwrite is treated as Duplicate (the portal merges folders; the
/// emulator does not).
void RunOperation(PortalState& state, const std::string& op_id);

}  // namespace spacehook::emulator
