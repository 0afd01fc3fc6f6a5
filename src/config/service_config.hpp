#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/document.hpp"
#include "core/error.hpp"

namespace spacehook::config {

/// The whole service configuration after merging every --config file and the environment. Immutable
/// once loaded. Durations in YAML are "250ms", "10s", "5m", "1h" or plain milliseconds; sizes are
/// bytes or "512KiB"/"1MiB".
struct ServiceConfig {
    struct Tls {
        std::string certificate_file;
        std::string private_key_file;
        bool operator==(const Tls&) const = default;
    };
    struct Server {
        std::string host = "0.0.0.0";
        std::uint16_t port = 3000;  ///< the PORT env var sets it when the config does not
        std::string webhook_path = "/docspace/webhook";
        std::size_t body_limit = std::size_t{1024} * 1024;
        std::chrono::milliseconds header_timeout{10000};
        std::chrono::milliseconds body_timeout{30000};
        std::chrono::milliseconds idle_timeout{60000};
        std::size_t max_connections = 1024;
        std::size_t max_connections_per_peer = 256;  ///< 0: none; loopback and trusted_proxies are exempt
        std::size_t body_memory_limit = std::size_t{64} * 1024 * 1024;  ///< all bodies in flight together
        int threads = 1;
        std::optional<Tls> tls;
        /// Reject plain-HTTP webhook requests unless they came through a trusted proxy that says
        /// X-Forwarded-Proto: https.
        bool require_https = false;
        std::vector<std::string> trusted_proxies;  ///< IPs whose X-Forwarded-* headers are believed
    } server;

    struct Webhook {
        /// Every secret that may have signed a delivery (rotation: old and new at once). From
        /// `webhook.secrets`, `webhook.secret`, or DOCSPACE_WEBHOOK_SECRET.
        std::vector<std::string> secrets;
        /// Accept unsigned deliveries. Only by explicit choice (config or --insecure-no-signature);
        /// a warning is logged at every start.
        bool allow_unsigned = false;
        /// Optional freshness limit on the signed event.createOn; 0 = off (docs/docspace-api.md §5).
        std::chrono::milliseconds max_age{0};
    } webhook;

    struct DocSpace {
        std::string api_host;         ///< DOCSPACE_API_HOST, e.g. https://portal.example.com
        std::string api_key;          ///< DOCSPACE_API_KEY; never logged
        double rate_per_second = 20;  ///< token bucket shared by every caller for this portal
        int burst = 40;
        std::chrono::milliseconds connect_timeout{5000};
        std::chrono::milliseconds total_timeout{30000};
        std::chrono::milliseconds poll_interval{200};  ///< file-operation polling
        std::chrono::milliseconds poll_timeout{120000};
        bool verify_tls = true;
        std::string ca_file;
        bool operator==(const DocSpace&) const = default;
    } docspace;

    std::string store_url = "sqlite:spacehook.db";

    struct Runner {
        int workers = 4;
        std::chrono::milliseconds lease{30000};
        std::chrono::milliseconds retry_base{1000};
        std::chrono::milliseconds retry_max{300000};
        double retry_multiplier = 2.0;
        double retry_jitter = 0.2;
        int max_attempts = 12;  ///< transient failures before the dead-letter list
        std::chrono::milliseconds retry_budget{
            std::chrono::hours(24)};  ///< or this long since the first failure
        std::chrono::milliseconds shutdown_grace{10000};
        /// Most workers inside calls to one dependency at a time (the portal, the SMTP server, one
        /// chat/http host); 0 = one less than the workers (at least 1). A hanging one holds no more.
        int max_per_dependency = 0;
        bool operator==(const Runner&) const = default;
    } runner;

    struct Mail {
        std::string smtp_url;  ///< SMTP_URL: smtp://host:port or smtps://host:port
        std::string username;  ///< SMTP_USERNAME
        std::string password;  ///< SMTP_PASSWORD; never logged
        std::string from;      ///< MAIL_FROM: "spacehook <bot@example.com>" or an address
        bool require_starttls = false;
        /// Send the SMTP password over smtp:// when the server offers no STARTTLS. Off: such a server
        /// gets no password, and the mail fails with an error that says so.
        bool allow_plaintext_auth = false;
        bool verify_tls = true;
        bool operator==(const Mail&) const = default;
    } mail;

    struct Log {
        std::string level = "info";
        std::string format = "text";  ///< text | json
    } log;

