#pragma once

// The queue and thread under both backends' group-commit writers (sqlite_writer.hpp, pg_writer.hpp).
// Private to src/store.

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"

namespace spacehook::store {

/// Items wait here while the previous batch commits; the thread takes everything waiting (up to
/// max_batch) as the next batch. So batching needs no timer: the longer a commit takes, the more the
/// next one holds. Appends are bounded (max_pending_appends) so a stalled disk or database cannot make
/// the ingress hold unbounded memory; other items are not (each has a thread waiting for it).
template <class Item>
class WriterThread {
public:
    struct Limits {
        std::size_t max_batch = 1024;
        std::size_t max_pending_appends = 50000;
    };
    enum class Refusal { kNone, kClosed, kFull };

    explicit WriterThread(Limits limits) : limits_(limits) {}
    WriterThread(const WriterThread&) = delete;
    WriterThread& operator=(const WriterThread&) = delete;
    ~WriterThread() { Close(); }

    /// Starts the thread, which calls `process` with each batch. Once, after the owner is built.
    void Start(std::function<void(std::vector<Item>&)> process) {
        process_ = std::move(process);
        thread_ = std::thread([this] { Loop(); });
        thread_id_ = thread_.get_id();
    }

    /// Push, with a refusal as the error its item is finished with; `waits_for` names what the queued
    /// appends of a full queue wait for ("the disk", "the database").
    std::optional<Error> Enqueue(Item& item, bool is_append, std::string_view waits_for) {
        switch (Push(item, is_append)) {
            case Refusal::kNone:
                return std::nullopt;
            case Refusal::kClosed:
                return Error{ErrorCode::kUnavailable, "store is closed", 0, std::nullopt};
            case Refusal::kFull:
                return Error{ErrorCode::kUnavailable,
                             fmt::format("store write queue is full ({} appends wait for {})",
                                         limits_.max_pending_appends, waits_for),
                             0, std::nullopt};
        }
        return std::nullopt;
    }

    /// Queues `item` (moved from only when queued). Refused once closed, or for an append while
    /// max_pending_appends appends wait.
    Refusal Push(Item& item, bool is_append) {
        std::unique_lock lock(mu_);
        if (closing_) return Refusal::kClosed;
        if (is_append) {
            if (queued_appends_ >= limits_.max_pending_appends) return Refusal::kFull;
            ++queued_appends_;
        }
        queue_.push_back(Queued{std::move(item), is_append});  // clang 14 has no parenthesized aggregate init
        lock.unlock();
        cv_.notify_one();
        return Refusal::kNone;
    }
    /// Queues several items together (contiguous, so normally in one batch); none is an append.
    Refusal PushAll(std::vector<Item>& items) {
        std::unique_lock lock(mu_);
        if (closing_) return Refusal::kClosed;
        for (auto& item : items) queue_.push_back(Queued{std::move(item), false});
        lock.unlock();
        cv_.notify_one();
        return Refusal::kNone;
    }

    /// Processes what is queued, then stops the thread. Idempotent. True once the thread has ended;
    /// false when called from the thread itself (a callback), which then stops after its batch.
    bool Close() {
        {
            std::lock_guard lock(mu_);
            closing_ = true;
            paused_ = false;
        }
        cv_.notify_all();
        if (!thread_.joinable()) return true;
        if (OnThread()) {
            log::Error("store",
                       "Close() called from the store's writer thread; the writer stops after this batch");
            return false;
        }
        thread_.join();
        return true;
    }

    [[nodiscard]] bool OnThread() const { return std::this_thread::get_id() == thread_id_; }
    [[nodiscard]] std::size_t queued() const {
        std::lock_guard lock(mu_);
        return queue_.size();
    }
    [[nodiscard]] bool AppendsRefused() const {
        std::lock_guard lock(mu_);
        return queued_appends_ >= limits_.max_pending_appends;
    }
    /// Test hook: while paused the thread takes nothing from the queue (Close() un-pauses).
    void Pause(bool paused) {
        {
            std::lock_guard lock(mu_);
            paused_ = paused && !closing_;
        }
        cv_.notify_all();
    }

private:
    struct Queued {
        Item item;
        bool is_append;
    };

    void Loop() {
        std::vector<Item> batch;
        for (;;) {
            {
                std::unique_lock lock(mu_);
                cv_.wait(lock, [this] { return closing_ || (!paused_ && !queue_.empty()); });
                if (queue_.empty()) return;  // closing, and everything queued has been processed
                const std::size_t take = std::min(queue_.size(), std::max<std::size_t>(limits_.max_batch, 1));
                for (std::size_t i = 0; i < take; ++i) {
                    if (queue_.front().is_append) --queued_appends_;
                    batch.push_back(std::move(queue_.front().item));
                    queue_.pop_front();
                }
            }
            process_(batch);
            batch.clear();
        }
    }

    const Limits limits_;
    std::function<void(std::vector<Item>&)> process_;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Queued> queue_;
    std::size_t queued_appends_ = 0;
    bool closing_ = false;
    bool paused_ = false;

    std::thread thread_;
    std::thread::id thread_id_;
};

}  // namespace spacehook::store
