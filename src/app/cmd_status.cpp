// `spacehook status`: is everything all right, and what happened. Read from the store `serve` uses, so it
// works from any directory, on any replica, and while serve is down (the last report says when it was
// made): the portal reachable and the key accepted, the subscription's state and last failure, the last
// catch-up, the backlog and its age, dead letters, versions (docs/operations.md "Status").
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/build_info.hpp"
#include "app/command.hpp"
#include "app/store_args.hpp"
#include "watch/watch_status.hpp"

namespace spacehook::app {

namespace {

/// Exit codes beyond 0 (healthy) and 1 (the store could not be read): something needs a person.
constexpr int kExitAttention = 3;

struct StatusArgs {
    StoreArgs store;
    bool json = false;
};

int RunStatus(const StatusArgs& args) {
    auto opened = OpenStoreFrom(args.store);
    if (!opened) {
        std::cerr << "spacehook status: " << log::Redact(opened.error().message) << "\n";
        return 1;
    }
    const std::string version = fmt::format("{} ({})", BuildVersion(), BuildCommit());
    auto status = watch::StatusJson(**opened, **opened, SystemClock::Instance().Now(), version);
    if (!status) {
        std::cerr << "spacehook status: " << status.error().message << "\n";
        return 1;
    }
    std::cout << (args.json ? status->dump(2) + "\n" : watch::StatusText(*status));
    return status->value("healthy", false) ? 0 : kExitAttention;
}

void AddStatusCommand(CLI::App& app) {
    auto args = std::make_shared<StatusArgs>();
    auto* cmd = app.add_subcommand(
        "status",
        "Is all well: the portal, the subscription, catch-up, backlog and dead letters (exit 3 when not)");
    AddStoreOptions(cmd, args->store);
    cmd->add_flag("--json", args->json, "JSON (the admin API's GET /admin/api/status)");
    cmd->callback([args] { SetExitCode(RunStatus(*args)); });
}

}  // namespace

SPACEHOOK_COMMAND("status", AddStatusCommand);

}  // namespace spacehook::app
