#pragma once

// A throwaway PostgreSQL server for tests and benchmarks: initdb + postgres on a free loopback port in
// a temp dir, as a non-root user, torn down at the end. Not part of the product.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/error.hpp"

namespace spacehook::store::testing {

struct PgServerOptions {
    /// fsync on (real commit cost, for benchmarks). Tests turn it off: they check semantics, not disks.
    bool durable = false;
    int max_connections = 200;
    /// Bound on initdb and on the server becoming ready.
    std::chrono::seconds start_timeout{60};
};

/// One PostgreSQL server owned by this process.
///
/// - Binaries: $SPACEHOOK_PG_BIN, else the newest /usr/lib/postgresql/<major>/bin (Debian's
///   `postgresql` package), else the directory of `pg_ctl` on PATH.
/// - User: PostgreSQL refuses to run as root. When the process is root the server (and initdb, and
///   the copy of its template) runs as $SPACEHOOK_PG_USER or `postgres`: the forked child drops to
///   that user before exec, as setpriv would; the temp dir is handed to that user.
/// - initdb runs once per server user and major version into a cached template under $TMPDIR
///   (guarded by flock, renamed into place only when complete); each server copies it (~0.1 s
///   instead of ~1 s per test process).
/// - The server is a child of this process started with a parent-death signal: a test killed by a
///   timeout takes its server down with it (fast shutdown) instead of leaving it running. (pg_ctl
///   would detach it, and a killed test would leave it running.) Stop() and the destructor shut it
///   down (SIGINT = pg_ctl's fast mode, bounded, SIGKILL after 30 s), then remove the dir.
class PgServer {
public:
    /// kUnavailable with the reason (no binaries, no such user, the server did not come up: its log's
    /// tail). NotInstalled() tells the first case apart for tests that skip.
    static Result<std::unique_ptr<PgServer>> Start(const PgServerOptions& options = {});
    ~PgServer();
    PgServer(const PgServer&) = delete;
    PgServer& operator=(const PgServer&) = delete;

    /// postgres://postgres@127.0.0.1:<port>/<database>
    [[nodiscard]] std::string Url(const std::string& database = "postgres") const;
    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] pid_t pid() const { return pid_; }
    /// A new, empty database (unique name) and its URL.
    Result<std::string> CreateDatabase();
    /// Runs SQL as the superuser on `database` (test setup: triggers, role changes).
    Status Exec(const std::string& database, const std::string& sql);
    /// Fast shutdown, bounded; then the temp dir is removed. Idempotent.
    Status Stop();

    /// The directory of initdb and postgres, or kUnavailable when PostgreSQL's server is not installed.
    static Result<std::string> FindBinDir();
    /// True when `error` came from a machine without PostgreSQL's server binaries.
    static bool NotInstalled(const Error& error);

private:
    PgServer() = default;

    std::string dir_;
    int port_ = 0;
    pid_t pid_ = -1;
    int next_database_ = 0;
};

/// The process-wide server of the pg tests, started on first use (with default options) and stopped
/// at exit; nullptr with `error` set when it cannot start.
PgServer* SharedPgServer(Error* error);

}  // namespace spacehook::store::testing
