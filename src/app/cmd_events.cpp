// `spacehook events list|show`: read the journal from the command line (works while `serve` runs: the
// SQLite journal is in WAL mode and readers do not block the writer).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>

#include "admin/record_json.hpp"
#include "app/command.hpp"
#include "app/store_args.hpp"
#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "store/store.hpp"

namespace spacehook::app {

namespace {

struct ListArgs {
    StoreArgs store;
    std::string state;
    std::string trigger;
    std::size_t limit = 50;
    bool json = false;
};

struct ShowArgs {
    StoreArgs store;
    std::string key;
    bool by_event_id = false;
    bool json = false;
};

std::string Shorten(const std::string& text, std::size_t width) {
    return text.size() <= width ? text : text.substr(0, width - 1) + "~";
}

void PrintTable(const std::vector<store::EventRecord>& events) {
    // FROM: live, or recovered by catch-up from the portal's webhook log (docs/operations.md).
    const std::vector<std::string> header = {"SEQ",    "RECEIVED", "TRIGGER", "EVENT ID", "WEBHOOK",
                                             "ENTITY", "STATE",    "RUNS",    "ATTEMPTS", "FROM"};
    std::vector<std::vector<std::string>> rows;
    rows.reserve(events.size());
    for (const auto& e : events) {
        rows.push_back({std::to_string(e.seq), FormatIso8601(e.received_at), e.trigger,
                        Shorten(e.event_id, 24),  // content keys ("sha256:...") are long
                        e.webhook_id, Shorten(e.entity_id, 24), std::string(store::ToString(e.state)),
                        std::to_string(e.runs_created), std::to_string(e.attempts),
                        e.recovered ? "recovered" : "live"});
    }
    std::vector<std::size_t> width(header.size());
    for (std::size_t i = 0; i < header.size(); ++i) {
        width[i] = header[i].size();
        for (const auto& row : rows) width[i] = std::max(width[i], row[i].size());
    }
    auto print = [&](const std::vector<std::string>& row) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += i + 1 == row.size() ? row[i] : fmt::format("{:<{}}  ", row[i], width[i]);
        }
        std::cout << line << "\n";
    };
    print(header);
    for (const auto& row : rows) print(row);
}

int RunList(const ListArgs& args) {
    store::EventFilter filter;
    if (!args.state.empty()) {
        filter.state = store::ParseEventState(args.state);
        if (!filter.state) {
            std::cerr << "spacehook events list: --state must be pending, dispatched, ignored or failed\n";
            return 2;
        }
    }
    filter.trigger = args.trigger;
    filter.limit = args.limit;
    auto opened = OpenStoreFrom(args.store);
    if (!opened) {
        std::cerr << "spacehook events: " << log::Redact(opened.error().message) << "\n";
        return 1;
    }
    auto events = (*opened)->ListEvents(filter);
    if (!events) {
        std::cerr << "spacehook events list: " << events.error().message << "\n";
        return 1;
    }
    if (args.json) {
        // The admin API's shape (GET /admin/api/events), so scripts work against either.
        Json list = Json::array();
        for (const auto& e : *events) list.push_back(admin::EventJson(e, /*with_body=*/false));
        const bool more = events->size() == filter.limit;
        std::cout << Json{{"events", std::move(list)},
                          {"next_before", more ? Json(events->back().seq) : Json()}}
                         .dump()
                  << "\n";
    } else if (events->empty()) {
        std::cout << "no events\n";
    } else {
        PrintTable(*events);
    }
    return 0;
}

bool IsNumber(const std::string& text) {
    return !text.empty() && text.size() <= 18 &&
           std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

int RunShow(const ShowArgs& args) {
    auto opened = OpenStoreFrom(args.store);
    if (!opened) {
        std::cerr << "spacehook events: " << log::Redact(opened.error().message) << "\n";
        return 1;
    }
    store::Store& journal = **opened;
    // A number is the journal's seq first (what `events list` shows in its first column), then DocSpace's
    // event id; anything else (string ids, "sha256:..." content keys) can only be an event id.
    Result<std::optional<store::EventRecord>> found = std::optional<store::EventRecord>();
    if (!args.by_event_id && IsNumber(args.key)) found = journal.GetEvent(std::stoll(args.key));
    if (found && !*found) found = journal.FindEvent(args.key);
    if (!found) {
        std::cerr << "spacehook events show: " << found.error().message << "\n";
        return 1;
    }
    if (!*found) {
        std::cerr << "spacehook events show: no event with seq or event id '" << args.key << "'\n";
        return 1;
    }
    const Json event = admin::EventJson(**found, /*with_body=*/true);
    if (args.json) {
        std::cout << event.dump(2) << "\n";
        return 0;
    }
    for (const auto& [key, value] : event.items()) {
        if (key == "body" || key == "body_text") continue;
        std::cout << fmt::format("{:<18} {}\n", key + ":",
                                 value.is_string() ? value.get<std::string>() : value.dump());
    }
    std::cout << "body:\n"
              << (event.contains("body") ? event["body"].dump(2) : event.value("body_text", "")) << "\n";
    return 0;
}

void AddEventsCommand(CLI::App& app) {
    auto* events = app.add_subcommand("events", "Read the journal of received deliveries");
    events->require_subcommand(1);

    auto list = std::make_shared<ListArgs>();
    auto* list_cmd = events->add_subcommand("list", "List journaled deliveries, newest first");
    AddStoreOptions(list_cmd, list->store);
    list_cmd->add_option("--state", list->state, "pending, dispatched, ignored or failed");
    list_cmd->add_option("--trigger", list->trigger, "Only this trigger, e.g. file.created");
    list_cmd->add_option("--limit", list->limit, "At most this many (default 50)")
        ->check(CLI::Range(1, 10000));
    list_cmd->add_flag("--json", list->json, "JSON instead of a table");
    list_cmd->callback([list] { SetExitCode(RunList(*list)); });

    auto show = std::make_shared<ShowArgs>();
    auto* show_cmd = events->add_subcommand("show", "Show one delivery with its body");
    show_cmd->add_option("key", show->key, "SEQ (journal order) or DocSpace event id")->required();
    AddStoreOptions(show_cmd, show->store);
    show_cmd->add_flag("--by-event-id", show->by_event_id,
                       "Treat KEY as DocSpace's event id even if it is a number");
    show_cmd->add_flag("--json", show->json, "JSON instead of text");
    show_cmd->callback([show] { SetExitCode(RunShow(*show)); });
}

}  // namespace

SPACEHOOK_COMMAND("events", AddEventsCommand);

}  // namespace spacehook::app
