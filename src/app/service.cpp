#include "app/service.hpp"

#include <fmt/format.h>

#include "app/build_info.hpp"
#include "app/docspace_options.hpp"
#include "app/mail_options.hpp"
#include "core/log.hpp"
#include "core/metrics_process.hpp"
#include "notify/smtp_mailer.hpp"
#include "rules/explain.hpp"
#include "rules/rule_summary.hpp"
#include "steps/catalog.hpp"
#include "watch/watch_status.hpp"

namespace spacehook::app {

namespace {
constexpr std::string_view kComponent = "serve";

/// The portal's call limit held in the shared store: replicas on one PostgreSQL draw from one bucket, so
/// N replicas do not send N times the rate the portal allows its API user, and a 429 one of them gets
/// pauses all (docs/replicas.md).
std::shared_ptr<docspace::CallLimiter> StoreBackedLimiter(const docspace::ClientOptions& options,
                                                          store::RateLimits& store) {
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
    options.max_connections_per_peer = server.max_connections_per_peer;
    // A reverse proxy speaks for many clients from one address, and so does a proxy on this host.
    options.uncapped_peers = server.trusted_proxies;
    options.uncapped_peers.insert(options.uncapped_peers.end(), {"127.0.0.1", "::1"});
    options.body_memory_limit = server.body_memory_limit;
    options.threads = server.threads;
    if (server.tls)
        options.tls = http::TlsOptions{server.tls->certificate_file, server.tls->private_key_file};
    return options;
}

http::ServerOptions AdminServerOptionsFrom(const config::ServiceConfig& config) {
    http::ServerOptions options;
    options.host = config.admin.host;
    options.port = config.admin.port;
    options.header_timeout = config.server.header_timeout;
    options.body_timeout = config.server.body_timeout;
    options.idle_timeout = config.server.idle_timeout;
    // Operators and a scraper, not the internet: a few connections are plenty.
    options.max_connections = 64;
    options.threads = 1;
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
    options.max_per_dependency = r.max_per_dependency;
    return options;
}

Service::Service(config::ServiceConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock) {}

Service::~Service() {
    Stop();
}

Status Service::Start() {
    auto compiled = CompileRules(config_, !config_.docspace.api_host.empty(), !config_.mail.smtp_url.empty());
    if (!compiled) return Fail(compiled.error());
    rules_ = std::make_unique<runner::LiveRules>(std::move(*compiled));
    if (auto mailer = PrepareMailer(); !mailer) return mailer;
    if (auto alerts = CheckAlerts(); !alerts) return alerts;

    store::StoreOptions store_options;
    store_options.durable = true;  // "acked means stored": a 2xx is sent only after an fsync'd commit
    store_options.lease = config_.runner.lease;  // a crashed worker's runs are taken over after this
    auto opened = store::OpenStore(config_.store_url, store_options, clock_);
    if (!opened) return Fail(opened.error());
    store_ = std::move(*opened);

    webhook_ =
        std::make_unique<ingress::WebhookHandler>(WebhookOptionsFrom(config_), *store_, metrics_, clock_);
    admin::AdminOptions admin_options{config_.admin.token};
    admin_options.status = [this] {
        return watch::StatusJson(*store_, *store_, clock_.Now(),
                                 fmt::format("{} ({})", BuildVersion(), BuildCommit()));
    };
    // The live set: after a reload the rules view shows what new events are planned with.
    admin_options.rules = [this] { return rules::RuleSummariesJson(*rules_->Current()); };
    // Without facts, as `test-rule` without --facts: a condition on a fact the portal would be asked
    // for shows as undecided.
    admin_options.explain = [this](std::string_view body) -> Result<std::string> {
        auto event = rules::ParseEventBody(body);
        if (!event) return Fail(event.error());
        return rules::ExplainEvent(*rules_->Current(), *event, rules::Facts{});
    };
    admin_ = std::make_unique<admin::AdminApi>(std::move(admin_options), *store_, metrics_, clock_);
    // The portal reaches the webhook listener, so it answers nothing an operator's tools need.
    http::Router webhook_router;
    webhook_->Register(webhook_router, config_.server.webhook_path);
    admin::AdminApi::RegisterHealthz(webhook_router);
    http::Router admin_router;
    admin_->Register(admin_router);

    server_ = std::make_unique<http::Server>(ServerOptionsFrom(config_), webhook_router.AsHandler());
    admin_server_ = std::make_unique<http::Server>(AdminServerOptionsFrom(config_), admin_router.AsHandler());
    Status started = server_->Start();
    if (started) {
        started = admin_server_->Start();
        if (!started) {
            started = Fail(ErrorCode::kUnavailable, "admin.listen: " + started.error().message +
                                                        " (another spacehook on this machine? "
                                                        "give each its own admin.listen port)");
            server_->Stop(std::chrono::milliseconds(0));
        }
    }
    if (!started) {
        admin_server_.reset();
        server_.reset();
        store_->Close();
        return started;
    }
    RegisterServerCounters("webhook", *server_);
    RegisterServerCounters("admin", *admin_server_);
    RegisterProcessMetrics(metrics_);
    RegisterBuildInfo(metrics_, std::string(BuildVersion()), std::string(BuildCommit()));
    running_ = true;
    log::Info(kComponent, "listening",
              {{"host", config_.server.host},
               {"port", static_cast<int>(server_->port())},
               {"webhook_path", config_.server.webhook_path},
               {"admin", fmt::format("{}:{}", config_.admin.host, admin_server_->port())},
               {"store", store::RedactStoreUrl(config_.store_url)},
               {"secrets", static_cast<int>(config_.webhook.secrets.size())},
               {"version", fmt::format("{} ({})", BuildVersion(), BuildCommit())}});
    StartEngine();
    return Ok();
}

Result<std::shared_ptr<const rules::CompiledRules>> Service::CompileRules(const config::ServiceConfig& config,
                                                                          bool portal, bool smtp) const {
    rules::CompileOptions options;
    // Chat channels change only at a restart, so rules are checked against the running ones.
    options.chat_channels.emplace();
    for (const auto& [name, channel] : config_.chat_channels) options.chat_channels->insert(name);
    auto compiled = rules::Compile(config.documents, steps::Kinds(), options);
    if (!compiled) return Fail(compiled.error());

    std::string mail_rule;
    for (const auto& rule : compiled->rules()) {
        if (!rule.enabled) continue;
        for (const auto& step : rule.steps) {
            if (step.kind->name() == "mail" && mail_rule.empty()) mail_rule = rule.name;
        }
    }
    if (compiled->HasEnabledRules() && !portal) {
        return Fail(ErrorCode::kConfig,
                    "the rules act on a DocSpace portal, but none is set: set docspace.api_host / "
                    "DOCSPACE_API_HOST (and the API key), or disable the rules");
    }
    if (!mail_rule.empty() && !smtp) {
        return Fail(ErrorCode::kConfig, fmt::format("rule {} sends mail, but no SMTP server is set: set "
                                                    "mail.smtp_url / SMTP_URL (and MAIL_FROM)",
                                                    mail_rule));
    }
    return std::make_shared<const rules::CompiledRules>(std::move(*compiled));
}

Status Service::PrepareMailer() {
    if (config_.mail.smtp_url.empty()) return Ok();
    auto mailer = notify::SmtpMailer::Create(SmtpOptionsFrom(config_.mail), clock_);
    if (!mailer) return Fail(mailer.error());
    mailer_ = std::move(*mailer);
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
    // What rules aim (http and chat steps) never reaches the admin API, which trusts loopback, and
    // reaches internal addresses only where outbound.allow says (docs/configuration.md "outbound").
    OutboundPolicy outbound;
    outbound.allow = config_.outbound.allow;
    outbound.own_listeners.push_back({config_.admin.host, admin_server_->port()});
    auto guard = OutboundGuard::Create(outbound);
    if (!guard) {  // the entries were checked when the config was loaded: refuse every internal one
        log::Error(kComponent, "outbound.allow not applied", {{"error", guard.error().message}});
        outbound.allow.clear();
        guard = OutboundGuard::Create(outbound);
    }
    notify::ChatOptions chat_options;
    chat_options.guard = *guard;
    chat_ = std::make_unique<notify::ChatPoster>(chat_options, clock_);
    httpc::ClientOptions http_options;
    http_options.guard = *guard;
    http_ = std::make_unique<httpc::Client>(http_options);
    runner::EngineDeps deps;
    deps.store = store_.get();
    deps.live_rules = rules_.get();
    deps.api = docspace_.get();
    deps.mailer = mailer_.get();
    deps.chat = chat_.get();
    deps.http = http_.get();
    for (const auto& [name, channel] : config_.chat_channels) {
        steps::ChatEndpoint endpoint;
        // The config accepts only the three kinds (service_config.cpp), so the fallback never applies.
        endpoint.kind = steps::ChatKindOf(channel.kind).value_or(notify::ChatKind::kGeneric);
        endpoint.url = channel.url;
        notify::RegisterWebhookUrl(endpoint.kind, endpoint.url);
        deps.chat_channels.emplace(name, std::move(endpoint));
    }
    deps.metrics = &metrics_;
    deps.clock = &clock_;
    deps.random = &random_;
    engine_ = std::make_unique<runner::Engine>(std::move(deps), EngineOptionsFrom(config_));
    engine_->Start();
    StartWatcher();
    log::Info(kComponent, "automation running",
              {{"rules", static_cast<int>(rules_->Current()->rules().size())},
               {"workers", config_.runner.workers},
               {"portal", config_.docspace.api_host},
               {"mail", mailer_ ? "smtp" : "off"},
               {"rate_limit", shared_limit ? "shared by replicas (store)" : "this process"}});
}

std::uint16_t Service::port() const {
    return server_ ? server_->port() : 0;
}

std::uint16_t Service::admin_port() const {
    return admin_server_ ? admin_server_->port() : 0;
}

void Service::Stop(std::chrono::milliseconds drain) {
    if (!running_) return;
    running_ = false;
    log::Info(kComponent, "shutting down: refusing new deliveries, draining requests in flight");
    webhook_->StopAccepting();
    server_->Stop(drain);
    // Between the two: in-flight deliveries reached the journal, and the engine still has its store.
    if (watcher_) watcher_->Stop();
    if (engine_) engine_->Stop(config_.runner.shutdown_grace);
    if (alerts_) {
        alerts_->WaitIdle(std::chrono::seconds(2));  // a last alert, if it goes through at once
        alerts_->Stop();
    }
    // The admin routes answer until the work is done (a scrape during the drain sees it).
    admin_server_->Stop(std::chrono::seconds(1));
    store_->Close();
    log::Info(kComponent, "stopped");
}

void Service::RegisterServerCounters(const char* listener, const http::Server& server) {
    // Scrape-time views of a server's own counters. Bodies over server.body_limit are answered 413 by
    // the server before routing, so they show here (limit_rejections), not in spacehook_deliveries_total.
    const http::Server* source = &server;
    const Labels labels = {{"listener", listener}};
    auto counter = [&](const char* name, const char* help, auto field) {
        metrics_.AddCounterCallback(
            name, help, [source, field] { return static_cast<double>(source->Stats().*field); }, labels);
    };
    metrics_.AddGaugeCallback(
        "spacehook_http_connections_active", "Open client connections",
        [source] { return static_cast<double>(source->Stats().active_connections); }, labels);
    counter("spacehook_http_connections_accepted_total", "Connections accepted",
            &http::ServerStats::connections_accepted);
    counter("spacehook_http_connections_rejected_total",
            "Connections refused with 503 (the server full of busy connections, or the peer at its "
            "max_connections_per_peer)",
            &http::ServerStats::connections_rejected);
    counter("spacehook_http_connections_rejected_per_peer_total",
            "Of those, refused for max_connections_per_peer",
            &http::ServerStats::connections_rejected_per_peer);
    counter("spacehook_http_connections_evicted_idle_total",
            "Idle keep-alive connections closed at max_connections to admit a new one",
            &http::ServerStats::connections_evicted_idle);
    counter("spacehook_http_connections_evicted_slow_total",
            "Connections closed at max_connections because their request was still unsent after 2 s",
            &http::ServerStats::connections_evicted_slow);
    metrics_.AddGaugeCallback(
        "spacehook_http_body_memory_bytes", "Bytes of request bodies held now (of server.body_memory_limit)",
        [source] { return static_cast<double>(source->Stats().body_memory_in_use); }, labels);
    counter("spacehook_http_body_memory_rejections_total",
            "Request bodies answered 503 because server.body_memory_limit was in use",
            &http::ServerStats::body_memory_rejections);
    counter("spacehook_http_requests_total", "Complete requests handed to a handler",
            &http::ServerStats::requests);
    counter("spacehook_http_timeouts_total", "Connections closed by a header/body/write deadline",
            &http::ServerStats::timeouts);
    counter("spacehook_http_limit_rejections_total", "Requests refused for size (413 body, 431 headers)",
            &http::ServerStats::limit_rejections);
    counter("spacehook_http_handler_timeouts_total", "Requests answered 503 because no answer came in time",
            &http::ServerStats::handler_timeouts);
}

}  // namespace spacehook::app
