#include "watch/alert_policy.hpp"

#include <fmt/format.h>

#include "core/enum_names.hpp"

namespace spacehook::watch {

namespace {

constexpr EnumNames<AlertKind, kAlertKinds.size()> kKindNames{{{
    {AlertKind::kDeadLetters, "dead_letters"},
    {AlertKind::kBacklog, "backlog"},
    {AlertKind::kPortalKey, "portal_key"},
    {AlertKind::kPortalDown, "portal_down"},
    {AlertKind::kSubscription, "subscription"},
    {AlertKind::kRecovered, "recovered"},
}}};
static_assert(kKindNames.Unique() && kKindNames.Dense());

constexpr EnumNames<AlertKind, kAlertKinds.size()> kKindTitles{{{
    {AlertKind::kDeadLetters, "dead letters"},
    {AlertKind::kBacklog, "backlog"},
    {AlertKind::kPortalKey, "API key refused"},
    {AlertKind::kPortalDown, "portal unreachable"},
    {AlertKind::kSubscription, "subscription"},
    {AlertKind::kRecovered, "recovered deliveries"},
}}};
static_assert(kKindTitles.Unique() && kKindTitles.Dense());

/// What an operator does next, per kind (the last paragraph of a message).
std::string_view NextStep(AlertKind kind) {
    switch (kind) {
        case AlertKind::kDeadLetters:
            return "spacehook dlq list; spacehook dlq retry --all [--rule R] once the cause is fixed";
        case AlertKind::kBacklog:
            return "spacehook status; spacehook runs list --state pending";
        case AlertKind::kPortalKey:
            return "check DOCSPACE_API_KEY (spacehook status shows what the portal answered)";
        case AlertKind::kPortalDown:
            return "check that the portal (docspace.api_host) is up and reachable from this host";
        case AlertKind::kSubscription:
            return "spacehook status; spacehook subscribe --url ... re-creates or repairs the webhook";
        case AlertKind::kRecovered:
            return "nothing: they run like live deliveries (spacehook events list shows them as recovered)";
    }
    return "";
}

Json OptionalTime(const std::optional<TimePoint>& t) {
    return t ? Json(ToUnixMillis(*t)) : Json(nullptr);
}
Json PendingJson(const std::vector<std::pair<std::string, int>>& texts) {
    Json out = Json::array();
    for (const auto& [text, count] : texts) out.push_back({{"text", text}, {"count", count}});
    return out;
}

std::optional<TimePoint> TimeAt(const Json& json, const char* key) {
    const auto it = json.find(key);
    if (it == json.end() || !it->is_number_integer()) return std::nullopt;
    return FromUnixMillis(it->get<std::int64_t>());
}

}  // namespace

std::string_view ToString(AlertKind kind) {
    return kKindNames.Name(kind);
}

std::string_view Title(AlertKind kind) {
    return kKindTitles.Name(kind);
}

std::string AlertMessage::Subject(std::string_view portal) const {
    std::string kinds;
    bool all_resolved = true;
    for (const auto& line : lines) {
        const std::string title(Title(line.kind));
        if (kinds.find(title) == std::string::npos) kinds += (kinds.empty() ? "" : ", ") + title;
        all_resolved = all_resolved && line.what == AlertLine::What::kResolved;
    }
    return fmt::format("spacehook{}: {}{}", portal.empty() ? "" : fmt::format(" on {}", portal),
                       all_resolved ? "resolved: " : "", kinds);
}

std::string AlertMessage::Body() const {
    std::string body;
    std::vector<AlertKind> kinds;
    for (const auto& line : lines) {
        std::string_view tag = "NOTE";
        if (line.what == AlertLine::What::kFiring) tag = "FIRING";
        if (line.what == AlertLine::What::kResolved) tag = "RESOLVED";
        body += fmt::format("{} {}: {}\n", tag, Title(line.kind), line.text);
        if (line.what != AlertLine::What::kResolved && line.since != TimePoint{}) {
            body += fmt::format("  since {}\n", FormatIso8601(line.since));
        }
        bool seen = false;
        for (const auto kind : kinds) seen = seen || kind == line.kind;
        if (!seen) kinds.push_back(line.kind);
    }
    body += "\nWhat to do:\n";
    for (const auto kind : kinds) {
        if (NextStep(kind).empty()) continue;
        body += fmt::format("- {}: {}\n", Title(kind), NextStep(kind));
    }
    body +=
        fmt::format("\nSent by spacehook at {}. Alerts of one kind come at most once per alerts.throttle.\n",
                    FormatIso8601(at));
    return body;
}

std::optional<AlertMessage> AlertPolicy::Round(const std::vector<AlertOccurrence>& occurrences,
                                               const std::vector<AlertCondition>& conditions, TimePoint now) {
    for (const auto& occurrence : occurrences) {
        KindState& state = State(occurrence.kind);
        state.pending += occurrence.count;
        if (state.pending_texts.size() < kMaxTexts)
            state.pending_texts.emplace_back(occurrence.text, occurrence.count);
        if (!state.pending_since) state.pending_since = now;
    }
    for (const auto& condition : conditions) {
        KindState& state = State(condition.kind);
        if (condition.firing && !state.firing) state.since = now;
        state.firing = condition.firing;
        if (condition.firing) state.text = condition.text;
    }

    AlertMessage message;
    message.at = now;
    for (const auto kind : kAlertKinds) {
        KindState& state = State(kind);
        const bool happened = state.pending > 0;
        const bool starts = state.firing && !state.announced;
        const bool resolves = !state.firing && state.announced;
        if (!happened && !starts && !resolves) continue;
        if (state.last_sent && now - *state.last_sent < throttle_) continue;  // waits; more may join
        if (happened) {
            // The first texts as they came; a count for the rest.
            int told = 0;
            for (const auto& [text, count] : state.pending_texts) {
                message.lines.push_back(
                    {kind, AlertLine::What::kHappened, text, count, *state.pending_since});
                told += count;
            }
            if (state.pending > told) {
                message.lines.push_back({kind, AlertLine::What::kHappened,
                                         fmt::format("and {} more of the kind", state.pending - told),
                                         state.pending - told, *state.pending_since});
            }
        } else if (starts) {
            // A condition with occurrences in the same message (dead letters) is told by them.
            message.lines.push_back(
                {kind, AlertLine::What::kFiring, state.text, 1, state.since.value_or(now)});
        }
        if (resolves) {
            message.lines.push_back(
                {kind, AlertLine::What::kResolved, fmt::format("cleared: {}", state.text), 1, now});
        }
        state.announced = state.firing;
        state.pending = 0;
        state.pending_texts.clear();
        state.pending_since.reset();
        state.last_sent = now;
    }
    if (message.lines.empty()) return std::nullopt;
    return message;
}

std::vector<AlertCondition> AlertPolicy::Firing() const {
    std::vector<AlertCondition> out;
    for (const auto kind : kAlertKinds) {
        const KindState& state = states_[static_cast<std::size_t>(kind)];
        if (state.firing) out.push_back({kind, true, state.text});
    }
    return out;
}

std::optional<TimePoint> AlertPolicy::last_sent() const {
    std::optional<TimePoint> latest;
    for (const auto& state : states_) {
        if (state.last_sent && (!latest || *state.last_sent > *latest)) latest = state.last_sent;
    }
    return latest;
}

Json AlertPolicy::ToJson() const {
    Json kinds = Json::object();
    for (const auto kind : kAlertKinds) {
        const KindState& s = states_[static_cast<std::size_t>(kind)];
        kinds[std::string(ToString(kind))] = {{"firing", s.firing},
                                              {"announced", s.announced},
                                              {"text", s.text},
                                              {"since", OptionalTime(s.since)},
                                              {"last_sent", OptionalTime(s.last_sent)},
                                              {"pending", s.pending},
                                              {"pending_texts", PendingJson(s.pending_texts)},
                                              {"pending_since", OptionalTime(s.pending_since)}};
    }
    return {{"kinds", std::move(kinds)}};
}

void AlertPolicy::Restore(const Json& json) try {
    const auto kinds = json.is_object() ? json.find("kinds") : json.end();
    if (!json.is_object() || kinds == json.end() || !kinds->is_object()) return;
    for (const auto kind : kAlertKinds) {
        const auto it = kinds->find(std::string(ToString(kind)));
        if (it == kinds->end() || !it->is_object()) continue;
        KindState s;
        s.firing = it->value("firing", false);
        s.announced = it->value("announced", false);
        s.text = it->value("text", std::string());
        s.since = TimeAt(*it, "since");
        s.last_sent = TimeAt(*it, "last_sent");
        s.pending = std::max(0, it->value("pending", 0));
        if (const auto texts = it->find("pending_texts"); texts != it->end() && texts->is_array()) {
            for (const auto& entry : *texts) {
                if (s.pending_texts.size() < kMaxTexts)
                    s.pending_texts.emplace_back(entry.at("text").get<std::string>(),
                                                 entry.at("count").get<int>());
            }
        }
        s.pending_since = TimeAt(*it, "pending_since");
        if (s.pending > 0 && !s.pending_since) s.pending_since = s.last_sent.value_or(TimePoint{});
        State(kind) = std::move(s);
    }
} catch (const Json::exception&) {
    // Not what ToJson wrote (a value of another type): start afresh rather than act on half of it.
    states_ = {};
}

}  // namespace spacehook::watch
