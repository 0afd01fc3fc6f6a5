#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "admin/admin_api.hpp"
#include "config/service_config.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/metrics.hpp"
#include "core/random.hpp"
#include "docspace/client.hpp"
#include "http/server.hpp"
#include "httpc/client.hpp"
#include "ingress/webhook_handler.hpp"
#include "notify/chat_poster.hpp"
#include "notify/mailer.hpp"
#include "rules/compiled_rules.hpp"
#include "runner/engine.hpp"
#include "runner/live_rules.hpp"
#include "store/store.hpp"
#include "watch/alert_outbox.hpp"
#include "watch/watcher.hpp"

namespace spacehook::app {

/// What a reload changed, for the log line and `systemctl status`.
struct ReloadReport {
    int rules = 0;  ///< rules in the new set (enabled or not)
    std::vector<std::string> added;
    std::vector<std::string> removed;
    std::vector<std::string> changed;  ///< same name, another fingerprint
    /// Settings that differ from the running ones but take effect only at the next start (dotted names:
    /// "server.listen", "store"); the running values stay until then.
    std::vector<std::string> restart_only;
};

/// What `spacehook serve` runs: config -> store -> webhook endpoint + admin routes -> two HTTP
/// listeners: the webhook listener (server.listen) carries only the webhook path and /healthz, the
/// admin listener (admin.listen, loopback by default) /metrics, /readyz, /admin and the admin API.
///
/// Lifecycle. Start() opens (and migrates) the store, builds the routes and starts listening. Stop()
/// is the graceful shutdown: new deliveries get 503 (DocSpace retries them, docs/docspace-api.md §1.9), the
/// server drains the requests in flight (a delivery waiting for its commit still gets its 2xx), then the
/// store flushes and closes. Start, Reload and Stop are called from one control thread (main).
///
/// Composition point for background work (the dispatcher and run workers): it needs the store, the
/// config, the clock and the metrics registry, all reachable through the accessors below; it starts
/// after the store is open (end of Start(), once the server listens) and stops after the server has
/// drained and before the store closes (in Stop(), between the two steps), so it never sees a closed
/// store and in-flight deliveries still reach the journal.
///
/// That background work is runner::Engine (docs/runner.md). Start() first compiles the rules and checks
/// what they need, so a bad setup fails before anything listens: rules but no portal
/// (docspace.api_host) or a mail step but no SMTP server (mail.smtp_url) is kConfig. Without a portal
/// and without enabled rules the service only journals: events stay pending until a later start has
/// rules and a portal. Stop() gives running steps runner.shutdown_grace to finish, and what is not
/// finished resumes at the next start.
///
/// Beside the engine, with a portal, the watcher (src/watch): catch-up from the portal's webhook log, the
/// subscription watchdog and alerts, every subscription.check_interval; it stops before the engine.
///
/// Reload (SIGHUP, docs/operations.md "Reload"): the new configuration's rules are compiled and checked
/// against what is running before anything changes; any error leaves the running rules and settings as
/// they were. Applied live: the rules (events dispatched from then on), the webhook checks (secrets,
/// allow_unsigned, max_age, require_https, trusted_proxies), admin.token, log.level/format, `subscription`
/// and the alert thresholds (the watcher's next round). Everything else (listeners, store, portal, runner,
/// mail, chat channels, where alerts go) keeps its running value until the next start, and the report names
/// what differs. Deliveries are acknowledged throughout: the listeners and the store are never touched. Runs
/// already planned finish with the rule version that planned them (their steps are stored with them).
class Service {
public:
    explicit Service(config::ServiceConfig config, const Clock& clock = SystemClock::Instance());
    /// Stops if still running.
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    /// Opens the store and starts both listeners. kConfig/kUnavailable with a readable message when the
    /// store cannot be opened or an address cannot be bound; nothing keeps running then.
    Status Start();
    /// The bound ports (meaningful after Start(); useful with port 0).
    [[nodiscard]] std::uint16_t port() const;
    [[nodiscard]] std::uint16_t admin_port() const;
    /// Applies `fresh` as described in the class comment, or changes nothing and returns the reason
    /// (kConfig, with file:line:col for rule errors).
    Result<ReloadReport> Reload(config::ServiceConfig fresh);
    /// Graceful shutdown, bounded by `drain` for the HTTP requests in flight. Idempotent.
    void Stop(std::chrono::milliseconds drain = std::chrono::seconds(10));

