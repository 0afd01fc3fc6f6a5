#include "core/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace spacehook {

std::chrono::milliseconds NextDelay(const BackoffPolicy& policy, int failed_attempts,
                                    std::optional<std::chrono::milliseconds> retry_after, Random& random) {
    const int n = std::max(1, failed_attempts);
    const double base = static_cast<double>(policy.base.count());
    const double cap = static_cast<double>(policy.max.count());
    double delay = std::min(cap, base * std::pow(policy.multiplier, n - 1));
    const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
    delay *= 1.0 - jitter + 2.0 * jitter * random.Uniform();
    auto result = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(std::min(delay, cap))));
    if (retry_after && *retry_after > result) result = *retry_after;
    return result;
}

}  // namespace spacehook
