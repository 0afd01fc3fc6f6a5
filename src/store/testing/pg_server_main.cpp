// spacehook-test-postgres: a throwaway PostgreSQL for functional tests and benchmarks (not shipped).
//
//   spacehook-test-postgres --ready-file PATH [--durable] [--max-connections N] [--database NAME]
//
// Starts a server (PgServer: initdb, loopback port, non-root user), creates the database, writes
// {"port": N, "pid": P, "url": "postgres://..."} to PATH atomically (the convention of `serve` and
// `emulator`, so tests/functional/conftest.py can start it), and runs until SIGTERM or SIGINT, then
// shuts the server down and removes its directory. If this process is killed outright, the server
// gets SIGINT from the kernel (parent-death signal) and stops by itself.

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/json.hpp"
#include "store/testing/pg_server.hpp"

namespace {

int Usage() {
    std::fprintf(stderr,
                 "usage: spacehook-test-postgres --ready-file PATH [--durable] [--max-connections N] "
                 "[--database NAME]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    using spacehook::Json;
    using spacehook::store::testing::PgServer;
    using spacehook::store::testing::PgServerOptions;

    std::string ready_file;
    std::string database = "spacehook";
    PgServerOptions options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--ready-file" && has_value) {
            ready_file = argv[++i];
        } else if (arg == "--database" && has_value) {
            database = argv[++i];
        } else if (arg == "--max-connections" && has_value) {
            options.max_connections = std::atoi(argv[++i]);
        } else if (arg == "--durable") {
            options.durable = true;
        } else {
            return Usage();
        }
    }
    if (ready_file.empty()) return Usage();

    // Blocked before the server (and any thread) exists; received through sigwait below.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigprocmask(SIG_BLOCK, &stop_signals, nullptr);

    auto server = PgServer::Start(options);
    if (!server) {
        std::fprintf(stderr, "spacehook-test-postgres: %s\n", server.error().message.c_str());
        return 1;
    }
    if (auto st = (*server)->Exec("postgres", "CREATE DATABASE " + database); !st) {
        std::fprintf(stderr, "spacehook-test-postgres: %s\n", st.error().message.c_str());
        return 1;
    }
    const std::string tmp = ready_file + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << Json{{"port", (*server)->port()},
                    {"pid", static_cast<long>(getpid())},
                    {"server_pid", static_cast<long>((*server)->pid())},
                    {"url", (*server)->Url(database)}}
                   .dump()
            << '\n';
        if (!out.flush()) {
            std::fprintf(stderr, "spacehook-test-postgres: cannot write %s\n", tmp.c_str());
            return 1;
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, ready_file, ec);
    if (ec) {
        std::fprintf(stderr, "spacehook-test-postgres: cannot rename %s: %s\n", tmp.c_str(),
                     ec.message().c_str());
        return 1;
    }
    int signal = 0;
    sigwait(&stop_signals, &signal);
    const auto stopped = (*server)->Stop();
    if (!stopped) std::fprintf(stderr, "spacehook-test-postgres: %s\n", stopped.error().message.c_str());
    return stopped ? 0 : 1;
}
