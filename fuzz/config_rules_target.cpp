// Target (b): configuration and rule files as an operator (or a templating tool upstream of them) might
// write them: YAML -> config::Document -> ServiceConfig, and the rules compiled and planned.
#include <chrono>
#include <map>
#include <string>
#include <utility>

#include "config/document.hpp"
#include "config/service_config.hpp"
#include "fuzz_targets.hpp"
#include "rules/compiled_rules.hpp"
#include "rules/event.hpp"
#include "rules/explain.hpp"
#include "rules/facts.hpp"
#include "steps/catalog.hpp"

namespace spacehook::fuzz {

namespace {

constexpr std::string_view kFileSeparator = "\n--- next file ---\n";

// The variables the example rule files under docs/ and tests/rules read; anything else is unset.
const config::Env& FixedEnv() {
    static const config::Env kEnv = config::MapEnv({
        {"CLIENT_ROOM_ID", "890"},
        {"COMPLIANCE_FOLDER_ID", "539564"},
        {"DEFAULT_FOLDERS", "Documents, Personal"},
        {"DEPARTMENT_OWNER_EMAIL", "compliance.owner@company.com"},
        {"EDITOR_IDS", "aaaa1111-0000-4000-8000-000000000003"},
        {"FOLDER_ID", "567"},
        {"HR_GROUP_ID", ""},
        {"INCOMING_FOLDER_ID", "748239"},
        {"INTERNAL_PROCESSING_FOLDER_ID", "341029"},
        {"MANAGER_EMAIL", "manager@example.com"},
        {"MANAGER_IDS", "aaaa1111-0000-4000-8000-000000000001, aaaa1111-0000-4000-8000-000000000002"},
        {"ROOM_ID", "890"},
        {"SHARED_WITH_CLIENT_ROOM_ID", "890"},
        {"TEMPLATE_FILE_IDS", "404297,435466"},
        {"SLACK_URL", "https://hooks.slack.com/services/T0/B0/XYZ"},
        {"SLACK_OPS_WEBHOOK", "https://hooks.slack.com/services/T0/B1/OPS"},
        {"TEAMS_OPS_WEBHOOK", "https://example.webhook.office.com/webhookb2/x"},
        {"OLD_WEBHOOK_SECRET", "old-secret-1"},
        {"NEW_WEBHOOK_SECRET", "new-secret-2"},
        {"DOCSPACE_WEBHOOK_SECRET", "s3cret-Key_1,s3cret-Key_2"},
        {"DOCSPACE_API_HOST", "https://portal.example.com/"},
        {"DOCSPACE_API_KEY", "sk-fuzz"},
        {"SPACEHOOK_ADMIN_TOKEN", "admin-token"},
        {"PORT", "8080"},
    });
    return kEnv;
}

// docs/docspace-api.md §1.6 examples, one per entity family the rules distinguish.
const std::vector<rules::Event>& FixedEvents() {
    static const std::vector<rules::Event> kEvents = [] {
        const char* bodies[] = {
            R"({"event":{"id":4821,"createOn":"2026-06-30T10:15:42Z","createBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef","trigger":"file.created","triggerId":128},"payload":{"id":1234,"parentId":567,"securityByUsers":{},"folderIdDisplay":567,"rootId":3,"title":"Invoice-0042.docx","createBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef","modifiedOn":"2026-06-30T10:15:41Z","rootFolderType":14,"fileEntryType":2},"webhook":{"id":7,"name":"automation","triggers":["file.created"]}})",
            R"({"event":{"id":4822,"createOn":"2026-06-30T10:20:00Z","createBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef","trigger":"room.created","triggerId":4194304},"payload":{"id":890,"parentId":3,"title":"Client ACME","rootFolderType":14,"fileEntryType":1},"webhook":{"id":7}})",
            R"({"event":{"id":4830,"createOn":"2026-06-30T10:21:00Z","trigger":"folder.updated","triggerId":65536},"payload":{"id":567,"parentId":890,"title":"Incoming","modifiedOn":"2026-06-30T10:21:00Z","fileEntryType":1},"webhook":{"id":9,"target":{"id":567,"type":"folder"}}})",
            R"({"event":{"id":4840,"createOn":"2026-06-30T10:25:01Z","createBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef","trigger":"user.created","triggerId":1},"payload":{"id":"5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b","firstName":"Jane","lastName":"Doe","userName":"jane.doe","email":"jane.doe@example.com"},"webhook":{"id":7}})",
            R"({"event":{"id":4860,"createOn":"2026-06-30T11:00:00Z","trigger":"form.submit","triggerId":268435456},"payload":{"originalForm":{"id":300,"parentId":890,"title":"Application.pdf","fileEntryType":2},"submittedForm":{"id":412,"parentId":415,"title":"Application - Jane Doe.pdf","fileEntryType":2}},"webhook":{"id":7}})",
            R"({"event":{"trigger":"group.created","triggerId":16},"payload":{"id":"b1f7c3a2-0000-4000-8000-000000000016","name":"Sales"}})",
        };
        std::vector<rules::Event> events;
        for (const char* body : bodies) {
            auto event = rules::ParseEventBody(body);
            Require(static_cast<bool>(event), "a fixed event does not parse");
            events.push_back(std::move(*event));
        }
        return events;
    }();
    return kEvents;
}

// Every fact resolved, so planning is never undecided for want of one.
const rules::Facts& FixedFacts() {
    static const rules::Facts kFacts = [] {
        auto facts = rules::Facts::FromJson(Json::parse(R"({
            "path": [3, 890, 567],
            "room": {"id": 890, "title": "Client ACME", "roomType": 2, "webUrl": "https://portal.example.com/rooms/890"},
            "file": {"id": 1234, "title": "Invoice-0042.docx", "fileExst": ".docx", "version": 1},
            "folder": {"id": 567, "title": "Incoming", "parentId": 890},
            "user": {"id": "5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b", "displayName": "Jane Doe", "email": "jane.doe@example.com"},
            "actor": {"id": "66faa6e4-f133-11ea-b126-00ffeec8b4ef", "displayName": "Admin", "email": "admin@example.com"}
        })"));
        Require(static_cast<bool>(facts), "the fixed facts do not parse");
        return std::move(*facts);
    }();
    return kFacts;
}

// What a step's output looks like to the steps after it (a room, a folder, a file, a mail id).
Json StepOutput(std::size_t index) {
    return Json{{"id", 9000 + static_cast<int>(index)},
                {"title", "Output " + std::to_string(index)},
                {"webUrl", "https://portal.example.com/x/" + std::to_string(index)},
                {"ids", Json::array({9100, 9101})}};
}

// What the rest of the service may assume of a loaded config without checking again: the server adds
// durations to clock readings (nanoseconds), the backoff multiplies by the numbers.
void CheckSettings(const config::ServiceConfig& config) {
    using std::chrono::milliseconds;
    // Half of what nanoseconds hold: room to add any duration to a clock reading of this century.
    constexpr milliseconds kLongest =
        std::chrono::duration_cast<milliseconds>(std::chrono::nanoseconds::max()) / 2;
    const std::pair<const char*, milliseconds> durations[] = {
        {"server.header_timeout", config.server.header_timeout},
        {"server.body_timeout", config.server.body_timeout},
        {"server.idle_timeout", config.server.idle_timeout},
        {"webhook.max_age", config.webhook.max_age},
        {"docspace.timeouts.connect", config.docspace.connect_timeout},
        {"docspace.timeouts.total", config.docspace.total_timeout},
        {"docspace.operation_poll.interval", config.docspace.poll_interval},
        {"docspace.operation_poll.timeout", config.docspace.poll_timeout},
        {"runner.lease", config.runner.lease},
        {"runner.retry.base", config.runner.retry_base},
        {"runner.retry.max", config.runner.retry_max},
        {"runner.retry.budget", config.runner.retry_budget},
        {"runner.shutdown_grace", config.runner.shutdown_grace},
    };
    for (const auto& [name, value] : durations) {
        Require(value.count() >= 0 && value <= kLongest,
                std::string(name) + " overflows nanoseconds when added to a clock reading");
    }
    const auto within = [](double value, double low, double high) { return value >= low && value <= high; };
    Require(within(config.docspace.rate_per_second, 0.001, 100000),
            "docspace.rate_limit.per_second out of range");
    Require(within(config.runner.retry_multiplier, 1.0, 100.0), "runner.retry.multiplier out of range");
    Require(within(config.runner.retry_jitter, 0.0, 1.0), "runner.retry.jitter out of range");
    Require(config.server.body_limit > 0, "server.body_limit is zero");
    for (const auto& secret : config.SecretValues()) Require(!secret.empty(), "an empty secret is listed");
}

void PlanAndRender(const rules::CompiledRules& compiled) {
    (void)compiled.TriggerMask();
    (void)compiled.TriggerNames();
    (void)rules::DescribeRules(compiled);
    for (const auto& event : FixedEvents()) {
        (void)compiled.Needs(event);
        (void)rules::ExplainEvent(compiled, event, FixedFacts());
        auto plan = compiled.Plan(event, FixedFacts());
        if (!plan) {
            Require(plan.error().code == ErrorCode::kInvalidArgument, "Plan failed with another code");
            continue;
        }
        for (auto& run : *plan) {
            Require(!run.run_key.empty(), "a planned run has no run key");
            run.context.SetRun(run.rule, run.run_key);
            Require(Json::parse(run.context.values().dump()) == run.context.values(),
                    "a run's context does not survive the store's JSON text");
            for (std::size_t i = 0; i < run.steps.size(); ++i) {
                const auto& step = run.steps[i];
                // A planned run is stored as JSON text and executed later, perhaps by another process:
                // its steps must survive that round trip (dump() throws on text that is not UTF-8).
                auto restored = rules::Step::FromJson(Json::parse(step.ToJson().dump()), steps::Kinds());
                Require(static_cast<bool>(restored), "a compiled step does not round-trip through JSON");
                // It keeps its ${VAR} as written and reads them when it runs: with the same variables,
                // it renders as the step compiled with their values at load.
                auto resolved = rules::ResolveVariables(std::move(*restored), FixedEnv());
                Require(static_cast<bool>(resolved), "a stored step's variables do not resolve again");
                auto rendered = rules::RenderStepInput(step, run.context);
                auto again = rules::RenderStepInput(*resolved, run.context);
                Require(static_cast<bool>(rendered) == static_cast<bool>(again) &&
                            (!rendered || *rendered == *again),
                        "a step renders differently after the round trip");
                (void)rules::RenderStepInput(step, run.context, rules::RenderMode::kKeepUnresolved);
                run.context.SetStepOutput(step.id, StepOutput(i));
            }
        }
    }
}

}  // namespace

void FuzzConfigRules(std::string_view input) {
    std::vector<config::Document> documents;
    for (int index = 1; index <= 3; ++index) {
        const auto end = input.find(kFileSeparator);
        const std::string_view text = input.substr(0, end);
        auto doc = config::LoadYamlText(text, "fuzz" + std::to_string(index) + ".yaml", FixedEnv());
        if (doc) {
            documents.push_back(std::move(*doc));
        } else {
            Require(doc.error().code == ErrorCode::kConfig, "LoadYamlText failed with another code");
        }
        if (end == std::string_view::npos) break;
        input.remove_prefix(end + kFileSeparator.size());
    }

    // The rules are compiled on their own too: a service-config error in the same file must not keep the
    // compiler from being exercised.
    auto compiled = rules::Compile(documents, steps::Kinds());
    if (compiled) {
        PlanAndRender(*compiled);
    } else {
        Require(compiled.error().code == ErrorCode::kConfig, "Compile failed with another code");
    }

    auto config = config::MergeServiceConfig(std::move(documents), FixedEnv());
    if (!config) {
        Require(config.error().code == ErrorCode::kConfig, "MergeServiceConfig failed with another code");
        return;
    }
    CheckSettings(*config);
    rules::CompileOptions options;
    options.chat_channels.emplace();
    for (const auto& [name, channel] : config->chat_channels) options.chat_channels->insert(name);
    auto with_channels = rules::Compile(config->documents, steps::Kinds(), options);
    if (with_channels) {
        PlanAndRender(*with_channels);
    } else {
        Require(with_channels.error().code == ErrorCode::kConfig, "Compile failed with another code");
    }
}

}  // namespace spacehook::fuzz
