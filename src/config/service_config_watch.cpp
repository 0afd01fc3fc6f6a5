// The `subscription` and `alerts` sections: which portal webhook `serve` watches and catches up from, and
// who hears about trouble (docs/configuration.md).
#include <fmt/format.h>

#include "config/settings_reader.hpp"
#include "core/text.hpp"

namespace spacehook::config {

void ApplySubscription(SettingsReader& r, ServiceConfig::Subscription& subscription) {
    if (!r.Section("/subscription", {"name", "url", "catch_up", "keep_alive", "check_interval",
                                     "catch_up_margin", "catch_up_pages"})) {
        return;
    }
    if (auto name = r.Text("/subscription/name")) {
        // DocSpace's own bound (docs/docspace-api.md §1.13).
        if (name->empty() || name->size() > 50) {
            r.Error("/subscription/name", "subscription.name must be 1 to 50 characters");
        } else {
            subscription.name = *name;
        }
    }
    if (auto url = r.Text("/subscription/url")) {
        if (!url->empty() && !IsHttpUrl(*url)) {
            r.Error(
                "/subscription/url",
                fmt::format("subscription.url must be the http(s) URL the portal posts to, got '{}'", *url));
        } else {
            subscription.url = *url;
        }
    }
    if (auto v = r.Bool("/subscription/catch_up")) subscription.catch_up = *v;
    if (auto v = r.Bool("/subscription/keep_alive")) subscription.keep_alive = *v;
    if (auto v = r.Duration("/subscription/check_interval")) subscription.check_interval = *v;
    if (auto v = r.Duration("/subscription/catch_up_margin")) subscription.catch_up_margin = *v;
    // Two pages at least: a sweep resumed after rows arrived reads its first page twice.
    if (auto v = r.Integer("/subscription/catch_up_pages", 2, 1000))
        subscription.catch_up_pages = static_cast<int>(*v);
}

void ApplyAlerts(SettingsReader& r, ServiceConfig::Alerts& alerts) {
    if (!r.Section("/alerts", {"mail", "chat", "throttle", "backlog_age", "portal_down"})) return;
    if (auto v = r.TextList("/alerts/mail", true)) alerts.mail = *v;
    if (auto v = r.TextList("/alerts/chat", true)) alerts.chat = *v;
    if (auto v = r.Duration("/alerts/throttle", true)) alerts.throttle = *v;
    if (auto v = r.Duration("/alerts/backlog_age")) alerts.backlog_age = *v;
    if (auto v = r.Duration("/alerts/portal_down")) alerts.portal_down = *v;
}

void CheckAlerts(const ServiceConfig& config, Diagnostics& diagnostics) {
    for (const auto& name : config.alerts.chat) {
        if (config.chat_channels.count(name) == 0) {
            diagnostics.Add(Error{ErrorCode::kConfig,
                                  fmt::format("alerts.chat names '{}', which is not in chat.channels", name),
                                  0, std::nullopt});
        }
    }
}

}  // namespace spacehook::config
