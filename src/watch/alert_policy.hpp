#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/json.hpp"

namespace spacehook::watch {

/// What an alert is about; one throttle per kind. Also the `kind` label of spacehook_alerts_total.
enum class AlertKind {
    kDeadLetters,   ///< runs or events went to the dead-letter list
    kBacklog,       ///< the oldest pending event or run waits longer than alerts.backlog_age
    kPortalKey,     ///< the portal refuses the API key (401/403)
    kPortalDown,    ///< the portal has been unreachable longer than alerts.portal_down
    kSubscription,  ///< the portal's webhook was found disabled or deleted, re-enabled or recreated
    kRecovered,     ///< a catch-up journaled deliveries the service had missed
};
inline constexpr std::array<AlertKind, 6> kAlertKinds = {AlertKind::kDeadLetters,  AlertKind::kBacklog,
                                                         AlertKind::kPortalKey,    AlertKind::kPortalDown,
                                                         AlertKind::kSubscription, AlertKind::kRecovered};
std::string_view ToString(AlertKind kind);
/// A person's words for it: "dead letters", "portal unreachable".
std::string_view Title(AlertKind kind);

/// Something that happened since the last round, told once (grouped with others of its kind).
struct AlertOccurrence {
    AlertKind kind;
    std::string text;  ///< "2 runs were dead-lettered: intake (2)"
    int count = 1;     ///< how many things the text stands for
};

/// A condition as a round saw it. A kind a round could not look at (the portal did not answer, so the
/// subscription's state is unknown) is left out, and keeps its state.
struct AlertCondition {
    AlertKind kind;
    bool firing = false;
    std::string text;  ///< what is wrong, while firing
};

/// One line of a message.
struct AlertLine {
    enum class What { kFiring, kResolved, kHappened };
    AlertKind kind;
    What what = What::kHappened;
    std::string text;
    int count = 1;  ///< kHappened: the things it stands for (texts past the first few are counted only)
    TimePoint since;
};

/// What one round sends: every line that was due and allowed, grouped into one mail or post.
struct AlertMessage {
    TimePoint at;
    std::vector<AlertLine> lines;

    /// "spacehook on portal.example.com: backlog, dead letters".
    [[nodiscard]] std::string Subject(std::string_view portal) const;
    /// Plain text, one paragraph per line: "FIRING backlog: ...", "RESOLVED ...", then what to run.
    [[nodiscard]] std::string Body() const;
};

/// Grouping, throttling and resolution of alerts; pure (the caller's clock), and kept in the store so a
/// restart neither repeats nor forgets what a person was told.
///
/// Each round feeds what happened and the conditions it could see. A kind is due when it has occurrences
/// waiting, when its condition starts firing, or when a condition a person was told about has cleared
/// ("resolved"). Everything due whose kind has not been sent for `throttle` goes out in one message; the
/// rest waits, and what happens meanwhile is added to it: 500 dead letters within the throttle are one line
/// of one message. A condition that clears and fires again while its resolution waits is never
/// resolved; one that fires for a day is told once.
class AlertPolicy {
public:
    explicit AlertPolicy(std::chrono::milliseconds throttle) : throttle_(throttle) {}

    void set_throttle(std::chrono::milliseconds throttle) { throttle_ = throttle; }
    std::optional<AlertMessage> Round(const std::vector<AlertOccurrence>& occurrences,
                                      const std::vector<AlertCondition>& conditions, TimePoint now);

    /// The conditions firing now (for `spacehook status`).
    [[nodiscard]] std::vector<AlertCondition> Firing() const;
    [[nodiscard]] std::optional<TimePoint> last_sent() const;

    [[nodiscard]] Json ToJson() const;
    /// Restores what ToJson wrote; anything else leaves the policy fresh.
    void Restore(const Json& json);

private:
    /// Occurrence texts kept per kind until they are sent; the rest are counted.
    static constexpr std::size_t kMaxTexts = 5;

    struct KindState {
        bool firing = false;
        bool announced = false;  ///< a person was told it fires, and not yet that it cleared
        std::string text;
        std::optional<TimePoint> since;
        std::optional<TimePoint> last_sent;
        int pending = 0;                                         ///< occurrences not sent yet
        std::vector<std::pair<std::string, int>> pending_texts;  ///< the first few, with their counts
        std::optional<TimePoint> pending_since;
    };
    KindState& State(AlertKind kind) { return states_[static_cast<std::size_t>(kind)]; }

    std::chrono::milliseconds throttle_;
    std::array<KindState, kAlertKinds.size()> states_{};
};

}  // namespace spacehook::watch
