#pragma once

// A connection lent by a pool (sqlite_readers.hpp, pg_pool.hpp). Private to src/store.

#include <memory>

namespace spacehook::store {

/// Gives the connection back to its pool when destroyed (`Pool::GiveBack(std::unique_ptr<Connection>)`).
template <class Pool, class Connection>
class BorrowedConnection {
public:
    BorrowedConnection(Pool* pool, std::unique_ptr<Connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    BorrowedConnection(BorrowedConnection&&) noexcept = default;
    BorrowedConnection& operator=(BorrowedConnection&&) noexcept = default;
    BorrowedConnection(const BorrowedConnection&) = delete;
    BorrowedConnection& operator=(const BorrowedConnection&) = delete;
    ~BorrowedConnection() {
        if (connection_ && pool_ != nullptr) pool_->GiveBack(std::move(connection_));
    }
    Connection& operator*() const { return *connection_; }
    Connection* operator->() const { return connection_.get(); }

private:
    Pool* pool_;
    std::unique_ptr<Connection> connection_;
};

}  // namespace spacehook::store
