// `spacehook check --config FILE...`: loads and compiles the configuration without starting anything,
// and prints what the rules will do (docs/rules.md, docs/configuration.md).
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <set>

#include "app/command.hpp"
#include "app/env_file.hpp"
#include "config/service_config.hpp"
#include "rules/compiled_rules.hpp"
#include "rules/explain.hpp"
#include "steps/catalog.hpp"

namespace spacehook::app {

namespace {

struct CheckArgs {
    std::vector<std::string> config_files;
    std::vector<std::string> env_files;
};

int RunCheck(const CheckArgs& args) {
    if (auto loaded = ApplyEnvironmentFiles(args.env_files); !loaded) {
        std::cerr << loaded.error().message << "\n";
        return 1;
    }
    auto config = config::LoadServiceConfig(args.config_files, config::ProcessEnv());
    if (!config) {
        std::cerr << config.error().message << "\n";
        return 1;
    }
    rules::CompileOptions options;
    options.chat_channels.emplace();
    for (const auto& [name, channel] : config->chat_channels) options.chat_channels->insert(name);
    // Steps show their `${VAR}` as written; a secret that still surfaces (in a condition, a message) is
    // shown as "•••" (docs/configuration.md "Secrets").
    const auto secrets = config->SecretValues();
    auto compiled = rules::Compile(config->documents, steps::Kinds(), options);
    if (!compiled) {
        std::cerr << rules::MaskSecrets(compiled.error().message, secrets) << "\n";
        return 1;
    }
    std::cout << rules::MaskSecrets(rules::DescribeRules(*compiled), secrets);
    // Settings `serve` will need for what the rules do; not errors here, since a rules file may be
    // checked without the deployment's environment.
    bool sends_mail = false;
    for (const auto& rule : compiled->rules()) {
        for (const auto& step : rule.steps) sends_mail = sends_mail || step.kind->name() == "mail";
    }
    if (compiled->HasEnabledRules() && config->docspace.api_host.empty()) {
        std::cout << "note: the portal is not set (docspace.api_host / DOCSPACE_API_HOST)\n";
    }
    if (sends_mail && config->mail.smtp_url.empty()) {
        std::cout << "note: rules send mail but no SMTP server is set (mail.smtp_url / SMTP_URL)\n";
    }
    return 0;
}

void AddCheckCommand(CLI::App& app) {
    auto args = std::make_shared<CheckArgs>();
    auto* cmd =
        app.add_subcommand("check", "Load and compile the configuration and rules; print what the rules do");
    cmd->add_option("--config", args->config_files, "Config file(s) or directories, merged in order")
        ->required()
        ->expected(1, -1);
    AddEnvFileOption(cmd, args->env_files);
    cmd->callback([args] { SetExitCode(RunCheck(*args)); });
}

}  // namespace

SPACEHOOK_COMMAND("check", AddCheckCommand);

}  // namespace spacehook::app
