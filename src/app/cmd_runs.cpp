// `spacehook runs list|show`: the runs the dispatcher made and how far each got (works while `serve`
// runs: SQLite readers do not block the writer).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>

#include "admin/record_json.hpp"
#include "app/command.hpp"
#include "app/store_args.hpp"
#include "core/json.hpp"
#include "store/store.hpp"

namespace spacehook::app {

namespace {

struct ListArgs {
    StoreArgs store;
    std::string state;
    std::string rule;
    std::size_t limit = 50;
    bool json = false;
};

struct ShowArgs {
    StoreArgs store;
    std::int64_t id = 0;
    bool json = false;
};

std::string Shorten(const std::string& text, std::size_t width) {
    std::string flat = text;
    std::replace(flat.begin(), flat.end(), '\n', ' ');
    return flat.size() <= width ? flat : flat.substr(0, width - 1) + "~";
}

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width(rows.front().size(), 0);
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += i + 1 == row.size() ? row[i] : fmt::format("{:<{}}  ", row[i], width[i]);
        }
        std::cout << line << "\n";
    }
}

int RunList(const ListArgs& args) {
    store::RunFilter filter;
    if (!args.state.empty()) {
        filter.state = store::ParseRunState(args.state);
        if (!filter.state) {
            std::cerr << "spacehook runs list: --state must be pending, running, done, dead or dropped\n";
            return 2;
        }
    }
    filter.rule = args.rule;
    filter.limit = args.limit;
    auto opened = OpenStoreFrom(args.store);
    if (!opened) {
        std::cerr << "spacehook runs: " << log::Redact(opened.error().message) << "\n";
        return 1;
    }
    auto runs = (*opened)->ListRuns(filter);
    if (!runs) {
        std::cerr << "spacehook runs list: " << runs.error().message << "\n";
        return 1;
    }
    if (args.json) {
        // The admin API's shape (GET /admin/api/runs), so scripts work against either.
        Json list = Json::array();
        for (const auto& run : *runs) list.push_back(admin::RunJson(run, /*with_context=*/false));
        const bool more = runs->size() == filter.limit;
        std::cout
            << Json{{"runs", std::move(list)}, {"next_before", more ? Json(runs->back().id) : Json()}}.dump()
            << "\n";
        return 0;
    }
    if (runs->empty()) {
        std::cout << "no runs\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows = {
        {"ID", "CREATED", "RULE", "STATE", "STEP", "ATTEMPTS", "LOCK", "KEY", "LAST ERROR"}};
    for (const auto& run : *runs) {
        rows.push_back({std::to_string(run.id), FormatIso8601(run.created_at), run.rule,
                        std::string(store::ToString(run.state)),
                        fmt::format("{}/{}", run.next_step, run.step_count), std::to_string(run.attempts),
                        run.lock_key, Shorten(run.run_key, 48), Shorten(run.last_error, 60)});
    }
    PrintTable(rows);
    return 0;
}

int RunShow(const ShowArgs& args) {
    auto opened = OpenStoreFrom(args.store);
    if (!opened) {
        std::cerr << "spacehook runs: " << log::Redact(opened.error().message) << "\n";
        return 1;
    }
    store::Store& db = **opened;
    auto run = db.GetRun(args.id);
    if (!run) {
        std::cerr << "spacehook runs show: " << run.error().message << "\n";
        return 1;
    }
    if (!*run) {
        std::cerr << "spacehook runs show: no run with id " << args.id << "\n";
        return 1;
    }
    auto steps = db.GetSteps(args.id);
    if (!steps) {
        std::cerr << "spacehook runs show: " << steps.error().message << "\n";
        return 1;
    }
    if (args.json) {
        // The admin API's shape (GET /admin/api/runs/{id}).
        Json body = admin::RunJson(**run, /*with_context=*/true);
        body["steps"] = Json::array();
        for (const auto& step : *steps) body["steps"].push_back(admin::StepJson(step));
        std::cout << body.dump(2) << "\n";
        return 0;
    }
    const Json summary = admin::RunJson(**run, /*with_context=*/false);
    for (const auto& [key, value] : summary.items()) {
        std::cout << fmt::format("{:<16} {}\n", key + ":",
                                 value.is_string() ? value.get<std::string>() : value.dump());
    }
    // Every planned step, with its checkpoint when it has one (the context holds the plan).
    const Json& planned = (*run)->context.contains("steps") ? (*run)->context["steps"] : Json::array();
    std::cout << "steps:\n";
    for (int index = 0; index < (*run)->step_count; ++index) {
        const Json plan =
            planned.is_array() && index < static_cast<int>(planned.size()) ? planned[index] : Json();
        const std::string kind = plan.is_object() ? plan.value("kind", "?") : "?";
        const std::string id = plan.is_object() ? plan.value("id", "?") : "?";
        auto it = std::find_if(steps->begin(), steps->end(), [&](const auto& s) { return s.index == index; });
        std::string status = "not started";
        if (it != steps->end())
            status = it->status == store::StepStatus::kDone ? "done" : "started, not finished";
        std::cout << fmt::format("  {} {} ({}): {}", index, id, kind, status);
        if (it != steps->end() && it->status == store::StepStatus::kDone) {
            std::cout << fmt::format(" at {}\n    output: {}", FormatIso8601(it->finished_at, true),
                                     it->output.dump(-1, ' ', false, Json::error_handler_t::replace));
        }
        std::cout << "\n";
    }
    return 0;
}

void AddRunsCommand(CLI::App& app) {
    auto* runs = app.add_subcommand("runs", "Read the runs the rules started (one per rule and entity)");
    runs->require_subcommand(1);

    auto list = std::make_shared<ListArgs>();
    auto* list_cmd = runs->add_subcommand("list", "List runs, newest first");
    AddStoreOptions(list_cmd, list->store);
    list_cmd->add_option("--state", list->state, "pending, running, done, dead or dropped");
    list_cmd->add_option("--rule", list->rule, "Only this rule's runs");
    list_cmd->add_option("--limit", list->limit, "At most this many (default 50)")
        ->check(CLI::Range(1, 10000));
    list_cmd->add_flag("--json", list->json, "JSON (the admin API's shape) instead of a table");
    list_cmd->callback([list] { SetExitCode(RunList(*list)); });

    auto show = std::make_shared<ShowArgs>();
    auto* show_cmd = runs->add_subcommand("show", "Show one run: its steps, their status and outputs");
    show_cmd->add_option("id", show->id, "Run id (first column of `runs list`)")->required();
    AddStoreOptions(show_cmd, show->store);
    show_cmd->add_flag("--json", show->json, "JSON with the stored context and every checkpoint");
    show_cmd->callback([show] { SetExitCode(RunShow(*show)); });
}

}  // namespace

SPACEHOOK_COMMAND("runs", AddRunsCommand);

}  // namespace spacehook::app
