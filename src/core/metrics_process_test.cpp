#include "core/metrics_process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <vector>

using namespace spacehook;

TEST(ProcessMetrics, SampleReadsThisProcess) {
    const ProcessSample before = SampleProcess();
    EXPECT_GE(before.cpu_seconds, 0);
    EXPECT_GT(before.resident_bytes, 0);
    EXPECT_GE(before.virtual_bytes, before.resident_bytes);
    EXPECT_GE(before.open_fds, 3);  // stdin, stdout, stderr at least
    EXPECT_GE(before.max_fds, before.open_fds);
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    EXPECT_LE(before.start_time_seconds, now + 1);
    EXPECT_GT(before.start_time_seconds, now - 24 * 3600.0);  // this test process started today

    // Two more descriptors are seen as two more.
    const int a = ::open("/dev/null", O_RDONLY);
    const int b = ::open("/dev/null", O_RDONLY);
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    EXPECT_EQ(SampleProcess().open_fds, before.open_fds + 2);
    ::close(a);
    ::close(b);
}

TEST(ProcessMetrics, RegisteredWithTheirPrometheusTypes) {
    MetricsRegistry registry;
    RegisterProcessMetrics(registry);
    RegisterBuildInfo(registry, "1.2.3", "abcdef123456");
    const std::string text = registry.RenderPrometheus();
    EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter"), std::string::npos) << text;
    for (const char* gauge :
         {"process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds",
          "process_max_fds", "process_start_time_seconds", "spacehook_build_info"}) {
        EXPECT_NE(text.find(std::string("# TYPE ") + gauge + " gauge"), std::string::npos) << gauge;
    }
    EXPECT_NE(text.find("spacehook_build_info{version=\"1.2.3\",commit=\"abcdef123456\"} 1"),
              std::string::npos);
    EXPECT_TRUE(registry.IsCounter("process_cpu_seconds_total"));
    EXPECT_FALSE(registry.IsCounter("process_open_fds"));
}
