#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace spacehook::app {

/// A subcommand registers itself from its own cmd_<name>.cpp with SPACEHOOK_COMMAND, so adding a
/// command never edits main.cpp. `add` creates the CLI11 subcommand and sets its callback; the callback
/// stores its exit code with SetExitCode.
struct CommandRegistration {
    CommandRegistration(std::string name, std::function<void(CLI::App&)> add);
};

struct RegisteredCommand {
    std::string name;
    std::function<void(CLI::App&)> add;
};
std::vector<RegisteredCommand>& CommandRegistry();

/// The process exit code a command's callback chose (default 0).
void SetExitCode(int code);
int ExitCode();

}  // namespace spacehook::app

#define SPACEHOOK_COMMAND_CAT2(a, b) a##b
#define SPACEHOOK_COMMAND_CAT(a, b) SPACEHOOK_COMMAND_CAT2(a, b)
/// SPACEHOOK_COMMAND("serve", AddServeCommand);
#define SPACEHOOK_COMMAND(name, fn)                                                                         \
    static const ::spacehook::app::CommandRegistration SPACEHOOK_COMMAND_CAT(spacehook_command_, __LINE__)( \
        name, fn)
