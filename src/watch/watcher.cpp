#include "watch/watcher.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/log.hpp"
#include "watch/catch_up.hpp"

namespace spacehook::watch {

namespace {

constexpr std::string_view kComponent = "watch";
/// New dead letters are counted from one listing of this many; more are told as "at least".
constexpr std::size_t kDeadLetterWindow = 1000;
/// How long a webhook never seen may be missing before a person is told (see Subscription()).
constexpr std::chrono::minutes kFirstSubscribeGrace{15};
constexpr std::array<SubscriptionState, 4> kStates = {
    SubscriptionState::kUnknown, SubscriptionState::kEnabled, SubscriptionState::kDisabled,
    SubscriptionState::kMissing};

/// "45s", "17m", "2h5m", "3d4h": how long something has waited, for people.
std::string Span(std::chrono::milliseconds span) {
    using std::chrono::duration_cast;
    const auto seconds = std::max<std::int64_t>(0, duration_cast<std::chrono::seconds>(span).count());
    if (seconds < 60) return fmt::format("{}s", seconds);
    const auto minutes = seconds / 60;
    if (minutes < 60) return fmt::format("{}m", minutes);
    const auto hours = minutes / 60;
    if (hours < 48)
        return minutes % 60 == 0 ? fmt::format("{}h", hours) : fmt::format("{}h{}m", hours, minutes % 60);
    return hours % 24 == 0 ? fmt::format("{}d", hours / 24) : fmt::format("{}d{}h", hours / 24, hours % 24);
}

std::string Who(const docspace::WebhookConfig& config) {
    return fmt::format("webhook '{}' (id {})", config.name, config.id);
}

/// The portal's reachability as conditions (and when it stopped answering, in `memory`).
void Portal(const SubscriptionCheck& check, const WatcherOptions& options, TimePoint now, WatchMemory& memory,
            std::vector<AlertCondition>& conditions) {
    if (check.reach == PortalReach::kUnreachable) {
        if (!memory.portal_unreachable_since) memory.portal_unreachable_since = now;
        const auto down =
            std::chrono::duration_cast<std::chrono::milliseconds>(now - *memory.portal_unreachable_since);
        conditions.push_back(
            {AlertKind::kPortalDown, down >= options.portal_down,
             fmt::format("{} has not answered for {} (since {}): {}", options.portal, Span(down),
                         FormatIso8601(*memory.portal_unreachable_since), check.portal_error)});
        return;  // whether the key is accepted is unknown
    }
    memory.portal_unreachable_since.reset();
    conditions.push_back({AlertKind::kPortalDown, false, ""});
    conditions.push_back({AlertKind::kPortalKey, check.reach == PortalReach::kKeyRefused,
                          fmt::format("{} refuses the API key: {}", options.portal, check.portal_error)});
}

/// What the watchdog found and did, as occurrences, a condition and notes.
void Subscription(const SubscriptionCheck& check, TimePoint now, WatchMemory& memory,
                  std::vector<AlertOccurrence>& occurrences, std::vector<AlertCondition>& conditions,
                  std::string& problem) {
    if (check.reach != PortalReach::kReachable) return;
    std::vector<std::string> problems;
    for (const auto& hook : check.webhooks) {
        std::string told;
        if (hook.recreated) {
            told = fmt::format(
                "{} was gone from the portal (a 410 answer or a blacklisted address deletes it, "
                "docs/docspace-api.md §1.9); recreated",
                Who(hook.config));
        } else if (hook.was_disabled && hook.config.enabled) {
            told = fmt::format("{} was disabled by the portal{}; re-enabled", Who(hook.config),
                               hook.config.last_failure_content.empty()
                                   ? std::string()
                                   : fmt::format(" (last failure {}: {})", hook.config.last_failure_on,
                                                 hook.config.last_failure_content));
        }
        if (!told.empty()) {
            log::Warn(kComponent, told, {{"webhook", hook.config.id}});
            occurrences.push_back({AlertKind::kSubscription, told, 1});
            memory.Note(now, AlertKind::kSubscription, told);
        }
        for (const auto& repair : hook.repairs) {
            if (!repair.starts_with("triggers")) continue;
            const std::string text = fmt::format("{}: {} (the rules changed)", Who(hook.config), repair);
            log::Info(kComponent, text, {{"webhook", hook.config.id}});
            memory.Note(now, AlertKind::kSubscription, text);
        }
        if (!hook.problem.empty()) problems.push_back(fmt::format("{}: {}", Who(hook.config), hook.problem));
        if (!hook.config.enabled) problems.push_back(fmt::format("{} is disabled", Who(hook.config)));
    }
    // A webhook never seen is what a first start looks like before `spacehook subscribe` (which needs serve
    // running for the portal's HEAD probe): told once it has been missing for kFirstSubscribeGrace.
    bool firing = check.state != SubscriptionState::kEnabled;
    if (check.state == SubscriptionState::kMissing) {
        if (memory.known_webhooks.empty()) {
            if (!memory.never_subscribed_since) memory.never_subscribed_since = now;
            firing = now - *memory.never_subscribed_since >= kFirstSubscribeGrace;
            problems.push_back(check.missing_reason);
        } else {
            problems.push_back("deleted: " + check.missing_reason);
        }
    } else {
        memory.never_subscribed_since.reset();
    }
    std::vector<std::int64_t> ids;
    for (const auto& hook : check.webhooks) ids.push_back(hook.config.id);
    if (!ids.empty()) memory.known_webhooks = ids;  // a missing one keeps the ids it had
    for (const auto& text : problems) problem += (problem.empty() ? "" : "; ") + text;
    conditions.push_back({AlertKind::kSubscription, firing, problem});
}

/// The store's backlog and dead letters as conditions and occurrences.
void Backlog(store::Store& store, const WatcherOptions& options, TimePoint now, WatchMemory& memory,
             std::vector<AlertOccurrence>& occurrences, std::vector<AlertCondition>& conditions) {
    auto stats = store.Stats();
    if (!stats) {
        log::Warn(kComponent, "store statistics unavailable this round", {{"error", stats.error().message}});
        return;
    }
    std::string backlog;
    std::chrono::milliseconds oldest{0};
    auto age = [&](const std::optional<TimePoint>& since) {
        return since ? std::chrono::duration_cast<std::chrono::milliseconds>(now - *since)
                     : std::chrono::milliseconds(0);
    };
    if (age(stats->oldest_pending_event) > oldest) {
        oldest = age(stats->oldest_pending_event);
        backlog = fmt::format("the oldest pending event has waited {} ({} pending)", Span(oldest),
                              stats->events_pending);
    }
    if (age(stats->oldest_live_run) > oldest) {
        oldest = age(stats->oldest_live_run);
        backlog = fmt::format("the oldest unfinished run was queued {} ago ({} pending, {} running)",
                              Span(oldest), stats->runs_pending, stats->runs_running);
    }
    conditions.push_back({AlertKind::kBacklog, oldest > options.backlog_age, backlog});
    conditions.push_back({AlertKind::kDeadLetters, stats->dead_letters > 0,
                          fmt::format("{} dead letters wait", stats->dead_letters)});

    auto letters = store.ListDeadLetters(kDeadLetterWindow);
    if (!letters) {
        log::Warn(kComponent, "dead-letter list unavailable this round",
                  {{"error", letters.error().message}});
        return;
    }
    std::map<std::string, int> by_rule;
    int fresh = 0;
    const store::DeadLetter* latest = nullptr;
    for (const auto& letter : *letters) {
        if (memory.dead_letters_seen && letter.failed_at <= *memory.dead_letters_seen) continue;
        ++fresh;
        ++by_rule[letter.kind == store::DeadLetter::Kind::kRun ? "rule " + letter.rule : "events (dispatch)"];
        if (latest == nullptr || letter.failed_at > latest->failed_at) latest = &letter;
    }
    if (fresh == 0) return;
    memory.dead_letters_seen = latest->failed_at;
    std::string groups;
    for (const auto& [name, count] : by_rule)
        groups += fmt::format("{}{} ({})", groups.empty() ? "" : ", ", name, count);
    const std::string text = fmt::format("{}{} dead-lettered: {}; the latest ({}{}): {}",
                                         fresh == static_cast<int>(kDeadLetterWindow) ? "at least " : "",
                                         fresh == 1 ? "one was" : fmt::format("{} were", fresh), groups,
                                         latest->kind == store::DeadLetter::Kind::kRun ? "run " : "event ",
                                         latest->id, latest->reason);
    occurrences.push_back({AlertKind::kDeadLetters, text, fresh});
    memory.Note(now, AlertKind::kDeadLetters, text);
}

}  // namespace

Watcher::Watcher(WatcherDeps deps, WatcherOptions options)
    : deps_(std::move(deps)), options_(std::move(options)) {
    // Registered now, so /metrics shows them from the start.
    deps_.metrics->GetCounter("spacehook_recovered_deliveries_total",
                              "Deliveries catch-up journaled from the portal's webhook log");
    for (const auto kind : kAlertKinds) {
        deps_.metrics->GetCounter("spacehook_alerts_total", "Alerts raised, by kind",
                                  {{"kind", std::string(ToString(kind))}});
    }
    SetSubscriptionUp(SubscriptionState::kUnknown);
}

Watcher::~Watcher() {
    Stop();
}

void Watcher::SetSubscriptionUp(SubscriptionState state) {
    for (const auto each : kStates) {
        deps_.metrics
            ->GetGauge("spacehook_subscription_up",
                       "1 for the state the portal's webhook is in (enabled, disabled, missing, unknown), 0 "
                       "for the others",
                       {{"state", std::string(ToString(each))}})
            .Set(each == state ? 1 : 0);
    }
}

bool Watcher::Stopping() const {
    std::lock_guard lock(mu_);
    return stopping_;
}

WatcherOptions Watcher::options() const {
    std::lock_guard lock(mu_);
    return options_;
}

void Watcher::SetOptions(WatcherOptions options) {
    {
        std::lock_guard lock(mu_);
        options_ = std::move(options);
        woken_ = true;
    }
    cv_.notify_all();
}

void Watcher::Start() {
    thread_ = std::thread([this] { Loop(); });
}

void Watcher::Stop() {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (auto released = deps_.store->ReleaseLease(kWatchLeaseName, deps_.owner); !released) {
        log::Warn(kComponent, "could not give up the watch lease; another replica takes it when it expires",
                  {{"error", released.error().message}});
    }
}

void Watcher::Loop() {
    while (true) {
        const auto started = std::chrono::steady_clock::now();
        Round();
        std::unique_lock lock(mu_);
        woken_ = false;
        // Until the interval since the start of this round has passed; new options (a reload) bring a new
        // interval, counted from the same start.
        while (cv_.wait_until(lock, started + options_.interval, [this] { return stopping_ || woken_; })) {
            if (stopping_) return;
            woken_ = false;
        }
    }
}

void Watcher::MirrorReport() {
    auto report = deps_.store->GetValue(kWatchReportName);
    if (!report || !*report) return;
    const Json json = Json::parse(**report, nullptr, /*allow_exceptions=*/false);
    const std::string state = json.is_object() && json.contains("subscription")
                                  ? json["subscription"].value("state", std::string("unknown"))
                                  : "unknown";
    for (const auto each : kStates) {
        if (ToString(each) == state) SetSubscriptionUp(each);
    }
}

bool Watcher::Round() {
    std::lock_guard round(round_mu_);
    const WatcherOptions opts = options();
    store::Store& store = *deps_.store;
    const TimePoint now = deps_.clock->Now();
    // Longer than a round's interval, so a watching replica keeps it; short enough that another one takes
    // over soon after it dies.
    const auto ttl = std::max<std::chrono::milliseconds>(3 * opts.interval, std::chrono::seconds(30));
    auto lease = store.TakeLease(kWatchLeaseName, deps_.owner, now, ttl);
    if (!lease) {
        log::Warn(kComponent, "watch round skipped: the store did not answer",
                  {{"error", lease.error().message}});
        return false;
    }
    if (!*lease) {
        MirrorReport();
        return false;
    }
    WatchMemory memory;
    if (auto stored = store.GetValue(kWatchStateName); stored && *stored) {
        memory = WatchMemory::FromJson(Json::parse(**stored, nullptr, /*allow_exceptions=*/false));
    }

    WatchReport report;
    report.checked_at = now;
    report.checked_by = deps_.owner;
    report.version = opts.version;
    report.portal_url = opts.portal;
    report.subscription_name = opts.subscription.name;
    report.subscription_url = opts.subscription.url;
    report.catch_up_enabled = opts.catch_up;
    report.alerts_configured = deps_.alerts != nullptr;
    std::vector<AlertOccurrence> occurrences;
    std::vector<AlertCondition> conditions;

    WatchdogOptions watchdog = opts.subscription;
    watchdog.triggers = deps_.trigger_mask ? deps_.trigger_mask() : std::nullopt;
    const SubscriptionCheck check = CheckSubscription(*deps_.api, watchdog);
    report.reach = check.reach;
    report.portal_error = check.portal_error;
    report.state = check.state;
    report.webhooks = check.webhooks;
    Portal(check, opts, now, memory, conditions);
    Subscription(check, now, memory, occurrences, conditions, report.subscription_problem);
    if (check.reach != PortalReach::kReachable) {
        log::Warn(kComponent, "the portal did not list its webhooks; no catch-up this round",
                  {{"state", ToString(check.reach)}, {"error", check.portal_error}});
    }

    if (opts.catch_up && check.reach == PortalReach::kReachable) {
        int recovered = 0;
        std::optional<TimePoint> oldest;
        for (const auto& hook : check.webhooks) {
            if (Stopping()) break;
            const auto pass =
                CatchUpWebhook(*deps_.api, store, store, store, hook.config.id, opts.catch_up_limits,
                               *deps_.clock, [this] { return Stopping(); });
            report.last_pass_pages += pass.pages;
            recovered += pass.recovered;
            if (pass.oldest_recovered && (!oldest || *pass.oldest_recovered < *oldest))
                oldest = pass.oldest_recovered;
            if (pass.error) {
                report.catch_up_error = fmt::format("{}: {}", Who(hook.config), pass.error->message);
                log::Warn(kComponent, "catch-up stopped early; the next round goes on",
                          {{"webhook", hook.config.id}, {"error", pass.error->message}});
            }
            if (pass.unreadable > 0) {
                log::Warn(kComponent, "log rows that are no readable delivery were skipped",
                          {{"webhook", hook.config.id}, {"rows", pass.unreadable}});
            }
        }
        report.last_pass_recovered = recovered;
        if (recovered > 0) {
            deps_.metrics->GetCounter("spacehook_recovered_deliveries_total", "")
                .Inc(static_cast<std::uint64_t>(recovered));
            memory.recovered_total += recovered;
            memory.last_recovery_at = now;
            memory.last_recovery_count = recovered;
            memory.last_recovery_oldest = oldest;
            const std::string text = fmt::format(
                "catch-up journaled {} deliver{} the service had missed{}, from the portal's webhook log; "
                "they run "
                "like live ones",
                recovered, recovered == 1 ? "y" : "ies",
                oldest ? fmt::format(" (the oldest published {})", FormatIso8601(*oldest)) : std::string());
            log::Warn(kComponent, text, {{"recovered", recovered}});
            occurrences.push_back({AlertKind::kRecovered, text, recovered});
            memory.Note(now, AlertKind::kRecovered, text);
        }
    }

    Backlog(store, opts, now, memory, occurrences, conditions);

    AlertPolicy policy(opts.alert_throttle);
    policy.Restore(memory.alert_policy);
    if (auto message = policy.Round(occurrences, conditions, now)) {
        std::vector<AlertKind> counted;
        for (const auto& line : message->lines) {
            log::Warn("alert", line.text,
                      {{"kind", ToString(line.kind)},
                       {"state", line.what == AlertLine::What::kFiring     ? "firing"
                                 : line.what == AlertLine::What::kResolved ? "resolved"
                                                                           : "happened"}});
            if (std::find(counted.begin(), counted.end(), line.kind) == counted.end())
                counted.push_back(line.kind);
        }
        for (const auto kind : counted) {
            deps_.metrics->GetCounter("spacehook_alerts_total", "", {{"kind", std::string(ToString(kind))}})
                .Inc();
        }
        if (deps_.alerts != nullptr) deps_.alerts->Post(*message);
    }
    memory.alert_policy = policy.ToJson();
    report.firing = policy.Firing();
    report.last_alert_at = policy.last_sent();

    for (const auto& [name, value] : {std::pair{kWatchStateName, memory.ToJson().dump()},
                                      std::pair{kWatchReportName, report.ToJson(memory).dump()}}) {
        if (auto saved = store.PutValue(name, value); !saved) {
            log::Warn(kComponent, "could not keep the watch state in the store",
                      {{"error", saved.error().message}});
        }
    }
    SetSubscriptionUp(report.state);
    return true;
}

}  // namespace spacehook::watch
