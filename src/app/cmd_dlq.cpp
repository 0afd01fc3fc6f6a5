// `spacehook dlq list|retry|drop`: the dead-letter list. Runs that failed permanently or used up their
// retries, and events whose dispatch failed, wait here for an operator.
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
    std::size_t limit = 100;
    bool json = false;
};

struct ActionArgs {
    StoreArgs store;
    std::string target;  ///< KIND:ID
    bool retry = true;
};

/// "run:12" / "event:7" (also "run/12"); nullopt when malformed.
std::optional<std::pair<store::DeadLetter::Kind, std::int64_t>> ParseTarget(const std::string& text) {
    const auto colon = text.find_first_of(":/");
    if (colon == std::string::npos) return std::nullopt;
    const auto kind = admin::ParseDeadLetterKind(text.substr(0, colon));
    const std::string id = text.substr(colon + 1);
    if (!kind || id.empty() || id.size() > 18 ||
        !std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isdigit(c); })) {
        return std::nullopt;
    }
    return std::make_pair(*kind, std::stoll(id));
}

int RunList(const ListArgs& args) {
    auto opened = OpenStoreFrom(args.store);
    if (!opened) {
        std::cerr << "spacehook dlq: " << log::Redact(opened.error().message) << "\n";
        return 1;
    }
    auto letters = (*opened)->ListDeadLetters(args.limit);
    if (!letters) {
        std::cerr << "spacehook dlq list: " << letters.error().message << "\n";
        return 1;
    }
    if (args.json) {
        Json list = Json::array();
        for (const auto& letter : *letters) list.push_back(admin::DeadLetterJson(letter));
        std::cout << Json{{"dead_letters", std::move(list)}}.dump() << "\n";
        return 0;
    }
    if (letters->empty()) {
        std::cout << "the dead-letter list is empty\n";
        return 0;
    }
    for (const auto& letter : *letters) {
        std::cout << fmt::format("{}:{}  {}  {}{}  attempts {}\n    {}\n", admin::ToString(letter.kind),
                                 letter.id, FormatIso8601(letter.failed_at), letter.trigger,
                                 letter.rule.empty() ? "" : "  rule " + letter.rule, letter.attempts,
                                 letter.reason);
    }
    return 0;
}

int RunAction(const ActionArgs& args) {
    const std::string verb = args.retry ? "retry" : "drop";
    const auto target = ParseTarget(args.target);
    if (!target) {
        std::cerr << "spacehook dlq " << verb
                  << ": expected KIND:ID with KIND run or event, like run:12 (see "
                  << "`spacehook dlq list`)\n";
        return 2;
    }
    auto opened = OpenStoreFrom(args.store);
    if (!opened) {
        std::cerr << "spacehook dlq: " << log::Redact(opened.error().message) << "\n";
        return 1;
    }
    const auto [kind, id] = *target;
    const Status done = args.retry ? (*opened)->RetryDeadLetter(kind, id, SystemClock::Instance().Now())
                                   : (*opened)->DropDeadLetter(kind, id);
    if (!done) {
        if (done.error().code == ErrorCode::kNotFound) {
            std::cerr << fmt::format("spacehook dlq {}: {}:{} is not on the dead-letter list\n", verb,
                                     admin::ToString(kind), id);
        } else {
            std::cerr << "spacehook dlq " << verb << ": " << done.error().message << "\n";
        }
        return 1;
    }
    if (args.retry) {
        std::cout << fmt::format("{}:{} is queued again{}\n", admin::ToString(kind), id,
                                 kind == store::DeadLetter::Kind::kRun
                                     ? " (it resumes at its first unfinished step)"
                                     : " (it is dispatched again)");
    } else {
        std::cout << fmt::format("{}:{} dropped\n", admin::ToString(kind), id);
    }
    return 0;
}

void AddDlqCommand(CLI::App& app) {
    auto* dlq =
        app.add_subcommand("dlq", "The dead-letter list: failed runs and events waiting for an operator");
    dlq->require_subcommand(1);

    auto list = std::make_shared<ListArgs>();
    auto* list_cmd = dlq->add_subcommand("list", "List dead runs and failed events, most recent first");
    AddStoreOptions(list_cmd, list->store);
    list_cmd->add_option("--limit", list->limit, "At most this many (default 100)")
        ->check(CLI::Range(1, 10000));
    list_cmd->add_flag("--json", list->json, "JSON (the admin API's shape)");
    list_cmd->callback([list] { SetExitCode(RunList(*list)); });

    for (const bool retry : {true, false}) {
        auto action = std::make_shared<ActionArgs>();
        action->retry = retry;
        auto* cmd = dlq->add_subcommand(
            retry ? "retry" : "drop",
            retry
                ? std::string("Queue a dead letter again: a run resumes at its first unfinished step with a "
                              "fresh retry budget, an event is dispatched again. ") +
                      kPickedUpNote
                : std::string("Remove a dead letter for good (the run becomes dropped, the event ignored)"));
        cmd->add_option("target", action->target,
                        "KIND:ID, e.g. run:12 or event:7 (from `spacehook dlq list`)")
            ->required();
        AddStoreOptions(cmd, action->store);
        cmd->callback([action] { SetExitCode(RunAction(*action)); });
    }
}

}  // namespace

SPACEHOOK_COMMAND("dlq", AddDlqCommand);

}  // namespace spacehook::app
