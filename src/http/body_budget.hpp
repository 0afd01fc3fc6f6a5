#pragma once

#include <atomic>
#include <cstddef>

namespace spacehook::http {

/// The bytes of request bodies one server holds at once, over all its connections. body_limit bounds one
/// body; this bounds their sum, so a thousand connections each sending most of a large body cannot make
/// the process grow by a thousand bodies: past the budget a new body is refused with 503 (DocSpace retries
/// those) before it is read. Lock-free; any thread.
class BodyBudget {
public:
    explicit BodyBudget(std::size_t limit) : limit_(limit) {}
    BodyBudget(const BodyBudget&) = delete;
    BodyBudget& operator=(const BodyBudget&) = delete;

    /// Takes `bytes` from the budget; false (nothing taken) when they do not fit.
    bool TryTake(std::size_t bytes) {
        std::size_t used = used_.load(std::memory_order_relaxed);
        do {
            if (bytes > limit_ || used > limit_ - bytes) return false;
        } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
        return true;
    }
    void Give(std::size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

    [[nodiscard]] std::size_t used() const { return used_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::size_t limit() const { return limit_; }

private:
    const std::size_t limit_;
    std::atomic<std::size_t> used_{0};
};

/// What one request holds of a BodyBudget; given back on destruction.
class BodyReservation {
public:
    explicit BodyReservation(BodyBudget& budget) : budget_(budget) {}
    ~BodyReservation() { Release(); }
    BodyReservation(const BodyReservation&) = delete;
    BodyReservation& operator=(const BodyReservation&) = delete;

    /// Holds at least `bytes` in all; false (holding what it held) when the budget cannot give more.
    bool GrowTo(std::size_t bytes) {
        if (bytes <= held_) return true;
        if (!budget_.TryTake(bytes - held_)) return false;
        held_ = bytes;
        return true;
    }
    void Release() {
        budget_.Give(held_);
        held_ = 0;
    }
    [[nodiscard]] std::size_t held() const { return held_; }

private:
    BodyBudget& budget_;
    std::size_t held_ = 0;
};

}  // namespace spacehook::http
