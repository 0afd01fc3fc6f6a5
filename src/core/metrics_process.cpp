#include "core/metrics_process.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace spacehook {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double CpuSeconds() {
    rusage usage{};
    if (::getrusage(RUSAGE_SELF, &usage) != 0) return kNaN;
    auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// /proc/self/statm: "size resident shared text lib data dt", in pages.
std::pair<double, double> Memory() {
    std::ifstream statm("/proc/self/statm");
    double size = 0;
    double resident = 0;
    if (!(statm >> size >> resident)) return {kNaN, kNaN};
    const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    return {size * page, resident * page};
}

double OpenFds() {
    std::error_code ec;
    double count = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec))
        ++count;
    // The iterator's own descriptor is one of them.
    return ec ? kNaN : std::max(0.0, count - 1);
}

double MaxFds() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return kNaN;
    return static_cast<double>(limit.rlim_cur);
}

// Field 22 of /proc/self/stat is the start time in clock ticks after boot; /proc/stat's btime is the
// boot time. The command name (field 2) may hold spaces, so fields are counted after its ')'.
double StartTimeSeconds() {
    // One line; read with getline (gcc 12 at -O3 warns about istreambuf_iterator, a false positive).
    std::ifstream stat_file("/proc/self/stat");
    std::string stat;
    std::getline(stat_file, stat);
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) return kNaN;
    std::istringstream fields(stat.substr(paren + 1));
    std::string field;
    double start_ticks = kNaN;
    for (int n = 3; fields >> field; ++n) {
        if (n == 22) {
            start_ticks = std::strtod(field.c_str(), nullptr);
            break;
        }
    }
    std::ifstream proc_stat("/proc/stat");
    std::string line;
    double boot_time = kNaN;
    while (std::getline(proc_stat, line)) {
        if (line.starts_with("btime ")) {
            boot_time = std::strtod(line.c_str() + 6, nullptr);
            break;
        }
    }
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    if (std::isnan(start_ticks) || std::isnan(boot_time) || ticks <= 0) return kNaN;
    return boot_time + start_ticks / ticks;
}

}  // namespace

ProcessSample SampleProcess() {
    ProcessSample sample;
    sample.cpu_seconds = CpuSeconds();
    const auto [virtual_bytes, resident_bytes] = Memory();
    sample.virtual_bytes = virtual_bytes;
    sample.resident_bytes = resident_bytes;
    sample.open_fds = OpenFds();
    sample.max_fds = MaxFds();
    sample.start_time_seconds = StartTimeSeconds();
    return sample;
}

void RegisterProcessMetrics(MetricsRegistry& registry) {
    registry.AddCounterCallback("process_cpu_seconds_total",
                                "Total user and system CPU time spent in seconds",
                                [] { return CpuSeconds(); });
    registry.AddGaugeCallback("process_resident_memory_bytes", "Resident memory size in bytes",
                              [] { return Memory().second; });
    registry.AddGaugeCallback("process_virtual_memory_bytes", "Virtual memory size in bytes",
                              [] { return Memory().first; });
    registry.AddGaugeCallback("process_open_fds", "Number of open file descriptors",
                              [] { return OpenFds(); });
    registry.AddGaugeCallback("process_max_fds", "Maximum number of open file descriptors",
                              [] { return MaxFds(); });
    // Fixed for the process's life: read once.
    const double start = StartTimeSeconds();
    registry.AddGaugeCallback("process_start_time_seconds",
                              "Start time of the process since unix epoch in seconds",
                              [start] { return start; });
}

void RegisterBuildInfo(MetricsRegistry& registry, const std::string& version, const std::string& commit) {
    registry.AddGaugeCallback("spacehook_build_info", "The running build: version and commit (always 1)",
                              [] { return 1.0; }, {{"version", version}, {"commit", commit}});
}

}  // namespace spacehook
