#include "emulator/task_runner.hpp"

#include <exception>

#include "core/log.hpp"

namespace spacehook::emulator {

TaskRunner::TaskRunner(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

TaskRunner::~TaskRunner() {
    Stop();
}

void TaskRunner::PostAfter(std::chrono::milliseconds delay, Task task) {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        tasks_.emplace(std::chrono::steady_clock::now() + delay, std::move(task));
    }
    cv_.notify_one();
}

std::size_t TaskRunner::Pending() const {
    std::lock_guard lock(mu_);
    return tasks_.size() + running_;
}

void TaskRunner::Stop() {
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        tasks_.clear();
        threads.swap(threads_);
    }
    cv_.notify_all();
    for (auto& t : threads) t.join();
}

void TaskRunner::Run() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
        if (tasks_.empty()) {
            cv_.wait(lock);
            continue;
        }
        const auto due = tasks_.begin()->first;
        if (due > std::chrono::steady_clock::now()) {
            cv_.wait_until(lock, due);
            continue;
        }
        auto task = std::move(tasks_.begin()->second);
        tasks_.erase(tasks_.begin());
        ++running_;
        lock.unlock();
        try {
            task();
        } catch (const std::exception& e) {
            log::Error("emulator", "task failed", {{"error", e.what()}});
        }
        lock.lock();
        --running_;
    }
}

}  // namespace spacehook::emulator
