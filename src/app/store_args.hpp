#pragma once

// The --store / --config pair of the commands that work on the store from the command line (runs, dlq,
// replay): --store wins, else the `store` setting of the --config files, else sqlite:spacehook.db.
// Header-only so each cmd_<name>.cpp stays self-contained.

#include <CLI/CLI.hpp>
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
    cmd->add_option("--config", args.configs, "Config file(s) to read the store from")
        ->check(CLI::ExistingFile);
}

inline Result<std::unique_ptr<store::Store>> OpenStoreFrom(const StoreArgs& args) {
    // The store's informational lines ("opened SQLite store") are noise around a command's output.
    log::Configure(log::Level::kWarn, log::Format::kText);
    std::string url = args.store;
    if (url.empty() && !args.configs.empty()) {
        auto config = config::LoadServiceConfig(args.configs, config::ProcessEnv());
        if (!config) return Fail(config.error());
        for (const auto& secret : config->SecretValues()) log::RegisterSecret(secret);
        url = config->store_url;
    }
    if (url.empty()) url = "sqlite:spacehook.db";
    return store::OpenStore(url, store::StoreOptions{}, SystemClock::Instance());
}

/// Said by every command that changes the queue: `serve` in another process gets no wake-up from it.
inline constexpr char kPickedUpNote[] =
    "A running `spacehook serve` on the same store picks the change up within a second (its workers poll; "
    "wake-ups do not cross processes).";

}  // namespace spacehook::app
