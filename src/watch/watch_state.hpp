#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/json.hpp"
#include "watch/alert_policy.hpp"
#include "watch/subscription_watchdog.hpp"

namespace spacehook::watch {

/// A notable thing the watcher saw or did, kept for `spacehook status` ("what happened").
struct WatchNote {
    TimePoint at;
    AlertKind kind;
    std::string text;
};

/// What the watcher remembers between rounds, across restarts and replicas (kept in the store under
/// "watch/state" by whichever replica holds the watch lease).
struct WatchMemory {
    Json alert_policy;  ///< AlertPolicy::ToJson
    /// The newest failure time of a dead letter already told about.
    std::optional<TimePoint> dead_letters_seen;
    /// Webhook ids this service has watched: one of them gone is "deleted", never seen is "missing".
    std::vector<std::int64_t> known_webhooks;
    std::optional<TimePoint> portal_unreachable_since;
    /// Since when no webhook of this service is on the portal, none having been seen before (a first start
    /// before `spacehook subscribe`).
    std::optional<TimePoint> never_subscribed_since;
    std::int64_t recovered_total = 0;  ///< deliveries catch-up ever journaled
    std::optional<TimePoint> last_recovery_at;
    int last_recovery_count = 0;
    std::optional<TimePoint> last_recovery_oldest;
    std::deque<WatchNote> notes;  ///< the most recent first, at most kMaxNotes

    static constexpr std::size_t kMaxNotes = 20;
    void Note(TimePoint at, AlertKind kind, std::string text);

    [[nodiscard]] Json ToJson() const;
    /// What ToJson wrote; anything else gives a fresh memory (and the watcher starts over: at worst one
    /// alert is told again).
    static WatchMemory FromJson(const Json& json);
};

/// One round's findings, kept in the store under "watch/report" for `spacehook status` and GET
/// /admin/api/status on every replica.
struct WatchReport {
    TimePoint checked_at;
    std::string checked_by;  ///< the replica ("host:pid")
    std::string version;
    std::string portal_url;
    PortalReach reach = PortalReach::kUnreachable;
    std::string portal_error;
    std::string subscription_name;
    std::string subscription_url;
    SubscriptionState state = SubscriptionState::kUnknown;
    std::string subscription_problem;
    std::vector<WatchedWebhook> webhooks;
    bool catch_up_enabled = true;
    int last_pass_recovered = 0;
    int last_pass_pages = 0;
    std::string catch_up_error;
    std::vector<AlertCondition> firing;
    std::optional<TimePoint> last_alert_at;
    bool alerts_configured = false;

    /// With `memory`'s history (recoveries, notes) beside the round's findings.
    [[nodiscard]] Json ToJson(const WatchMemory& memory) const;
};

/// The store names of the two.
inline constexpr char kWatchStateName[] = "watch/state";
inline constexpr char kWatchReportName[] = "watch/report";
/// The lease one replica holds while it watches.
inline constexpr char kWatchLeaseName[] = "watch";

}  // namespace spacehook::watch
