#include <gtest/gtest.h>

#include "http/server.hpp"

namespace spacehook::http {
namespace {

TEST(RequestTest, FindHeaderReturnsFirstMatchOrNull) {
    Request request;
    request.headers = {{"content-type", "application/json"}, {"x-a", "1"}, {"x-a", "2"}};
    ASSERT_NE(request.FindHeader("x-a"), nullptr);
    EXPECT_EQ(*request.FindHeader("x-a"), "1");
    EXPECT_EQ(*request.FindHeader("content-type"), "application/json");
    EXPECT_EQ(request.FindHeader("x-missing"), nullptr);
}

TEST(RequestTest, QueryParamDecodesPercentAndPlus) {
    Request request;
    request.query = "a=1&name=John+Smith&path=%2Froom%2F12&empty=&flag&a=2";
    EXPECT_EQ(request.QueryParam("a"), "1");
    EXPECT_EQ(request.QueryParam("name"), "John Smith");
    EXPECT_EQ(request.QueryParam("path"), "/room/12");
    EXPECT_EQ(request.QueryParam("empty"), "");
    EXPECT_EQ(request.QueryParam("flag"), "");
    EXPECT_EQ(request.QueryParam("missing"), std::nullopt);
}

TEST(RequestTest, QueryParamDecodesKeysAndKeepsMalformedEscapes) {
    Request request;
    request.query = "my%20key=v&bad=%zz%4&&tail=%41";
    EXPECT_EQ(request.QueryParam("my key"), "v");
    EXPECT_EQ(request.QueryParam("bad"), "%zz%4");
    EXPECT_EQ(request.QueryParam("tail"), "A");
}

TEST(ResponseTest, JsonErrorIsSmallEscapedJson) {
    const Response not_found = Response::JsonError(404, "not found");
    EXPECT_EQ(not_found.status, 404);
    EXPECT_EQ(not_found.content_type, "application/json");
    EXPECT_EQ(not_found.body, R"({"error":"not found"})");
    EXPECT_EQ(Response::JsonError(400, "a \"b\"").body, R"({"error":"a \"b\""})");
}

}  // namespace
}  // namespace spacehook::http
