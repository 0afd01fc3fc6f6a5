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
    EXPECT_EQ(*ParseIso8601("2026-06-30T10:15:42"),
              base);  // no suffix: UTC (lastSuccessOn, docs/docspace-api.md §1.4)
    EXPECT_EQ(*ParseIso8601("2026-06-30T13:15:42.0000000+03:00"), base);  // ApiDateTime
    EXPECT_EQ(ToUnixMillis(*ParseIso8601("2026-06-30T10:15:42.537Z")), ToUnixMillis(base) + 537);
    EXPECT_FALSE(ParseIso8601("2026-13-30T10:15:42Z"));
    EXPECT_FALSE(ParseIso8601("yesterday"));
    EXPECT_FALSE(ParseIso8601("2026-06-30T10:15:42Zjunk"));
}

// Years a TimePoint (64-bit nanoseconds) cannot hold are unreadable, not an overflow: fuzz_delivery found
// "3910-06-30T10:15:42Z" in event.createOn (input kept in fuzz/regressions/delivery).
TEST(Clock, Iso8601OutsideTimePointRangeIsUnreadable) {
    EXPECT_FALSE(ParseIso8601("3910-06-30T10:15:42Z"));
    EXPECT_FALSE(ParseIso8601("9999-12-31T23:59:59.9999999Z"));
    EXPECT_FALSE(ParseIso8601("2262-04-12T00:00:00Z"));
    EXPECT_FALSE(ParseIso8601("0001-01-01T00:00:00"));  // .NET's DateTime.MinValue
    EXPECT_FALSE(ParseIso8601("1969-12-31T23:59:59Z"));
    EXPECT_FALSE(ParseIso8601("1970-01-01T00:30:00+01:00"));
    EXPECT_EQ(ToUnixMillis(*ParseIso8601("1970-01-01T00:00:00Z")), 0);
    EXPECT_EQ(ToUnixMillis(*ParseIso8601("2262-04-11T00:00:00.5Z")), 9223286400500);
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
