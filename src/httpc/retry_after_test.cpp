#include "httpc/retry_after.hpp"

#include <gtest/gtest.h>

namespace spacehook::httpc {
namespace {

using std::chrono::milliseconds;

const TimePoint kNow = FromUnixMillis(1795422287000);  // Mon, 23 Nov 2026 08:24:47 GMT

TEST(RetryAfter, SecondsAndHttpDates) {
    EXPECT_EQ(ParseRetryAfter("120", kNow), milliseconds(120000));
    EXPECT_EQ(ParseRetryAfter(" 0 ", kNow), milliseconds(0));
    EXPECT_EQ(ParseRetryAfter("Mon, 23 Nov 2026 08:25:17 GMT", kNow), milliseconds(30000));
    EXPECT_EQ(ParseRetryAfter("Mon, 23 Nov 2026 08:00:00 GMT", kNow), milliseconds(0));  // in the past
    EXPECT_EQ(ParseRetryAfter("Mon, 23 Nov 2026 09:24:47 GMT", kNow), milliseconds(3600000));
    EXPECT_FALSE(ParseRetryAfter("soon", kNow));
    EXPECT_FALSE(ParseRetryAfter("-5", kNow));
    EXPECT_FALSE(ParseRetryAfter("1.5", kNow));
    EXPECT_FALSE(ParseRetryAfter("Mon, 31 Feb 2026 08:25:17 GMT", kNow));
    EXPECT_FALSE(ParseRetryAfter("", kNow));
    EXPECT_FALSE(ParseRetryAfter("9999999999", kNow));  // over 31 years: not a real answer
    EXPECT_FALSE(ParseRetryAfter("Monday, 23-Nov-26 08:25:17 GMT", kNow));  // RFC 850 form: senders must not
}

}  // namespace
}  // namespace spacehook::httpc
