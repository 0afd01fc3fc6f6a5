#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace spacehook::emulator {

/// A few worker threads running tasks now or at a due time. The emulator runs REST handlers here (so a
/// HEAD probe never blocks the server's I/O thread), delays answers for latency faults without holding
/// a thread, and completes file operations when their delay has passed.
class TaskRunner {
public:
    using Task = std::function<void()>;

    explicit TaskRunner(int threads);
    ~TaskRunner();
    TaskRunner(const TaskRunner&) = delete;
    TaskRunner& operator=(const TaskRunner&) = delete;

    void Post(Task task) { PostAfter(std::chrono::milliseconds(0), std::move(task)); }
    void PostAfter(std::chrono::milliseconds delay, Task task);
    /// Number of tasks queued or running.
    [[nodiscard]] std::size_t Pending() const;
    /// Stops the threads; tasks not yet started are dropped. Idempotent.
    void Stop();

private:
    void Run();

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::multimap<std::chrono::steady_clock::time_point, Task> tasks_;
    std::size_t running_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace spacehook::emulator
