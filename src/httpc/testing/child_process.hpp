#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"

namespace spacehook::httpc::testing {

/// A helper process for tests (a Python HTTP server, aiosmtpd): started with fork+exec, stopped with
/// SIGTERM and, after a bounded grace period, SIGKILL when the object dies. Never outlives the test.
class ChildProcess {
public:
    /// `argv[0]` is an absolute path. `env` entries are added to the inherited environment.
    static Result<ChildProcess> Start(const std::vector<std::string>& argv,
                                      const std::map<std::string, std::string>& env = {});

    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ~ChildProcess();

    /// SIGTERM, wait up to `grace`, then SIGKILL. Idempotent.
    void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));
    [[nodiscard]] bool Running();
    [[nodiscard]] pid_t pid() const { return pid_; }

private:
    explicit ChildProcess(pid_t pid) : pid_(pid) {}
    pid_t pid_ = -1;
};

/// A TCP listener on 127.0.0.1 that accepts one connection, reads the request and closes without
/// answering: a peer that drops the connection. Waits at most 5 s for the connection.
class DroppingServer {
public:
    DroppingServer();
    ~DroppingServer();
    DroppingServer(const DroppingServer&) = delete;
    DroppingServer& operator=(const DroppingServer&) = delete;
    [[nodiscard]] std::uint16_t port() const { return port_; }
    /// "http://127.0.0.1:<port>"
    [[nodiscard]] std::string BaseUrl() const;
    [[nodiscard]] std::string Url() const { return BaseUrl() + "/x"; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

/// A directory under $TMPDIR (or /tmp) removed with its contents on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};

/// A loopback port that was free a moment ago (bind to port 0, read it, close). For tools that
/// cannot report the port they bound themselves.
Result<std::uint16_t> PickFreePort();

/// Polls until a TCP connect to 127.0.0.1:port succeeds or `timeout` passes.
bool WaitForPort(std::uint16_t port, std::chrono::milliseconds timeout);

/// Polls until `path` exists and is non-empty, then returns its content; nullopt after `timeout`.
std::optional<std::string> WaitForFile(const std::string& path, std::chrono::milliseconds timeout);

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& content);

}  // namespace spacehook::httpc::testing
