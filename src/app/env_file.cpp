#include "app/env_file.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>

#include "core/text.hpp"

namespace spacehook::app {

namespace {

bool IsVariableName(std::string_view name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
    for (const char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    }
    return true;
}

}  // namespace

Status LoadEnvironmentFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) return Fail(ErrorCode::kConfig, fmt::format("{}: cannot read the environment file", path));
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        const std::string_view text = Trim(line);
        if (text.empty() || text.front() == '#' || text.front() == ';') continue;
        const auto equals = text.find('=');
        const std::string_view name = equals == std::string_view::npos ? text : Trim(text.substr(0, equals));
        if (equals == std::string_view::npos || !IsVariableName(name)) {
            return Fail(
                ErrorCode::kConfig,
                fmt::format("{}:{}: expected KEY=VALUE with KEY of letters, digits and _", path, number));
        }
        std::string_view value = Trim(text.substr(equals + 1));
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front()) {
            value = value.substr(1, value.size() - 2);
        }
        const std::string key(name);
        if (std::getenv(key.c_str()) != nullptr) continue;
        if (::setenv(key.c_str(), std::string(value).c_str(), 0) != 0) {
            return Fail(ErrorCode::kConfig, fmt::format("{}:{}: cannot set {}", path, number, key));
        }
    }
    return Ok();
}

void AddEnvFileOption(CLI::App* cmd, std::vector<std::string>& files) {
    cmd->add_option("--env-file", files,
                    "KEY=VALUE file read into the environment first, like the unit's EnvironmentFile= "
                    "(e.g. /etc/spacehook/env); the environment wins")
        ->check(CLI::ExistingFile);
}

Status ApplyEnvironmentFiles(const std::vector<std::string>& files) {
    for (const auto& file : files) {
        if (auto loaded = LoadEnvironmentFile(file); !loaded) return loaded;
    }
    return Ok();
}

}  // namespace spacehook::app
