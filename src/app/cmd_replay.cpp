// `spacehook replay EVENT`: dispatch a journaled event again as if it were new. Its runs get fresh keys
// (the replay generation is part of them), so the rules do their work again: a create_room makes a new
// room. To finish a failed run instead, use `spacehook dlq retry run:ID`.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>

#include "app/command.hpp"
#include "app/store_args.hpp"
#include "store/store.hpp"

namespace spacehook::app {

namespace {

struct ReplayArgs {
    StoreArgs store;
    std::string key;
    bool by_event_id = false;
};

bool IsNumber(const std::string& text) {
    return !text.empty() && text.size() <= 18 &&
           std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

int RunReplay(const ReplayArgs& args) {
    auto opened = OpenStoreFrom(args.store);
    if (!opened) {
        std::cerr << "spacehook replay: " << log::Redact(opened.error().message) << "\n";
        return 1;
    }
    store::Store& db = **opened;
    // As `events show`: a number is the journal's seq first, then DocSpace's event id.
    Result<std::optional<store::EventRecord>> found = std::optional<store::EventRecord>();
    if (!args.by_event_id && IsNumber(args.key)) found = db.GetEvent(std::stoll(args.key));
    if (found && !*found) found = db.FindEvent(args.key);
    if (!found) {
        std::cerr << "spacehook replay: " << found.error().message << "\n";
        return 1;
    }
    if (!*found) {
        std::cerr << "spacehook replay: no event with seq or event id '" << args.key << "'\n";
        return 1;
    }
    const auto& event = **found;
    if (auto st = db.ReplayEvent(event.seq, SystemClock::Instance().Now()); !st) {
        std::cerr << "spacehook replay: " << st.error().message << "\n";
        return 1;
    }
    std::cout << fmt::format(
        "event {} ({} {}) queued for dispatch again as replay {}; its runs get new keys\n", event.seq,
        event.trigger, event.event_id, event.replay_generation + 1);
    return 0;
}

void AddReplayCommand(CLI::App& app) {
    auto args = std::make_shared<ReplayArgs>();
    auto* cmd = app.add_subcommand(
        "replay",
        std::string("Dispatch a journaled event again as if new: its runs get fresh keys, so the work is "
                    "done again (to finish a failed run, use `dlq retry`). ") +
            kPickedUpNote);
    cmd->add_option("event", args->key, "SEQ (journal order) or DocSpace event id")->required();
    AddStoreOptions(cmd, args->store);
    cmd->add_flag("--by-event-id", args->by_event_id,
                  "Treat EVENT as DocSpace's event id even if it is a number");
    cmd->callback([args] { SetExitCode(RunReplay(*args)); });
}

}  // namespace

SPACEHOOK_COMMAND("replay", AddReplayCommand);

}  // namespace spacehook::app
