#include "docspace/envelope.hpp"

#include <gtest/gtest.h>

namespace spacehook::docspace {
namespace {

using std::chrono::milliseconds;

httpc::Response Answer(int status, std::string body,
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
    httpc::Response response;
    response.status = status;
    response.body = std::move(body);
    response.headers = std::move(headers);
    return response;
}

const TimePoint kNow = std::chrono::system_clock::from_time_t(1'782'800'000);  // 2026-06-30

TEST(Envelope, SuccessYieldsResponseAndTotal) {
    auto envelope = ParseEnvelope(
        Answer(200, R"({"response":[{"id":1}],"count":1,"total":7,"links":[],"status":0,"statusCode":200})"),
        "GET /x", kNow);
    ASSERT_TRUE(envelope) << envelope.error().message;
    EXPECT_EQ(envelope->response, Json::parse(R"([{"id":1}])"));
    EXPECT_EQ(envelope->total, 7);
}

TEST(Envelope, EmptyTwoHundredIsANullResponse) {
    auto envelope = ParseEnvelope(Answer(200, ""), "DELETE /x", kNow);
    ASSERT_TRUE(envelope);
    EXPECT_TRUE(envelope->response.is_null());
}

TEST(Envelope, ErrorEnvelopeOnATwoHundredIsAnError) {
    // DocSpace does not always respect status codes (docs/docspace-api.md §2.2).
    auto envelope = ParseEnvelope(
        Answer(
            200,
            R"({"error":{"message":"The required file was not found","type":"ItemNotFound"},"status":1,"statusCode":404})"),
        "GET /api/2.0/files/file/9", kNow);
    ASSERT_FALSE(envelope);
    EXPECT_EQ(envelope.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(envelope.error().upstream_status, 404);
    EXPECT_NE(envelope.error().message.find("The required file was not found"), std::string::npos);
    EXPECT_NE(envelope.error().message.find("GET /api/2.0/files/file/9"), std::string::npos);
}

TEST(Envelope, ValidationProblemInTheSuccessEnvelopeIsPermanentWithTheFields) {
    const std::string body = R"({"response":{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title":"One or more validation errors occurred.","status":400,
        "errors":{"Title":["The Title field is required."]},"traceId":"00-abc"},
        "count":1,"links":[],"status":1,"statusCode":400})";
    for (const int http_status : {200, 400}) {
        auto envelope = ParseEnvelope(Answer(http_status, body), "POST /api/2.0/files/rooms", kNow);
        ASSERT_FALSE(envelope);
        EXPECT_EQ(envelope.error().code, ErrorCode::kPermanent);
        EXPECT_FALSE(envelope.error().IsTransient());
        EXPECT_EQ(envelope.error().upstream_status, 400);
        EXPECT_NE(envelope.error().message.find("Title: The Title field is required."), std::string::npos)
            << envelope.error().message;
    }
}

TEST(Envelope, StatusClasses) {
    struct Case {
        int status;
        ErrorCode code;
    };
    for (const auto& c : {Case{401, ErrorCode::kUnauthorized}, Case{403, ErrorCode::kForbidden},
                          Case{404, ErrorCode::kNotFound}, Case{400, ErrorCode::kPermanent},
                          Case{402, ErrorCode::kPermanent}, Case{415, ErrorCode::kPermanent},
                          Case{408, ErrorCode::kTimeout}, Case{429, ErrorCode::kRateLimited},
                          Case{500, ErrorCode::kUnavailable}, Case{502, ErrorCode::kUnavailable},
                          Case{503, ErrorCode::kUnavailable}, Case{301, ErrorCode::kPermanent}}) {
        auto envelope = ParseEnvelope(Answer(c.status, ""), "GET /x", kNow);
        ASSERT_FALSE(envelope) << c.status;
        EXPECT_EQ(envelope.error().code, c.code) << c.status;
        EXPECT_EQ(envelope.error().upstream_status, c.status);
    }
}

TEST(Envelope, UnauthorizedWithoutBodySaysTheKeyWasRefused) {
    auto envelope = ParseEnvelope(Answer(401, ""), "GET /api/2.0/people/@self", kNow);
    ASSERT_FALSE(envelope);
    EXPECT_NE(envelope.error().message.find("API key was refused"), std::string::npos)
        << envelope.error().message;
}

TEST(Envelope, ProxyHtmlOnA502IsQuotedShortly) {
    const std::string html = "<html><body>" + std::string(1000, 'x') + "</body></html>";
    auto envelope = ParseEnvelope(Answer(502, html), "GET /x", kNow);
    ASSERT_FALSE(envelope);
    EXPECT_EQ(envelope.error().code, ErrorCode::kUnavailable);
    EXPECT_LT(envelope.error().message.size(), 400u);
}

TEST(Envelope, NonJsonTwoHundredIsUnavailable) {
    auto envelope = ParseEnvelope(Answer(200, "<html>captive portal</html>"), "GET /x", kNow);
    ASSERT_FALSE(envelope);
    EXPECT_EQ(envelope.error().code, ErrorCode::kUnavailable);
}

// An answer nesting past kMaxJsonDepth is never built: its response would become facts and step
// outputs that are copied, stored and dumped, each recursing once per level.
TEST(Envelope, AnswerNestingTooDeepIsNotTakenAsJson) {
    const std::size_t levels = 100000;
    const std::string deep = R"({"response":)" + std::string(levels, '[') + std::string(levels, ']') + "}";
    auto ok = ParseEnvelope(Answer(200, deep), "GET /api/2.0/files/file/9", kNow);
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(ok.error().message.find("nests deeper than 64 levels"), std::string::npos)
        << ok.error().message;
    EXPECT_LT(ok.error().message.size(), 500u);

    // A failure status still decides the class; the deep body is quoted shortly, never parsed.
    auto failed = ParseEnvelope(Answer(404, deep), "GET /api/2.0/files/file/9", kNow);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, ErrorCode::kNotFound);
    EXPECT_LT(failed.error().message.size(), 500u);

