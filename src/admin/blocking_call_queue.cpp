#include "admin/blocking_call_queue.hpp"

#include <exception>

#include "core/log.hpp"

namespace spacehook::admin {

BlockingCallQueue::BlockingCallQueue(std::size_t max_pending)
    : max_pending_(max_pending), thread_([this] { Run(); }) {}

BlockingCallQueue::~BlockingCallQueue() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

bool BlockingCallQueue::Post(std::function<void()> call) {
    {
        std::lock_guard lock(mu_);
        if (stopping_ || calls_.size() >= max_pending_) return false;
        calls_.push_back(std::move(call));
    }
    cv_.notify_one();
    return true;
}

void BlockingCallQueue::Run() {
    for (;;) {
        std::function<void()> call;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !calls_.empty(); });
            if (calls_.empty()) return;  // stopping, and everything queued has run
            call = std::move(calls_.front());
            calls_.pop_front();
        }
        try {
            call();
        } catch (const std::exception& e) {
            // The call's own handler catches what it can answer; this only keeps the thread alive.
            log::Error("admin", "admin call failed", {{"error", e.what()}});
        }
    }
}

}  // namespace spacehook::admin
