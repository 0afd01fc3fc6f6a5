#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "core/error.hpp"
#include "store/borrowed_connection.hpp"
#include "store/pg_connection.hpp"

namespace spacehook::store::pg {

using Connector = std::function<Result<std::unique_ptr<Connection>>()>;

/// The connections a PostgreSQL store runs its claims, checkpoints and queries on. A connection is lent
/// to one thread at a time; idle ones are kept with their sessions. At most `max_size` exist at once,
/// so N replicas cannot exhaust the server's max_connections by bursts of threads: a caller beyond
/// that waits for one to come back (bounded). A connection that broke (server restart, network) is
/// dropped when given back, and the next caller opens a fresh one.
class ConnectionPool {
public:
    ConnectionPool(Connector connect, std::size_t max_size);

    /// A borrowed connection, given back to the pool when destroyed.
    using Lease = BorrowedConnection<ConnectionPool, Connection>;

    /// An idle connection or a new one; waits up to `timeout` when max_size are lent out. kUnavailable
    /// after Close(), on timeout, or when a new connection cannot be opened.
    Result<Lease> Acquire(std::chrono::milliseconds timeout);
    /// Adds an open connection (the one the store migrated with) to the idle ones.
    void Adopt(std::unique_ptr<Connection> connection);
    /// Closes idle connections; connections lent out are closed when given back.
    void Close();

private:
    friend Lease;
    void GiveBack(std::unique_ptr<Connection> connection);

    const Connector connect_;
    const std::size_t max_size_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<Connection>> idle_;
    std::size_t open_ = 0;  // idle + lent out + being opened
    bool closed_ = false;
};

}  // namespace spacehook::store::pg
