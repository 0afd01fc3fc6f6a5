#pragma once

#include <chrono>
#include <map>
#include <string>

#include "core/error.hpp"
#include "core/json.hpp"
#include "emulator/envelope.hpp"
#include "emulator/faults.hpp"
#include "emulator/incoming.hpp"
#include "emulator/portal_state.hpp"

namespace spacehook::emulator {

/// What the control API drives; the Emulator implements it.
class ControlTarget {
public:
    virtual ~ControlTarget() = default;
    virtual Json StateJson() = 0;
    virtual Json DeliveriesList() = 0;
    virtual std::map<std::string, std::int64_t> CounterMap() = 0;
    virtual Status ResetToSeed() = 0;
    virtual Status ReplaceSeed(const Json& seed) = 0;
    virtual bool Idle(std::chrono::milliseconds timeout) = 0;
    virtual FaultSet& Faults() = 0;
    virtual PortalState& State() = 0;
    /// The sender gives up on the next `count` deliveries (see WebhookSender::GiveUp).
    virtual void GiveUpDeliveries(int count, int status, std::int64_t webhook_id) = 0;
    /// Disables a webhook the way the sender does after three days without success; false when unknown.
    virtual bool DisableWebhook(std::int64_t id) = 0;
};

/// /__emulator/* (docs/emulator.md "Control API"): state, counters, deliveries, reset/seed, faults,
/// latency, acting as a person (upload, edit, api-keys, groups), the sender giving up, a webhook disabled
/// as the portal disables it, and wait-idle. Plain JSON answers, no
/// DocSpace envelope. `token` non-empty requires `X-Emulator-Token`. Never faulted.
Reply HandleControl(ControlTarget& target, const IncomingRequest& request, const std::string& token);

}  // namespace spacehook::emulator
