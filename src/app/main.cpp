#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>

#include "app/build_info.hpp"
#include "app/command.hpp"

namespace spacehook::app {

CommandRegistration::CommandRegistration(std::string name, std::function<void(CLI::App&)> add) {
    CommandRegistry().push_back({std::move(name), std::move(add)});
}

std::vector<RegisteredCommand>& CommandRegistry() {
    static std::vector<RegisteredCommand> registry;
    return registry;
}

namespace {
std::atomic<int> g_exit_code{0};
}

void SetExitCode(int code) {
    g_exit_code = code;
}
int ExitCode() {
    return g_exit_code;
}

}  // namespace spacehook::app

int main(int argc, char** argv) {
    CLI::App app{"spacehook: reliable automations for ONLYOFFICE DocSpace webhooks"};
    app.require_subcommand(1);
    app.set_version_flag("--version", fmt::format("spacehook {} (commit {})", spacehook::app::BuildVersion(),
                                                  spacehook::app::BuildCommit()));
    auto& registry = spacehook::app::CommandRegistry();
    std::sort(registry.begin(), registry.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    for (const auto& command : registry) command.add(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    return spacehook::app::ExitCode();
}
