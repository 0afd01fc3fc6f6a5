#pragma once

#include "core/json.hpp"
#include "emulator/faults.hpp"
#include "emulator/portal_state.hpp"
#include "emulator/sender.hpp"
#include "emulator/webhook_book.hpp"

namespace spacehook::emulator {

/// The whole emulated portal for tests (docs/emulator.md "State dump"): portal roots, users (with API
/// keys), groups, the tree with members and access numbers, webhooks (never their secrets), the
/// webhook journal, every delivery attempt, file operations, counters and faults. Call with
/// PortalState::mu held.
Json StateDump(const PortalState& state, const WebhookBook& book, const WebhookSender& sender,
               const FaultSet& faults);

/// The delivery attempts alone (oldest first).
Json DeliveriesJson(const WebhookSender& sender);

/// All counters: the state's mutation counters plus the sender's delivery counters.
std::map<std::string, std::int64_t> AllCounters(const PortalState& state, const WebhookSender& sender);

}  // namespace spacehook::emulator
