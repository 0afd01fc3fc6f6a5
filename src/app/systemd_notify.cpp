#include "app/systemd_notify.hpp"

#include <fmt/format.h>
#include <systemd/sd-daemon.h>

#include <ctime>
#include <string>

namespace spacehook::app {

namespace {

// STATUS= is one line; a multi-line error message keeps its first.
std::string OneLine(std::string_view text) {
    const auto end = text.find('\n');
    return std::string(text.substr(0, end));
}

void Notify(const std::string& state) {
    // unset_environment = 0: the variables stay for a later call (READY after a reload). The result is
    // ignored on purpose: outside systemd it is 0, and a failure to tell systemd changes nothing we do.
    (void)sd_notify(0, state.c_str());
}

}  // namespace

void NotifyReady(std::string_view status) {
    Notify(fmt::format("READY=1\nSTATUS={}", OneLine(status)));
}

void NotifyReloading() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const long long usec = static_cast<long long>(now.tv_sec) * 1000000LL + now.tv_nsec / 1000;
    Notify(fmt::format("RELOADING=1\nMONOTONIC_USEC={}\nSTATUS=reloading the configuration", usec));
}

void NotifyStopping() {
    Notify("STOPPING=1\nSTATUS=stopping: draining requests in flight");
}

void NotifyStatus(std::string_view status) {
    Notify(fmt::format("STATUS={}", OneLine(status)));
}

}  // namespace spacehook::app
