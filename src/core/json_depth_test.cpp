#include "core/json_depth.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace spacehook;

namespace {

std::string Nested(std::size_t levels, char open = '[', char close = ']') {
    return std::string(levels, open) + std::string(levels, close);
}

}  // namespace

TEST(JsonDepthTest, CountsObjectsAndArrays) {
    EXPECT_EQ(JsonNestingDepth("42"), 0u);
    EXPECT_EQ(JsonNestingDepth("[]"), 1u);
    EXPECT_EQ(JsonNestingDepth(R"({"a":[1,{"b":{}}],"c":[]})"), 4u);
    EXPECT_EQ(JsonNestingDepth(Nested(10, '{', '}')), 10u);
}

TEST(JsonDepthTest, BracketsInsideStringsDoNotCount) {
    EXPECT_EQ(JsonNestingDepth(R"({"a":"[[[[{{{{"})"), 1u);
    // An escaped quote does not end the string; an escaped backslash before the quote does.
    EXPECT_EQ(JsonNestingDepth(R"(["\"[[[[", ["x"]])"), 2u);
    EXPECT_EQ(JsonNestingDepth(R"(["\\", [[1]]])"), 3u);
}

TEST(JsonDepthTest, StopsCountingPastTheLimit) {
    EXPECT_EQ(JsonNestingDepth(Nested(100000), 64), 65u);
}

TEST(JsonDepthTest, ParsesWhatIsWithinTheLimit) {
    auto value = ParseBoundedJson(Nested(kMaxJsonDepth));
    ASSERT_TRUE(value) << value.error().message;
    EXPECT_TRUE(value->is_array());
    auto envelope = ParseBoundedJson(R"({"event":{"trigger":"file.created"}})");
    ASSERT_TRUE(envelope);
    EXPECT_EQ((*envelope)["event"]["trigger"], "file.created");
}

// Half a million levels in 1 MiB: refused before a single node is built (a dump() or a copy of it would
// overflow the stack).
TEST(JsonDepthTest, RefusesDeepNestingBeforeParsing) {
    auto deep = ParseBoundedJson(Nested(std::size_t{512} * 1024));
    ASSERT_FALSE(deep);
    EXPECT_EQ(deep.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(deep.error().message, "JSON nests deeper than 64 levels");
    EXPECT_FALSE(ParseBoundedJson(Nested(kMaxJsonDepth + 1)));
    EXPECT_TRUE(ParseBoundedJson(Nested(3), 3));
    EXPECT_FALSE(ParseBoundedJson(Nested(4), 3));
}

TEST(JsonDepthTest, RefusesInvalidJson) {
    for (const char* text : {"", "{", "[1,]", "{\"a\":}", "\xff\xfe", "[\"\xc3\x28\"]"}) {
        auto value = ParseBoundedJson(text);
        ASSERT_FALSE(value) << text;
        EXPECT_EQ(value.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(value.error().message, "not valid JSON");
    }
}
