#include "watch/watch_status.hpp"

#include <fmt/format.h>

#include "watch/watch_state.hpp"

namespace spacehook::watch {

namespace {

Json AgeSeconds(const std::optional<TimePoint>& since, TimePoint now) {
    if (!since) return nullptr;
    return std::chrono::duration_cast<std::chrono::seconds>(now - *since).count();
}

std::string TextOr(const Json& value, std::string_view fallback) {
    return value.is_string() ? value.get<std::string>() : std::string(fallback);
}

/// A member of a report that another version of spacehook may have written without it: null then.
const Json& At(const Json& object, const char* key) {
    static const Json kNull;
    if (!object.is_object()) return kNull;
    const auto it = object.find(key);
    return it == object.end() ? kNull : *it;
}

bool Flag(const Json& object, const char* key, bool fallback) {
    const Json& value = At(object, key);
    return value.is_boolean() ? value.get<bool>() : fallback;
}

}  // namespace

Result<Json> StatusJson(store::Admin& admin, store::SharedState& state, TimePoint now,
                        std::string_view version) {
    auto stats = admin.Stats();
    if (!stats) return Fail(stats.error());
    auto stored = state.GetValue(kWatchReportName);
    if (!stored) return Fail(stored.error());
    Json report = nullptr;
    if (*stored) {
        report = Json::parse(**stored, nullptr, /*allow_exceptions=*/false);
        if (report.is_discarded() || !report.is_object()) report = nullptr;
    }

    Json problems = Json::array();
    if (report.is_null()) {
        problems.push_back(
            "no watch report yet: serve has not checked the portal (is it running, with a portal "
            "configured?)");
    } else {
        const Json& portal = At(report, "portal");
        const std::string reach = TextOr(At(portal, "state"), "unknown");
        if (reach == "unreachable") {
            problems.push_back(
                fmt::format("the portal did not answer: {}", TextOr(At(portal, "error"), "no answer")));
        } else if (reach == "key_refused") {
            problems.push_back(
                fmt::format("the portal refuses the API key: {}", TextOr(At(portal, "error"), "")));
        }
        const Json& subscription = At(report, "subscription");
        const std::string sub_state = TextOr(At(subscription, "state"), "unknown");
        if (sub_state == "disabled" || sub_state == "missing") {
            problems.push_back(fmt::format("the subscription is {}: {}", sub_state,
                                           TextOr(At(subscription, "problem"), "")));
        }
        if (const Json& error = At(At(report, "catch_up"), "error"); error.is_string()) {
            problems.push_back(fmt::format("the last catch-up stopped early: {}", error.get<std::string>()));
        }
        const Json& firing = At(At(report, "alerts"), "firing");
        for (const auto& alert : firing.is_array() ? firing : Json::array()) {
            const std::string kind = TextOr(At(alert, "kind"), "");
            // Dead letters are told from the store below, as they are now.
            if (kind == "dead_letters" || kind == "portal_down" || kind == "portal_key" ||
                kind == "subscription")
                continue;
            problems.push_back(TextOr(At(alert, "text"), kind));
        }
        if (const auto checked = ParseIso8601(TextOr(At(report, "checked_at"), ""))) {
            report["age_seconds"] = AgeSeconds(*checked, now);
        }
    }
    if (stats->dead_letters > 0) {
        problems.push_back(fmt::format("{} dead letters wait (spacehook dlq list)", stats->dead_letters));
    }
    return Json{{"version", std::string(version)},
                {"checked_at", FormatIso8601(now)},
                {"healthy", problems.empty()},
                {"problems", std::move(problems)},
                {"backlog",
                 {{"events_pending", stats->events_pending},
                  {"oldest_event_age_seconds", AgeSeconds(stats->oldest_pending_event, now)},
                  {"runs_pending", stats->runs_pending},
                  {"runs_running", stats->runs_running},
                  {"oldest_run_age_seconds", AgeSeconds(stats->oldest_live_run, now)}}},
                {"dead_letters", stats->dead_letters},
                {"watch", std::move(report)}};
}

std::string StatusText(const Json& status) {
    std::string out;
    auto line = [&out](std::string text) { out += std::move(text) + "\n"; };
    line(Flag(status, "healthy", false) ? "spacehook: healthy" : "spacehook: NEEDS ATTENTION");
    for (const auto& problem : At(status, "problems")) line("  ! " + TextOr(problem, ""));
    const Json& watch = At(status, "watch");
    if (watch.is_object()) {
        line(fmt::format("checked {} by {} (spacehook {}), {}s ago", TextOr(At(watch, "checked_at"), "?"),
                         TextOr(At(watch, "checked_by"), "?"), TextOr(At(watch, "version"), "?"),
                         At(watch, "age_seconds").dump()));
        const Json& portal = At(watch, "portal");
        line(
            fmt::format("portal   {}: {}{}", TextOr(At(portal, "url"), "?"), TextOr(At(portal, "state"), "?"),
                        At(portal, "error").is_string() ? " (" + TextOr(At(portal, "error"), "") + ")" : ""));
        const Json& subscription = At(watch, "subscription");
        line(fmt::format("webhook  '{}': {}", TextOr(At(subscription, "name"), "?"),
                         TextOr(At(subscription, "state"), "?")));
        for (const auto& hook : At(subscription, "webhooks")) {
            line(fmt::format("  id {} -> {} ({})", At(hook, "id").dump(), TextOr(At(hook, "url"), "?"),
                             Flag(hook, "enabled", false) ? "enabled" : "disabled"));
            if (At(hook, "last_failure_on").is_string()) {
                line(fmt::format("  last failure {}: {}", TextOr(At(hook, "last_failure_on"), ""),
                                 TextOr(At(hook, "last_failure_content"), "")));
            }
            for (const auto& repair : At(hook, "repairs")) line("  this round: " + TextOr(repair, ""));
        }
        const Json& catch_up = At(watch, "catch_up");
        if (Flag(catch_up, "enabled", true)) {
            line(fmt::format("catch-up last pass {}: {} recovered; {} recovered in all{}",
                             TextOr(At(catch_up, "last_pass_at"), "?"),
                             At(catch_up, "last_pass_recovered").dump(),
                             At(catch_up, "recovered_total").dump(),
                             At(catch_up, "last_recovery_at").is_string()
                                 ? fmt::format(", the last time {} ({} deliveries)",
                                               TextOr(At(catch_up, "last_recovery_at"), ""),
                                               At(catch_up, "last_recovery_count").dump())
                                 : std::string()));
        } else {
            line("catch-up off (subscription.catch_up: false)");
        }
    }
    const Json& backlog = At(status, "backlog");
    line(fmt::format("backlog  {} events pending{}, {} runs pending, {} running{}",
                     At(backlog, "events_pending").dump(),
                     At(backlog, "oldest_event_age_seconds").is_null()
                         ? ""
                         : fmt::format(" (oldest {}s)", At(backlog, "oldest_event_age_seconds").dump()),
                     At(backlog, "runs_pending").dump(), At(backlog, "runs_running").dump(),
                     At(backlog, "oldest_run_age_seconds").is_null()
                         ? ""
                         : fmt::format(" (oldest {}s)", At(backlog, "oldest_run_age_seconds").dump())));
    line(fmt::format("dead letters {}", At(status, "dead_letters").dump()));
    if (watch.is_object() && At(watch, "recent").is_array() && !At(watch, "recent").empty()) {
        line("recently:");
        for (const auto& note : At(watch, "recent")) {
            line(fmt::format("  {} {}: {}", TextOr(At(note, "at"), "?"), TextOr(At(note, "kind"), "?"),
                             TextOr(At(note, "text"), "")));
        }
    }
    line(fmt::format("this spacehook {}", TextOr(At(status, "version"), "?")));
    return out;
}

}  // namespace spacehook::watch