    [[nodiscard]] const config::ServiceConfig& config() const { return config_; }
    [[nodiscard]] const Clock& clock() const { return clock_; }
    [[nodiscard]] MetricsRegistry& metrics() { return metrics_; }
    /// Valid between Start() and the end of Stop().
    [[nodiscard]] store::Store& store() { return *store_; }

private:
    void RegisterServerCounters(const char* listener, const http::Server& server);
    /// Compiles `config`'s rules against the running chat channels and checks that what they act
    /// through is there: a portal (`portal`) and, for mail steps, an SMTP server (`smtp`).
    Result<std::shared_ptr<const rules::CompiledRules>> CompileRules(const config::ServiceConfig& config,
                                                                     bool portal, bool smtp) const;
    /// Builds the mailer when mail.smtp_url is set.
    Status PrepareMailer();
    /// Builds the portal client, chat poster and HTTP client and starts the engine (after listening).
    void StartEngine();
    /// Checks that alerts can go where `alerts` says (an SMTP server for alerts.mail, readable addresses);
    /// before anything listens (service_watch.cpp).
    Status CheckAlerts() const;
    /// Starts the watcher and its alert outbox, with a portal (after the engine, service_watch.cpp).
    void StartWatcher();

    config::ServiceConfig config_;
    const Clock& clock_;
    // Declaration order is teardown order in reverse: the servers (and their handlers' callers) go
    // first, then the engine, the store; the registry whose series the store's append callbacks touch
    // goes last.
    MetricsRegistry metrics_;
    SeededRandom random_;
    std::unique_ptr<runner::LiveRules> rules_;
    std::unique_ptr<notify::Mailer> mailer_;
    std::unique_ptr<docspace::DocSpaceClient> docspace_;
    std::unique_ptr<notify::ChatPoster> chat_;
    std::unique_ptr<httpc::Client> http_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<runner::Engine> engine_;
    std::unique_ptr<watch::AlertOutbox> alerts_;
    std::unique_ptr<watch::Watcher> watcher_;
    std::unique_ptr<ingress::WebhookHandler> webhook_;
    std::unique_ptr<admin::AdminApi> admin_;
    std::unique_ptr<http::Server> admin_server_;
    std::unique_ptr<http::Server> server_;
    bool running_ = false;
};

/// The HTTP server's options from the `server` config section.
http::ServerOptions ServerOptionsFrom(const config::ServiceConfig& config);
/// The admin listener's options: `admin.listen`, the server section's deadlines, one I/O thread.
http::ServerOptions AdminServerOptionsFrom(const config::ServiceConfig& config);
/// The webhook endpoint's options from the `webhook` and `server` config sections.
ingress::WebhookOptions WebhookOptionsFrom(const config::ServiceConfig& config);
/// The engine's options from the `runner` section (and docspace.timeouts for `http` steps).
runner::EngineOptions EngineOptionsFrom(const config::ServiceConfig& config);
/// The watcher's options from the `subscription` and `alerts` sections (service_watch.cpp).
watch::WatcherOptions WatcherOptionsFrom(const config::ServiceConfig& config);
/// The dotted names of the settings that differ between `running` and `fresh` and that only a restart
/// applies (see Service::Reload).
std::vector<std::string> RestartOnlyChanges(const config::ServiceConfig& running,
                                            const config::ServiceConfig& fresh);

}  // namespace spacehook::app
