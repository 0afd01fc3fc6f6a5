#pragma once

// The token-bucket arithmetic behind RateLimits::AcquireRateToken / PauseRateLimit: the ledger loads the
// bucket's row under the database's lock (SQLite: the writer's transaction; PostgreSQL: SELECT ... FOR
// UPDATE), applies one of these, and writes the row back in the same transaction.

#include <chrono>
#include <cstdint>

namespace spacehook::store {

/// One row of rate_limits. Times are Unix milliseconds.
struct RateBucket {
    double tokens = 0;
    std::int64_t updated_at = 0;    ///< tokens is exact at this instant (may lie ahead: the end of a pause)
    std::int64_t paused_until = 0;  ///< no token before this
};

/// A bucket that did not exist yet: full.
RateBucket NewRateBucket(int burst, std::int64_t now_ms);

/// Refills `bucket` up to `now_ms` and takes one token. Returns 0 when taken, else how long to wait
/// before asking again (what remains of a pause, or until the next token has accrued; at least 1 ms).
/// A burst lowered since the bucket was created caps it at once.
std::chrono::milliseconds TakeRateToken(RateBucket& bucket, double rate_per_second, int burst,
                                        std::int64_t now_ms);

/// Nobody takes a token before `until_ms`, and the bucket refills from empty after it. A pause that
/// ends earlier than the one in force changes nothing.
void PauseRateBucket(RateBucket& bucket, std::int64_t until_ms);

}  // namespace spacehook::store
