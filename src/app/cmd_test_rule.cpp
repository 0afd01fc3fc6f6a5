// `spacehook test-rule --config FILE... --event FILE [--facts FILE]`: a dry run of matching and planning
// for one stored or hand-written event. Nothing is fetched: facts the rules need come from --facts, and
// what is unknown is shown as unknown (docs/rules.md "Trying rules").
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "app/command.hpp"
#include "config/service_config.hpp"
#include "core/json_depth.hpp"
#include "rules/compiled_rules.hpp"
#include "rules/event.hpp"
#include "rules/explain.hpp"
#include "rules/facts.hpp"
#include "steps/catalog.hpp"

namespace spacehook::app {

namespace {

struct TestRuleArgs {
    std::vector<std::string> config_files;
    std::string event_file;
    std::string facts_file;
};

Result<Json> ReadJsonFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(ErrorCode::kInvalidArgument, path + ": cannot read the file");
    std::ostringstream text;
    text << in.rdbuf();
    // Bounded like a delivery (the event file is often one taken from the journal or a webhook log):
    // what is read here is copied and dumped, each recursing once per level (core/json_depth.hpp).
    auto json = ParseBoundedJson(text.str());
    if (!json) return Fail(ErrorCode::kInvalidArgument, path + ": " + json.error().message);
    return json;
}

int RunTestRule(const TestRuleArgs& args) {
    auto config = config::LoadServiceConfig(args.config_files, config::ProcessEnv());
    if (!config) {
        std::cerr << config.error().message << "\n";
        return 1;
    }
    rules::CompileOptions options;
    options.chat_channels.emplace();
    for (const auto& [name, channel] : config->chat_channels) options.chat_channels->insert(name);
    // A secret may still surface in a message or a condition: shown as "•••" (docs/configuration.md
    // "Secrets").
    const auto secrets = config->SecretValues();
    auto compiled = rules::Compile(config->documents, steps::Kinds(), options);
    if (!compiled) {
        std::cerr << rules::MaskSecrets(compiled.error().message, secrets) << "\n";
        return 1;
    }
    auto envelope = ReadJsonFile(args.event_file);
    if (!envelope) {
        std::cerr << envelope.error().message << "\n";
        return 1;
    }
    auto event = rules::ParseEvent(*envelope);
    if (!event) {
        std::cerr << args.event_file << ": " << event.error().message << "\n";
        return 1;
    }
    rules::Facts facts;
    if (!args.facts_file.empty()) {
        auto json = ReadJsonFile(args.facts_file);
        if (!json) {
            std::cerr << json.error().message << "\n";
            return 1;
        }
        auto parsed = rules::Facts::FromJson(*json);
        if (!parsed) {
            std::cerr << args.facts_file << ": " << parsed.error().message << "\n";
            return 1;
        }
        facts = std::move(*parsed);
    }
    std::cout << rules::MaskSecrets(rules::ExplainEvent(*compiled, *event, facts), secrets);
    return 0;
}

void AddTestRuleCommand(CLI::App& app) {
    auto args = std::make_shared<TestRuleArgs>();
    auto* cmd = app.add_subcommand(
        "test-rule", "Show which rules an event matches and the steps they would run (no API calls)");
    cmd->add_option("--config", args->config_files, "Config file(s) or directories, merged in order")
        ->required()
        ->expected(1, -1);
    cmd->add_option("--event", args->event_file, "The webhook body (event/payload/webhook JSON)")->required();
    cmd->add_option(
        "--facts", args->facts_file,
        "What the API would say: {\"path\": [...], \"room\": {...}, \"file\": {...}, \"user\": {...}, ...}");
    cmd->callback([args] { SetExitCode(RunTestRule(*args)); });
}

}  // namespace

SPACEHOOK_COMMAND("test-rule", AddTestRuleCommand);

}  // namespace spacehook::app
