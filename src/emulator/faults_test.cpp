#include "emulator/faults.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace spacehook::emulator {
namespace {

using std::chrono::milliseconds;

TEST(FaultSetTest, FailsTheNextNMatchingCalls) {
    FaultSet faults;
    FaultSpec spec;
    spec.status = 503;
    spec.count = 2;
    spec.method = "get";
    spec.path_prefix = "/api/2.0/files";
    faults.Add(spec);
    EXPECT_FALSE(faults.Decide("PUT", "/api/2.0/files/fileops/copy").fault);  // other method
    EXPECT_FALSE(faults.Decide("GET", "/api/2.0/people/@self").fault);        // other prefix
    EXPECT_EQ(faults.Decide("GET", "/api/2.0/files/1").fault->status, 503);
    EXPECT_TRUE(faults.Decide("GET", "/api/2.0/files/2").fault.has_value());
    EXPECT_FALSE(faults.Decide("GET", "/api/2.0/files/3").fault);  // used up
}

TEST(FaultSetTest, DurationBoundsAnUnlimitedRule) {
    FaultSet faults;
    FaultSpec spec;
    spec.status = 429;
    spec.retry_after_seconds = 2;
    spec.count = 0;
    spec.duration = milliseconds(60);
    faults.Add(spec);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(faults.Decide("GET", "/x").fault->retry_after_seconds, 2);
    std::this_thread::sleep_for(milliseconds(80));
    EXPECT_FALSE(faults.Decide("GET", "/x").fault);
}

TEST(FaultSetTest, LatencyAppliesToEveryCallUntilCleared) {
    FaultSet faults;
    faults.SetLatency(milliseconds(25));
    EXPECT_EQ(faults.Decide("GET", "/a").latency, milliseconds(25));
    faults.Clear();
    EXPECT_EQ(faults.Decide("GET", "/a").latency, milliseconds(0));
}

TEST(FaultSetTest, ParsesTheControlApiShape) {
    FaultSpec spec;
    EXPECT_FALSE(
        ParseFault(OJson::parse(R"({"kind":"status","status":429,"retryAfter":3,"durationMs":1000})"), spec));
    EXPECT_EQ(spec.kind, FaultKind::kStatus);
    EXPECT_EQ(spec.status, 429);
    EXPECT_EQ(spec.retry_after_seconds, 3);
    EXPECT_EQ(spec.count, 0);  // a duration alone means every call for that long
    EXPECT_EQ(spec.duration, milliseconds(1000));
    EXPECT_FALSE(
        ParseFault(OJson::parse(R"({"kind":"slow","delayMs":5000,"pathPrefix":"/api/2.0/files"})"), spec));
    EXPECT_EQ(spec.kind, FaultKind::kSlow);
    EXPECT_EQ(spec.count, 1);
    EXPECT_TRUE(ParseFault(OJson::parse(R"({"kind":"slow"})"), spec));
    EXPECT_TRUE(ParseFault(OJson::parse(R"({"kind":"explode"})"), spec));
    EXPECT_TRUE(ParseFault(OJson::parse(R"({"status":42})"), spec));
    EXPECT_TRUE(ParseFault(OJson::parse(R"({"count":"two"})"), spec));
}

}  // namespace
}  // namespace spacehook::emulator
