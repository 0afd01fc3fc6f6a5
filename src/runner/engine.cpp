#include "runner/engine.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

#include "core/log.hpp"

namespace spacehook::runner {

namespace {
constexpr std::string_view kComponent = "runner";
using std::chrono::milliseconds;
}  // namespace

std::string DefaultOwnerPrefix() {
    char host[256] = {};
    if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
        std::snprintf(host, sizeof(host), "host");
    return fmt::format("{}:{}", host, static_cast<long>(::getpid()));
}

Engine::Engine(EngineDeps deps, EngineOptions options)
    : deps_(std::move(deps)), options_(std::move(options)) {
    owner_prefix_ = options_.owner_prefix.empty() ? DefaultOwnerPrefix() : options_.owner_prefix;
    options_.workers = std::max(1, options_.workers);
    metrics_ = std::make_unique<RunnerMetrics>(*deps_.metrics);
    api_ = std::make_unique<MeteredApi>(*deps_.api, *metrics_);
    cache_ = std::make_unique<FolderPathCache>(options_.cache, *deps_.clock);
    resolver_ = std::make_unique<ContextResolver>(*api_, *cache_);
    DispatcherOptions dispatch;
    dispatch.owner = owner_prefix_ + ":dispatcher";
    dispatch.batch = options_.dispatch_batch;
    dispatch.backoff = options_.retry.backoff;
    dispatch.max_attempts = options_.retry.max_attempts;
    dispatcher_ = deps_.live_rules != nullptr
                      ? std::make_unique<Dispatcher>(*deps_.store, *deps_.live_rules, *api_, *resolver_,
                                                     dispatch, *deps_.clock, *deps_.random, *metrics_)
                      : std::make_unique<Dispatcher>(*deps_.store, *deps_.rules, *api_, *resolver_, dispatch,
                                                     *deps_.clock, *deps_.random, *metrics_);
    steps_.api = api_.get();
    steps_.mailer = deps_.mailer;
    steps_.chat = deps_.chat;
    steps_.http = deps_.http;
    steps_.chat_channels = deps_.chat_channels;
    steps_.http_timeout = options_.http_timeout;
    steps_.clock = deps_.clock;
    steps_.variables = deps_.variables;
    limits_ = std::make_unique<DependencyLimits>(
        options_.max_per_dependency > 0 ? options_.max_per_dependency : std::max(1, options_.workers - 1),
        *deps_.clock);
    executor_ = std::make_unique<RunExecutor>(*deps_.store, steps_, options_.retry, *deps_.clock,
                                              *deps_.random, *metrics_, &leases_, limits_.get());
}

Engine::~Engine() {
    Stop(milliseconds(0));
}

void Engine::Start() {
    if (started_) return;
    started_ = true;
    {
        std::lock_guard lock(waker_->mu);
        waker_->workers = options_.workers;
    }
    std::weak_ptr<Waker> waker = waker_;
    deps_.store->SetWakeup([waker] {
        if (auto w = waker.lock()) {
            {
                std::lock_guard lock(w->mu);
                w->Post();
            }
            w->cv.notify_all();
            w->worker_cv.notify_one();
        }
    });
    threads_.emplace_back([this] { DispatchLoop(); });
    for (int n = 1; n <= options_.workers; ++n) threads_.emplace_back([this, n] { WorkerLoop(n); });
    heartbeat_ = std::thread([this] { HeartbeatLoop(); });
    log::Info(kComponent, "dispatcher and workers started",
              {{"workers", options_.workers},
               {"per_dependency", limits_->limit()},
               {"owner", owner_prefix_},
               {"lease_ms", options_.lease.count()}});
}

void Engine::Wake() {
    {
        std::lock_guard lock(waker_->mu);
        waker_->Post();
    }
    waker_->cv.notify_all();
    waker_->worker_cv.notify_one();
}

void Engine::WakeOneWorker() {
    {
        std::lock_guard lock(waker_->mu);
        waker_->PostWorker();
    }
    waker_->worker_cv.notify_one();
}

std::uint64_t Engine::WakeSeq() {
    std::lock_guard lock(waker_->mu);
    return waker_->seq;
}

void Engine::Stop(milliseconds grace) {
    if (!started_ || stopped_) return;
    stopped_ = true;
    stop_ = true;
    {
        std::lock_guard lock(waker_->mu);
        waker_->stopping = true;
    }
    waker_->cv.notify_all();
    waker_->worker_cv.notify_all();
    log::Info(kComponent, "stopping: no new work is claimed; runs finish their current step",
              {{"grace_ms", grace.count()}, {"runs_in_progress", static_cast<int>(leases_.size())}});

    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (busy_workers_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(milliseconds(10));
    }
    // Past the grace: give back what is still inside a step, so the next start resumes it at once
    // instead of after a lease expiry. The step's late checkpoint is refused (kConflict) and it looks
    // before it acts when it runs again.
    for (const auto& [run_id, owner] : leases_.Tracked()) {
        auto released = deps_.store->ReleaseRun(run_id, owner);
        log::Warn(kComponent, "shutdown grace over: run released while a step was still in progress",
                  {{"run", run_id}, {"released", released.has_value()}});
    }
    for (auto& thread : threads_) {
        if (thread.joinable()) thread.join();
    }
    {
        std::lock_guard lock(waker_->mu);
        heartbeat_stop_ = true;
    }
    waker_->cv.notify_all();
    if (heartbeat_.joinable()) heartbeat_.join();
    deps_.store->SetWakeup({});
    log::Info(kComponent, "dispatcher and workers stopped");
}

bool Engine::SleepFor(milliseconds duration) {
    std::unique_lock lock(waker_->mu);
    waker_->cv.wait_for(lock, duration, [&] { return waker_->stopping; });
    return !waker_->stopping;
}

milliseconds Engine::NextWait(milliseconds floor) {
    milliseconds wait = options_.max_sleep;
    if (auto due = deps_.store->NextDueTime(); due && *due) {
        const auto until = std::chrono::duration_cast<milliseconds>(**due - deps_.clock->Now());
        wait = std::clamp(until, floor, options_.max_sleep);
    }
    return wait;
}

void Engine::Sleep(std::uint64_t seen, milliseconds floor) {
    const milliseconds wait = NextWait(floor);
    std::unique_lock lock(waker_->mu);
    waker_->cv.wait_for(lock, wait, [&] { return waker_->seq != seen || waker_->stopping; });
}

void Engine::SleepWorker(int n, milliseconds floor) {
    std::unique_lock lock(waker_->mu);
    // A wake-up posted while this worker was busy is taken at once, without asking the store.
    if (waker_->worker_wakeups > 0 || waker_->stopping) {
        if (waker_->worker_wakeups > 0) --waker_->worker_wakeups;
        return;
    }
    lock.unlock();
    // Only worker 1 keeps the store's next due time (a retry or a lease expiry needs no wake-up to become
    // due): were every worker to, all would wake at that time, and every 50 ms while the journal has
    // events waiting for the dispatcher. A run it claims then wakes the next worker. The others sleep
    // until a wake-up or max_sleep, so due work is picked up within max_sleep even while worker 1 is busy.
    const milliseconds wait = n == 1 ? NextWait(floor) : options_.max_sleep;
    lock.lock();
    if (waker_->worker_cv.wait_for(lock, wait,
                                   [&] { return waker_->worker_wakeups > 0 || waker_->stopping; })) {
        if (waker_->worker_wakeups > 0) --waker_->worker_wakeups;
    }
}

void Engine::DispatchLoop() {
    int self_attempts = 0;
    while (!stopping()) {
        if (!dispatcher_->self_id()) {
            auto learned = dispatcher_->LearnSelf();
            if (!learned) {
                ++self_attempts;
                const auto delay = NextDelay(options_.self_backoff, self_attempts,
                                             learned.error().retry_after, *deps_.random);
                const bool transient = learned.error().IsTransient();
                const std::string message =
                    transient
                        ? "cannot reach the portal to learn the service account (GET people/@self); "
                          "not dispatching until it answers (the loop guard needs it)"
                        : "the portal refused GET people/@self: check DOCSPACE_API_KEY / docspace.api_key; "
                          "not dispatching until it answers";
                const std::vector<log::Field> fields = {{"attempt", self_attempts},
                                                        {"retry_in_ms", delay.count()},
                                                        {"error", learned.error().message}};
                if (transient) {
                    log::Warn(kComponent, message, fields);
                } else {
                    log::Error(kComponent, message, fields);
                }
                SleepFor(delay);
                continue;
            }
        }
        const std::uint64_t seen = WakeSeq();
        auto dispatched = dispatcher_->DispatchDue();
        if (!dispatched) {
            log::Warn(kComponent, "cannot claim events", {{"error", dispatched.error().message}});
            Sleep(seen, milliseconds(200));
            continue;
        }
        if (*dispatched > 0) continue;  // more may be due already
        Sleep(seen, milliseconds(50));
    }
}

void Engine::WorkerLoop(int n) {
    const std::string owner = fmt::format("{}:worker-{}", owner_prefix_, n);
    while (!stopping()) {
        ++busy_workers_;
        ++claim_attempts_;
        auto claimed = deps_.store->ClaimRun(owner, deps_.clock->Now());
        if (!claimed) {
            --busy_workers_;
            log::Warn(kComponent, "cannot claim runs", {{"worker", n}, {"error", claimed.error().message}});
            SleepWorker(n, milliseconds(200));
            continue;
        }
        if (!*claimed) {
            --busy_workers_;
            SleepWorker(n, milliseconds(50));
            continue;
        }
        // More runs may be due than the wake-up that brought this worker here announced: one more idle
        // worker tries now, rather than after this run's steps.
        WakeOneWorker();
        executor_->Execute(**claimed, owner, &stop_);
        --busy_workers_;
    }
}

void Engine::HeartbeatLoop() {
    const milliseconds interval = std::max(milliseconds(10), options_.lease / 3);
    while (true) {
        {
            std::unique_lock lock(waker_->mu);
            waker_->cv.wait_for(lock, interval, [&] { return heartbeat_stop_; });
            if (heartbeat_stop_) return;
        }
        leases_.RenewAll(*deps_.store, deps_.clock->Now());
    }
}

}  // namespace spacehook::runner
