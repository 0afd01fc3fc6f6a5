#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "docspace/api.hpp"

namespace spacehook::watch {

/// Which portal webhooks are this service's, and what the watchdog may do to them (`subscription` in the
/// config).
struct WatchdogOptions {
    std::string name = "spacehook";  ///< the name `spacehook subscribe` gives the webhook
    std::string url;     ///< when set, only the webhook with this URL, and a deleted one is recreated
    std::string secret;  ///< for a recreate: the secret the portal should sign with
    /// The triggers the rules need (0 = all); nullopt when no rule is enabled: then the watchdog leaves the
    /// portal's triggers alone and recreates nothing.
    std::optional<std::int64_t> triggers;
    bool keep_alive = true;  ///< false: look and report, change nothing
};

/// Whether the portal answered, and accepted the key.
enum class PortalReach { kReachable, kKeyRefused, kUnreachable };
std::string_view ToString(PortalReach reach);

/// The subscription's state as `spacehook status` and spacehook_subscription_up name it.
enum class SubscriptionState { kUnknown, kEnabled, kDisabled, kMissing };
std::string_view ToString(SubscriptionState state);

/// One of this service's webhooks after the check.
struct WatchedWebhook {
    docspace::WebhookConfig config;    ///< as the portal holds it now (after a repair)
    bool was_disabled = false;         ///< the portal had disabled it
    bool recreated = false;            ///< it was gone and the watchdog created it again
    std::vector<std::string> repairs;  ///< what the watchdog changed ("re-enabled", "triggers: a -> b")
    std::string problem;               ///< a repair the portal refused ("" = none)
};

/// What a check found. `webhooks` are those catch-up reads the log of.
struct SubscriptionCheck {
    PortalReach reach = PortalReach::kUnreachable;
    std::string portal_error;  ///< what the portal answered when it did not list the webhooks
    SubscriptionState state = SubscriptionState::kUnknown;
    std::vector<WatchedWebhook> webhooks;
    /// Why no webhook is there and none was created ("" when there is one).
    std::string missing_reason;
};

/// Lists the portal's webhooks, picks this service's (name, and URL when known), and unless told only to
/// look: re-enables one the portal disabled (the portal probes the URL with HEAD again, docs/docspace-api.md
/// §1.10, §1.13), adds the triggers the rules need and it lacks (never removes one; PUT is a full replace:
/// name, URI, ssl and target are sent as they are, the secret is kept), and recreates a deleted one when its
/// URL is known, as `spacehook subscribe` would. Several webhooks with the name (a secret rotation) are each
/// kept alive. Never deletes anything.
SubscriptionCheck CheckSubscription(docspace::Api& api, const WatchdogOptions& options);

}  // namespace spacehook::watch
