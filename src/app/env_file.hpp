#pragma once
// `--env-file FILE`: the commands an operator runs beside the service (doctor, check, subscribe) read
// the same KEY=VALUE file the unit's EnvironmentFile= names (/etc/spacehook/env), so they see what
// `serve` sees without the secrets being exported into a shell.

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace spacehook::app {

/// Reads `path` the way systemd's EnvironmentFile= does, as far as spacehook's files need: one
/// KEY=VALUE per line, blank lines and lines starting with # or ; ignored, whitespace around the key
/// and the value trimmed, one pair of matching quotes ('...' or "...") around the value removed. Each
/// variable is set in this process's environment unless the environment already has it (the caller's
/// own setting wins, as on a command line). kConfig naming path:line for a line that is not KEY=VALUE;
/// values never appear in messages.
Status LoadEnvironmentFile(const std::string& path);

/// Adds `--env-file FILE` (repeatable) to `cmd`; call ApplyEnvironmentFiles before loading the config.
void AddEnvFileOption(CLI::App* cmd, std::vector<std::string>& files);
Status ApplyEnvironmentFiles(const std::vector<std::string>& files);

}  // namespace spacehook::app
