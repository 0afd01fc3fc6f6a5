#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "docspace/api.hpp"

namespace spacehook::docspace {

/// What `spacehook subscribe` wants the portal to hold: one webhook, found by name + URL (DocSpace
/// refuses a second config with the same pair, docs/docspace-api.md §1.13).
struct SubscriptionRequest {
    std::string name = "spacehook";
    std::string url;            ///< the public URL of the webhook endpoint; https -> ssl on
    std::string secret;         ///< DOCSPACE_WEBHOOK_SECRET (the first, when several are configured)
    std::int64_t triggers = 0;  ///< bitmask the rules need; 0 = all (docs/docspace-api.md §1.5)
    /// The webhook's target: DocSpace then sends only events whose entity's own id is this
    /// (docs/docspace-api.md §1.8). Empty = none (every entity).
    std::string target_id;
    bool enable = false;   ///< re-enable the subscription if the portal disabled it
    bool dry_run = false;  ///< read only: say what would be done
    /// Update even when nothing visible differs: DocSpace never returns the secret (docs/docspace-api.md
    /// §1.11), so after a secret rotation only a forced update makes the portal sign with the new one.
    bool force = false;
};

enum class SubscriptionAction {
    kCreated,
    kUpdated,
    kEnabled,
    kUnchanged,
    kLeftDisabled,  ///< exists, up to date or not, but disabled and --enable was not given
};

struct SubscriptionReport {
    SubscriptionAction action = SubscriptionAction::kUnchanged;
    bool dry_run = false;
    WebhookConfig config;              ///< the portal's config after the change (before it, in a dry run)
    std::vector<std::string> changes;  ///< "triggers: file.created -> file.created, file.uploaded"
    std::vector<std::string> notes;    ///< things the operator should know (disabled, last failure)

    /// Lines for the CLI.
    [[nodiscard]] std::vector<std::string> Describe() const;
};

/// The checks DocSpace makes, done before asking it: http(s) URL, name of 1..50 characters, secret of
/// 8..30 printable ASCII without spaces (docs/docspace-api.md §1.11; the portal's password policy may ask
/// more).
Status ValidateSubscription(const SubscriptionRequest& request);

/// Creates or updates the webhook so that it matches `request`; idempotent. Updates always send the
/// whole config (PUT is a full replace, docs/docspace-api.md §1.13) including the secret. A disabled
/// subscription stays disabled (and is reported) unless `enable`. Errors carry the portal's message plus what
/// to do about it (ExplainRefusal).
Result<SubscriptionReport> SyncSubscription(Api& api, const SubscriptionRequest& request);

/// Adds the operator's next step to a refusal of create/update/enable: the HEAD probe (docs/docspace-api.md
/// §1.10), the SSRF blacklist (§1.9, §4.12), triggers not available to the key's role (§1.8), secret rules
/// (§1.11), permissions (§1.13).
Error ExplainRefusal(Error error, const SubscriptionRequest& request);

}  // namespace spacehook::docspace
