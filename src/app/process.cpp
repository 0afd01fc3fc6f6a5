#include "app/process.hpp"

#include <pthread.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/log.hpp"

namespace spacehook::app {

StopSignals::StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

StopSignals::Received StopSignals::Next(std::string_view component) const {
    int signal_number = 0;
    sigwait(&set_, &signal_number);
    if (signal_number == SIGHUP) return Received::kReload;
    log::Info(component, "stop signal received",
              {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
    return Received::kStop;
}

void StopSignals::Wait(std::string_view component) const {
    while (Next(component) == Received::kReload) {
        log::Info(component, "SIGHUP received; nothing to reload here, still running");
    }
}

Status WriteReadyFile(const std::string& path, std::uint16_t port, const Json& extra) {
    Json ready = extra.is_object() ? extra : Json::object();
    ready["port"] = port;
    ready["pid"] = static_cast<long>(::getpid());
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << ready.dump() << '\n';
        if (!out.flush()) return Fail(ErrorCode::kConfig, "cannot write ready file " + tmp);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return Fail(ErrorCode::kConfig, "cannot rename " + tmp + " to " + path + ": " + ec.message());
    return Ok();
}

}  // namespace spacehook::app
