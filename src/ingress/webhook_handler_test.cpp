#include "ingress/webhook_handler.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <optional>

#include "core/hmac_sha256.hpp"
#include "ingress/recording_store.hpp"
#include "ingress/signature.hpp"

using namespace spacehook;
using namespace spacehook::ingress;
using namespace std::chrono_literals;
using spacehook::ingress::test::RecordingStore;

namespace {

constexpr char kPath[] = "/docspace/webhook";
const std::string kSecret = "s3cret-Key-1";
const std::string kBody =
    R"({"event":{"id":4821,"createOn":"2026-06-30T10:15:42Z","createBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef",)"
    R"("trigger":"file.created","triggerId":128},"payload":{"id":1234,"parentId":567,"title":"Invoice.docx",)"
    R"("fileEntryType":2},"webhook":{"id":7,"name":"automation","url":"https://h.example.com/x","triggers":["*"]}})";

struct Captured {
    std::optional<http::Response> response;
    int calls = 0;
};

class WebhookHandlerTest : public ::testing::Test {
protected:
    void Build(WebhookOptions options) {
        handler_.emplace(std::move(options), store_, metrics_, clock_);
        http::Router router;
        handler_->Register(router, kPath);
        route_ = router.AsHandler();
    }
    void SetUp() override { Build(WebhookOptions{{kSecret}, false, 0ms, false, {}}); }

    static http::Request Post(std::string body, std::optional<std::string> signature) {
        http::Request r;
        r.method = "POST";
        r.target = r.path = kPath;
        r.remote_address = "203.0.113.9";
        r.started = std::chrono::steady_clock::now();
        r.headers.push_back({"content-type", "application/json; charset=utf-8"});
        if (signature) r.headers.push_back({std::string(kSignatureHeader), *signature});
        r.body = std::move(body);
        return r;
    }
    static http::Request Signed(std::string body, const std::string& secret = kSecret, bool upper = true) {
        const std::string header = SignatureHeaderValue(secret, body, upper);
        return Post(std::move(body), header);
    }

    std::shared_ptr<Captured> Send(http::Request request) {
        auto captured = std::make_shared<Captured>();
        route_(std::move(request), [captured](http::Response response) {
            ++captured->calls;
            captured->response = std::move(response);
        });
        return captured;
    }
    int Status(http::Request request) {
        auto c = Send(std::move(request));
        EXPECT_EQ(c->calls, 1);
        return c->response ? c->response->status : -1;
    }
    std::uint64_t Outcome(const std::string& label) {
        return metrics_.GetCounter("spacehook_deliveries_total", "", {{"outcome", label}}).Value();
    }

    RecordingStore store_;
    MetricsRegistry metrics_;
    ManualClock clock_{
        FromUnixMillis(1'782'814'600'000)};  // 2026-06-30T10:16:40Z, a minute after kBody's createOn
    std::optional<WebhookHandler> handler_;
    http::Handler route_;
};

}  // namespace

TEST_F(WebhookHandlerTest, StoredAnswers202AfterTheAppend) {
    auto c = Send(Signed(kBody));
    ASSERT_EQ(c->calls, 1);
    EXPECT_EQ(c->response->status, 202);
    EXPECT_EQ(Json::parse(c->response->body)["status"], "stored");
    ASSERT_EQ(store_.journal.size(), 1u);
    const auto& d = store_.journal[0];
    EXPECT_EQ(d.body, kBody);  // the exact signed bytes
    EXPECT_EQ(d.webhook_id, "7");
    EXPECT_EQ(d.event_id, "4821");
    EXPECT_EQ(d.trigger, "file.created");
    EXPECT_EQ(d.entity_id, "1234");
    EXPECT_EQ(d.received_at, clock_.Now());
    EXPECT_EQ(Outcome("stored"), 1u);
    EXPECT_EQ(metrics_.GetHistogram("spacehook_ack_latency_seconds", "", LatencyBucketsSeconds()).Count(),
              1u);
}

TEST_F(WebhookHandlerTest, LowerCaseSignatureAccepted) {
    EXPECT_EQ(Status(Signed(kBody, kSecret, false)), 202);
}

TEST_F(WebhookHandlerTest, NoAnswerBeforeTheCommit) {
    store_.mode = RecordingStore::Mode::kHold;
    auto c = Send(Signed(kBody));
    EXPECT_EQ(c->calls, 0);
    ASSERT_EQ(store_.held.size(), 1u);
    store_.held[0](store::AppendOutcome::kStored);
    ASSERT_EQ(c->calls, 1);
    EXPECT_EQ(c->response->status, 202);
}

TEST_F(WebhookHandlerTest, DuplicateAnswers200) {
    EXPECT_EQ(Status(Signed(kBody)), 202);
    auto c = Send(Signed(kBody));
    ASSERT_EQ(c->calls, 1);
    EXPECT_EQ(c->response->status, 200);
    EXPECT_EQ(Json::parse(c->response->body)["status"], "duplicate");
    EXPECT_EQ(store_.journal.size(), 1u);
    EXPECT_EQ(Outcome("duplicate"), 1u);
}

