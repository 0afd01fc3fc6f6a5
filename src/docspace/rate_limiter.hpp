#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace spacehook::docspace {

struct RateLimitOptions {
    double rate_per_second = 20;  ///< sustained calls per second
    int burst = 40;               ///< calls allowed at once after a quiet period
    /// Longest pause a Retry-After can impose: a portal (or a proxy) asking for an hour should not
    /// park every worker for an hour; the runner's own backoff takes over after this.
    std::chrono::milliseconds max_pause{std::chrono::minutes(5)};
};

/// What the DocSpace client asks before every call and tells after a 429: one per portal. Two kinds:
/// RateLimiter (in-process, the default) and SharedRateLimiter (a bucket in the store, shared by every
/// replica). Thread-safe.
class CallLimiter {
public:
    using Sleeper = std::function<void(std::chrono::nanoseconds)>;

    virtual ~CallLimiter() = default;
    /// Blocks until a call may go out, then takes its token.
    virtual void Acquire() = 0;
    /// Nobody acquires for `duration` (clamped to max_pause) and the bucket refills from empty after
    /// it. A shorter pause than one already in force changes nothing.
    virtual void PauseFor(std::chrono::milliseconds duration) = 0;
    /// What remains of the current pause this process knows of (0 when none).
    [[nodiscard]] virtual std::chrono::milliseconds RemainingPause() const = 0;
};

/// A token bucket for one portal, shared by every call of every worker (DESIGN.md "runner"). DocSpace
/// limits per user (docs/docspace-api.md §2.3: 1500/min sliding window, 50 GET / 15 non-GET in flight), and
/// every call spacehook makes acts as the same API-key user, so one bucket per portal is the right unit. A
/// 429's Retry-After pauses the bucket for everyone: the next caller would get a 429 too. Thread-safe.
class RateLimiter final : public CallLimiter {
public:
    /// `clock` = nullptr uses a steady clock (wall-clock jumps must not starve or flood the bucket);
    /// tests pass a ManualClock and a sleeper that advances it, which makes waits exact.
    explicit RateLimiter(RateLimitOptions options, const Clock* clock = nullptr, Sleeper sleep = {});

    void Acquire() override;
    /// Takes a token if one is there now; never blocks.
    bool TryAcquire();
    void PauseFor(std::chrono::milliseconds duration) override;
    [[nodiscard]] std::chrono::milliseconds RemainingPause() const override;
    [[nodiscard]] const RateLimitOptions& options() const { return options_; }

private:
    [[nodiscard]] std::chrono::nanoseconds Now() const;
    void RefillLocked(std::chrono::nanoseconds now);
    /// 0 when a token was taken, else how long to wait before trying again.
    std::chrono::nanoseconds TryTakeLocked(std::chrono::nanoseconds now);

    RateLimitOptions options_;
    const Clock* clock_;
    Sleeper sleep_;
    mutable std::mutex mu_;
    double tokens_;
    std::chrono::nanoseconds updated_{0};  ///< tokens_ is exact at this instant
    std::chrono::nanoseconds paused_until_{0};
};

/// The process-wide limiter of the portal at `base_url` (scheme://host[:port], case and trailing slash
/// ignored). The first caller's options create it; later callers share it whatever they pass.
std::shared_ptr<RateLimiter> PortalRateLimiter(const std::string& base_url, const RateLimitOptions& options);

/// The name of a portal's bucket: "docspace:" + base_url lower-cased, without trailing slashes. Every
/// replica derives the same name from the same DOCSPACE_API_HOST.
std::string PortalRateKey(const std::string& base_url);

/// A token bucket kept outside this process, which SharedRateLimiter draws from. docspace does not
/// know the store: the app wires these to store::RateLimits (AcquireRateToken / PauseRateLimit).
struct SharedBucket {
    /// Takes one token from bucket `key` (created full with `burst`, refilling at `rate_per_second`):
    /// 0 when taken, else how long to wait before asking again. An error: the bucket is unreachable.
    std::function<Result<std::chrono::milliseconds>(const std::string& key, double rate_per_second, int burst,
                                                    TimePoint now)>
        take;
    /// Nobody takes from `key` before `until`.
    std::function<Status(const std::string& key, TimePoint until, TimePoint now)> pause;
};

/// The per-portal limit held across replicas: every replica's calls to one portal draw from one bucket
/// in the shared database, and a 429 that one replica sees pauses them all. DocSpace limits per API
/// user (docs/docspace-api.md §2.3), and all replicas call as the same one, so N replicas with in-process
/// buckets would send N times the rate.
///
/// Times are the wall clock (`clock`, default the system clock): the bucket's timestamps are compared
/// across machines, which therefore need synchronized clocks (as for leases). Waits are slept here and
/// the bucket asked again. When the bucket cannot be reached (database down) calls go through an
/// in-process RateLimiter with the same options instead, so they stay limited per replica, and the
/// shared bucket is used again as soon as it answers. Thread-safe.
class SharedRateLimiter final : public CallLimiter {
public:
    SharedRateLimiter(std::string key, RateLimitOptions options, SharedBucket bucket,
                      const Clock* clock = nullptr, Sleeper sleep = {});

    void Acquire() override;
    void PauseFor(std::chrono::milliseconds duration) override;
    [[nodiscard]] std::chrono::milliseconds RemainingPause() const override;
    [[nodiscard]] const std::string& key() const { return key_; }
    /// Calls that fell back to the in-process limiter because the shared bucket did not answer.
    [[nodiscard]] std::uint64_t fallbacks() const { return fallbacks_.load(); }

private:
    /// Logs the first failure of an outage and the recovery, not every call in between.
    void NoteOutage(const Error& error);
    void NoteRecovery();

    const std::string key_;
    RateLimitOptions options_;
    const SharedBucket bucket_;
    const Clock& clock_;
    Sleeper sleep_;
    RateLimiter local_;  // the fallback, and this process's view of pauses it set
    std::atomic<std::uint64_t> fallbacks_{0};
    std::atomic<bool> outage_{false};
};

}  // namespace spacehook::docspace
