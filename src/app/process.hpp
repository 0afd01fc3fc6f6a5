#pragma once
// What the long-running subcommands (serve, emulator) share about being a process: stop signals taken
// by one thread, and the ready file that tests, the demo and supervisors wait for.

#include <csignal>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/json.hpp"

namespace spacehook::app {

/// SIGTERM and SIGINT, blocked in the calling thread and every thread started after it, so that only
/// Wait() receives them. Construct it first in the command, before any thread exists.
class StopSignals {
public:
    StopSignals();
    /// Blocks until SIGTERM or SIGINT arrives and logs which one, under `component`.
    void Wait(std::string_view component) const;

private:
    sigset_t set_{};
};

/// Writes {"port", "pid"} plus `extra`'s fields to `path`, atomically (written beside it, then renamed),
/// so a reader never sees half a file.
Status WriteReadyFile(const std::string& path, std::uint16_t port, const Json& extra = Json::object());

}  // namespace spacehook::app
