#pragma once

#include <chrono>
#include <optional>

#include "core/random.hpp"

namespace spacehook {

/// Exponential backoff with jitter (in the spirit of Envoy's BackOffStrategy and userver's
/// kEBBaseTime): delay(n) = min(max, base * multiplier^(n-1)), then scaled by a random factor in
/// [1 - jitter, 1 + jitter]. A server's Retry-After is a floor: we never come back sooner than asked.
struct BackoffPolicy {
    std::chrono::milliseconds base{500};
    std::chrono::milliseconds max{std::chrono::minutes(5)};
    double multiplier = 2.0;
    double jitter = 0.2;
};

/// Delay before the next try after `failed_attempts` (>= 1) failures.
std::chrono::milliseconds NextDelay(const BackoffPolicy& policy, int failed_attempts,
                                    std::optional<std::chrono::milliseconds> retry_after, Random& random);

}  // namespace spacehook
