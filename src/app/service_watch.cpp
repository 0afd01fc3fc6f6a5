// What `serve` runs beside the engine so that no event is missed and a person hears about trouble: the
// watcher (src/watch) and the outbox its alerts go through.

#include <fmt/format.h>

#include "app/build_info.hpp"
#include "app/service.hpp"
#include "core/log.hpp"
#include "notify/mail_message.hpp"
#include "runner/engine.hpp"
#include "steps/catalog.hpp"

namespace spacehook::app {

namespace {

constexpr std::string_view kComponent = "serve";

}  // namespace

watch::WatcherOptions WatcherOptionsFrom(const config::ServiceConfig& config) {
    watch::WatcherOptions options;
    const auto& s = config.subscription;
    options.portal = config.docspace.api_host;
    options.subscription.name = s.name;
    options.subscription.url = s.url;
    // A recreated webhook signs with the first secret, as `spacehook subscribe` has it sign.
    if (!config.webhook.secrets.empty()) options.subscription.secret = config.webhook.secrets.front();
    options.subscription.keep_alive = s.keep_alive;
    options.catch_up = s.catch_up;
    options.catch_up_limits.margin = s.catch_up_margin;
    options.catch_up_limits.pages_per_pass = s.catch_up_pages;
    options.interval = s.check_interval;
    options.alert_throttle = config.alerts.throttle;
    options.backlog_age = config.alerts.backlog_age;
    options.portal_down = config.alerts.portal_down;
    options.version = fmt::format("{} ({})", BuildVersion(), BuildCommit());
    return options;
}

Status Service::CheckAlerts() const {
    const auto& alerts = config_.alerts;
    if (!alerts.mail.empty() && config_.mail.smtp_url.empty()) {
        return Fail(
            ErrorCode::kConfig,
            "alerts.mail is set, but no SMTP server is: set mail.smtp_url / SMTP_URL (and MAIL_FROM)");
    }
    for (const auto& recipient : alerts.mail) {
        notify::MailMessage probe;
        probe.from = "spacehook@localhost";
        probe.to = {recipient};
        if (auto composed = notify::ComposeMail(probe, clock_.Now()); !composed) {
            return Fail(ErrorCode::kConfig, fmt::format("alerts.mail: {}", composed.error().message));
        }
    }
    if ((!alerts.mail.empty() || !alerts.chat.empty()) && config_.docspace.api_host.empty()) {
        log::Warn(kComponent, "alerts are configured but no portal is: without one nothing is watched");
    }
    return Ok();
}

void Service::StartWatcher() {
    const auto& subscription = config_.subscription;
    const bool alerting = !config_.alerts.mail.empty() || !config_.alerts.chat.empty();
    if (alerting) {
        std::vector<std::unique_ptr<watch::AlertChannel>> channels;
        if (!config_.alerts.mail.empty()) {
            channels.push_back(
                watch::MailAlertChannel(*mailer_, config_.alerts.mail, config_.docspace.api_host));
        }
        for (const auto& name : config_.alerts.chat) {
            const auto& channel = config_.chat_channels.at(name);  // checked when the config loaded
            channels.push_back(watch::ChatAlertChannel(
                *chat_, name, steps::ChatKindOf(channel.kind).value_or(notify::ChatKind::kGeneric),
                channel.url, config_.docspace.api_host));
        }
        alerts_ = std::make_unique<watch::AlertOutbox>(std::move(channels));
    }
    watch::WatcherDeps deps;
    deps.api = docspace_.get();
    deps.store = store_.get();
    deps.metrics = &metrics_;
    deps.clock = &clock_;
    deps.alerts = alerts_.get();
    deps.trigger_mask = [rules = rules_.get()]() -> std::optional<std::int64_t> {
        const auto current = rules->Current();
        if (!current->HasEnabledRules()) return std::nullopt;
        return current->TriggerMask();
    };
    deps.owner = runner::DefaultOwnerPrefix();  // host:pid, as the runner's leases name this process
    watcher_ = std::make_unique<watch::Watcher>(std::move(deps), WatcherOptionsFrom(config_));
    watcher_->Start();
    log::Info(kComponent, "watching the portal's webhook",
              {{"name", subscription.name},
               {"url", subscription.url.empty() ? "(any)" : subscription.url},
               {"catch_up", subscription.catch_up},
               {"keep_alive", subscription.keep_alive},
               {"every_ms", static_cast<std::int64_t>(subscription.check_interval.count())},
               {"alerts", alerting ? fmt::format("{} mail recipients, {} chat channels",
                                                 config_.alerts.mail.size(), config_.alerts.chat.size())
                                   : std::string("none (set alerts.mail or alerts.chat)")}});
}

}  // namespace spacehook::app