TEST_F(WebhookHandlerTest, ReSignedRetryBodyIsADuplicate) {
    // DocSpace re-serializes and re-signs each retry with webhook.retry* added (docs/docspace-api.md §1.9).
    Json retry = Json::parse(kBody);
    retry["webhook"]["retryCount"] = 1;
    retry["webhook"]["retryOn"] = "2026-06-30T10:15:43Z";
    EXPECT_EQ(Status(Signed(kBody)), 202);
    EXPECT_EQ(Status(Signed(retry.dump())), 200);
    EXPECT_EQ(store_.journal.size(), 1u);
}

TEST_F(WebhookHandlerTest, StoreFailureIs503WithoutInternals) {
    store_.mode = RecordingStore::Mode::kFail;
    auto c = Send(Signed(kBody));
    ASSERT_EQ(c->calls, 1);
    EXPECT_EQ(c->response->status, 503);
    EXPECT_EQ(c->response->body.find("/var/lib"), std::string::npos);
    EXPECT_EQ(c->response->body.find("disk"), std::string::npos);
    EXPECT_EQ(Json::parse(c->response->body)["error"], ExternalMessage(ErrorCode::kUnavailable));
    EXPECT_EQ(Outcome("store_unavailable"), 1u);
    // The store recovers, DocSpace's retry is stored.
    store_.mode = RecordingStore::Mode::kCommit;
    EXPECT_EQ(Status(Signed(kBody)), 202);
}

TEST_F(WebhookHandlerTest, BadSignaturesAre401AndTouchNothing) {
    const std::string bare = HmacSha256Hex(kSecret, kBody);
    std::string truncated = SignatureHeaderValue(kSecret, kBody);
    truncated.pop_back();
    EXPECT_EQ(Status(Post(kBody, std::nullopt)), 401);
    EXPECT_EQ(Status(Post(kBody, bare)), 401);
    EXPECT_EQ(Status(Post(kBody, truncated)), 401);
    EXPECT_EQ(Status(Signed(kBody, "wrong-secret-9")), 401);
    EXPECT_EQ(Status(Post(kBody + " ", SignatureHeaderValue(kSecret, kBody))), 401);
    EXPECT_TRUE(store_.appended.empty());
    EXPECT_EQ(Outcome("bad_signature"), 5u);
    EXPECT_EQ(Outcome("stored"), 0u);
}

TEST_F(WebhookHandlerTest, UnauthorizedBodyIsExternalOnly) {
    auto c = Send(Signed(kBody, "wrong-secret-9"));
    ASSERT_TRUE(c->response);
    EXPECT_EQ(Json::parse(c->response->body), Json({{"error", ExternalMessage(ErrorCode::kUnauthorized)}}));
}

TEST_F(WebhookHandlerTest, SignatureIsCheckedBeforeParsing) {
    // An unsigned garbage body is a 401, not a 400: nothing about the body is examined before the MAC.
    EXPECT_EQ(Status(Post("not json", std::nullopt)), 401);
    EXPECT_EQ(Status(Signed("not json")), 400);
}

TEST_F(WebhookHandlerTest, BadRequests) {
    EXPECT_EQ(Status(Signed("{")), 400);
    EXPECT_EQ(Status(Signed("[]")), 400);
    EXPECT_EQ(Status(Signed(R"("file.created")")), 400);
    EXPECT_EQ(Status(Signed(R"({"event":{"id":1}})")), 400);
    EXPECT_TRUE(store_.appended.empty());
    EXPECT_EQ(Outcome("bad_request"), 4u);
}

TEST_F(WebhookHandlerTest, OmittedFieldsAndStringIdsAreStored) {
    EXPECT_EQ(Status(Signed(R"({"event":{"trigger":"room.created"}})")), 202);
    EXPECT_EQ(
        Status(Signed(R"({"event":{"id":"91","trigger":"file.created"},"payload":{"id":"sbox|/a.docx"},)"
                      R"("webhook":{"id":"7"}})")),
        202);
    ASSERT_EQ(store_.journal.size(), 2u);
    EXPECT_EQ(store_.journal[0].webhook_id, "");
    EXPECT_EQ(store_.journal[0].event_id.rfind("sha256:", 0), 0u);
    EXPECT_EQ(store_.journal[1].event_id, "91");
    EXPECT_EQ(store_.journal[1].entity_id, "sbox|/a.docx");
}

TEST_F(WebhookHandlerTest, TransportHeaderContradictingTheBodyIs400) {
    auto r = Signed(kBody);
    r.headers.push_back({"x-docspace-event-id", "999"});
    EXPECT_EQ(Status(std::move(r)), 400);
    auto agreeing = Signed(kBody);
    agreeing.headers.push_back({"x-docspace-event-id", "4821"});
    agreeing.headers.push_back({"x-docspace-event-timestamp", "2026-06-30T10:15:42Z"});
    EXPECT_EQ(Status(std::move(agreeing)), 202);
    EXPECT_EQ(store_.journal.size(), 1u);
}

TEST_F(WebhookHandlerTest, TransportHeadersNeverStandInForTheSignature) {
    auto r = Post(kBody, std::nullopt);
    r.headers.push_back({"x-docspace-event-id", "4821"});
    EXPECT_EQ(Status(std::move(r)), 401);
}

