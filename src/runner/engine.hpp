#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/random.hpp"
#include "docspace/api.hpp"
#include "httpc/client.hpp"
#include "notify/chat_poster.hpp"
#include "notify/mailer.hpp"
#include "rules/compiled_rules.hpp"
#include "runner/context_resolver.hpp"
#include "runner/dispatcher.hpp"
#include "runner/folder_path_cache.hpp"
#include "runner/live_rules.hpp"
#include "runner/metered_api.hpp"
#include "runner/run_executor.hpp"
#include "runner/runner_metrics.hpp"
#include "steps/step_deps.hpp"
#include "store/store.hpp"

namespace spacehook::runner {

/// What the engine acts on and through. Everything must outlive the Engine.
struct EngineDeps {
    store::WorkQueue* store = nullptr;
    /// The rules, fixed for the engine's life; or `live_rules`, a set `serve` replaces at a reload (one of
    /// the two).
    const rules::CompiledRules* rules = nullptr;
    const LiveRules* live_rules = nullptr;
    docspace::Api* api = nullptr;      ///< the portal (a DocSpaceClient in serve)
    notify::Mailer* mailer = nullptr;  ///< nullptr: mail steps fail (serve refuses rules with mail then)
    notify::ChatPoster* chat = nullptr;
    httpc::Client* http = nullptr;  ///< for `http` steps
    std::map<std::string, steps::ChatEndpoint> chat_channels;
    MetricsRegistry* metrics = nullptr;
    const Clock* clock = nullptr;
    Random* random = nullptr;
    /// Where steps read their `${VAR}` when they run (steps::StepDeps::variables).
    config::Env variables = config::ProcessEnv();
};

struct EngineOptions {
    int workers = 4;                                ///< runner.workers
    std::chrono::milliseconds lease{30000};         ///< runner.lease (the store's lease; renewed at a third)
    RetryOptions retry;                             ///< runner.retry
    std::chrono::milliseconds http_timeout{30000};  ///< `http` steps
    /// runner.max_per_dependency: workers inside calls to one dependency at a time (DependencyLimits);
    /// 0 = one less than the workers (at least 1), so one is always free for the others.
    int max_per_dependency = 0;
    FolderPathCacheOptions cache;
    std::size_t dispatch_batch = 16;
    /// The longest a worker sleeps without a wake-up. Wake-ups do not cross processes: a CLI command
    /// writing the same SQLite file (`spacehook dlq retry`) is seen within this long.
    std::chrono::milliseconds max_sleep{1000};
    /// Lease owners are "<owner_prefix>:dispatcher" and "<owner_prefix>:worker-<n>"; empty = "<host>:<pid>".
    std::string owner_prefix;
    /// Backoff while people/@self cannot be read at start (the loop guard needs it before any dispatch).
    BackoffPolicy self_backoff{std::chrono::seconds(1), std::chrono::seconds(30), 2.0, 0.2};
};

/// The background half of `spacehook serve` (DESIGN.md "dispatcher", "runner"): one dispatcher thread
/// turning journaled events into runs, `workers` threads executing runs, and a heartbeat renewing the
/// leases of runs in progress. Threads sleep until the store's next due time, a wake-up, or
/// max_sleep, whichever comes first.
///
/// Shutdown (Stop): nothing new is claimed; a worker in a step finishes the step, checkpoints it and
/// releases its run (ReleaseRun) instead of starting the next one; after `grace`, runs still inside a
/// step are released by Stop itself (their late checkpoint is then refused, and the step's own
/// look-before-act takes over at the next start). Stop then waits for the threads: a step still
/// inside a call ends within that call's own timeout (docspace.timeouts, operation_poll.timeout,
/// the SMTP timeout).
class Engine {
public:
    Engine(EngineDeps deps, EngineOptions options);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    /// Registers the store's wake-up and starts the threads. Call once.
    void Start();
    /// Graceful stop (see the class comment). Idempotent.
    void Stop(std::chrono::milliseconds grace);
    /// Wakes every sleeping thread (work may be due).
    void Wake();

