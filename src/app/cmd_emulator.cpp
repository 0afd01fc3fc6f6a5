// `spacehook emulator`: an in-memory DocSpace portal (REST API, webhook sender, fault injection) for
// tests, the demo and development without a real portal. docs/emulator.md is the user's guide.
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/command.hpp"
#include "app/process.hpp"
#include "config/service_config.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "emulator/emulator.hpp"
#include "httpc/client.hpp"

namespace spacehook::app {
namespace {

constexpr std::string_view kComponent = "emulator";

struct EmulatorArgs {
    std::string listen = "127.0.0.1:0";
    std::string seed;
    double retry_base = 1.0;
    bool ssrf_guard = false;
    std::string ready_file;
    std::string public_url;
    std::string control_token;
    int operation_delay_ms = 100;
    std::string log_level = "info";
    std::string ca_file;
};

int RunEmulator(const EmulatorArgs& args) {
    const StopSignals stop_signals;  // before any thread starts

    log::Level level = log::Level::kInfo;
    if (!log::ParseLevel(args.log_level, level)) {
        std::cerr << "spacehook emulator: --log-level must be debug, info, warn or error\n";
        return 2;
    }
    log::Configure(level, log::Format::kText);

    auto listen = config::ParseListen(args.listen);
    if (!listen) {
        std::cerr << "spacehook emulator: --listen: " << listen.error().message << "\n";
        return 2;
    }
    if (args.retry_base < 0 || args.operation_delay_ms < 0) {
        std::cerr << "spacehook emulator: --retry-base and --operation-delay-ms must not be negative\n";
        return 2;
    }
    httpc::GlobalInit();

    emulator::Options options;
    options.host = listen->first;
    options.port = listen->second;
    options.seed_file = args.seed;
    options.retry_base_seconds = args.retry_base;
    options.ssrf_guard = args.ssrf_guard;
    options.public_base_url = args.public_url;
    options.control_token = args.control_token;
    options.operation_delay = std::chrono::milliseconds(args.operation_delay_ms);
    options.ca_file = args.ca_file;
    if (!args.control_token.empty()) log::RegisterSecret(args.control_token);

    emulator::Emulator portal(options);
    if (auto started = portal.Start(); !started) {
        log::Error(kComponent, "cannot start", {{"error", started.error().message}});
        return started.error().code == ErrorCode::kConfig ? 2 : 1;
    }
    if (!args.ready_file.empty()) {
        if (auto written = WriteReadyFile(args.ready_file, portal.port(),
                                          Json{{"admin_api_key", portal.admin_api_key()}});
            !written) {
            log::Error(kComponent, "cannot write the ready file", {{"error", written.error().message}});
            portal.Stop();
            return 1;
        }
    }
    stop_signals.Wait(kComponent);
    portal.Stop();
    return 0;
}

void AddEmulatorCommand(CLI::App& app) {
    auto args = std::make_shared<EmulatorArgs>();
    auto* cmd =
        app.add_subcommand("emulator", "Run an in-memory DocSpace portal (REST API, webhooks, faults)");
    cmd->add_option("--listen", args->listen, "HOST:PORT to listen on (default 127.0.0.1:0 = a free port)");
    cmd->add_option("--seed", args->seed, "Seed fixture (YAML or JSON); default: the built-in portal")
        ->check(CLI::ExistingFile);
    cmd->add_option("--retry-base", args->retry_base,
                    "Webhook retry backoff base in seconds: waits are base x 1,2,4,8,16 (DocSpace: 1)");
    cmd->add_flag("--ssrf-guard", args->ssrf_guard,
                  "Refuse private/loopback webhook URLs and http with ssl=true, as DocSpace 3.7 does");
    cmd->add_option("--ready-file", args->ready_file,
                    "Write {\"port\": N, \"pid\": P, \"admin_api_key\": K} here once listening");
    cmd->add_option("--public-url", args->public_url,
                    "Base URL used in webUrl and links (default: the listen URL)");
    cmd->add_option("--control-token", args->control_token, "Require X-Emulator-Token on /__emulator/*");
    cmd->add_option("--ca-file", args->ca_file,
                    "CA bundle trusted for webhooks with ssl=true (default: the system's)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--operation-delay-ms", args->operation_delay_ms,
                    "How long a copy/move operation runs before it completes (default 100)");
    cmd->add_option("--log-level", args->log_level, "debug, info, warn or error");
    cmd->callback([args] { SetExitCode(RunEmulator(*args)); });
}

}  // namespace

SPACEHOOK_COMMAND("emulator", AddEmulatorCommand);

}  // namespace spacehook::app
