#include "store/rate_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace spacehook::store {

RateBucket NewRateBucket(int burst, std::int64_t now_ms) {
    return RateBucket{static_cast<double>(std::max(burst, 1)), now_ms, 0};
}

std::chrono::milliseconds TakeRateToken(RateBucket& bucket, double rate_per_second, int burst,
                                        std::int64_t now_ms) {
    if (rate_per_second <= 0) rate_per_second = 1;
    const double capacity = std::max(burst, 1);
    if (now_ms < bucket.paused_until) return std::chrono::milliseconds(bucket.paused_until - now_ms);
    // updated_at may lie ahead (the end of a pause, or another replica's clock): nothing accrues
    // before it.
    if (now_ms > bucket.updated_at) {
        bucket.tokens += static_cast<double>(now_ms - bucket.updated_at) / 1000.0 * rate_per_second;
        bucket.updated_at = now_ms;
    }
    bucket.tokens = std::min(bucket.tokens, capacity);
    // Tokens accrue in floating point: 0.998 + 0.002 may come out a hair under 1. A token that is due
    // to rounding noise is granted, and a wait is never rounded up by it to the next millisecond.
    constexpr double kNoise = 1e-9;
    if (bucket.tokens >= 1.0 - kNoise) {
        bucket.tokens = std::max(0.0, bucket.tokens - 1.0);
        return std::chrono::milliseconds(0);
    }
    const double wait_ms = std::ceil((1.0 - bucket.tokens) / rate_per_second * 1000.0 - 1e-6);
    return std::chrono::milliseconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(wait_ms)));
}

void PauseRateBucket(RateBucket& bucket, std::int64_t until_ms) {
    if (until_ms <= bucket.paused_until) return;
    bucket.paused_until = until_ms;
    // The portal said "stop": no burst the moment the pause ends.
    bucket.tokens = std::min(bucket.tokens, 0.0);
    bucket.updated_at = std::max(bucket.updated_at, until_ms);
}

}  // namespace spacehook::store
