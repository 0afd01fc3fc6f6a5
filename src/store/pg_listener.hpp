#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "store/pg_pool.hpp"

namespace spacehook::store::pg {

/// The channel every replica LISTENs on and NOTIFYs when it made work available.
inline constexpr std::string_view kWorkChannel = "spacehook_work";

/// The sending side: NOTIFY `channel` inside the session's transaction, so every listener hears it at
/// COMMIT (and never for a rollback). `payload` is the sending store's id.
Status Notify(Connection& db, const std::string& channel, const std::string& payload);

/// The wake-up side of LISTEN/NOTIFY: one dedicated session per store that LISTENs on the work channel
/// and calls `on_notify` when another replica's commit made work available, so idle workers sleep
/// until then instead of polling the database.
///
/// Notifications whose payload is this store's own id are skipped: the store wakes its own workers
/// directly after its commits, before the writer's callbacks (the SQLite contract), and a second
/// wake-up for the same commit would only cost a query.
///
/// When the session is lost (server restart, failover, network) the thread reconnects with backoff
/// (100 ms doubling to 5 s) and, once it LISTENs again, calls `on_notify` once: notifications sent
/// while it was away are gone, so the workers must look for themselves. An idle session is probed
/// every few seconds (and by TCP keepalives) so a dead peer is noticed without traffic.
class Listener {
public:
    Listener(Connector connect, std::string channel, std::string own_payload,
             std::function<void()> on_notify);
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    ~Listener();

    /// Waits (bounded) until the first LISTEN is in place: a store that opened misses no NOTIFY sent
    /// after its open returned. kUnavailable when it could not LISTEN within `timeout`.
    Status WaitListening(std::chrono::milliseconds timeout);
    /// Stops the thread. Idempotent.
    void Close();

    [[nodiscard]] bool listening() const { return listening_.load(); }
    /// Times the session had to be re-established since start.
    [[nodiscard]] std::uint64_t reconnects() const { return reconnects_.load(); }
    /// The listening session's server process (0 while not connected), for tests that kill it.
    [[nodiscard]] int BackendPidForTesting() const { return backend_pid_.load(); }

private:
    void Loop();
    /// Sleeps up to `duration` unless stopped; false when stopped.
    bool SleepUnlessStopped(std::chrono::milliseconds duration);

    const Connector connect_;
    const std::string channel_;
    const std::string own_payload_;
    const std::function<void()> on_notify_;

    int stop_fd_ = -1;  // eventfd: wakes the poll() on Close()
    std::atomic<bool> stopping_{false};
    std::atomic<bool> listening_{false};
    std::atomic<std::uint64_t> reconnects_{0};
    std::atomic<int> backend_pid_{0};
    std::mutex mu_;
    std::condition_variable cv_;  // signalled when listening_ first becomes true
    std::thread thread_;
};

}  // namespace spacehook::store::pg
