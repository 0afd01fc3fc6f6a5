#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace spacehook::admin {

/// Runs blocking calls (store queries, readiness pings) on one thread of its own, in order. HTTP handlers
/// run on the server's I/O threads and must not block (http/server.hpp): an admin listing a large
/// journal must not hold up DocSpace's deliveries on the same thread. Calls answer through their
/// Responder, which may be called from any thread.
class BlockingCallQueue {
public:
    /// `max_pending`: calls waiting beyond this are refused, so a stuck store cannot make admin requests
    /// pile up without bound.
    explicit BlockingCallQueue(std::size_t max_pending = 64);
    /// Runs what is queued, then joins the thread.
    ~BlockingCallQueue();
    BlockingCallQueue(const BlockingCallQueue&) = delete;
    BlockingCallQueue& operator=(const BlockingCallQueue&) = delete;

    /// Queues `call`; false (and `call` is dropped) when the queue is full or stopping.
    bool Post(std::function<void()> call);

private:
    void Run();

    const std::size_t max_pending_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> calls_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace spacehook::admin
