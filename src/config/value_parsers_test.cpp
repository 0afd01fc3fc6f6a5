#include <gtest/gtest.h>

#include "config/service_config.hpp"

using namespace spacehook;
using namespace spacehook::config;
using std::chrono::milliseconds;

TEST(ParseDuration, UnitsAndPlainMilliseconds) {
    EXPECT_EQ(ParseDuration("250ms"), milliseconds(250));
    EXPECT_EQ(ParseDuration("10s"), milliseconds(10000));
    EXPECT_EQ(ParseDuration("5m"), milliseconds(300000));
    EXPECT_EQ(ParseDuration("1h"), milliseconds(3600000));
    EXPECT_EQ(ParseDuration("2d"), milliseconds(172800000));
    EXPECT_EQ(ParseDuration("1500"), milliseconds(1500));
    EXPECT_EQ(ParseDuration("0"), milliseconds(0));
    EXPECT_EQ(ParseDuration("1h30m"), milliseconds(5400000));
    EXPECT_EQ(ParseDuration("1.5s"), milliseconds(1500));
    EXPECT_EQ(ParseDuration(" 3s "), milliseconds(3000));
}

TEST(ParseDuration, RejectsGarbage) {
    EXPECT_FALSE(ParseDuration(""));
    EXPECT_FALSE(ParseDuration("s"));
    EXPECT_FALSE(ParseDuration("10 parsecs"));
    EXPECT_FALSE(ParseDuration("10x"));
    EXPECT_FALSE(ParseDuration("-5s"));
    EXPECT_FALSE(ParseDuration("1.2.3s"));
    EXPECT_FALSE(ParseDuration("99999999999999999999d"));
}

TEST(ParseSize, BytesAndUnits) {
    EXPECT_EQ(ParseSize("1048576"), 1048576u);
    EXPECT_EQ(ParseSize("512KiB"), 524288u);
    EXPECT_EQ(ParseSize("1MiB"), 1048576u);
    EXPECT_EQ(ParseSize("1KB"), 1000u);
    EXPECT_EQ(ParseSize("2 MB"), 2000000u);
    EXPECT_EQ(ParseSize("1gib"), 1073741824u);
    EXPECT_EQ(ParseSize("64B"), 64u);
}

TEST(ParseSize, RejectsGarbage) {
    EXPECT_FALSE(ParseSize(""));
    EXPECT_FALSE(ParseSize("MiB"));
    EXPECT_FALSE(ParseSize("1.5MiB"));
    EXPECT_FALSE(ParseSize("10 furlongs"));
    EXPECT_FALSE(ParseSize("-1"));
    EXPECT_FALSE(ParseSize("99999999999999999999GiB"));
}

TEST(ParseListen, HostPortForms) {
    EXPECT_EQ(*ParseListen("127.0.0.1:8080"), std::make_pair(std::string("127.0.0.1"), std::uint16_t{8080}));
    EXPECT_EQ(*ParseListen(":3000"), std::make_pair(std::string("0.0.0.0"), std::uint16_t{3000}));
    EXPECT_EQ(*ParseListen("3000"), std::make_pair(std::string("0.0.0.0"), std::uint16_t{3000}));
    EXPECT_EQ(*ParseListen("[::1]:3000"), std::make_pair(std::string("::1"), std::uint16_t{3000}));
    EXPECT_EQ(*ParseListen("localhost:0"), std::make_pair(std::string("localhost"), std::uint16_t{0}));
}

TEST(ParseListen, RejectsBadInput) {
    for (const char* bad : {"host:", "host:70000", "::1:3000", "[::1]3000", "[]:1", "host:port", ""}) {
        auto parsed = ParseListen(bad);
        EXPECT_FALSE(parsed) << bad;
        if (!parsed) {
            EXPECT_EQ(parsed.error().code, ErrorCode::kConfig);
        }
    }
}
