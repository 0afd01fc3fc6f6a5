#include "docspace/rate_limiter.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <thread>

#include "core/log.hpp"
#include "core/text.hpp"

namespace spacehook::docspace {

namespace {
using std::chrono::nanoseconds;

nanoseconds FromSeconds(double seconds) {
    return std::chrono::duration_cast<nanoseconds>(std::chrono::duration<double>(seconds));
}
}  // namespace

RateLimiter::RateLimiter(RateLimitOptions options, const Clock* clock, Sleeper sleep)
    : options_(options), clock_(clock), sleep_(std::move(sleep)) {
    if (options_.rate_per_second <= 0) options_.rate_per_second = 1;
    if (options_.burst < 1) options_.burst = 1;
    if (!sleep_) sleep_ = [](nanoseconds d) { std::this_thread::sleep_for(d); };
    tokens_ = options_.burst;
    updated_ = Now();
}

nanoseconds RateLimiter::Now() const {
    if (clock_ != nullptr) return clock_->Now().time_since_epoch();
    return std::chrono::steady_clock::now().time_since_epoch();
}

void RateLimiter::RefillLocked(nanoseconds now) {
    // updated_ may lie in the future (the end of a pause): nothing accrues before it.
    if (now <= updated_) return;
    const double seconds = std::chrono::duration<double>(now - updated_).count();
    tokens_ = std::min<double>(options_.burst, tokens_ + seconds * options_.rate_per_second);
    updated_ = now;
}

nanoseconds RateLimiter::TryTakeLocked(nanoseconds now) {
    if (now < paused_until_) return paused_until_ - now;
    RefillLocked(now);
    if (tokens_ >= 1.0) {
        tokens_ -= 1.0;
        return nanoseconds(0);
    }
    // At least 1 ns so a caller never spins on a rounding error.
    return std::max(nanoseconds(1), FromSeconds((1.0 - tokens_) / options_.rate_per_second));
}

void RateLimiter::Acquire() {
    // Sleep outside the lock and look again: a pause set while we slept applies to us too.
    for (;;) {
        nanoseconds wait;
        {
            std::lock_guard lock(mu_);
            wait = TryTakeLocked(Now());
        }
        if (wait.count() == 0) return;
        sleep_(wait);
    }
}

bool RateLimiter::TryAcquire() {
    std::lock_guard lock(mu_);
    return TryTakeLocked(Now()).count() == 0;
}

void RateLimiter::PauseFor(std::chrono::milliseconds duration) {
    duration = std::clamp(duration, std::chrono::milliseconds(0), options_.max_pause);
    std::lock_guard lock(mu_);
    const nanoseconds until = Now() + duration;
    if (until <= paused_until_) return;
    paused_until_ = until;
    // The portal said "stop": no burst the moment the pause ends, the bucket refills from empty.
    tokens_ = std::min(tokens_, 0.0);
    updated_ = std::max(updated_, until);
}

std::chrono::milliseconds RateLimiter::RemainingPause() const {
    std::lock_guard lock(mu_);
    const nanoseconds now = Now();
    if (now >= paused_until_) return std::chrono::milliseconds(0);
    return std::chrono::ceil<std::chrono::milliseconds>(paused_until_ - now);
}

namespace {

/// scheme://host[:port] as one portal: case and trailing slashes do not make another.
std::string NormalizedPortal(const std::string& base_url) {
    std::string key = ToLower(base_url);
    while (!key.empty() && key.back() == '/') key.pop_back();
    return key;
}

}  // namespace

std::shared_ptr<RateLimiter> PortalRateLimiter(const std::string& base_url, const RateLimitOptions& options) {
    static std::mutex mu;
    static std::map<std::string, std::shared_ptr<RateLimiter>> limiters;
    const std::string key = NormalizedPortal(base_url);
    std::lock_guard lock(mu);
    auto& limiter = limiters[key];
    if (!limiter) limiter = std::make_shared<RateLimiter>(options);
    return limiter;
}

std::string PortalRateKey(const std::string& base_url) {
    return "docspace:" + NormalizedPortal(base_url);
}

// --- shared across replicas -------------------------------------------------------------------

SharedRateLimiter::SharedRateLimiter(std::string key, RateLimitOptions options, SharedBucket bucket,
                                     const Clock* clock, Sleeper sleep)
    : key_(std::move(key)),
      options_(options),
      bucket_(std::move(bucket)),
      clock_(clock != nullptr ? *clock : SystemClock::Instance()),
      sleep_(sleep ? sleep : [](nanoseconds d) { std::this_thread::sleep_for(d); }),
      local_(options, clock, sleep_) {
    if (options_.rate_per_second <= 0) options_.rate_per_second = 1;
    if (options_.burst < 1) options_.burst = 1;
}

void SharedRateLimiter::Acquire() {
    for (;;) {
        auto wait = bucket_.take(key_, options_.rate_per_second, options_.burst, clock_.Now());
        if (!wait) {
            NoteOutage(wait.error());
            ++fallbacks_;
            local_.Acquire();
            return;
        }
        NoteRecovery();
        if (wait->count() <= 0) return;
        // Ask again after the wait: other replicas may have taken the token meanwhile, or paused the
        // bucket (a 429 one of them saw holds for this call too).
        sleep_(*wait);
    }
}

void SharedRateLimiter::PauseFor(std::chrono::milliseconds duration) {
    duration = std::clamp(duration, std::chrono::milliseconds(0), options_.max_pause);
    local_.PauseFor(duration);  // holds here even if the shared bucket is unreachable
    const TimePoint now = clock_.Now();
    if (auto paused = bucket_.pause(key_, now + duration, now); !paused) {
        NoteOutage(paused.error());
    } else {
        NoteRecovery();
    }
}

std::chrono::milliseconds SharedRateLimiter::RemainingPause() const {
    return local_.RemainingPause();
}

void SharedRateLimiter::NoteOutage(const Error& error) {
    if (outage_.exchange(true)) return;
    log::Warn("docspace", "shared rate limit unreachable; limiting this replica's calls on its own meanwhile",
              {{"bucket", key_}, {"error", error.message}});
}

void SharedRateLimiter::NoteRecovery() {
    if (!outage_.exchange(false)) return;
    log::Info("docspace", "shared rate limit reachable again", {{"bucket", key_}});
}

}  // namespace spacehook::docspace
