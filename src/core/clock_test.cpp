#include "core/clock.hpp"

#include <gtest/gtest.h>

using namespace spacehook;

TEST(Clock, Iso8601RoundTrip) {
    auto t = ParseIso8601("2026-06-30T10:15:42Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(FormatIso8601(*t), "2026-06-30T10:15:42Z");
    EXPECT_EQ(ToUnixMillis(*t), 1782814542000);
}

TEST(Clock, Iso8601Variants) {
    auto base = *ParseIso8601("2026-06-30T10:15:42Z");
    EXPECT_EQ(*ParseIso8601("2026-06-30T10:15:42"), base);  // no suffix: UTC (wire.md lastSuccessOn)
    EXPECT_EQ(*ParseIso8601("2026-06-30T13:15:42.0000000+03:00"), base);  // ApiDateTime
    EXPECT_EQ(ToUnixMillis(*ParseIso8601("2026-06-30T10:15:42.537Z")), ToUnixMillis(base) + 537);
    EXPECT_FALSE(ParseIso8601("2026-13-30T10:15:42Z"));
    EXPECT_FALSE(ParseIso8601("yesterday"));
    EXPECT_FALSE(ParseIso8601("2026-06-30T10:15:42Zjunk"));
}

TEST(Clock, Rfc5322) {
    EXPECT_EQ(FormatRfc5322(*ParseIso8601("2026-11-23T08:24:47Z")), "Mon, 23 Nov 2026 08:24:47 +0000");
}

TEST(Clock, ManualClockAdvances) {
    ManualClock clock;
    auto t0 = clock.Now();
    clock.Advance(std::chrono::seconds(5));
    EXPECT_EQ(clock.Now() - t0, std::chrono::seconds(5));
}
