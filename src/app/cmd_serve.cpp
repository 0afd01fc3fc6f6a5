// `spacehook serve`: the webhook receiver, the admin API and the automation runner (docs/runner.md), in one
// process.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "app/command.hpp"
#include "app/process.hpp"
#include "app/service.hpp"
#include "app/systemd_notify.hpp"
#include "config/service_config.hpp"
#include "core/json.hpp"
#include "core/log.hpp"

namespace spacehook::app {

namespace {

constexpr std::string_view kComponent = "serve";

struct ServeArgs {
    std::vector<std::string> configs;
    std::string listen;
    std::string admin_listen;
    std::string store;
    bool insecure_no_signature = false;
    std::string ready_file;
    std::string log_format;
};

/// The configuration files, the environment and the command line's overrides, as at start and at every
/// reload (so a reload never undoes --listen or --store).
Result<config::ServiceConfig> LoadConfig(const ServeArgs& args) {
    auto loaded = config::LoadServiceConfig(args.configs, config::ProcessEnv());
    if (!loaded) return Fail(loaded.error());
    config::ServiceConfig config = std::move(*loaded);
    if (!args.listen.empty()) {
        auto listen = config::ParseListen(args.listen);
        if (!listen) return Fail(ErrorCode::kConfig, "--listen: " + listen.error().message);
        config.server.host = listen->first;
        config.server.port = listen->second;
    }
    if (!args.admin_listen.empty()) {
        auto listen = config::ParseListen(args.admin_listen);
        if (!listen) return Fail(ErrorCode::kConfig, "--admin-listen: " + listen.error().message);
        config.admin.host = listen->first;
        config.admin.port = listen->second;
    }
    if (!args.store.empty()) config.store_url = args.store;
    if (args.insecure_no_signature) config.webhook.allow_unsigned = true;
    if (!args.log_format.empty()) config.log.format = args.log_format;
    return config;
}

std::string Joined(const std::vector<std::string>& names) {
    return names.empty() ? "-" : fmt::format("{}", fmt::join(names, ", "));
}

std::string ReadyStatus(const Service& service) {
    return fmt::format("receiving on {}:{}, admin on {}:{}", service.config().server.host, service.port(),
                       service.config().admin.host, service.admin_port());
}

/// SIGHUP: reload, or keep everything as it runs and say why not.
void ReloadOnSignal(const ServeArgs& args, Service& service, MetricsRegistry& metrics) {
    NotifyReloading();
    log::Info(kComponent, "SIGHUP: reloading the configuration and rules");
    auto refuse = [&](const Error& error) {
        metrics
            .GetCounter("spacehook_config_reloads_total", "Configuration reloads (SIGHUP), by outcome",
                        {{"outcome", "refused"}})
            .Inc();
        log::Error(kComponent, "reload refused; the running configuration and rules stay",
                   {{"error", log::Redact(error.message)}});
        NotifyReady(ReadyStatus(service) + "; last reload refused: " + log::Redact(error.message));
    };
    auto fresh = LoadConfig(args);
    if (!fresh) return refuse(fresh.error());
    auto report = service.Reload(std::move(*fresh));
    if (!report) return refuse(report.error());
    metrics
        .GetCounter("spacehook_config_reloads_total", "Configuration reloads (SIGHUP), by outcome",
                    {{"outcome", "applied"}})
        .Inc();
    log::Info(kComponent, "configuration reloaded; events dispatched from now on use the new rules",
              {{"rules", report->rules},
               {"added", Joined(report->added)},
               {"changed", Joined(report->changed)},
               {"removed", Joined(report->removed)}});
    if (!report->restart_only.empty()) {
        log::Warn(kComponent,
                  "these settings changed but take effect only at the next restart; the running values stay",
                  {{"settings", Joined(report->restart_only)}});
    }
    NotifyReady(ReadyStatus(service) + "; configuration reloaded");
}

int RunServe(const ServeArgs& args) {
    const StopSignals signals;  // before any thread starts

    auto loaded = LoadConfig(args);
    if (!loaded) {
        std::cerr << "spacehook serve: " << log::Redact(loaded.error().message) << "\n";
        return 2;
    }
    config::ServiceConfig config = std::move(*loaded);
    // Before the first log line: any secret that slips into a message is redacted from here on.
    for (const auto& secret : config.SecretValues()) log::RegisterSecret(secret);

    log::Level level = log::Level::kInfo;
    if (!log::ParseLevel(config.log.level, level)) {
        std::cerr << "spacehook serve: log.level must be debug, info, warn or error\n";
        return 2;
    }
    log::Configure(level, config.log.format == "json" ? log::Format::kJson : log::Format::kText);

    if (config.webhook.secrets.empty() && !config.webhook.allow_unsigned) {
        log::Error(
            kComponent,
            "no webhook secret configured: set DOCSPACE_WEBHOOK_SECRET or webhook.secret(s) in the config; "
            "to accept unsigned deliveries anyway pass --insecure-no-signature");
        return 2;
    }
    if (config.webhook.allow_unsigned) {
        // Every start, so it cannot scroll out of sight for good.
        log::Warn(
            kComponent,
            config.webhook.secrets.empty()
                ? "INSECURE: no webhook secret; every delivery is accepted without a signature check"
                : "INSECURE: deliveries without a signature header are accepted (webhook.allow_unsigned)");
    }
    if (config.admin.token.empty()) {
        log::Info(kComponent,
                  "admin API open to local requests only (set SPACEHOOK_ADMIN_TOKEN for remote use)");
    }

    Service service(std::move(config));
    if (auto started = service.Start(); !started) {
        log::Error(kComponent, "cannot start", {{"error", started.error().message}});
        return 1;
    }
    if (!args.ready_file.empty()) {
        if (auto written =
                WriteReadyFile(args.ready_file, service.port(), Json{{"admin_port", service.admin_port()}});
            !written) {
            log::Error(kComponent, "cannot write the ready file", {{"error", written.error().message}});
            service.Stop();
            return 1;
        }
    }
    NotifyReady(ReadyStatus(service));

    while (signals.Next(kComponent) == StopSignals::Received::kReload) {
        ReloadOnSignal(args, service, service.metrics());
    }
    NotifyStopping();
    service.Stop();
    return 0;
}

void AddServeCommand(CLI::App& app) {
    auto args = std::make_shared<ServeArgs>();
    auto* cmd = app.add_subcommand(
        "serve",
        "Receive DocSpace webhooks, journal them durably, run the rules' steps against the "
        "portal, serve admin routes. SIGHUP: reload the configuration and rules (a broken set keeps "
        "the running one). SIGTERM: stop taking deliveries, let running steps finish "
        "(runner.shutdown_grace), exit; unfinished runs resume at the next start");
    cmd->add_option("--config", args->configs,
                    "YAML config file, or a directory of them (its *.yaml in name order); repeat to merge "
                    "several (later files win)")
        ->check(CLI::ExistingPath);
    cmd->add_option("--listen", args->listen,
                    "HOST:PORT of the webhook listener (default 0.0.0.0:3000; PORT env sets the port)");
    cmd->add_option("--admin-listen", args->admin_listen,
                    "HOST:PORT of the admin listener: /metrics, /readyz, /admin (default 127.0.0.1:9464)");
    cmd->add_option("--store", args->store, "sqlite:PATH or postgres://... (default sqlite:spacehook.db)");
    cmd->add_flag("--insecure-no-signature", args->insecure_no_signature,
                  "Accept deliveries without a signature (logs a warning at every start)");
    cmd->add_option("--ready-file", args->ready_file,
                    "Write {\"port\": N, \"admin_port\": M, \"pid\": P} here once listening");
    cmd->add_option("--log-format", args->log_format, "text or json (JSON lines)")
        ->check(CLI::IsMember({"text", "json"}));
    cmd->callback([args] { SetExitCode(RunServe(*args)); });
}

}  // namespace

SPACEHOOK_COMMAND("serve", AddServeCommand);

}  // namespace spacehook::app
