#include "app/service.hpp"

#include <fmt/format.h>

#include "app/docspace_options.hpp"
#include "core/log.hpp"
#include "notify/smtp_mailer.hpp"

namespace spacehook::app {

namespace {
constexpr std::string_view kComponent = "serve";

/// The portal's call limit held in the shared store: replicas on one PostgreSQL draw from one bucket, so
/// N replicas do not send N times the rate the portal allows its API user, and a 429 one of them gets
/// pauses all (docs/replicas.md).
std::shared_ptr<docspace::CallLimiter> StoreBackedLimiter(const docspace::ClientOptions& options,
                                                          store::Store& store) {
    docspace::RateLimitOptions rate;
    rate.rate_per_second = options.rate_per_second;
    rate.burst = options.burst;
    docspace::SharedBucket bucket{
        [&store](const std::string& key, double per_second, int burst, TimePoint now) {
            return store.AcquireRateToken(key, per_second, burst, now);
        },
        [&store](const std::string& key, TimePoint until, TimePoint now) {
            return store.PauseRateLimit(key, until, now);
        }};
    return std::make_shared<docspace::SharedRateLimiter>(docspace::PortalRateKey(options.base_url), rate,
                                                         std::move(bucket));
}
}  // namespace

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

runner::EngineOptions EngineOptionsFrom(const config::ServiceConfig& config) {
    runner::EngineOptions options;
    const auto& r = config.runner;
    options.workers = r.workers;
    options.lease = r.lease;
    options.retry.backoff = BackoffPolicy{r.retry_base, r.retry_max, r.retry_multiplier, r.retry_jitter};
    options.retry.max_attempts = r.max_attempts;
    options.retry.budget = r.retry_budget;
    options.http_timeout = config.docspace.total_timeout;
    return options;
}

Service::Service(config::ServiceConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock) {}

Service::~Service() {
    Stop();
}

Status Service::Start() {
    if (auto prepared = PrepareRules(); !prepared) return prepared;
    store::StoreOptions store_options;
    store_options.durable = true;  // "acked means stored": a 2xx is sent only after an fsync'd commit
    store_options.lease = config_.runner.lease;  // a crashed worker's runs are taken over after this
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
    StartEngine();
    return Ok();
}

Status Service::PrepareRules() {
    rules::CompileOptions options;
    options.chat_channels.emplace();
    for (const auto& [name, channel] : config_.chat_channels) options.chat_channels->insert(name);
    auto compiled = rules::Compile(config_.documents, options);
    if (!compiled) return Fail(compiled.error());
    rules_ = std::move(*compiled);

    std::string mail_rule;
    for (const auto& rule : rules_.rules()) {
        if (!rule.enabled) continue;
        for (const auto& step : rule.steps) {
            if (step.kind == rules::StepKind::kMail && mail_rule.empty()) mail_rule = rule.name;
        }
    }
    if (rules_.HasEnabledRules() && config_.docspace.api_host.empty()) {
        return Fail(ErrorCode::kConfig,
                    "the rules act on a DocSpace portal, but none is set: set docspace.api_host / "
                    "DOCSPACE_API_HOST (and the API key), or disable the rules");
    }
    if (!mail_rule.empty() && config_.mail.smtp_url.empty()) {
        return Fail(ErrorCode::kConfig, fmt::format("rule {} sends mail, but no SMTP server is set: set "
                                                    "mail.smtp_url / SMTP_URL (and MAIL_FROM)",
                                                    mail_rule));
    }
    if (!config_.mail.smtp_url.empty()) {
        notify::SmtpOptions smtp;
        smtp.url = config_.mail.smtp_url;
        smtp.username = config_.mail.username;
        smtp.password = config_.mail.password;
        smtp.require_starttls = config_.mail.require_starttls;
        smtp.verify_tls = config_.mail.verify_tls;
        smtp.from = config_.mail.from;
        auto mailer = notify::SmtpMailer::Create(std::move(smtp), clock_);
        if (!mailer) return Fail(mailer.error());
        mailer_ = std::move(*mailer);
    }
    return Ok();
}

void Service::StartEngine() {
    if (config_.docspace.api_host.empty()) {
        log::Info(kComponent,
                  "no portal configured (docspace.api_host) and no enabled rules: deliveries are "
                  "journaled and stay pending until a start with rules and a portal");
        return;
    }
    const docspace::ClientOptions docspace_options = DocSpaceOptionsFrom(config_.docspace);
    // A single process keeps the in-process limiter (nullptr); replicas on a shared store share one.
    const bool shared_limit = store::IsSharedStoreUrl(config_.store_url);
    docspace_ = std::make_unique<docspace::DocSpaceClient>(
        docspace_options, shared_limit ? StoreBackedLimiter(docspace_options, *store_) : nullptr);
    chat_ = std::make_unique<notify::ChatPoster>(notify::ChatOptions{}, clock_);
    http_ = std::make_unique<httpc::Client>();
    runner::EngineDeps deps;
    deps.store = store_.get();
    deps.rules = &rules_;
    deps.api = docspace_.get();
    deps.mailer = mailer_.get();
    deps.chat = chat_.get();
    deps.http = http_.get();
    for (const auto& [name, channel] : config_.chat_channels) {
        runner::ChatEndpoint endpoint;
        // The config accepts only the three kinds (service_config.cpp), so the fallback never applies.
        endpoint.kind = runner::ChatKindOf(channel.kind).value_or(notify::ChatKind::kGeneric);
        endpoint.url = channel.url;
        notify::RegisterWebhookUrl(endpoint.kind, endpoint.url);
        deps.chat_channels.emplace(name, std::move(endpoint));
    }
    deps.metrics = &metrics_;
    deps.clock = &clock_;
    deps.random = &random_;
    engine_ = std::make_unique<runner::Engine>(std::move(deps), EngineOptionsFrom(config_));
    engine_->Start();
    log::Info(kComponent, "automation running",
              {{"rules", static_cast<int>(rules_.rules().size())},
               {"workers", config_.runner.workers},
               {"portal", config_.docspace.api_host},
               {"mail", mailer_ ? "smtp" : "off"},
               {"rate_limit", shared_limit ? "shared by replicas (store)" : "this process"}});
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
    // Between the two: in-flight deliveries reached the journal, and the engine still has its store.
    if (engine_) engine_->Stop(config_.runner.shutdown_grace);
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
