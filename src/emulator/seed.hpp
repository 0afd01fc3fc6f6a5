#pragma once

#include <string>

#include "core/error.hpp"
#include "core/json.hpp"
#include "emulator/portal_state.hpp"
#include "emulator/webhook_book.hpp"

namespace spacehook::emulator {

/// The built-in portal used when no seed file is given (docs/emulator.md, "Default seed").
const Json& DefaultSeed();

/// Reads a seed file: YAML (.yaml/.yml, through the shared config loader, `${VAR}` expanded) or JSON.
Result<Json> LoadSeedFile(const std::string& path);

/// Replaces the state's portal with the seed's users, groups, rooms, folders and files, API keys and
/// webhooks. Unknown keys and bad values are kConfig errors naming the JSON pointer. The state must be
/// cleared by the caller and its mutex held.
Status ApplySeed(const Json& seed, PortalState& state, WebhookBook& book);

}  // namespace spacehook::emulator
