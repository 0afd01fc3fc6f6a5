#pragma once
// The standard process_* series every Prometheus client library exports, and spacehook_build_info, so
// dashboards built for other services work on spacehook too.

#include <string>

#include "core/metrics.hpp"

namespace spacehook {

/// Registers, read from /proc and getrusage at scrape time:
///   process_cpu_seconds_total           user + system CPU time (counter)
///   process_resident_memory_bytes       RSS
///   process_virtual_memory_bytes        address space
///   process_open_fds / process_max_fds  open descriptors / their limit (RLIMIT_NOFILE)
///   process_start_time_seconds          when the process started, in seconds since the epoch
/// A value that cannot be read is NaN.
void RegisterProcessMetrics(MetricsRegistry& registry);

/// spacehook_build_info{version, commit} 1: which build this process runs, to join on other series.
void RegisterBuildInfo(MetricsRegistry& registry, const std::string& version, const std::string& commit);

/// What RegisterProcessMetrics reads, for tests. NaN when unreadable.
struct ProcessSample {
    double cpu_seconds = 0;
    double resident_bytes = 0;
    double virtual_bytes = 0;
    double open_fds = 0;
    double max_fds = 0;
    double start_time_seconds = 0;
};
ProcessSample SampleProcess();

}  // namespace spacehook