TEST_F(WebhookHandlerTest, FreshnessLimit) {
    Build(WebhookOptions{{kSecret}, false, 5min, false, {}});
    EXPECT_EQ(Status(Signed(kBody)), 202);
    clock_.Advance(10min);
    Json other = Json::parse(kBody);
    other["event"]["id"] = 4822;
    EXPECT_EQ(Status(Signed(other.dump())), 400);
    EXPECT_EQ(Outcome("stale"), 1u);
}

TEST_F(WebhookHandlerTest, UnsignedOnlyWhenAllowed) {
    Build(WebhookOptions{{kSecret}, true, 0ms, false, {}});
    EXPECT_EQ(Status(Post(kBody, std::nullopt)), 202);
    // A signature that is present is still checked.
    Json other = Json::parse(kBody);
    other["event"]["id"] = 4822;
    EXPECT_EQ(Status(Signed(other.dump(), "wrong-secret-9")), 401);
    Build(WebhookOptions{{}, true, 0ms, false, {}});
    other["event"]["id"] = 4823;
    EXPECT_EQ(Status(Signed(other.dump(), "whatever-key")), 202);
}

TEST_F(WebhookHandlerTest, NoSecretAndNotAllowedRejectsEverything) {
    Build(WebhookOptions{{}, false, 0ms, false, {}});
    EXPECT_EQ(Status(Signed(kBody)), 401);
    EXPECT_EQ(Status(Post(kBody, std::nullopt)), 401);
}

TEST_F(WebhookHandlerTest, ProbesAnswer200) {
    for (const char* method : {"GET", "HEAD"}) {
        http::Request r;
        r.method = method;
        r.target = r.path = kPath;
        auto c = Send(std::move(r));
        ASSERT_EQ(c->calls, 1) << method;
        EXPECT_EQ(c->response->status, 200) << method;
    }
    EXPECT_TRUE(store_.appended.empty());
}

TEST_F(WebhookHandlerTest, NeverAnswers410) {
    std::vector<http::Request> requests;
    requests.push_back(Signed(kBody));
    requests.push_back(Signed(kBody));
    requests.push_back(Post(kBody, std::nullopt));
    requests.push_back(Signed("{"));
    for (auto& r : requests) EXPECT_NE(Status(std::move(r)), 410);
    store_.mode = RecordingStore::Mode::kFail;
    EXPECT_NE(Status(Signed(kBody)), 410);
}

TEST_F(WebhookHandlerTest, StopAcceptingAnswers503) {
    handler_->StopAccepting();
    EXPECT_EQ(Status(Signed(kBody)), 503);
    EXPECT_TRUE(store_.appended.empty());
    EXPECT_EQ(Outcome("shutting_down"), 1u);
}

TEST_F(WebhookHandlerTest, RequireHttps) {
    Build(WebhookOptions{{kSecret}, false, 0ms, true, {"10.0.0.2"}});
    auto plain = Signed(kBody);
    EXPECT_EQ(Status(std::move(plain)), 403);

    auto tls = Signed(kBody);
    tls.secure = true;
    EXPECT_EQ(Status(std::move(tls)), 202);

    Json other = Json::parse(kBody);
    other["event"]["id"] = 4822;
    auto spoofed = Signed(other.dump());  // X-Forwarded-Proto from an untrusted peer is ignored
    spoofed.headers.push_back({"x-forwarded-proto", "https"});
    EXPECT_EQ(Status(std::move(spoofed)), 403);

    auto proxied = Signed(other.dump());
    proxied.remote_address = "::ffff:10.0.0.2";
    proxied.headers.push_back({"x-forwarded-proto", "https"});
    EXPECT_EQ(Status(std::move(proxied)), 202);
    EXPECT_EQ(Outcome("insecure_transport"), 2u);
}

TEST(ArrivedOverHttps, TrustedProxyHeaderForms) {
    http::Request r;
    r.remote_address = "10.0.0.2";
    const std::vector<std::string> proxies = {"10.0.0.2"};
    EXPECT_FALSE(ArrivedOverHttps(r, proxies));
    r.headers.push_back({"x-forwarded-proto", "HTTPS"});
    EXPECT_TRUE(ArrivedOverHttps(r, proxies));
    r.headers[0].value = "http, https";  // the last entry is the trusted proxy's own
    EXPECT_TRUE(ArrivedOverHttps(r, proxies));
    r.headers[0].value = "https, http";
    EXPECT_FALSE(ArrivedOverHttps(r, proxies));
    r.headers[0].value = "https";
    EXPECT_FALSE(ArrivedOverHttps(r, {}));
}

TEST(NormalizeAddress, MappedIpv4) {
    EXPECT_EQ(NormalizeAddress("::ffff:127.0.0.1"), "127.0.0.1");
    EXPECT_EQ(NormalizeAddress("127.0.0.1"), "127.0.0.1");
    EXPECT_EQ(NormalizeAddress("::1"), "::1");
    EXPECT_EQ(NormalizeAddress("::ffff:abcd"), "::ffff:abcd");
}
