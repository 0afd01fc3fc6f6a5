#pragma once

// The --store / --config pair of the commands that work on the store from the command line (events,
// runs, dlq, replay): --store wins, else the `store` setting of the --config files (the files `serve`
// reads, so the command finds serve's store from any directory), else sqlite:spacehook.db. These
// commands never create a store: a SQLite file that is not there is an error naming it, not a new
// empty journal that answers "no events" (a typo in a path must not look like an empty queue).
// Header-only so each cmd_<name>.cpp stays self-contained.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/service_config.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "store/store.hpp"

namespace spacehook::app {

struct StoreArgs {
    std::string store;
    std::vector<std::string> configs;
};

inline void AddStoreOptions(CLI::App* cmd, StoreArgs& args) {
    cmd->add_option("--store", args.store,
                    "sqlite:PATH or postgres://... (default: the config's store, else sqlite:spacehook.db)");
    cmd->add_option("--config", args.configs,
                    "Config file(s) or directories `serve` reads, to find its store (e.g. /etc/spacehook)")
        ->check(CLI::ExistingPath);
}

inline Result<std::unique_ptr<store::Store>> OpenStoreFrom(const StoreArgs& args) {
    // The store's informational lines ("opened SQLite store") are noise around a command's output.
    log::Configure(log::Level::kWarn, log::Format::kText);
    std::string url = args.store;
    std::string origin = "--store";
    if (url.empty() && !args.configs.empty()) {
        auto config = config::LoadServiceConfig(args.configs, config::ProcessEnv());
        if (!config) return Fail(config.error());
        for (const auto& secret : config->SecretValues()) log::RegisterSecret(secret);
        url = config->store_url;
        origin = "the `store` setting of --config";
    }
    if (url.empty()) {
        url = "sqlite:spacehook.db";
        origin = "the default, with neither --store nor --config";
    }
    constexpr std::string_view kSqlite = "sqlite:";
    if (url.starts_with(kSqlite)) {
        const std::filesystem::path path(url.substr(kSqlite.size()));
        std::error_code ec;
        if (!path.empty() && !std::filesystem::exists(path, ec)) {
            const auto absolute = std::filesystem::absolute(path, ec);
            return Fail(ErrorCode::kNotFound,
                        fmt::format("no store at {}{} (from {}); store commands never create one. Point at "
                                    "the one `serve` uses: --config with serve's config files (e.g. "
                                    "--config /etc/spacehook), or --store sqlite:PATH",
                                    path.string(),
                                    path.is_absolute() || ec ? "" : " (" + absolute.string() + ")", origin));
        }
    }
    return store::OpenStore(url, store::StoreOptions{}, SystemClock::Instance());
}

/// Said by every command that changes the queue: `serve` in another process gets no wake-up from it.
inline constexpr char kPickedUpNote[] =
    "A running `spacehook serve` on the same store picks the change up within a second (its workers poll; "
    "wake-ups do not cross processes).";

}  // namespace spacehook::app
