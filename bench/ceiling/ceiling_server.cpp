// The ceiling of bench/compare: the project's own HTTP stack (http::Server, Boost.Beast) answering 202
// to every request, with nothing behind it: no signature check, no parsing, no store. What spacehook's
// ingest reaches is stated as a fraction of what this server reaches on the same machine, with the same
// client and the same number of I/O threads.
//
// Usage: spacehook_bench_ceiling [--listen HOST:PORT] [--threads N] [--ready-file PATH]
// Runs until SIGTERM or SIGINT. The ready file ({"port": N, "pid": P}) is written atomically once
// listening, as `spacehook serve --ready-file` does.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "app/process.hpp"
#include "http/server.hpp"

namespace {

int Usage(const char* why) {
    std::fprintf(stderr,
                 "spacehook_bench_ceiling: %s\nusage: spacehook_bench_ceiling [--listen HOST:PORT] "
                 "[--threads N] [--ready-file PATH]\n",
                 why);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    int port = 0;
    int threads = 1;
    std::string ready_file;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (i + 1 >= argc) return Usage("missing value");
        const std::string value = argv[++i];
        if (arg == "--listen") {
            const auto colon = value.rfind(':');
            if (colon == std::string::npos) return Usage("--listen wants HOST:PORT");
            host = value.substr(0, colon);
            port = std::atoi(value.c_str() + colon + 1);
            if (port < 0 || port > 65535) return Usage("--listen: bad port");
        } else if (arg == "--threads") {
            threads = std::atoi(value.c_str());
            if (threads < 1 || threads > 256) return Usage("--threads wants 1..256");
        } else if (arg == "--ready-file") {
            ready_file = value;
        } else {
            return Usage("unknown option");
        }
    }

    const spacehook::app::StopSignals stop_signals;  // before any thread starts

    spacehook::http::ServerOptions options;
    options.host = host;
    options.port = static_cast<std::uint16_t>(port);
    options.threads = threads;
    options.max_connections = 4096;  // as the benchmark's spacehook config
    spacehook::http::Server server(options,
                                   [](spacehook::http::Request&&, spacehook::http::Responder respond) {
                                       respond(spacehook::http::Response::Json(202, "{}"));
                                   });
    if (auto started = server.Start(); !started) {
        std::fprintf(stderr, "spacehook_bench_ceiling: cannot start: %s\n", started.error().message.c_str());
        return 1;
    }
    if (!ready_file.empty()) {
        if (auto written = spacehook::app::WriteReadyFile(ready_file, server.port()); !written) {
            std::fprintf(stderr, "spacehook_bench_ceiling: %s\n", written.error().message.c_str());
            server.Stop();
            return 1;
        }
    }
    stop_signals.Wait("ceiling");
    server.Stop(std::chrono::milliseconds(1000));
    return 0;
}
