#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/borrowed_connection.hpp"
#include "store/sqlite_connection.hpp"

namespace spacehook::store::sqlite {

/// Read-only connections for queries, so reads never queue behind the writer's fsync: in WAL mode a
/// reader sees the last committed state and neither blocks nor is blocked by the writer. A connection
/// is lent to one thread at a time; idle ones are kept (up to max_idle) with their statement caches.
class ReaderPool {
public:
    ReaderPool(std::string path, std::chrono::milliseconds busy_timeout, std::size_t max_idle);

    /// A borrowed connection, given back to the pool when destroyed.
    using Lease = BorrowedConnection<ReaderPool, Connection>;

    /// An idle connection, or a new one. kUnavailable after Close().
    Result<Lease> Acquire();
    /// Closes idle connections; connections lent out are closed when given back.
    void Close();

private:
    friend Lease;
    void GiveBack(std::unique_ptr<Connection> connection);

    const std::string path_;
    const std::chrono::milliseconds busy_timeout_;
    const std::size_t max_idle_;
    std::mutex mu_;
    std::vector<std::unique_ptr<Connection>> idle_;
    bool closed_ = false;
};

}  // namespace spacehook::store::sqlite
