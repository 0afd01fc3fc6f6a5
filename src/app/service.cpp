#include "app/service.hpp"

#include "core/log.hpp"

namespace spacehook::app {

namespace {
constexpr std::string_view kComponent = "serve";
}

http::ServerOptions ServerOptionsFrom(const config::ServiceConfig& config) {
    http::ServerOptions options;
    const auto& server = config.server;
    options.host = server.host;
    options.port = server.port;
    options.body_limit = server.body_limit;
    options.header_timeout = server.header_timeout;
    options.body_timeout = server.body_timeout;
    options.idle_timeout = server.idle_timeout;
    options.max_connections = server.max_connections;
    options.threads = server.threads;
    if (server.tls)
        options.tls = http::TlsOptions{server.tls->certificate_file, server.tls->private_key_file};
    return options;
}

ingress::WebhookOptions WebhookOptionsFrom(const config::ServiceConfig& config) {
    ingress::WebhookOptions options;
    options.secrets = config.webhook.secrets;
    options.allow_unsigned = config.webhook.allow_unsigned;
    options.max_age = config.webhook.max_age;
    options.require_https = config.server.require_https;
    options.trusted_proxies = config.server.trusted_proxies;
    return options;
}

Service::Service(config::ServiceConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock) {}

Service::~Service() {
    Stop();
}

Status Service::Start() {
    store::StoreOptions store_options;
    store_options.durable = true;  // "acked means stored": a 2xx is sent only after an fsync'd commit
    auto opened = store::OpenStore(config_.store_url, store_options, clock_);
    if (!opened) return Fail(opened.error());
    store_ = std::move(*opened);

    webhook_ =
        std::make_unique<ingress::WebhookHandler>(WebhookOptionsFrom(config_), *store_, metrics_, clock_);
    admin_ = std::make_unique<admin::AdminApi>(admin::AdminOptions{config_.admin.token}, *store_, metrics_,
                                               clock_);
    http::Router router;
    webhook_->Register(router, config_.server.webhook_path);
    admin_->Register(router);

    server_ = std::make_unique<http::Server>(ServerOptionsFrom(config_), router.AsHandler());
    if (auto started = server_->Start(); !started) {
        server_.reset();
        store_->Close();
        return started;
    }
    RegisterServerGauges();
    running_ = true;
    log::Info(kComponent, "listening",
              {{"host", config_.server.host},
               {"port", static_cast<int>(server_->port())},
               {"webhook_path", config_.server.webhook_path},
               {"store", store::RedactStoreUrl(config_.store_url)},
               {"secrets", static_cast<int>(config_.webhook.secrets.size())}});
    return Ok();
}

std::uint16_t Service::port() const {
    return server_ ? server_->port() : 0;
}

void Service::Stop(std::chrono::milliseconds drain) {
    if (!running_) return;
    running_ = false;
    log::Info(kComponent, "shutting down: refusing new deliveries, draining requests in flight");
    webhook_->StopAccepting();
    server_->Stop(drain);
    store_->Close();
    log::Info(kComponent, "stopped");
}

void Service::RegisterServerGauges() {
    // Scrape-time views of the server's own counters. Bodies over server.body_limit are answered 413 by
    // the server before routing, so they show here (limit_rejections), not in spacehook_deliveries_total.
    http::Server* server = server_.get();
    auto add = [&](const char* name, const char* help, auto field) {
        metrics_.AddGaugeCallback(name, help,
                                  [server, field] { return static_cast<double>(server->Stats().*field); });
    };
    add("spacehook_http_connections_active", "Open client connections",
        &http::ServerStats::active_connections);
    add("spacehook_http_connections_accepted", "Connections accepted since start",
        &http::ServerStats::connections_accepted);
    add("spacehook_http_connections_rejected", "Connections refused over server.max_connections since start",
        &http::ServerStats::connections_rejected);
    add("spacehook_http_requests", "Complete requests handed to a handler since start",
        &http::ServerStats::requests);
    add("spacehook_http_timeouts", "Connections closed by a header/body/write deadline since start",
        &http::ServerStats::timeouts);
    add("spacehook_http_limit_rejections", "Requests refused for size since start (413 body, 431 headers)",
        &http::ServerStats::limit_rejections);
    add("spacehook_http_handler_timeouts", "Requests answered 503 because no answer came in time since start",
        &http::ServerStats::handler_timeouts);
}

}  // namespace spacehook::app
