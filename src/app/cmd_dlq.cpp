// `spacehook dlq list|retry|drop`: the dead-letter list. Runs that failed permanently or used up their
// retries, and events whose dispatch failed, wait here for an operator, who retries or drops them one by
// one or in bulk (--all, narrowed by kind, rule and time).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>

#include "admin/record_json.hpp"
#include "app/command.hpp"
#include "app/store_args.hpp"
#include "config/service_config.hpp"
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
    bool all = false;  ///< every dead letter the filter below takes
    std::string kind;  ///< run | event
    std::string rule;
    std::string since;  ///< ISO-8601, or a duration back from now ("2h")
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

/// --since as a time: ISO-8601, or a duration back from now ("90m", "2d").
std::optional<TimePoint> SinceOf(const std::string& text, TimePoint now) {
    if (auto at = ParseIso8601(text)) return at;
    if (auto back = config::ParseDuration(text)) return now - *back;
    return std::nullopt;
}

int RunBulk(const ActionArgs& args) {
    const std::string verb = args.retry ? "retry" : "drop";
    const TimePoint now = SystemClock::Instance().Now();
    store::DeadLetterFilter filter;
    if (!args.kind.empty()) {
        filter.kind = admin::ParseDeadLetterKind(args.kind);
        if (!filter.kind) {
            std::cerr << "spacehook dlq " << verb << ": --kind must be run or event\n";
            return 2;
        }
    }
    filter.rule = args.rule;
    if (!args.since.empty()) {
        filter.since = SinceOf(args.since, now);
        if (!filter.since) {
            std::cerr << "spacehook dlq " << verb
                      << ": --since must be a time like 2026-06-30T10:00:00Z or a duration like 2h (back "
                         "from now)\n";
            return 2;
        }
    }
    auto opened = OpenStoreFrom(args.store);
    if (!opened) {
        std::cerr << "spacehook dlq: " << log::Redact(opened.error().message) << "\n";
        return 1;
    }
    auto count = args.retry ? (*opened)->RetryDeadLetters(filter, now) : (*opened)->DropDeadLetters(filter);
    if (!count) {
        std::cerr << "spacehook dlq " << verb << ": " << count.error().message << "\n";
        return 1;
    }
    std::string which = filter.kind ? std::string(admin::ToString(*filter.kind)) + "s" : "dead letters";
    if (!filter.rule.empty()) which += " of rule " + filter.rule;
    if (filter.since) which += " that failed since " + FormatIso8601(*filter.since);
    std::cout << fmt::format("{} {} {}\n", *count, which, args.retry ? "queued again" : "dropped");
    return 0;
}

int RunAction(const ActionArgs& args) {
    const std::string verb = args.retry ? "retry" : "drop";
    if (args.all == !args.target.empty()) {
        std::cerr << "spacehook dlq " << verb << ": give one dead letter (KIND:ID) or --all, not both\n";
        return 2;
    }
    if (!args.all && (!args.kind.empty() || !args.rule.empty() || !args.since.empty())) {
        std::cerr << "spacehook dlq " << verb << ": --kind, --rule and --since go with --all\n";
        return 2;
    }
    if (args.all) return RunBulk(args);
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
                        "KIND:ID, e.g. run:12 or event:7 (from `spacehook dlq list`); or --all");
        cmd->add_flag(
            "--all", action->all,
            std::string("Every dead letter (narrowed by --kind, --rule, --since), in one transaction"));
        cmd->add_option("--kind", action->kind, "With --all: only runs, or only events");
        cmd->add_option("--rule", action->rule, "With --all: only runs of this rule");
        cmd->add_option(
            "--since", action->since,
            "With --all: only those that failed since this time (ISO-8601) or this long ago (2h)");
        AddStoreOptions(cmd, action->store);
        cmd->callback([action] { SetExitCode(RunAction(*action)); });
    }
}

}  // namespace

SPACEHOOK_COMMAND("dlq", AddDlqCommand);

}  // namespace spacehook::app
