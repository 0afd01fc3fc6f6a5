#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/clock.hpp"

namespace spacehook::docspace {

struct RateLimitOptions {
    double rate_per_second = 20;  ///< sustained calls per second
    int burst = 40;               ///< calls allowed at once after a quiet period
    /// Longest pause a Retry-After can impose: a portal (or a proxy) asking for an hour should not
    /// park every worker for an hour; the runner's own backoff takes over after this.
    std::chrono::milliseconds max_pause{std::chrono::minutes(5)};
};

/// A token bucket for one portal, shared by every call of every worker (DESIGN.md "runner"). DocSpace
/// limits per user (wire.md §2.3: 1500/min sliding window, 50 GET / 15 non-GET in flight), and every
/// call spacehook makes acts as the same API-key user, so one bucket per portal is the right unit.
/// A 429's Retry-After pauses the bucket for everyone: the next caller would get a 429 too.
/// Thread-safe.
class RateLimiter {
public:
    using Sleeper = std::function<void(std::chrono::nanoseconds)>;

    /// `clock` = nullptr uses a steady clock (wall-clock jumps must not starve or flood the bucket);
    /// tests pass a ManualClock and a sleeper that advances it, which makes waits exact.
    explicit RateLimiter(RateLimitOptions options, const Clock* clock = nullptr, Sleeper sleep = {});

    /// Blocks until a call may go out, then takes its token.
    void Acquire();
    /// Takes a token if one is there now; never blocks.
    bool TryAcquire();
    /// Nobody acquires for `duration` (clamped to max_pause) and the bucket refills from empty after
    /// it. A shorter pause than one already in force changes nothing.
    void PauseFor(std::chrono::milliseconds duration);
    /// What remains of the current pause (0 when none).
    [[nodiscard]] std::chrono::milliseconds RemainingPause() const;
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
    std::chrono::nanoseconds updated_{0};       ///< tokens_ is exact at this instant
    std::chrono::nanoseconds paused_until_{0};
};

/// The process-wide limiter of the portal at `base_url` (scheme://host[:port], case and trailing slash
/// ignored). The first caller's options create it; later callers share it whatever they pass.
std::shared_ptr<RateLimiter> PortalRateLimiter(const std::string& base_url, const RateLimitOptions& options);

}  // namespace spacehook::docspace
