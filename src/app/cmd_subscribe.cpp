// `spacehook subscribe`: create or update the portal's webhook for this service (docs/subscribe.md).
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/command.hpp"
#include "app/docspace_options.hpp"
#include "app/env_file.hpp"
#include "config/service_config.hpp"
#include "core/log.hpp"
#include "docspace/client.hpp"
#include "docspace/names.hpp"
#include "docspace/subscription.hpp"
#include "rules/compiled_rules.hpp"
#include "steps/catalog.hpp"

namespace spacehook::app {

namespace {

/// Exit codes beyond 0 (done) and 1 (failed): the subscription exists but the portal disabled it, so
/// no events arrive; scripts should notice.
constexpr int kExitFailed = 1;
constexpr int kExitDisabled = 3;

struct SubscribeArgs {
    std::string url;
    std::vector<std::string> config_files;
    std::vector<std::string> env_files;
    std::string name = "spacehook";
    std::vector<std::string> triggers;
    bool enable = false;
    bool dry_run = false;
    bool force = false;
};

Result<std::int64_t> MaskOf(const std::vector<std::string>& names) {
    std::int64_t mask = 0;
    for (const auto& name : names) {
        const auto bit = docspace::TriggerBit(name);
        if (!bit)
            return Fail(ErrorCode::kInvalidArgument,
                        "unknown trigger '" + name + "' (see docs/docspace-api.md §1.5)");
        if (*bit == 0) return 0;  // "*": everything, including triggers added later
        mask |= *bit;
    }
    return mask;
}

int RunSubscribe(const SubscribeArgs& args) {
    if (auto loaded = ApplyEnvironmentFiles(args.env_files); !loaded) {
        std::cerr << "spacehook subscribe: " << loaded.error().message << "\n";
        return kExitFailed;
    }
    auto config = config::LoadServiceConfig(args.config_files, config::ProcessEnv());
    if (!config) {
        std::cerr << "spacehook subscribe: " << config.error().message << "\n";
        return kExitFailed;
    }
    if (config->docspace.api_host.empty() || config->docspace.api_key.empty()) {
        std::cerr
            << "spacehook subscribe: the portal is unknown: set DOCSPACE_API_HOST and DOCSPACE_API_KEY (or "
               "docspace.api_host / docspace.api_key in the config)\n";
        return kExitFailed;
    }
    for (const auto& secret : config->webhook.secrets) log::RegisterSecret(secret);

    // The rules decide which events the portal sends (DESIGN.md "The user's surface"); --trigger
    // overrides them, e.g. to subscribe before any rule is written.
    std::int64_t mask = 0;
    std::string target_id;
    std::string target_note = "--trigger was given";
    if (!args.triggers.empty()) {
        auto given = MaskOf(args.triggers);
        if (!given) {
            std::cerr << "spacehook subscribe: " << given.error().message << "\n";
            return kExitFailed;
        }
        mask = *given;
    } else {
        auto compiled = rules::Compile(config->documents, steps::Kinds());
        if (!compiled) {
            std::cerr << "spacehook subscribe: " << compiled.error().message << "\n";
            return kExitFailed;
        }
        if (!compiled->HasEnabledRules()) {
            std::cerr
                << "spacehook subscribe: the config has no enabled rules, so there is nothing to subscribe "
                   "to; add rules, or pass --trigger NAME (or --trigger '*')\n";
            return kExitFailed;
        }
        mask = compiled->TriggerMask();
        // When every rule names one room, the portal can send that room's events alone
        // (docs/subscribe.md "Target").
        const auto target = compiled->SubscriptionTarget();
        target_id = target.id;
        target_note = target.why_not;
    }

    docspace::SubscriptionRequest request;
    request.name = args.name;
    request.url = args.url;
    // Several secrets mean a rotation in progress: the first is the one the portal should sign with.
    if (!config->webhook.secrets.empty()) request.secret = config->webhook.secrets.front();
    request.triggers = mask;
    request.target_id = target_id;
    request.enable = args.enable;
    request.dry_run = args.dry_run;
    request.force = args.force;

    docspace::DocSpaceClient client(DocSpaceOptionsFrom(config->docspace));
    auto report = docspace::SyncSubscription(client, request);
    if (!report) {
        std::cerr << "spacehook subscribe: " << log::Redact(report.error().message) << "\n";
        return kExitFailed;
    }
    if (report->dry_run) std::cout << "dry run: nothing was changed on " << config->docspace.api_host << "\n";
    for (const auto& line : report->Describe()) std::cout << line << "\n";
    if (target_id.empty()) std::cout << "  no target: " << target_note << "\n";
    return report->action == docspace::SubscriptionAction::kLeftDisabled ? kExitDisabled : 0;
}

void AddSubscribeCommand(CLI::App& app) {
    auto args = std::make_shared<SubscribeArgs>();
    auto* cmd = app.add_subcommand("subscribe",
                                   "Create or update the portal's webhook for this service (idempotent)");
    cmd->add_option("--url", args->url, "Public URL of the webhook endpoint, as the portal will call it")
        ->required();
    cmd->add_option("--config", args->config_files, "Config file(s) or directories, merged in order")
        ->expected(1, -1);
    AddEnvFileOption(cmd, args->env_files);
    cmd->add_option("--name", args->name, "Name of the webhook on the portal (with the URL, its identity)")
        ->capture_default_str();
    cmd->add_option("--trigger", args->triggers,
                    "A trigger to subscribe to instead of the rules' triggers (repeat; '*' for all)");
    cmd->add_flag("--enable", args->enable, "Re-enable the subscription if the portal disabled it");
    cmd->add_flag("--dry-run", args->dry_run, "Show what would change, change nothing");
    cmd->add_flag("--force", args->force,
                  "Update even if nothing differs (re-sends the secret after a rotation)");
    cmd->callback([args] { SetExitCode(RunSubscribe(*args)); });
}

}  // namespace

SPACEHOOK_COMMAND("subscribe", AddSubscribeCommand);

}  // namespace spacehook::app
