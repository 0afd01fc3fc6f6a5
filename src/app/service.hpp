#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

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
#include "store/store.hpp"

namespace spacehook::app {

/// What `spacehook serve` runs: config -> store -> webhook endpoint + admin routes -> HTTP server.
///
/// Lifecycle. Start() opens (and migrates) the store, builds the routes and starts listening. Stop()
/// is the graceful shutdown: new deliveries get 503 (DocSpace retries them, docs/docspace-api.md §1.9), the
/// server drains the requests in flight (a delivery waiting for its commit still gets its 2xx), then the
/// store flushes and closes. Both are called from one control thread (main).
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
class Service {
public:
    explicit Service(config::ServiceConfig config, const Clock& clock = SystemClock::Instance());
    /// Stops if still running.
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    /// Opens the store and starts listening. kConfig/kUnavailable with a readable message when the store
    /// cannot be opened or the address cannot be bound; nothing keeps running then.
    Status Start();
    /// The bound port (meaningful after Start(); useful with port 0).
    [[nodiscard]] std::uint16_t port() const;
    /// Graceful shutdown, bounded by `drain` for the HTTP requests in flight. Idempotent.
    void Stop(std::chrono::milliseconds drain = std::chrono::seconds(10));

    [[nodiscard]] const config::ServiceConfig& config() const { return config_; }
    [[nodiscard]] const Clock& clock() const { return clock_; }
    [[nodiscard]] MetricsRegistry& metrics() { return metrics_; }
    /// Valid between Start() and the end of Stop().
    [[nodiscard]] store::Store& store() { return *store_; }

private:
    void RegisterServerGauges();
    /// Compiles the rules and builds what their steps act through (mailer); kConfig when something
    /// they need is not configured.
    Status PrepareRules();
    /// Builds the portal client, chat poster and HTTP client and starts the engine (after listening).
    void StartEngine();

    config::ServiceConfig config_;
    const Clock& clock_;
    // Declaration order is teardown order in reverse: the server (and its handlers' callers) goes
    // first, then the engine, the store; the registry whose series the store's append callbacks touch
    // goes last.
    MetricsRegistry metrics_;
    SeededRandom random_;
    rules::CompiledRules rules_;
    std::unique_ptr<notify::Mailer> mailer_;
    std::unique_ptr<docspace::DocSpaceClient> docspace_;
    std::unique_ptr<notify::ChatPoster> chat_;
    std::unique_ptr<httpc::Client> http_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<runner::Engine> engine_;
    std::unique_ptr<ingress::WebhookHandler> webhook_;
    std::unique_ptr<admin::AdminApi> admin_;
    std::unique_ptr<http::Server> server_;
    bool running_ = false;
};

/// The HTTP server's options from the `server` config section.
http::ServerOptions ServerOptionsFrom(const config::ServiceConfig& config);
/// The webhook endpoint's options from the `webhook` and `server` config sections.
ingress::WebhookOptions WebhookOptionsFrom(const config::ServiceConfig& config);
/// The engine's options from the `runner` section (and docspace.timeouts for `http` steps).
runner::EngineOptions EngineOptionsFrom(const config::ServiceConfig& config);

}  // namespace spacehook::app
