#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "http/server.hpp"

namespace spacehook::http {
namespace {

// The router is pure: call its handler directly and capture what it answers.
Response Call(const Handler& handler, std::string method, std::string path) {
    Request request;
    request.method = std::move(method);
    request.path = std::move(path);
    request.target = request.path;
    std::optional<Response> answer;
    handler(std::move(request), [&answer](Response response) { answer = std::move(response); });
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(Response{});
}

Handler Tag(std::string tag) {
    return [tag](Request&& request, Responder respond) {
        respond(Response::Text(200, tag + " " + request.method));
    };
}

const std::string* FindAllow(const Response& response) {
    for (const Header& header : response.headers) {
        if (header.name == "Allow") return &header.value;
    }
    return nullptr;
}

TEST(RouterTest, ExactRouteMatchesMethodAndPath) {
    Router router;
    router.Add("POST", "/docspace/webhook", Tag("hook"));
    router.Add("GET", "/healthz", Tag("health"));
    const Handler handler = router.AsHandler();
    EXPECT_EQ(Call(handler, "POST", "/docspace/webhook").body, "hook POST");
    EXPECT_EQ(Call(handler, "GET", "/healthz").body, "health GET");
    EXPECT_EQ(Call(handler, "GET", "/healthz/").status, 404);
}

TEST(RouterTest, UnknownPathIs404Json) {
    Router router;
    router.Add("GET", "/a", Tag("a"));
    const Response response = Call(router.AsHandler(), "GET", "/b");
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(response.content_type, "application/json");
    EXPECT_EQ(response.body, R"({"error":"not found"})");
}

TEST(RouterTest, KnownPathWithOtherMethodIs405WithSortedAllow) {
    Router router;
    router.Add("POST", "/hook", Tag("post"));
    router.Add("GET", "/hook", Tag("get"));
    router.Add("DELETE", "/hook", Tag("delete"));
    const Response response = Call(router.AsHandler(), "PUT", "/hook");
    EXPECT_EQ(response.status, 405);
    EXPECT_EQ(response.body, R"({"error":"method not allowed"})");
    ASSERT_NE(FindAllow(response), nullptr);
    EXPECT_EQ(*FindAllow(response), "DELETE, GET, HEAD, POST");
}

TEST(RouterTest, HeadFallsBackToGetUnlessHeadIsRouted) {
    Router router;
    router.Add("GET", "/page", Tag("get"));
    router.Add("GET", "/probe", Tag("get"));
    router.Add("HEAD", "/probe", Tag("head"));
    const Handler handler = router.AsHandler();
    EXPECT_EQ(Call(handler, "HEAD", "/page").body, "get HEAD");
    EXPECT_EQ(Call(handler, "HEAD", "/probe").body, "head HEAD");
}

TEST(RouterTest, HeadWithoutGetIs405) {
    Router router;
    router.Add("POST", "/hook", Tag("post"));
    const Response response = Call(router.AsHandler(), "HEAD", "/hook");
    EXPECT_EQ(response.status, 405);
    ASSERT_NE(FindAllow(response), nullptr);
    EXPECT_EQ(*FindAllow(response), "POST");
}

TEST(RouterTest, PrefixRoutesLongestWinsAndExactBeatsPrefix) {
    Router router;
    router.AddPrefix("GET", "/api/", Tag("api"));
    router.AddPrefix("GET", "/api/2.0/files/", Tag("files"));
    router.Add("GET", "/api/2.0/files/special", Tag("special"));
    const Handler handler = router.AsHandler();
    EXPECT_EQ(Call(handler, "GET", "/api/2.0/people/1").body, "api GET");
    EXPECT_EQ(Call(handler, "GET", "/api/2.0/files/12").body, "files GET");
    EXPECT_EQ(Call(handler, "GET", "/api/2.0/files/special").body, "special GET");
    EXPECT_EQ(Call(handler, "GET", "/other").status, 404);
}

TEST(RouterTest, MethodDecidesBetweenExactAndPrefix) {
    Router router;
    router.Add("POST", "/api/items", Tag("create"));
    router.AddPrefix("GET", "/api/", Tag("read"));
    const Handler handler = router.AsHandler();
    EXPECT_EQ(Call(handler, "GET", "/api/items").body, "read GET");
    EXPECT_EQ(Call(handler, "POST", "/api/items").body, "create POST");
    const Response response = Call(handler, "PATCH", "/api/items");
    EXPECT_EQ(response.status, 405);
    ASSERT_NE(FindAllow(response), nullptr);
    EXPECT_EQ(*FindAllow(response), "GET, HEAD, POST");
}

TEST(RouterTest, HandlerIsASnapshotOfTheRoutes) {
    Router router;
    router.Add("GET", "/a", Tag("a"));
    const Handler handler = router.AsHandler();
    router.Add("GET", "/b", Tag("b"));
    EXPECT_EQ(Call(handler, "GET", "/b").status, 404);
    EXPECT_EQ(Call(router.AsHandler(), "GET", "/b").body, "b GET");
}

}  // namespace
}  // namespace spacehook::http
