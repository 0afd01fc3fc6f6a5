#include "watch/watch_state.hpp"

#include "docspace/names.hpp"

namespace spacehook::watch {

namespace {

Json Millis(const std::optional<TimePoint>& t) {
    return t ? Json(ToUnixMillis(*t)) : Json(nullptr);
}
std::optional<TimePoint> MillisAt(const Json& json, const char* key) {
    const auto it = json.find(key);
    if (it == json.end() || !it->is_number_integer()) return std::nullopt;
    return FromUnixMillis(it->get<std::int64_t>());
}
Json Iso(const std::optional<TimePoint>& t) {
    return t ? Json(FormatIso8601(*t)) : Json(nullptr);
}
Json Text(const std::string& text) {
    return text.empty() ? Json(nullptr) : Json(text);
}

std::optional<AlertKind> KindNamed(const std::string& name) {
    for (const auto kind : kAlertKinds) {
        if (ToString(kind) == name) return kind;
    }
    return std::nullopt;
}

Json WebhookJson(const WatchedWebhook& hook) {
    Json triggers = Json::array();
    for (const auto name : docspace::TriggerNames(hook.config.triggers))
        triggers.push_back(std::string(name));
    return {{"id", hook.config.id},
            {"name", hook.config.name},
            {"url", hook.config.uri},
            {"enabled", hook.config.enabled},
            {"triggers", std::move(triggers)},
            {"last_success_on", Text(hook.config.last_success_on)},
            {"last_failure_on", Text(hook.config.last_failure_on)},
            {"last_failure_content", Text(hook.config.last_failure_content)},
            {"repairs", hook.repairs},
            {"problem", Text(hook.problem)}};
}

}  // namespace

void WatchMemory::Note(TimePoint at, AlertKind kind, std::string text) {
    notes.push_front({at, kind, std::move(text)});
    while (notes.size() > kMaxNotes) notes.pop_back();
}

Json WatchMemory::ToJson() const {
    Json history = Json::array();
    for (const auto& note : notes) {
        history.push_back(
            {{"at", ToUnixMillis(note.at)}, {"kind", std::string(ToString(note.kind))}, {"text", note.text}});
    }
    return {{"alert_policy", alert_policy},
            {"dead_letters_seen", Millis(dead_letters_seen)},
            {"known_webhooks", known_webhooks},
            {"portal_unreachable_since", Millis(portal_unreachable_since)},
            {"never_subscribed_since", Millis(never_subscribed_since)},
            {"recovered_total", recovered_total},
            {"last_recovery_at", Millis(last_recovery_at)},
            {"last_recovery_count", last_recovery_count},
            {"last_recovery_oldest", Millis(last_recovery_oldest)},
            {"notes", std::move(history)}};
}

WatchMemory WatchMemory::FromJson(const Json& json) try {
    WatchMemory memory;
    if (!json.is_object()) return memory;
    memory.alert_policy = json.value("alert_policy", Json());
    memory.dead_letters_seen = MillisAt(json, "dead_letters_seen");
    memory.known_webhooks = json.value("known_webhooks", std::vector<std::int64_t>{});
    memory.portal_unreachable_since = MillisAt(json, "portal_unreachable_since");
    memory.never_subscribed_since = MillisAt(json, "never_subscribed_since");
    memory.recovered_total = json.value("recovered_total", std::int64_t{0});
    memory.last_recovery_at = MillisAt(json, "last_recovery_at");
    memory.last_recovery_count = json.value("last_recovery_count", 0);
    memory.last_recovery_oldest = MillisAt(json, "last_recovery_oldest");
    if (const auto notes = json.find("notes"); notes != json.end() && notes->is_array()) {
        for (const auto& note : *notes) {
            const auto kind = KindNamed(note.at("kind").get<std::string>());
            if (!kind || memory.notes.size() >= kMaxNotes) continue;
            memory.notes.push_back({FromUnixMillis(note.at("at").get<std::int64_t>()), *kind,
                                    note.at("text").get<std::string>()});
        }
    }
    return memory;
} catch (const Json::exception&) {
    return WatchMemory{};
}

Json WatchReport::ToJson(const WatchMemory& memory) const {
    Json hooks = Json::array();
    for (const auto& hook : webhooks) hooks.push_back(WebhookJson(hook));
    Json alerts_firing = Json::array();
    for (const auto& condition : firing)
        alerts_firing.push_back({{"kind", std::string(ToString(condition.kind))}, {"text", condition.text}});
    Json notes = Json::array();
    for (const auto& note : memory.notes) {
        notes.push_back({{"at", FormatIso8601(note.at)},
                         {"kind", std::string(ToString(note.kind))},
                         {"text", note.text}});
    }
    return {
        {"checked_at", FormatIso8601(checked_at)},
        {"checked_by", checked_by},
        {"version", version},
        {"portal",
         {{"url", portal_url},
          {"state", std::string(ToString(reach))},
          {"reachable", reach != PortalReach::kUnreachable},
          {"key_accepted", reach == PortalReach::kReachable    ? Json(true)
                           : reach == PortalReach::kKeyRefused ? Json(false)
                                                               : Json(nullptr)},
          {"error", Text(portal_error)},
          {"unreachable_since", Iso(memory.portal_unreachable_since)}}},
        {"subscription",
         {{"name", subscription_name},
          {"url", Text(subscription_url)},
          {"state", std::string(ToString(state))},
          {"problem", Text(subscription_problem)},
          {"webhooks", std::move(hooks)}}},
        {"catch_up",
         {{"enabled", catch_up_enabled},
          {"last_pass_at", catch_up_enabled ? Json(FormatIso8601(checked_at)) : Json(nullptr)},
          {"last_pass_recovered", last_pass_recovered},
          {"last_pass_pages", last_pass_pages},
          {"error", Text(catch_up_error)},
          {"recovered_total", memory.recovered_total},
          {"last_recovery_at", Iso(memory.last_recovery_at)},
          {"last_recovery_count", memory.last_recovery_count},
          {"last_recovery_oldest", Iso(memory.last_recovery_oldest)}}},
        {"alerts",
         {{"configured", alerts_configured},
          {"firing", std::move(alerts_firing)},
          {"last_sent_at", Iso(last_alert_at)}}},
        {"recent", std::move(notes)},
    };
}

}  // namespace spacehook::watch