    // Within the bound, depth does not matter.
    const std::string nested = std::string(60, '[') + "1" + std::string(60, ']');
    auto within = ParseEnvelope(Answer(200, R"({"response":)" + nested + "}"), "GET /x", kNow);
    ASSERT_TRUE(within) << within.error().message;
    EXPECT_EQ(within->response, Json::parse(nested));
}

TEST(Envelope, RedirectNamesTheBaseUrlProblem) {
    auto envelope = ParseEnvelope(Answer(301, "", {{"location", "https://portal.example.com/api/2.0/x"}}),
                                  "GET /x", kNow);
    ASSERT_FALSE(envelope);
    EXPECT_NE(envelope.error().message.find("DOCSPACE_API_HOST"), std::string::npos);
    EXPECT_NE(envelope.error().message.find("https://portal.example.com/api/2.0/x"), std::string::npos);
}

TEST(RetryAfter, SecondsDateAndRateLimitResetFallback) {
    EXPECT_EQ(RetryAfter(Answer(429, "", {{"retry-after", "7"}}), kNow), milliseconds(7000));
    EXPECT_EQ(RetryAfter(Answer(429, "", {{"retry-after", "Tue, 30 Jun 2026 06:13:30 GMT"}}), kNow),
              milliseconds(10000));
    EXPECT_EQ(RetryAfter(Answer(429, "", {{"x-ratelimit-reset", "12"}}), kNow), milliseconds(12000));
    EXPECT_EQ(RetryAfter(Answer(429, "", {{"x-ratelimit-reset", "1782800030"}}), kNow), milliseconds(30000));
    EXPECT_EQ(RetryAfter(Answer(429, "", {{"retry-after", "3"}, {"x-ratelimit-reset", "60"}}), kNow),
              milliseconds(3000));
    EXPECT_EQ(RetryAfter(Answer(429, ""), kNow), std::nullopt);
}

TEST(Envelope, TooManyRequestsCarriesRetryAfter) {
    auto envelope = ParseEnvelope(Answer(429, "", {{"retry-after", "2"}}), "GET /x", kNow);
    ASSERT_FALSE(envelope);
    EXPECT_EQ(envelope.error().code, ErrorCode::kRateLimited);
    EXPECT_EQ(envelope.error().retry_after, milliseconds(2000));
    auto unavailable = ParseEnvelope(Answer(503, "", {{"retry-after", "4"}}), "GET /x", kNow);
    ASSERT_FALSE(unavailable);
    EXPECT_EQ(unavailable.error().retry_after, milliseconds(4000));
}

}  // namespace
}  // namespace spacehook::docspace
