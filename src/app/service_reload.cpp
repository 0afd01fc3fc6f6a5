// Service::Reload: what a SIGHUP changes in a running `serve` (see Service's class comment).

#include <fmt/format.h>

#include <map>
#include <set>

#include "app/service.hpp"
#include "core/log.hpp"

namespace spacehook::app {

namespace {

/// name -> fingerprint of every rule in the set.
std::map<std::string, std::string> Fingerprints(const rules::CompiledRules& set) {
    std::map<std::string, std::string> out;
    for (const auto& rule : set.rules())
        out[rule.name] = rule.fingerprint + (rule.enabled ? "" : "/disabled");
    return out;
}

}  // namespace

std::vector<std::string> RestartOnlyChanges(const config::ServiceConfig& running,
                                            const config::ServiceConfig& fresh) {
    std::vector<std::string> changed;
    auto note = [&changed](const char* name, bool differs) {
        if (differs) changed.emplace_back(name);
    };
    const auto& a = running.server;
    const auto& b = fresh.server;
    note("server.listen", a.host != b.host || a.port != b.port);
    note("server.webhook_path", a.webhook_path != b.webhook_path);
    note("server.body_limit", a.body_limit != b.body_limit);
    note("server.header_timeout", a.header_timeout != b.header_timeout);
    note("server.body_timeout", a.body_timeout != b.body_timeout);
    note("server.idle_timeout", a.idle_timeout != b.idle_timeout);
    note("server.max_connections", a.max_connections != b.max_connections);
    note("server.max_connections_per_peer", a.max_connections_per_peer != b.max_connections_per_peer);
    note("server.body_memory_limit", a.body_memory_limit != b.body_memory_limit);
    note("server.threads", a.threads != b.threads);
    note("server.tls", a.tls != b.tls);
    note("admin.listen", running.admin.host != fresh.admin.host || running.admin.port != fresh.admin.port);
    note("store", running.store_url != fresh.store_url);
    note("docspace", running.docspace != fresh.docspace);
    note("runner", running.runner != fresh.runner);
    note("mail", running.mail != fresh.mail);
    note("chat.channels", running.chat_channels != fresh.chat_channels);
    note("outbound", running.outbound != fresh.outbound);
    // Where alerts go: their outbox is built at start; thresholds and the subscription apply at once.
    note("alerts.mail", running.alerts.mail != fresh.alerts.mail);
    note("alerts.chat", running.alerts.chat != fresh.alerts.chat);
    return changed;
}

Result<ReloadReport> Service::Reload(config::ServiceConfig fresh) {
    if (!running_) return Fail(ErrorCode::kInternal, "the service is not running");
    // Checked against what runs: the portal and the SMTP server are restart-only settings.
    auto compiled = CompileRules(fresh, engine_ != nullptr, mailer_ != nullptr);
    if (!compiled) {
        std::string message = compiled.error().message;
        if (engine_ == nullptr && !fresh.docspace.api_host.empty())
            message += " (serve started without a portal; docspace.api_host takes effect at the next start)";
        if (mailer_ == nullptr && !fresh.mail.smtp_url.empty())
            message += " (mail.smtp_url takes effect at the next start)";
        return Fail(ErrorCode::kConfig, message);
    }
    log::Level level = log::Level::kInfo;
    if (!log::ParseLevel(fresh.log.level, level)) {
        return Fail(ErrorCode::kConfig, "log.level must be debug, info, warn or error");
    }
    if (fresh.webhook.secrets.empty() && !fresh.webhook.allow_unsigned) {
        return Fail(
            ErrorCode::kConfig,
            "the new configuration has no webhook secret (DOCSPACE_WEBHOOK_SECRET or webhook.secret(s)); "
            "every delivery would be refused");
    }

    ReloadReport report;
    report.restart_only = RestartOnlyChanges(config_, fresh);
    const auto before = Fingerprints(*rules_->Current());
    const auto after = Fingerprints(**compiled);
    for (const auto& [name, fingerprint] : after) {
        const auto it = before.find(name);
        if (it == before.end()) {
            report.added.push_back(name);
        } else if (it->second != fingerprint) {
            report.changed.push_back(name);
        }
    }
    for (const auto& [name, fingerprint] : before) {
        if (!after.count(name)) report.removed.push_back(name);
    }
    report.rules = static_cast<int>((*compiled)->rules().size());

    // Everything checked; from here nothing fails. New secrets are redacted before any line could
    // carry them.
    for (const auto& secret : fresh.SecretValues()) log::RegisterSecret(secret);
    rules_->Replace(std::move(*compiled));
    config_.documents = std::move(fresh.documents);
    config_.webhook = fresh.webhook;
    config_.server.require_https = fresh.server.require_https;
    config_.server.trusted_proxies = fresh.server.trusted_proxies;
    webhook_->SetOptions(WebhookOptionsFrom(config_));
    config_.admin.token = fresh.admin.token;
    admin_->SetToken(config_.admin.token);
    config_.log = fresh.log;
    config_.subscription = fresh.subscription;
    config_.alerts.throttle = fresh.alerts.throttle;
    config_.alerts.backlog_age = fresh.alerts.backlog_age;
    config_.alerts.portal_down = fresh.alerts.portal_down;
    if (watcher_) watcher_->SetOptions(WatcherOptionsFrom(config_));
    log::Configure(level, config_.log.format == "json" ? log::Format::kJson : log::Format::kText);
    if (engine_) engine_->Wake();  // pending events are dispatched with the new rules at once
    return report;
}

}  // namespace spacehook::app