    [[nodiscard]] Dispatcher& dispatcher() { return *dispatcher_; }
    [[nodiscard]] RunExecutor& executor() { return *executor_; }
    [[nodiscard]] FolderPathCache& cache() { return *cache_; }
    /// Run claims the workers attempted (successful or not); tests bound the claims a wake-up causes.
    [[nodiscard]] std::uint64_t claim_attempts() const { return claim_attempts_.load(); }

private:
    /// Shared with the store's wake-up callback, which may still run after the Engine is gone.
    ///
    /// A wake-up wakes the dispatcher and ONE idle worker, not all of them: every commit of new work asks
    /// for a wake-up (each stored delivery does), and with many workers waking all of them made every
    /// commit cost one claim per worker, most of them finding nothing, all queued on the store's single
    /// writer. A worker that claims a run hands a wake-up on to the next idle one, so a burst of due runs
    /// still reaches as many workers as it needs. Workers also wake at their next due time (retries,
    /// lease expiries: worker 1 keeps that time, see SleepWorker) and after max_sleep.
    struct Waker {
        std::mutex mu;
        std::condition_variable cv;         ///< the dispatcher and Stop
        std::condition_variable worker_cv;  ///< idle workers, woken one at a time
        std::uint64_t seq = 0;              ///< bumped by every wake-up (the dispatcher waits for a change)
        int worker_wakeups = 0;             ///< wake-ups not yet taken by a worker, at most `workers`
        int workers = 1;
        bool stopping = false;

        /// A wake-up for the dispatcher and one worker. Call with `mu` held.
        void Post() {
            ++seq;
            if (worker_wakeups < workers) ++worker_wakeups;
        }
        /// Passes a wake-up on to one more idle worker. Call with `mu` held.
        void PostWorker() {
            if (worker_wakeups < workers) ++worker_wakeups;
        }
    };

    void DispatchLoop();
    void WorkerLoop(int n);
    void HeartbeatLoop();
    /// Sleeps until the store's next due time (at least `floor`, at most max_sleep), a wake-up after
    /// `seen`, or stop (the dispatcher).
    void Sleep(std::uint64_t seen, std::chrono::milliseconds floor);
    /// As Sleep, for worker `n`: until a worker wake-up taken by this worker, stop, or (worker 1) the next
    /// due time, (the others) max_sleep.
    void SleepWorker(int n, std::chrono::milliseconds floor);
    /// How long to sleep at most: until the store's next due time, within [floor, max_sleep].
    std::chrono::milliseconds NextWait(std::chrono::milliseconds floor);
    /// Hands a wake-up on to one more idle worker.
    void WakeOneWorker();
    /// Sleeps `duration` or until stop. False when stopping.
    bool SleepFor(std::chrono::milliseconds duration);
    std::uint64_t WakeSeq();
    [[nodiscard]] bool stopping() const { return stop_.load(); }

    EngineDeps deps_;
    EngineOptions options_;
    std::string owner_prefix_;
    std::unique_ptr<RunnerMetrics> metrics_;
    std::unique_ptr<MeteredApi> api_;
    std::unique_ptr<FolderPathCache> cache_;
    std::unique_ptr<ContextResolver> resolver_;
    std::unique_ptr<Dispatcher> dispatcher_;
    steps::StepDeps steps_;  ///< what the workers' steps act through
    LeaseKeeper leases_;
    std::unique_ptr<DependencyLimits> limits_;
    std::unique_ptr<RunExecutor> executor_;

    std::shared_ptr<Waker> waker_ = std::make_shared<Waker>();
    std::atomic<bool> stop_{false};
    std::atomic<int> busy_workers_{0};
    std::atomic<std::uint64_t> claim_attempts_{0};
    std::vector<std::thread> threads_;  ///< the dispatcher and the workers
    std::thread heartbeat_;             ///< stops after them, so leases stay fresh through the grace
    bool heartbeat_stop_ = false;       ///< guarded by waker_->mu
    bool started_ = false;
    bool stopped_ = false;
};

/// "<host>:<pid>": unique per process on one machine and readable in `runs show`.
std::string DefaultOwnerPrefix();

}  // namespace spacehook::runner
