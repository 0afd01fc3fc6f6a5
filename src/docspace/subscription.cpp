#include "docspace/subscription.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "core/text.hpp"
#include "docspace/names.hpp"

namespace spacehook::docspace {

namespace {

bool Contains(const std::string& haystack, std::string_view needle) {
    return ToLower(haystack).find(ToLower(needle)) != std::string::npos;
}

std::string TriggerList(std::int64_t mask) {
    std::string text;
    for (const auto name : TriggerNames(mask)) text += (text.empty() ? "" : ", ") + std::string(name);
    if (mask == 0) text += " (all)";
    return text;
}

bool IsHttps(const std::string& url) {
    return url.rfind("https://", 0) == 0;
}

const char* OnOff(bool value) {
    return value ? "on" : "off";
}

}  // namespace

Status ValidateSubscription(const SubscriptionRequest& request) {
    if (request.url.rfind("https://", 0) != 0 && request.url.rfind("http://", 0) != 0) {
        return Fail(
            ErrorCode::kInvalidArgument,
            fmt::format("webhook URL '{}' must start with https:// (or http:// for a portal without the "
                        "SSRF guard)",
                        request.url));
    }
    if (request.url.size() <= std::string_view("https://").size()) {
        return Fail(ErrorCode::kInvalidArgument, "webhook URL has no host");
    }
    if (request.name.empty() || request.name.size() > 50) {
        return Fail(ErrorCode::kInvalidArgument,
                    "webhook name must be 1 to 50 characters (docs/docspace-api.md §1.13)");
    }
    const auto& secret = request.secret;
    if (secret.empty()) {
        return Fail(
            ErrorCode::kConfig,
            "no webhook secret: set DOCSPACE_WEBHOOK_SECRET or webhook.secret(s) in the config; DocSpace "
            "requires one and spacehook verifies every delivery with it");
    }
    const bool printable =
        std::all_of(secret.begin(), secret.end(), [](char c) { return c >= 0x21 && c <= 0x7E; });
    if (secret.size() < 8 || secret.size() > 30 || !printable) {
        return Fail(
            ErrorCode::kConfig,
            fmt::format("the webhook secret must be 8 to 30 printable ASCII characters without spaces "
                        "(DocSpace's rule, docs/docspace-api.md §1.11); this one has {} characters{}",
                        secret.size(), printable ? "" : " and characters outside that range"));
    }
    return Ok();
}

Error ExplainRefusal(Error error, const SubscriptionRequest& request) {
    const std::string& m = error.message;
    std::string hint;
    if (Contains(m, "blacklist")) {
        hint = fmt::format(
            "DocSpace 3.7 refuses webhook URLs on blacklisted addresses: private or loopback IPs, written "
            "as such or resolved from the host name (its SSRF guard, docs/docspace-api.md §1.10). Give a "
            "public URL (a reverse proxy or an HTTPS tunnel to this service), or have the portal admin "
            "override `webhooks:blacklist` with a dummy entry such as [\"192.0.2.1/32\"]; an empty list "
            "probably does not lift the block (docs/docspace-api.md §4.12). URL: {}",
            request.url);
    } else if (Contains(m, "trigger") && Contains(m, "not available")) {
        hint = fmt::format(
            "the API key's user may not subscribe to some of these triggers: {}. user.created/invited, "
            "group.* "
            "and room.created/copied need a DocSpace admin or room admin key (docs/docspace-api.md §1.5, "
            "§1.8); drop the "
            "rules "
            "that need them or use an admin's key",
            TriggerList(request.triggers));
    } else if (Contains(m, "HEAD") || (Contains(m, "not available") && Contains(m, "URL"))) {
        hint = fmt::format(
            "DocSpace probes the URL with a HEAD request and needs a 2xx answer within 10 s "
            "(docs/docspace-api.md §1.10). "
            "Make sure `spacehook serve` is running, reachable from the portal at {}, and answers HEAD on "
            "that "
            "path with 2xx (spacehook's webhook path does)",
            request.url);
    } else if (Contains(m, "same name")) {
        hint = "a webhook with this name and URL exists already; run subscribe again to update it";
    } else if (Contains(m, "password") || Contains(m, "secret")) {
        hint =
            "the portal's password policy applies to the secret (docs/docspace-api.md §1.11): 8 to 30 "
            "printable ASCII "
            "characters, plus digits, capitals or special characters if the portal's policy asks for them";
    } else if (Contains(m, "https") || Contains(m, "ssl")) {
        hint =
            "with ssl on (any https:// URL) DocSpace requires HTTPS and a certificate it trusts "
            "(docs/docspace-api.md "
            "§1.9)";
    } else if (error.code == ErrorCode::kForbidden) {
        hint =
            "the API key's user may not manage webhooks: guests never can, and the portal may limit "
            "developer "
            "tools to admins (docs/docspace-api.md §1.13)";
    } else if (error.code == ErrorCode::kUnauthorized) {
        hint =
            "DocSpace refused the API key: check DOCSPACE_API_KEY (OAuth tokens cannot manage webhooks, "
            "docs/docspace-api.md §3)";
    } else if (error.upstream_status == 500) {
        hint = fmt::format(
            "DocSpace answers 500 when its HEAD probe cannot connect or times out (docs/docspace-api.md "
            "§1.10): check "
            "that {} "
            "is reachable from the portal",
            request.url);
    }
    if (!hint.empty()) error.message += ". What to do: " + hint;
    return error;
}

std::vector<std::string> SubscriptionReport::Describe() const {
    std::vector<std::string> lines;
    const std::string would = dry_run ? "would be " : "";
    const std::string who =
        fmt::format("webhook '{}'{}", config.name, config.id != 0 ? fmt::format(" (id {})", config.id) : "");
    switch (action) {
        case SubscriptionAction::kCreated:
            lines.push_back(fmt::format("{} {}created -> {}", who, would, config.uri));
            break;
        case SubscriptionAction::kUpdated:
            lines.push_back(fmt::format("{} {}updated -> {}", who, would, config.uri));
            break;
        case SubscriptionAction::kEnabled:
            lines.push_back(fmt::format("{} {}re-enabled -> {}", who, would, config.uri));
            break;
        case SubscriptionAction::kUnchanged:
            lines.push_back(fmt::format("{} is up to date -> {}", who, config.uri));
            break;
        case SubscriptionAction::kLeftDisabled:
            lines.push_back(fmt::format("{} is DISABLED on the portal -> {}", who, config.uri));
            break;
    }
    for (const auto& change : changes) lines.push_back("  " + change);
    lines.push_back(fmt::format("  triggers: {}", TriggerList(config.triggers)));
    if (!config.target_id.empty())
        lines.push_back(fmt::format("  target: {} (only this entity's events)", config.target_id));
    lines.push_back(fmt::format("  ssl: {}, enabled: {}", OnOff(config.ssl), config.enabled ? "yes" : "no"));
    for (const auto& note : notes) lines.push_back("  note: " + note);
    return lines;
}

Result<SubscriptionReport> SyncSubscription(Api& api, const SubscriptionRequest& request) {
    if (auto valid = ValidateSubscription(request); !valid) return Fail(valid.error());
    const bool ssl = IsHttps(request.url);

    // Trigger availability depends on the key's role (docs/docspace-api.md §1.8). Asking first turns the
    // portal's bare "Trigger is not available" into a list of the offending triggers; older portals lack the
    // call.
    if (request.triggers != 0) {
        auto available = api.ListTriggers();
        if (!available && available.error().code == ErrorCode::kUnauthorized) return Fail(available.error());
        if (available && !available->empty()) {
            // Every entry is listed with `available` for the caller's role (docs/docspace-api.md §1.5); a
            // trigger missing from the list (a portal older than it) is refused as well.
            std::int64_t allowed = 0;
            for (const auto& info : *available) {
                if (info.available) allowed |= info.id;
            }
            std::vector<std::string> refused;
            for (const auto& [name, bit] : AllTriggers()) {
                if ((request.triggers & bit) != 0 && (allowed & bit) == 0) refused.emplace_back(name);
            }
            if (!refused.empty()) {
                std::string names;
                for (const auto& n : refused) names += (names.empty() ? "" : ", ") + n;
                return Fail(
                    ErrorCode::kForbidden,
                    fmt::format(
                        "the API key's user may not subscribe to: {}. The portal does not offer these "
                        "triggers to this key's role (user.*, group.*, room.created need a DocSpace "
                        "admin or room admin key, docs/docspace-api.md §1.5, §1.8) or, for the newest "
                        "triggers, "
                        "to its version; drop the rules that need them or use an admin's key",
                        names));
            }
        }
    }

    auto configs = api.ListWebhooks();
    if (!configs) return Fail(configs.error());
    const WebhookConfig* existing = nullptr;
    SubscriptionReport report;
    report.dry_run = request.dry_run;
    for (const auto& config : *configs) {
        if (config.name == request.name && config.uri == request.url) {
            if (existing == nullptr) existing = &config;
        } else if (config.uri == request.url) {
            report.notes.push_back(
                fmt::format("webhook '{}' (id {}) also points at this URL; spacehook de-duplicates "
                            "deliveries per webhook, so "
                            "events would be processed once per webhook — delete it if it is a leftover",
                            config.name, config.id));
        }
    }

    WebhookSpec spec;
    spec.name = request.name;
    spec.uri = request.url;
    spec.secret = request.secret;
    spec.ssl = ssl;
    spec.triggers = request.triggers;
    spec.target_id = request.target_id;

    if (existing == nullptr) {
        spec.enabled = true;
        report.action = SubscriptionAction::kCreated;
        if (request.dry_run) {
            report.config.name = spec.name;
            report.config.uri = spec.uri;
            report.config.ssl = spec.ssl;
            report.config.triggers = spec.triggers;
            report.config.target_id = spec.target_id;
            report.config.enabled = true;
            return report;
        }
        auto created = api.CreateWebhook(spec);
        if (!created) return Fail(ExplainRefusal(created.error(), request));
        report.config = *created;
        return report;
    }

    const WebhookConfig& current = *existing;
    report.config = current;
    if (current.triggers != request.triggers) {
        report.changes.push_back(
            fmt::format("triggers: {} -> {}", TriggerList(current.triggers), TriggerList(request.triggers)));
    }
    if (current.ssl != ssl)
        report.changes.push_back(fmt::format("ssl: {} -> {}", OnOff(current.ssl), OnOff(ssl)));
    if (current.target_id != request.target_id) {
        // A target narrows events to one entity id (docs/docspace-api.md §1.8).
        report.changes.push_back(fmt::format("target: {} -> {}",
                                             current.target_id.empty() ? "none" : current.target_id,
                                             request.target_id.empty() ? "none" : request.target_id));
    }
    if (request.force && report.changes.empty()) report.changes.push_back("secret: re-sent (--force)");

    const bool enable = !current.enabled && request.enable;
    if (!current.enabled) {
        std::string why = current.last_failure_content.empty()
                              ? std::string()
                              : fmt::format(" after failed deliveries (last failure {}: {})",
                                            current.last_failure_on, current.last_failure_content);
        if (enable) {
            report.notes.push_back("the portal had disabled this webhook" + why);
        } else {
            report.notes.push_back("the portal disabled this webhook" + why +
                                   "; no events are delivered. Run again with --enable once the URL answers");
        }
    }
    if (current.enabled && current.last_status >= 300) {
        report.notes.push_back(fmt::format("the last delivery got HTTP {}", current.last_status));
    }

    spec.enabled = current.enabled || enable;
    if (!report.changes.empty()) {
        if (enable) report.changes.push_back("enabled: no -> yes");
        report.action = SubscriptionAction::kUpdated;
        if (request.dry_run) {
            report.config.triggers = spec.triggers;
            report.config.ssl = spec.ssl;
            report.config.enabled = spec.enabled;
            report.config.target_id = spec.target_id;
            return report;
        }
        auto updated = api.UpdateWebhook(current.id, spec);
        if (!updated) return Fail(ExplainRefusal(updated.error(), request));
        report.config = *updated;
        return report;
    }
    if (enable) {
        report.action = SubscriptionAction::kEnabled;
        if (request.dry_run) {
            report.config.enabled = true;
            return report;
        }
        auto enabled = api.EnableWebhook(current.id, spec, true);
        if (!enabled) return Fail(ExplainRefusal(enabled.error(), request));
        report.config = *enabled;
        return report;
    }
    report.action = current.enabled ? SubscriptionAction::kUnchanged : SubscriptionAction::kLeftDisabled;
    return report;
}

}  // namespace spacehook::docspace
