#include "store/pg_pool.hpp"

#include <fmt/format.h>

namespace spacehook::store::pg {

ConnectionPool::ConnectionPool(Connector connect, std::size_t max_size)
    : connect_(std::move(connect)), max_size_(std::max<std::size_t>(max_size, 1)) {}

Result<ConnectionPool::Lease> ConnectionPool::Acquire(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    const bool ready =
        cv_.wait_for(lock, timeout, [&] { return closed_ || !idle_.empty() || open_ < max_size_; });
    if (closed_) return Fail(ErrorCode::kUnavailable, "store is closed");
    if (!ready) {
        return Fail(ErrorCode::kUnavailable, fmt::format("all {} store connections stayed busy for {} ms",
                                                         max_size_, timeout.count()));
    }
    if (!idle_.empty()) {
        std::unique_ptr<Connection> connection = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(connection));
    }
    ++open_;
    lock.unlock();
    // Connect outside the lock: it may take up to connect_timeout, and other callers may meanwhile
    // take connections that come back.
    auto connection = connect_();
    if (!connection) {
        lock.lock();
        --open_;
        lock.unlock();
        cv_.notify_one();
        return Fail(connection.error());
    }
    return Lease(this, std::move(*connection));
}

void ConnectionPool::Adopt(std::unique_ptr<Connection> connection) {
    {
        std::lock_guard lock(mu_);
        if (closed_) return;
        ++open_;
        idle_.push_back(std::move(connection));
    }
    cv_.notify_one();
}

void ConnectionPool::GiveBack(std::unique_ptr<Connection> connection) {
    std::unique_ptr<Connection> dropped;
    {
        std::lock_guard lock(mu_);
        // A broken session, or one left inside a transaction by a bug, must not be reused.
        if (closed_ || connection->broken() || connection->InTransaction()) {
            dropped = std::move(connection);
            --open_;
        } else {
            idle_.push_back(std::move(connection));
        }
    }
    cv_.notify_one();
    // `dropped` closes here, outside the lock.
}

void ConnectionPool::Close() {
    std::vector<std::unique_ptr<Connection>> idle;
    {
        std::lock_guard lock(mu_);
        closed_ = true;
        idle.swap(idle_);
        open_ -= idle.size();
    }
    cv_.notify_all();
}

}  // namespace spacehook::store::pg
