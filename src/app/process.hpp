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

/// SIGTERM and SIGINT, and SIGHUP, blocked in the calling thread and every thread started after it, so
/// that only Wait() / Next() receive them. Construct it first in the command, before any thread exists.
/// SIGHUP is taken too: its default action kills the process (exit 129, no log line), which is the last
/// thing `systemctl reload` or a closed terminal should do.
class StopSignals {
public:
    StopSignals();
    /// Blocks until SIGTERM or SIGINT arrives and logs which one, under `component`. A SIGHUP meanwhile is
    /// logged as ignored.
    void Wait(std::string_view component) const;

    enum class Received { kStop, kReload };
    /// Blocks until SIGTERM or SIGINT (kStop, logged under `component`) or SIGHUP (kReload).
    [[nodiscard]] Received Next(std::string_view component) const;

private:
    sigset_t set_{};
};

/// Writes {"port", "pid"} plus `extra`'s fields to `path`, atomically (written beside it, then renamed),
/// so a reader never sees half a file.
Status WriteReadyFile(const std::string& path, std::uint16_t port, const Json& extra = Json::object());

}  // namespace spacehook::app
