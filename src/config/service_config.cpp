#include "config/service_config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "config/diagnostics.hpp"
#include "config/settings_reader.hpp"
#include "config/variables.hpp"
#include "core/outbound_guard.hpp"
#include "core/text.hpp"

namespace spacehook::config {

std::vector<std::string> ServiceConfig::SecretValues() const {
    std::vector<std::string> out;
    auto add = [&out](const std::string& value) {
        if (!value.empty()) out.push_back(value);
    };
    add(docspace.api_key);
    for (const auto& secret : webhook.secrets) add(secret);
    add(mail.password);
    add(admin.token);
    for (const auto& [name, channel] : chat_channels) add(channel.url);
    for (const auto& doc : documents) {
        for (const auto& value : doc.secret_values) add(value);
    }
    return out;
}

namespace {

using std::chrono::milliseconds;

// Where settings that are checked after merging were last written, for the message.
struct MergeState {
    std::set<std::string> set_pointers;
    std::string tls_location;
};

const std::vector<std::string_view> kTopLevelKeys = {
    "server", "webhook", "docspace",     "store",  "runner",   "mail", "log",
    "admin",  "chat",    "subscription", "alerts", "outbound", "rules"};

void ApplyServer(SettingsReader& r, ServiceConfig::Server& server, MergeState& state) {
    if (!r.Section("/server", {"listen", "webhook_path", "body_limit", "body_memory_limit", "header_timeout",
                               "body_timeout", "idle_timeout", "max_connections", "max_connections_per_peer",
                               "threads", "tls", "require_https", "trusted_proxies"})) {
        return;
    }
    if (auto listen = r.Text("/server/listen")) {
        auto parsed = ParseListen(*listen);
        if (parsed) {
            server.host = parsed->first;
            server.port = parsed->second;
        } else {
            r.Error("/server/listen", parsed.error().message);
        }
    }
    if (auto path = r.Text("/server/webhook_path")) {
        if (path->empty() || path->front() != '/' || HasWhitespace(*path)) {
            r.Error("/server/webhook_path", "server.webhook_path must start with '/' and contain no spaces");
        } else {
            server.webhook_path = *path;
        }
    }
    if (auto v = r.Size("/server/body_limit")) server.body_limit = *v;
    if (auto v = r.Duration("/server/header_timeout")) server.header_timeout = *v;
    if (auto v = r.Duration("/server/body_timeout")) server.body_timeout = *v;
    if (auto v = r.Duration("/server/idle_timeout")) server.idle_timeout = *v;
    if (auto v = r.Integer("/server/max_connections", 1, 1'000'000))
        server.max_connections = static_cast<std::size_t>(*v);
    if (auto v = r.Integer("/server/max_connections_per_peer", 0, 1'000'000))
        server.max_connections_per_peer = static_cast<std::size_t>(*v);
    if (auto v = r.Size("/server/body_memory_limit")) server.body_memory_limit = *v;
    if (auto v = r.Integer("/server/threads", 1, 256)) server.threads = static_cast<int>(*v);
    if (auto v = r.Bool("/server/require_https")) server.require_https = *v;
    if (auto v = r.TextList("/server/trusted_proxies", true)) server.trusted_proxies = *v;
    if (r.Section("/server/tls", {"certificate", "private_key"})) {
        if (!server.tls) server.tls.emplace();
        if (auto v = r.Text("/server/tls/certificate")) server.tls->certificate_file = *v;
        if (auto v = r.Text("/server/tls/private_key")) server.tls->private_key_file = *v;
        state.tls_location = r.doc().Locate("/server/tls").ToString();
    }
}

void CheckSecret(SettingsReader& r, const std::string& pointer, const std::string& secret) {
    // DocSpace itself only accepts 8..30 printable ASCII characters without spaces (docs/docspace-api.md
    // §1.11). Whitespace can only be a copy-paste accident, so it is refused; other oddities are the portal's
    // business. The value is never echoed.
    if (secret.empty()) {
        r.Error(pointer, "webhook secret must not be empty");
    } else if (HasWhitespace(secret)) {
        r.Error(pointer,
                "webhook secret contains whitespace; DocSpace secrets are 8 to 30 printable characters "
                "without spaces");
    }
}

void ApplyWebhook(SettingsReader& r, ServiceConfig::Webhook& webhook) {
    const Json* section = r.Section("/webhook", {"secret", "secrets", "allow_unsigned", "max_age"});
    if (section == nullptr) return;
    const bool has_secret = section->contains("secret") && !(*section)["secret"].is_null();
    const bool has_secrets = section->contains("secrets") && !(*section)["secrets"].is_null();
    if (has_secret && has_secrets) {
        r.Error("/webhook/secrets", "write either webhook.secret or webhook.secrets, not both");
    } else if (has_secret) {
        if (auto secret = r.Text("/webhook/secret")) {
            CheckSecret(r, "/webhook/secret", *secret);
            webhook.secrets = {*secret};
        }
    } else if (has_secrets) {
        // A list only: a DocSpace secret may itself contain a comma.
        if (auto secrets = r.TextList("/webhook/secrets", false)) {
            for (std::size_t i = 0; i < secrets->size(); ++i)
                CheckSecret(r, PointerJoin("/webhook/secrets", i), (*secrets)[i]);
            webhook.secrets = *secrets;
        }
    }
    if (auto v = r.Bool("/webhook/allow_unsigned")) webhook.allow_unsigned = *v;
    if (auto v = r.Duration("/webhook/max_age", true)) webhook.max_age = *v;
}

void ApplyDocSpace(SettingsReader& r, ServiceConfig::DocSpace& docspace) {
    if (!r.Section("/docspace", {"api_host", "api_key", "rate_limit", "timeouts", "operation_poll",
                                 "verify_tls", "ca_file"})) {
        return;
    }
    if (auto host = r.Text("/docspace/api_host")) {
        if (!host->empty() && !IsHttpUrl(*host)) {
            r.Error("/docspace/api_host",
                    fmt::format(
                        "docspace.api_host must be an http(s) URL like https://portal.example.com, got '{}'",
                        *host));
        } else {
            docspace.api_host = *host;
        }
    }
    if (auto v = r.Text("/docspace/api_key")) docspace.api_key = *v;
    if (r.Section("/docspace/rate_limit", {"per_second", "burst"})) {
        if (auto v = r.Number("/docspace/rate_limit/per_second", 0.001, 100000))
            docspace.rate_per_second = *v;
        if (auto v = r.Integer("/docspace/rate_limit/burst", 1, 100000))
            docspace.burst = static_cast<int>(*v);
    }
    if (r.Section("/docspace/timeouts", {"connect", "total"})) {
        if (auto v = r.Duration("/docspace/timeouts/connect")) docspace.connect_timeout = *v;
        if (auto v = r.Duration("/docspace/timeouts/total")) docspace.total_timeout = *v;
    }
    if (r.Section("/docspace/operation_poll", {"interval", "timeout"})) {
        if (auto v = r.Duration("/docspace/operation_poll/interval")) docspace.poll_interval = *v;
        if (auto v = r.Duration("/docspace/operation_poll/timeout")) docspace.poll_timeout = *v;
    }
    if (auto v = r.Bool("/docspace/verify_tls")) docspace.verify_tls = *v;
    if (auto v = r.Text("/docspace/ca_file")) docspace.ca_file = *v;
}

void ApplyStore(SettingsReader& r, std::string& store_url) {
    auto url = r.Text("/store");
    if (!url) return;
    if (!(url->starts_with("sqlite:") && url->size() > 7) && !url->starts_with("postgres://") &&
        !url->starts_with("postgresql://")) {
        r.Error("/store", fmt::format("store must be sqlite:PATH or postgres://..., got '{}'", *url));
        return;
    }
    store_url = *url;
}

void ApplyRunner(SettingsReader& r, ServiceConfig::Runner& runner) {
    if (!r.Section("/runner", {"workers", "lease", "retry", "shutdown_grace", "max_per_dependency"})) return;
    if (auto v = r.Integer("/runner/workers", 1, 1024)) runner.workers = static_cast<int>(*v);
    if (auto v = r.Integer("/runner/max_per_dependency", 1, 1024))
        runner.max_per_dependency = static_cast<int>(*v);
    if (auto v = r.Duration("/runner/lease")) runner.lease = *v;
    if (auto v = r.Duration("/runner/shutdown_grace", true)) runner.shutdown_grace = *v;
    if (r.Section("/runner/retry", {"base", "max", "multiplier", "jitter", "max_attempts", "budget"})) {
        if (auto v = r.Duration("/runner/retry/base")) runner.retry_base = *v;
        if (auto v = r.Duration("/runner/retry/max")) runner.retry_max = *v;
        if (auto v = r.Number("/runner/retry/multiplier", 1.0, 100.0)) runner.retry_multiplier = *v;
        if (auto v = r.Number("/runner/retry/jitter", 0.0, 1.0)) runner.retry_jitter = *v;
        if (auto v = r.Integer("/runner/retry/max_attempts", 1, 1000))
            runner.max_attempts = static_cast<int>(*v);
        if (auto v = r.Duration("/runner/retry/budget")) runner.retry_budget = *v;
    }
}

void ApplyMail(SettingsReader& r, ServiceConfig::Mail& mail) {
    if (!r.Section("/mail", {"smtp_url", "username", "password", "from", "starttls", "verify_tls",
                             "allow_plaintext_auth"}))
        return;
    if (auto url = r.Text("/mail/smtp_url")) {
        if (!url->empty() && !url->starts_with("smtp://") && !url->starts_with("smtps://")) {
            r.Error("/mail/smtp_url", "mail.smtp_url must be smtp://HOST[:PORT] or smtps://HOST[:PORT]");
        } else {
            mail.smtp_url = *url;
        }
    }
    if (auto v = r.Text("/mail/username")) mail.username = *v;
    if (auto v = r.Text("/mail/password")) mail.password = *v;
    if (auto v = r.Text("/mail/from")) mail.from = *v;
    if (auto v = r.OneOf("/mail/starttls", {"required", "opportunistic"}))
        mail.require_starttls = *v == "required";
    if (auto v = r.Bool("/mail/allow_plaintext_auth")) mail.allow_plaintext_auth = *v;
    if (auto v = r.Bool("/mail/verify_tls")) mail.verify_tls = *v;
}

void ApplyLog(SettingsReader& r, ServiceConfig::Log& log) {
    if (!r.Section("/log", {"level", "format"})) return;
    if (auto v = r.OneOf("/log/level", {"debug", "info", "warn", "error"})) log.level = *v;
    if (auto v = r.OneOf("/log/format", {"text", "json"})) log.format = *v;
}

void ApplyOutbound(SettingsReader& r, ServiceConfig::Outbound& outbound) {
    if (!r.Section("/outbound", {"allow"})) return;
    auto allow = r.TextList("/outbound/allow", true);
    if (!allow) return;
    bool valid = true;
    for (const auto& entry : *allow) {
        if (auto checked = CheckOutboundAllowEntry(entry); !checked) {
            r.Error("/outbound/allow", checked.error().message);
            valid = false;
        }
    }
    if (valid) outbound.allow = *allow;
}

void ApplyAdmin(SettingsReader& r, ServiceConfig::Admin& admin) {
    if (!r.Section("/admin", {"token", "listen"})) return;
    if (auto v = r.Text("/admin/token")) admin.token = *v;
    if (auto listen = r.Text("/admin/listen")) {
        auto parsed = ParseListen(*listen);
        if (parsed) {
            admin.host = parsed->first;
            admin.port = parsed->second;
        } else {
            r.Error("/admin/listen", parsed.error().message);
        }
    }
}

bool IsChannelName(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
}

void ApplyChat(SettingsReader& r, std::map<std::string, ServiceConfig::ChatChannel>& channels) {
    if (!r.Section("/chat", {"channels"})) return;
    const Json* raw = r.Map("/chat/channels");
    if (raw == nullptr) return;
    for (const auto& [name, value] : raw->items()) {
        const std::string pointer = PointerJoin("/chat/channels", name);
        if (!IsChannelName(name)) {
            r.Error(
                pointer,
                fmt::format("chat channel name '{}' may hold only letters, digits, '_', '-' and '.'", name));
            continue;
        }
        if (!r.Section(pointer, {"kind", "url"})) {
            if (value.is_null()) r.Error(pointer, fmt::format("chat channel '{}' needs kind and url", name));
            continue;
        }
        ServiceConfig::ChatChannel channel =
            channels.count(name) ? channels[name] : ServiceConfig::ChatChannel{};
        bool valid = true;
        if (value.contains("kind")) {
            auto kind = r.OneOf(PointerJoin(pointer, "kind"), {"slack", "teams", "generic"});
            valid = valid && kind.has_value();
            if (kind) channel.kind = *kind;
        }
        if (value.contains("url")) {
            auto url = r.Text(PointerJoin(pointer, "url"));
            if (url && !IsHttpUrl(*url)) {
                r.Error(PointerJoin(pointer, "url"),
                        fmt::format("chat.channels.{}.url must be an http(s) URL", name));
                url.reset();
            }
            valid = valid && url.has_value();
            if (url) channel.url = *url;
        }
        if (!valid) continue;
        if (channel.kind.empty() || channel.url.empty()) {
            r.Error(pointer, fmt::format("chat channel '{}' needs both kind and url", name));
            continue;
        }
        channels[name] = channel;
    }
}

// Merges documents in the order given; a document that failed to load is reported where it stood, so the
// messages keep the order of the files.
Result<ServiceConfig> MergeDocuments(std::vector<Result<Document>> documents, const Env& env) {
    ServiceConfig config;
    Diagnostics diagnostics;
    MergeState state;

    for (auto& doc : documents) {
        if (!doc) {
            diagnostics.Add(doc.error());
            continue;
        }
        if (!doc->root.is_null() && !doc->root.is_object()) {
            diagnostics.AddAt(*doc, "",
                              fmt::format("a configuration file must be a map, got {}", KindName(doc->root)));
            continue;
        }
        if (doc->root.is_object()) {
            SettingsReader reader(*doc, diagnostics, state.set_pointers);
            reader.Section("", kTopLevelKeys);
            ApplyServer(reader, config.server, state);
            ApplyWebhook(reader, config.webhook);
            ApplyDocSpace(reader, config.docspace);
            ApplyStore(reader, config.store_url);
            ApplyRunner(reader, config.runner);
            ApplyMail(reader, config.mail);
            ApplyLog(reader, config.log);
            ApplyAdmin(reader, config.admin);
            ApplyOutbound(reader, config.outbound);
            ApplyChat(reader, config.chat_channels);
            ApplySubscription(reader, config.subscription);
            ApplyAlerts(reader, config.alerts);
        }
        config.documents.push_back(std::move(*doc));
    }

    if (config.server.tls &&
        (config.server.tls->certificate_file.empty() || config.server.tls->private_key_file.empty())) {
        diagnostics.Add(
            Error{ErrorCode::kConfig,
                  fmt::format("{}: server.tls needs both certificate and private_key", state.tls_location), 0,
                  std::nullopt});
    }
    CheckAlerts(config, diagnostics);
    if (config.server.body_memory_limit < config.server.body_limit) {
        diagnostics.Add(Error{ErrorCode::kConfig,
                              "server.body_memory_limit must not be below server.body_limit (one body at the "
                              "limit could never be read)",
                              0, std::nullopt});
    }
    if (config.runner.retry_max < config.runner.retry_base) {
        diagnostics.Add(Error{ErrorCode::kConfig,
                              "runner.retry.max must not be shorter than runner.retry.base", 0,
                              std::nullopt});
    }

    // The environment fills what the files left unset or empty; a value in a file always wins. Each
    // variable may also come from VAR_FILE or the credential VAR (config/variables.hpp).
    auto from_env = [&env, &diagnostics](std::string_view name) -> std::optional<std::string> {
        auto value = LookupVariable(name, env);
        if (!value) {
            diagnostics.Add(value.error());
            return std::nullopt;
        }
        if (!*value || (*value)->empty()) return std::nullopt;
        return *value;
    };
    if (config.docspace.api_host.empty()) {
        if (auto host = from_env("DOCSPACE_API_HOST")) {
            if (IsHttpUrl(*host)) {
                config.docspace.api_host = *host;
            } else {
                diagnostics.Add(
                    Error{ErrorCode::kConfig,
                          "DOCSPACE_API_HOST must be an http(s) URL like https://portal.example.com", 0,
                          std::nullopt});
            }
        }
    }
    while (!config.docspace.api_host.empty() && config.docspace.api_host.back() == '/')
        config.docspace.api_host.pop_back();
    if (config.docspace.api_key.empty()) {
        if (auto v = from_env("DOCSPACE_API_KEY")) config.docspace.api_key = *v;
    }
    if (config.webhook.secrets.empty()) {
        if (auto v = from_env("DOCSPACE_WEBHOOK_SECRET")) {
            // Comma-separated for rotation (old,new). A secret that itself contains a comma must be
            // written in webhook.secrets instead.
            auto secrets = SplitCommaList(*v);
            for (std::size_t i = 0; i < secrets.size(); ++i) {
                if (HasWhitespace(secrets[i])) {
                    diagnostics.Add(
                        Error{ErrorCode::kConfig,
                              fmt::format("DOCSPACE_WEBHOOK_SECRET: secret {} contains whitespace", i + 1), 0,
                              std::nullopt});
                }
            }
            config.webhook.secrets = std::move(secrets);
        }
    }
    if (config.mail.smtp_url.empty()) {
        if (auto v = from_env("SMTP_URL")) {
            if (v->starts_with("smtp://") || v->starts_with("smtps://")) {
                config.mail.smtp_url = *v;
            } else {
                diagnostics.Add(Error{ErrorCode::kConfig,
                                      "SMTP_URL must be smtp://HOST[:PORT] or smtps://HOST[:PORT]", 0,
                                      std::nullopt});
            }
        }
    }
    if (config.mail.username.empty()) {
        if (auto v = from_env("SMTP_USERNAME")) config.mail.username = *v;
    }
    if (config.mail.password.empty()) {
        if (auto v = from_env("SMTP_PASSWORD")) config.mail.password = *v;
    }
    if (config.mail.from.empty()) {
        if (auto v = from_env("MAIL_FROM")) config.mail.from = *v;
    }
    if (config.admin.token.empty()) {
        if (auto v = from_env("SPACEHOOK_ADMIN_TOKEN")) config.admin.token = *v;
    }
    if (!state.set_pointers.count("/server/listen")) {
        if (auto port = from_env("PORT")) {
            auto parsed = ParseListen(*port);
            if (parsed && port->find(':') == std::string::npos) {
                config.server.port = parsed->second;
            } else {
                diagnostics.Add(Error{ErrorCode::kConfig,
                                      fmt::format("PORT must be a port number, got '{}'", *port), 0,
                                      std::nullopt});
            }
        }
    }

    // One port cannot serve both: the webhook listener answers only the webhook path and /healthz.
    if (config.admin.port != 0 && config.admin.port == config.server.port &&
        (config.admin.host == config.server.host || config.admin.host == "0.0.0.0" ||
         config.server.host == "0.0.0.0" || config.admin.host == "::" || config.server.host == "::")) {
        diagnostics.Add(
            Error{ErrorCode::kConfig,
                  fmt::format("admin.listen ({}:{}) and server.listen ({}:{}) must be different ports",
                              config.admin.host, config.admin.port, config.server.host, config.server.port),
                  0, std::nullopt});
    }

    if (!diagnostics.empty()) return Fail(diagnostics.ToError());
    return config;
}

bool IsConfigFileName(const std::filesystem::path& path) {
    const std::string extension = path.extension().string();
    return extension == ".yaml" || extension == ".yml";
}

}  // namespace

Result<std::vector<std::string>> ExpandConfigPaths(const std::vector<std::string>& paths) {
    std::vector<std::string> files;
    for (const auto& path : paths) {
        std::error_code ec;
        if (!std::filesystem::is_directory(path, ec)) {
            files.push_back(path);  // a missing or unreadable file is reported when it is loaded
            continue;
        }
        std::vector<std::string> entries;
        for (std::filesystem::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
            // Hidden files are editor and package-manager leftovers (.foo.yaml.swp is not .yaml anyway).
            const auto name = it->path().filename().string();
            if (name.starts_with('.') || !IsConfigFileName(it->path())) continue;
            std::error_code type_ec;
            if (!it->is_regular_file(type_ec)) continue;
            entries.push_back(it->path().string());
        }
        if (ec)
            return Fail(ErrorCode::kConfig,
                        fmt::format("{}: cannot list the directory: {}", path, ec.message()));
        std::sort(entries.begin(), entries.end());
        files.insert(files.end(), entries.begin(), entries.end());
    }
    return files;
}

Result<ServiceConfig> LoadServiceConfig(const std::vector<std::string>& paths, const Env& env) {
    auto files = ExpandConfigPaths(paths);
    if (!files) return Fail(files.error());
    std::vector<Result<Document>> documents;
    documents.reserve(files->size());
    for (const auto& file : *files) documents.push_back(LoadYamlFile(file, env));
    return MergeDocuments(std::move(documents), env);
}

Result<ServiceConfig> MergeServiceConfig(std::vector<Document> documents, const Env& env) {
    std::vector<Result<Document>> loaded;
    loaded.reserve(documents.size());
    for (auto& doc : documents) loaded.emplace_back(std::move(doc));
    return MergeDocuments(std::move(loaded), env);
}

}  // namespace spacehook::config