    /// Where requests that rules aim (`http` and `chat` steps) may go.
    struct Outbound {
        /// `outbound.allow`: internal addresses (loopback, link-local, private) such requests may reach:
        /// addresses, networks (CIDR) or host names. Empty: none (the default).
        std::vector<std::string> allow;
        bool operator==(const Outbound&) const = default;
    } outbound;

    struct Admin {
        /// Bearer token of the JSON admin API and status page (`admin.token`, SPACEHOOK_ADMIN_TOKEN);
        /// never logged.
        std::string token;
        /// `admin.listen`: /metrics, /readyz, /admin and the admin API have their own listener, kept
        /// private (loopback by default) while the webhook port faces the portal.
        std::string host = "127.0.0.1";
        std::uint16_t port = 9464;
    } admin;

    /// A named incoming-webhook endpoint for `chat` steps (`chat.channels.<name>`). Rules name the
    /// channel, so the URL, which is a credential for Slack and Teams, stays out of rule files, run
    /// records and logs.
    struct ChatChannel {
        std::string kind;  ///< slack | teams | generic
        std::string url;   ///< never logged
        bool operator==(const ChatChannel&) const = default;
    };
    std::map<std::string, ChatChannel> chat_channels;

    /// The portal's webhook this service watches (`subscription`, docs/operations.md "Catching up" and
    /// "The subscription watchdog"): the one `spacehook subscribe` made.
    struct Subscription {
        std::string name = "spacehook";  ///< its name on the portal
        std::string
            url;  ///< its URL: when set, only the webhook with this URL, and a deleted one is recreated
        bool catch_up = true;    ///< read the portal's webhook log and journal what was missed
        bool keep_alive = true;  ///< re-enable it, recreate it, keep its triggers those the rules need
        std::chrono::milliseconds check_interval{60000};
        std::chrono::milliseconds catch_up_margin{600000};  ///< how far below its last position a pass reads
        int catch_up_pages = 20;                            ///< pages of 100 log rows per pass and webhook
        bool operator==(const Subscription&) const = default;
    } subscription;

    /// Alerts to a person (`alerts`, docs/operations.md "Alerts"): mail and/or chat channels.
    struct Alerts {
        std::vector<std::string> mail;                  ///< recipients
        std::vector<std::string> chat;                  ///< names from chat.channels
        std::chrono::milliseconds throttle{900000};     ///< at most one message per kind this often
        std::chrono::milliseconds backlog_age{900000};  ///< the oldest pending event or run waits longer
        std::chrono::milliseconds portal_down{300000};  ///< the portal unreachable for longer
        bool operator==(const Alerts&) const = default;
    } alerts;

    /// Every secret value above (API key, webhook secrets, SMTP password, admin token, chat URLs) and
    /// of the secret `${...}` references in the files (Document::secret_values), for
    /// log::RegisterSecret at startup.
    [[nodiscard]] std::vector<std::string> SecretValues() const;

    /// The loaded documents, each with its `rules:` list; the rules library compiles them.
    std::vector<Document> documents;
};

/// Loads and merges config files in order (later files override service settings key by key; rules
/// from all files are kept, in order), then fills what is unset from the environment (DOCSPACE_*,
/// SMTP_*, MAIL_FROM, PORT; each also from VAR_FILE or the credential VAR, config/variables.hpp).
/// A directory stands for its *.yaml and *.yml files in name order (ExpandConfigPaths). Unknown keys
/// and bad values are kConfig errors with file:line:column. An empty list is allowed: everything
/// comes from the environment.
Result<ServiceConfig> LoadServiceConfig(const std::vector<std::string>& paths, const Env& env);
/// `paths` with each directory replaced by its *.yaml / *.yml files (not hidden ones, not
/// subdirectories), sorted by name, so `--config /etc/spacehook/rules.d` reads every rule file there;
/// other paths as given. Read again at every reload, so a file added to the directory is picked up.
Result<std::vector<std::string>> ExpandConfigPaths(const std::vector<std::string>& paths);
/// Same, over documents already loaded (tests, fuzzing: no files involved).
Result<ServiceConfig> MergeServiceConfig(std::vector<Document> documents, const Env& env);

/// Parses "250ms", "10s", "5m", "1h", "2d" or a plain number of milliseconds.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);
/// Parses "1048576", "512KiB", "1MiB", "1KB" (= 1000).
std::optional<std::size_t> ParseSize(std::string_view text);
/// Splits "HOST:PORT" ("[::1]:3000", ":3000" = all interfaces).
Result<std::pair<std::string, std::uint16_t>> ParseListen(std::string_view text);

}  // namespace spacehook::config
