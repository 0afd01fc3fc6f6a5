// The webhook handler behind the real HTTP server on loopback: what DocSpace's sender meets on the wire,
// including the answers the server gives before the handler is reached (413 for an oversized body).
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "http/server.hpp"
#include "httpc/client.hpp"
#include "ingress/recording_store.hpp"
#include "ingress/signature.hpp"
#include "ingress/webhook_handler.hpp"

using namespace spacehook;
using namespace spacehook::ingress;

namespace {

const std::string kSecret = "loopback-Secret-7";

class WebhookOverHttpTest : public ::testing::Test {
protected:
    void SetUp() override {
        httpc::GlobalInit();
        handler_.emplace(WebhookOptions{{kSecret}, false, std::chrono::milliseconds(0), false, {}}, store_,
                         metrics_, SystemClock::Instance());
        http::Router router;
        handler_->Register(router, "/docspace/webhook");
        http::ServerOptions options;
        options.host = "127.0.0.1";
        options.port = 0;
        options.body_limit = 4096;
        server_.emplace(options, router.AsHandler());
        ASSERT_TRUE(server_->Start());
        url_ = "http://127.0.0.1:" + std::to_string(server_->port()) + "/docspace/webhook";
    }
    void TearDown() override { server_->Stop(std::chrono::milliseconds(2000)); }

    httpc::Response Post(const std::string& body, bool sign = true) {
        httpc::Request request;
        request.method = "POST";
        request.url = url_;
        request.headers = {{"Content-Type", "application/json; charset=utf-8"}, {"Accept", "*/*"}};
        if (sign)
            request.headers.emplace_back(std::string(kSignatureHeader), SignatureHeaderValue(kSecret, body));
        request.body = body;
        request.total_timeout = std::chrono::seconds(10);
        auto response = client_.Send(request);
        EXPECT_TRUE(response) << (response ? "" : response.error().message);
        return response ? *response : httpc::Response{};
    }

    static std::string Body(int event_id, std::size_t title_size) {
        return R"({"event":{"id":)" + std::to_string(event_id) +
               R"(,"createOn":"2026-06-30T10:15:42Z","trigger":"file.created","triggerId":128},)"
               R"("payload":{"id":1234,"title":")" +
               std::string(title_size, 'x') + R"("},"webhook":{"id":7}})";
    }

    test::RecordingStore store_;
    MetricsRegistry metrics_;
    std::optional<WebhookHandler> handler_;
    std::optional<http::Server> server_;
    httpc::Client client_;
    std::string url_;
};

}  // namespace

TEST_F(WebhookOverHttpTest, StoredThenDuplicate) {
    EXPECT_EQ(Post(Body(1, 10)).status, 202);
    const auto again = Post(Body(1, 10));
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.body, R"({"status":"duplicate"})");
    std::lock_guard lock(store_.mu);
    EXPECT_EQ(store_.journal.size(), 1u);
}

TEST_F(WebhookOverHttpTest, OversizedBodyIs413FromTheServerAndNeverReachesTheStore) {
    const auto response = Post(Body(2, 8000));
    EXPECT_EQ(response.status, 413);
    EXPECT_EQ(Post(Body(3, 100)).status, 202);
    std::lock_guard lock(store_.mu);
    ASSERT_EQ(store_.appended.size(), 1u);
    EXPECT_EQ(store_.appended[0].event_id, "3");
}

TEST_F(WebhookOverHttpTest, UnsignedIs401AndHeadProbeIs200) {
    EXPECT_EQ(Post(Body(4, 10), /*sign=*/false).status, 401);
    httpc::Request head;
    head.method = "HEAD";
    head.url = url_;
    auto probe = client_.Send(head);
    ASSERT_TRUE(probe);
    EXPECT_EQ(probe->status, 200);
    std::lock_guard lock(store_.mu);
    EXPECT_TRUE(store_.appended.empty());
}

TEST_F(WebhookOverHttpTest, StoreFailureIs503) {
    {
        std::lock_guard lock(store_.mu);
        store_.mode = test::RecordingStore::Mode::kFail;
    }
    EXPECT_EQ(Post(Body(5, 10)).status, 503);
}
