#include "store/sqlite_readers.hpp"

namespace spacehook::store::sqlite {

ReaderPool::ReaderPool(std::string path, std::chrono::milliseconds busy_timeout, std::size_t max_idle)
    : path_(std::move(path)), busy_timeout_(busy_timeout), max_idle_(max_idle) {}

Result<ReaderPool::Lease> ReaderPool::Acquire() {
    {
        std::lock_guard lock(mu_);
        if (closed_) return Fail(ErrorCode::kUnavailable, "store is closed");
        if (!idle_.empty()) {
            auto connection = std::move(idle_.back());
            idle_.pop_back();
            return Lease(this, std::move(connection));
        }
    }
    // Opened outside the lock: opening touches the disk.
    auto connection = Connection::Open(path_, Connection::Mode::kReadOnly, busy_timeout_);
    if (!connection) {
        Error error = connection.error();
        error.code = ErrorCode::kUnavailable;  // the writer opened this file, so this is not a config error
        return Fail(std::move(error));
    }
    return Lease(this, std::move(*connection));
}

void ReaderPool::GiveBack(std::unique_ptr<Connection> connection) {
    std::lock_guard lock(mu_);
    if (!closed_ && idle_.size() < max_idle_) idle_.push_back(std::move(connection));
    // Otherwise `connection` closes here.
}

void ReaderPool::Close() {
    std::vector<std::unique_ptr<Connection>> closing;
    {
        std::lock_guard lock(mu_);
        closed_ = true;
        closing.swap(idle_);
    }
}

}  // namespace spacehook::store::sqlite
