#include "runner/dispatcher.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/enum_names.hpp"
#include "core/log.hpp"
#include "runner/stored_run.hpp"

namespace spacehook::runner {

namespace {

constexpr std::string_view kComponent = "dispatcher";

std::string Join(const std::vector<std::string>& items) {
    return fmt::format("{}", fmt::join(items, ", "));
}

std::string NamesOf(const rules::NeededFacts& needs) {
    return fmt::format("{}", fmt::join(needs.Names(), ", "));
}

/// "file info unavailable (GET ...: 404 ...)" for every fact in `names` that the resolver gave up on.
std::string WhyMissing(const std::vector<std::string_view>& names, const Resolution& resolution) {
    std::vector<std::string> parts;
    for (auto name : names) {
        auto it = resolution.unavailable.find(std::string(name));
        parts.push_back(it == resolution.unavailable.end()
                            ? std::string(name)
                            : fmt::format("{} unavailable ({})", name, it->second));
    }
    return Join(parts);
}

}  // namespace

std::string_view ToString(DispatchOutcome outcome) {
    static constexpr EnumNames<DispatchOutcome, 6> kNames{{{
        {DispatchOutcome::kDispatched, "dispatched"},
        {DispatchOutcome::kNoMatch, "no_match"},
        {DispatchOutcome::kOwnEvent, "own_event"},
        {DispatchOutcome::kRetried, "retried"},
        {DispatchOutcome::kFailed, "failed"},
        {DispatchOutcome::kLost, "lost"},
    }}};
    return kNames.Name(outcome);
}

Dispatcher::Dispatcher(store::WorkQueue& store, const rules::CompiledRules& rules, docspace::Api& api,
                       ContextResolver& resolver, DispatcherOptions options, const Clock& clock,
                       Random& random, RunnerMetrics& metrics)
    : store_(store),
      fixed_rules_(&rules),
      api_(api),
      resolver_(resolver),
      options_(std::move(options)),
      clock_(clock),
      random_(random),
      metrics_(metrics) {}

Dispatcher::Dispatcher(store::WorkQueue& store, const LiveRules& rules, docspace::Api& api,
                       ContextResolver& resolver, DispatcherOptions options, const Clock& clock,
                       Random& random, RunnerMetrics& metrics)
    : store_(store),
      live_rules_(&rules),
      api_(api),
      resolver_(resolver),
      options_(std::move(options)),
      clock_(clock),
      random_(random),
      metrics_(metrics) {}

std::shared_ptr<const rules::CompiledRules> Dispatcher::Rules() const {
    if (live_rules_ != nullptr) return live_rules_->Current();
    // Not owned: an aliasing pointer with no control block.
    return std::shared_ptr<const rules::CompiledRules>(std::shared_ptr<void>(), fixed_rules_);
}

Status Dispatcher::LearnSelf() {
    auto self = api_.GetSelf();
    if (!self) return Fail(self.error());
    SetSelfId(self->id);
    log::Info(kComponent, "service account known; its own events are ignored (loop guard)",
              {{"user", self->id}, {"name", self->display_name}});
    return Ok();
}

void Dispatcher::SetSelfId(std::string id) {
    std::lock_guard lock(mu_);
    self_id_ = std::move(id);
}

std::optional<std::string> Dispatcher::self_id() const {
    std::lock_guard lock(mu_);
    return self_id_;
}

Result<std::size_t> Dispatcher::DispatchDue() {
    if (!self_id()) {
        return Fail(ErrorCode::kInternal,
                    "the service account is not known yet (people/@self): nothing is dispatched "
                    "before the loop guard can work");
    }
    auto claimed = store_.ClaimEvents(options_.owner, options_.batch, clock_.Now());
    if (!claimed) return Fail(claimed.error());
    deferring_ = true;
    for (const auto& event : *claimed) Dispatch(event);
    deferring_ = false;
    FlushCompletions();
    return claimed->size();
}

void Dispatcher::FlushCompletions() {
    if (deferred_.empty()) return;
    std::vector<store::DispatchCompletion> batch;
    batch.reserve(deferred_.size());
    for (const auto& d : deferred_) batch.push_back(d.completion);
    const auto results = store_.CompleteDispatches(options_.owner, batch);
    for (std::size_t i = 0; i < deferred_.size(); ++i) {
        const Deferred& d = deferred_[i];
        Report(d.seq, d.trigger, d.completion, d.outcome,
               i < results.size()
                   ? results[i]
                   : Result<int>(Fail(ErrorCode::kInternal, "the store answered fewer completions")));
    }
    deferred_.clear();
}

DispatchOutcome Dispatcher::Dispatch(const store::EventRecord& record) {
    auto parsed = rules::ParseEventBody(record.body);
    if (!parsed)
        return FailPermanently(record,
                               "the stored body is not a webhook envelope: " + parsed.error().message);
    const rules::Event& event = *parsed;
    // Before the loop guard: the service's own folder.created events are what keeps the cache warm for
    // the runs that react to the folders it creates.
    resolver_.Observe(event);

    const auto self = self_id();
    if (!self)
        return Retry(record, Error{ErrorCode::kUnavailable, "the service account is not known yet", 0, {}});
    if (event.IsBy(*self)) {
        return Complete(record, {}, store::EventState::kIgnored,
                        "own event: caused by the service account (loop guard, docs/docspace-api.md §1.12)",
                        DispatchOutcome::kOwnEvent);
    }

    // One rule set for the whole dispatch, even if a reload replaces it meanwhile.
    const std::shared_ptr<const rules::CompiledRules> rules_now = Rules();
    const rules::CompiledRules& rules = *rules_now;
    Resolution resolution;
    const rules::NeededFacts needs = rules.Needs(event);
    if (needs.any()) {
        if (auto st = resolver_.Resolve(event, needs, resolution); !st) {
            if (st.error().IsTransient()) return Retry(record, st.error());
            return FailPermanently(record, "looking up " + NamesOf(needs) + ": " + st.error().message);
        }
    }

    std::vector<std::string> matched;
    for (const auto& evaluation : rules.Evaluate(event, resolution.facts)) {
        if (!evaluation.listens) continue;
        if (evaluation.truth == rules::Truth::kUnknown) {
            // Only an unavailable fact leaves a rule undecided here (a transient failure returned above).
            return FailPermanently(record, fmt::format("rule {} cannot be decided: {}", evaluation.rule->name,
                                                       WhyMissing(evaluation.missing.Names(), resolution)));
        }
        if (evaluation.truth == rules::Truth::kYes) matched.push_back(evaluation.rule->name);
    }
    std::vector<std::string> missing_notes;
    for (const auto& [fact, why] : resolution.unavailable)
        missing_notes.push_back(fmt::format("{} unavailable ({})", fact, why));
    if (matched.empty()) {
        std::string note = "no rule matched";
        if (!missing_notes.empty()) note += "; " + Join(missing_notes);
        return Complete(record, {}, store::EventState::kIgnored, note, DispatchOutcome::kNoMatch);
    }

    // Serialize on the room: resolve the path for file and folder events even when no rule needed it.
    const bool in_tree = event.kind == rules::EntityKind::kFile || event.kind == rules::EntityKind::kFolder;
    if (in_tree && !resolution.facts.path) {
        rules::NeededFacts path_only;
        path_only.path = true;
        if (auto st = resolver_.Resolve(event, path_only, resolution); !st) {
            if (st.error().IsTransient()) return Retry(record, st.error());
            return FailPermanently(record, "looking up the room path: " + st.error().message);
        }
    }

    auto planned = rules.Plan(event, resolution.facts);
    if (!planned) return FailPermanently(record, planned.error().message);
    Json unavailable = Json::object();
    for (const auto& [fact, why] : resolution.unavailable) unavailable[fact] = why;
    std::vector<store::NewRun> runs;
    for (auto& run : *planned) {
        // A replayed event does its work again: fresh keys, so the store makes new runs (and
        // create_room, whose tag derives from the key, makes a new room).
        if (record.replay_generation > 0) {
            run.run_key += fmt::format("/replay:{}", record.replay_generation);
            run.context.SetRun(run.rule, run.run_key);
        }
        runs.push_back(MakeNewRun(run, unavailable));
    }
    const std::string note = missing_notes.empty() ? "" : "dispatched without " + Join(missing_notes);
    return Complete(record, runs, store::EventState::kDispatched, note, DispatchOutcome::kDispatched);
}

DispatchOutcome Dispatcher::Complete(const store::EventRecord& event, const std::vector<store::NewRun>& runs,
                                     store::EventState state, const std::string& note,
                                     DispatchOutcome outcome) {
    store::DispatchCompletion completion{event.seq, runs, state, note};
    if (deferring_) {
        // Written with the rest of DispatchDue's batch; the outcome reported then may still be kLost.
        deferred_.push_back(Deferred{event.seq, event.trigger, std::move(completion), outcome});
        return outcome;
    }
    const auto created = store_.CompleteDispatch(event.seq, options_.owner, runs, state, note);
    return Report(event.seq, event.trigger, completion, outcome, created);
}

DispatchOutcome Dispatcher::Report(std::int64_t seq, const std::string& trigger,
                                   const store::DispatchCompletion& completion, DispatchOutcome outcome,
                                   const Result<int>& created) {
    if (!created) {
        if (created.error().code == ErrorCode::kConflict) {
            log::Info(kComponent, "event replayed while being dispatched; the replay dispatches it",
                      {{"seq", seq}, {"error", created.error().message}});
        } else {
            log::Warn(kComponent,
                      "cannot complete the dispatch; the event is claimed again when its lease expires",
                      {{"seq", seq}, {"error", created.error().message}});
        }
        metrics_.Dispatch(ToString(DispatchOutcome::kLost));
        return DispatchOutcome::kLost;
    }
    std::vector<std::string> keys;
    for (const auto& run : completion.runs) keys.push_back(run.run_key);
    const std::vector<log::Field> fields = {{"seq", seq},
                                            {"trigger", trigger},
                                            {"runs_created", *created},
                                            {"runs", Join(keys)},
                                            {"note", completion.note}};
    if (completion.final_state == store::EventState::kDispatched) {
        log::Info(kComponent, "event dispatched", fields);
    } else {
        // Routine (no rule matched, the service's own action): an info line for each buried the log's
        // other lines and cost ~5% of serve's CPU at 20k ignored deliveries/s (bench/compare). The metric
        // (spacehook_dispatch_total) and `spacehook events list --state ignored` keep them visible.
        log::Debug(kComponent, "event ignored", fields);
    }
    metrics_.Dispatch(ToString(outcome));
    return outcome;
}

DispatchOutcome Dispatcher::Retry(const store::EventRecord& event, const Error& error) {
    const int attempts = event.attempts + 1;
    if (attempts >= options_.max_attempts) {
        return FailPermanently(event, fmt::format("gave up after {} attempts: {}", attempts, error.message));
    }
    const auto delay = NextDelay(options_.backoff, attempts, error.retry_after, random_);
    if (auto st = store_.RetryDispatch(event.seq, options_.owner, clock_.Now() + delay, error.message); !st) {
        log::Warn(kComponent, "cannot schedule the dispatch again",
                  {{"seq", event.seq}, {"error", st.error().message}});
        metrics_.Dispatch(ToString(DispatchOutcome::kLost));
        return DispatchOutcome::kLost;
    }
    log::Warn(
        kComponent, "lookup failed; dispatching again later",
        {{"seq", event.seq}, {"attempt", attempts}, {"delay_ms", delay.count()}, {"error", error.message}});
    metrics_.Dispatch(ToString(DispatchOutcome::kRetried));
    return DispatchOutcome::kRetried;
}

DispatchOutcome Dispatcher::FailPermanently(const store::EventRecord& event, const std::string& reason) {
    if (auto st = store_.FailDispatch(event.seq, options_.owner, reason); !st) {
        log::Warn(kComponent, "cannot move the event to the dead-letter list",
                  {{"seq", event.seq}, {"error", st.error().message}});
        metrics_.Dispatch(ToString(DispatchOutcome::kLost));
        return DispatchOutcome::kLost;
    }
    log::Error(kComponent, "dispatch failed; event moved to the dead-letter list",
               {{"seq", event.seq}, {"trigger", event.trigger}, {"reason", reason}});
    metrics_.Dispatch(ToString(DispatchOutcome::kFailed));
    return DispatchOutcome::kFailed;
}

}  // namespace spacehook::runner
