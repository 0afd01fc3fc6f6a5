// `spacehook serve`: the webhook receiver, the admin API and the automation runner (docs/runner.md), in one
// process.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "app/command.hpp"
#include "app/process.hpp"
#include "app/service.hpp"
#include "config/service_config.hpp"
#include "core/json.hpp"
#include "core/log.hpp"

namespace spacehook::app {

namespace {

constexpr std::string_view kComponent = "serve";

struct ServeArgs {
    std::vector<std::string> configs;
    std::string listen;
    std::string store;
    bool insecure_no_signature = false;
    std::string ready_file;
    std::string log_format;
};

int RunServe(const ServeArgs& args) {
    const StopSignals stop_signals;  // before any thread starts

    auto loaded = config::LoadServiceConfig(args.configs, config::ProcessEnv());
    if (!loaded) {
        std::cerr << "spacehook serve: " << log::Redact(loaded.error().message) << "\n";
        return 2;
    }
    config::ServiceConfig config = std::move(*loaded);
    // Before the first log line: any secret that slips into a message is redacted from here on.
    for (const auto& secret : config.SecretValues()) log::RegisterSecret(secret);

    if (!args.listen.empty()) {
        auto listen = config::ParseListen(args.listen);
        if (!listen) {
            std::cerr << "spacehook serve: --listen: " << listen.error().message << "\n";
            return 2;
        }
        config.server.host = listen->first;
        config.server.port = listen->second;
    }
    if (!args.store.empty()) config.store_url = args.store;
    if (args.insecure_no_signature) config.webhook.allow_unsigned = true;
    if (!args.log_format.empty()) config.log.format = args.log_format;

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
        if (auto written = WriteReadyFile(args.ready_file, service.port()); !written) {
            log::Error(kComponent, "cannot write the ready file", {{"error", written.error().message}});
            service.Stop();
            return 1;
        }
    }

    stop_signals.Wait(kComponent);
    service.Stop();
    return 0;
}

void AddServeCommand(CLI::App& app) {
    auto args = std::make_shared<ServeArgs>();
    auto* cmd = app.add_subcommand(
        "serve",
        "Receive DocSpace webhooks, journal them durably, run the rules' steps against the "
        "portal, serve admin routes. SIGTERM: stop taking deliveries, let running steps "
        "finish (runner.shutdown_grace), exit; unfinished runs resume at the next start");
    cmd->add_option("--config", args->configs, "YAML config file; repeat to merge several (later files win)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--listen", args->listen,
                    "HOST:PORT to listen on (default 0.0.0.0:3000; PORT env sets the port)");
    cmd->add_option("--store", args->store, "sqlite:PATH or postgres://... (default sqlite:spacehook.db)");
    cmd->add_flag("--insecure-no-signature", args->insecure_no_signature,
                  "Accept deliveries without a signature (logs a warning at every start)");
    cmd->add_option("--ready-file", args->ready_file, "Write {\"port\": N, \"pid\": P} here once listening");
    cmd->add_option("--log-format", args->log_format, "text or json (JSON lines)")
        ->check(CLI::IsMember({"text", "json"}));
    cmd->callback([args] { SetExitCode(RunServe(*args)); });
}

}  // namespace

SPACEHOOK_COMMAND("serve", AddServeCommand);

}  // namespace spacehook::app
