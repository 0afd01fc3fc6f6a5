#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "docspace/api.hpp"
#include "store/store.hpp"
#include "watch/alert_outbox.hpp"
#include "watch/catch_up_cursor.hpp"
#include "watch/subscription_watchdog.hpp"
#include "watch/watch_state.hpp"

namespace spacehook::watch {

/// The settings of `subscription` and `alerts` a watcher runs with; a reload swaps them whole.
struct WatcherOptions {
    std::string portal;            ///< docspace.api_host, for messages
    WatchdogOptions subscription;  ///< `triggers` is taken from WatcherDeps::trigger_mask each round
    bool catch_up = true;
    CatchUpLimits catch_up_limits;
    std::chrono::milliseconds interval{std::chrono::seconds(60)};
    std::chrono::milliseconds alert_throttle{std::chrono::minutes(15)};
    std::chrono::milliseconds backlog_age{std::chrono::minutes(15)};
    std::chrono::milliseconds portal_down{std::chrono::minutes(5)};
    std::string version;  ///< of this build, in the report
};

struct WatcherDeps {
    docspace::Api* api = nullptr;
    store::Store* store = nullptr;
    MetricsRegistry* metrics = nullptr;
    const Clock* clock = nullptr;
    /// Where alert messages go; nullptr when nobody is configured (they are still logged).
    AlertOutbox* alerts = nullptr;
    /// The triggers the enabled rules need (0 = all), nullopt without enabled rules; asked each round, so
    /// a reload of the rules reaches the portal's webhook at the next round.
    std::function<std::optional<std::int64_t>()> trigger_mask;
    /// This process among replicas ("host:pid"): the watch lease's owner.
    std::string owner;
};

/// What `serve` runs beside the runner so that no event is missed and a person hears about trouble
/// (docs/operations.md "Catching up", "The subscription watchdog", "Alerts"). At start and every
/// `subscription.check_interval`, one round:
///  1. the watch lease in the store (replicas: one of them watches; the others skip the round);
///  2. the watchdog: is the portal reachable, the key accepted, this service's webhook there and enabled
///     with the rules' triggers; repairs what it may (CheckSubscription);
///  3. catch-up on each of this service's webhooks (CatchUpWebhook), when the portal answered;
///  4. the backlog's age and new dead letters from the store;
///  5. alerts through the policy (grouped, throttled, resolved) to the outbox, and the report and memory
///     into the store for `spacehook status`.
/// Failures of a round are logged and reported; the next round tries again. Rounds never block the
/// runner: they run on the watcher's thread and reach the portal through the shared rate limiter.
class Watcher {
public:
    Watcher(WatcherDeps deps, WatcherOptions options);
    ~Watcher();
    Watcher(const Watcher&) = delete;
    Watcher& operator=(const Watcher&) = delete;

    /// Starts the thread; the first round runs at once.
    void Start();
    /// Ends the thread after the round in progress and gives the lease up. Idempotent.
    void Stop();
    /// New settings (a reload); the next round uses them, and the wait before it follows their interval.
    void SetOptions(WatcherOptions options);
    /// One round on the calling thread (the thread calls it; tests too). False when another replica holds
    /// the lease or the store could not be asked, so nothing was done.
    bool Round();

private:
    void Loop();
    [[nodiscard]] WatcherOptions options() const;
    [[nodiscard]] bool Stopping() const;
    /// The metrics of a round this replica did not watch: as the watching replica last reported.
    void MirrorReport();
    void SetSubscriptionUp(SubscriptionState state);

    WatcherDeps deps_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    WatcherOptions options_;
    bool stopping_ = false;
    bool woken_ = false;
    std::thread thread_;
    std::mutex round_mu_;  ///< one round at a time (the thread's and a test's)
};

}  // namespace spacehook::watch
