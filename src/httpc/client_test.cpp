#include "httpc/client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include "core/json.hpp"
#include "http/server.hpp"
#include "httpc/testing/child_process.hpp"

namespace spacehook::httpc {
namespace {

using std::chrono::milliseconds;

Request Make(std::string url, std::string method = "GET", std::string body = "") {
    Request request;
    request.method = std::move(method);
    request.url = std::move(url);
    request.body = std::move(body);
    return request;
}

ClientOptions WithIdleHandles(std::size_t n) {
    ClientOptions options;
    options.max_idle_handles = n;
    return options;
}

/// Runs calls on their own threads after a delay (a slow upstream answering late); joins them all
/// on destruction, so declare it before the server it answers for.
class Later {
public:
    ~Later() {
        std::vector<std::thread> threads;
        {
            std::lock_guard lock(mu_);
            threads.swap(threads_);
        }
        for (auto& thread : threads) thread.join();
    }
    void Run(milliseconds delay, std::function<void()> call) {
        std::lock_guard lock(mu_);
        threads_.emplace_back([delay, call = std::move(call)] {
            std::this_thread::sleep_for(delay);
            call();
        });
    }

private:
    std::mutex mu_;
    std::vector<std::thread> threads_;
};

/// The project's own HTTP server (spacehook_http) on a loopback port: /echo answers with what it got,
/// /status?code=N answers N, /sleep?ms=N answers after N ms. Its stats count accepted connections.
class TestServer {
public:
    TestServer() {
        http::ServerOptions options;
        options.host = "127.0.0.1";
        options.port = 0;
        options.threads = 2;
        server_ =
            std::make_unique<http::Server>(options, [this](http::Request&& request, http::Responder respond) {
                Handle(std::move(request), std::move(respond));
            });
        auto started = server_->Start();
        if (!started) throw std::runtime_error(started.error().message);
    }
    ~TestServer() { server_->Stop(milliseconds(500)); }

    [[nodiscard]] std::string Url(std::string_view path) const {
        return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
    }
    [[nodiscard]] int Connections() const { return static_cast<int>(server_->Stats().connections_accepted); }

private:
    void Handle(http::Request&& request, http::Responder respond) {
        if (request.path == "/sleep") {
            const auto ms = std::stoi(request.QueryParam("ms").value_or("1000"));
            later_.Run(milliseconds(ms), [respond] { respond(http::Response::Json(200, "{}")); });
            return;
        }
        if (request.path == "/status") {
            auto response = http::Response::Json(std::stoi(request.QueryParam("code").value_or("200")),
                                                 R"({"status":"given"})");
            response.headers.push_back({"X-Test-Header", "Mixed Case Value"});
            if (auto location = request.QueryParam("location"))
                response.headers.push_back({"Location", *location});
            respond(std::move(response));
            return;
        }
        Json headers = Json::object();
        for (const auto& header : request.headers) headers[header.name] = header.value;
        Json echo = {{"method", request.method},
                     {"path", request.target},
                     {"headers", headers},
                     {"body", request.body}};
        auto response = http::Response::Json(200, request.method == "HEAD" ? "" : echo.dump());
        response.headers.push_back({"X-Echo", "yes"});
        respond(std::move(response));
    }

    Later later_;
    std::unique_ptr<http::Server> server_;
};

TEST(HttpClient, RoundTripsMethodHeadersAndBody) {
    TestServer server;
    Client client;
    Request request = Make(server.Url("/echo?x=1"), "PUT", R"({"title":"Отчёт"})");
    request.headers = {{"X-Custom", "value 1"}, {"Content-Type", "application/json"}};
    auto response = client.Send(request);
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->Header("x-echo"), "yes");
    EXPECT_EQ(response->Header("content-type"), "application/json");
    const auto echo = Json::parse(response->body);
    EXPECT_EQ(echo["method"], "PUT");
    EXPECT_EQ(echo["path"], "/echo?x=1");
    EXPECT_EQ(echo["headers"]["x-custom"], "value 1");
    EXPECT_EQ(echo["headers"]["content-type"], "application/json");
    EXPECT_EQ(echo["headers"]["user-agent"], "spacehook/0.1");
    EXPECT_FALSE(echo["headers"].contains("expect"));
    EXPECT_EQ(echo["body"], R"({"title":"Отчёт"})");
}

TEST(HttpClient, SendsEveryMethod) {
    TestServer server;
    Client client;
    for (const std::string method : {"GET", "POST", "PUT", "DELETE", "PATCH"}) {
        auto response = client.Send(Make(server.Url("/echo"), method, method == "GET" ? "" : "b"));
        ASSERT_TRUE(response) << response.error().message;
        EXPECT_EQ(Json::parse(response->body)["method"], method);
    }
    auto bodiless_delete = client.Send(Make(server.Url("/echo"), "DELETE"));
    ASSERT_TRUE(bodiless_delete) << bodiless_delete.error().message;
    const auto deleted = Json::parse(bodiless_delete->body);
    EXPECT_EQ(deleted["method"], "DELETE");
    EXPECT_FALSE(deleted["headers"].contains("content-type"));
    auto head = client.Send(Make(server.Url("/echo"), "HEAD"));
    ASSERT_TRUE(head) << head.error().message;
    EXPECT_EQ(head->status, 200);
    EXPECT_TRUE(head->body.empty());
    EXPECT_EQ(head->Header("x-echo"), "yes");
}

TEST(HttpClient, HttpErrorStatusesAreAnswersNotErrors) {
    TestServer server;
    Client client;
    auto response = client.Send(Make(server.Url("/status?code=503")));
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->status, 503);
    EXPECT_EQ(response->Header("x-test-header"), "Mixed Case Value");
    EXPECT_EQ(response->body, R"({"status":"given"})");
}

TEST(HttpClient, DoesNotFollowRedirects) {
    TestServer server;
    Client client;
    auto response = client.Send(Make(server.Url("/status?code=302&location=/echo")));
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->status, 302);
    EXPECT_EQ(response->Header("location"), "/echo");
}

TEST(HttpClient, KeepAliveReusesOneConnection) {
    TestServer server;
    Client client;
    for (int i = 0; i < 10; ++i) {
        auto response = client.Send(Make(server.Url("/echo"), i % 2 ? "POST" : "GET", i % 2 ? "x" : ""));
        ASSERT_TRUE(response) << response.error().message;
        ASSERT_EQ(response->status, 200);
    }
    EXPECT_EQ(server.Connections(), 1);
}

TEST(HttpClient, WithoutIdleHandlesEveryRequestConnectsAnew) {
    TestServer server;
    Client client(WithIdleHandles(0));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.Send(Make(server.Url("/echo"))));
    EXPECT_EQ(server.Connections(), 3);
}

TEST(HttpClient, ConcurrentSendsShareAtMostOneConnectionPerThread) {
    TestServer server;
    Client client;
    constexpr int kThreads = 4;
    constexpr int kRequests = 15;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kRequests; ++i) {
                auto response = client.Send(Make(server.Url("/echo")));
                if (response && response->status == 200) ++ok;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(ok.load(), kThreads * kRequests);
    const int connections = server.Connections();
    EXPECT_GE(connections, 1);
    EXPECT_LE(connections, kThreads);
}

TEST(HttpClient, TotalTimeoutIsKTimeout) {
    TestServer server;
    Client client;
    const auto start = std::chrono::steady_clock::now();
    auto request = Make(server.Url("/sleep?ms=3000"));
    request.total_timeout = milliseconds(300);
    auto response = client.Send(request);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, ErrorCode::kTimeout);
    EXPECT_TRUE(response.error().IsTransient());
    EXPECT_LT(elapsed, milliseconds(2000));
    // The handle that timed out is still usable.
    auto after = client.Send(Make(server.Url("/echo")));
    ASSERT_TRUE(after) << after.error().message;
    EXPECT_EQ(after->status, 200);
}

TEST(HttpClient, ConnectionRefusedIsUnavailable) {
    auto port = testing::PickFreePort();
    ASSERT_TRUE(port);
    Client client;
    auto response = client.Send(Make("http://127.0.0.1:" + std::to_string(*port) + "/x"));
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(response.error().message.find("127.0.0.1"), std::string::npos) << response.error().message;
}

TEST(HttpClient, DroppedConnectionIsUnavailable) {
    testing::DroppingServer server;
    Client client;
    auto response = client.Send(Make(server.Url()));
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
}

TEST(HttpClient, UnresolvableHostIsUnavailable) {
    Client client;
    auto request = Make("http://no-such-host.invalid/x");
    request.connect_timeout = milliseconds(2000);
    auto response = client.Send(request);
    ASSERT_FALSE(response);
    EXPECT_TRUE(response.error().code == ErrorCode::kUnavailable ||
                response.error().code == ErrorCode::kTimeout)
        << response.error().message;
}

TEST(HttpClient, ErrorsNeverCarryHeadersBodiesQueriesOrUserinfo) {
    auto port = testing::PickFreePort();
    ASSERT_TRUE(port);
    Client client;
    Request request =
        Make("http://user:hunter2pw@127.0.0.1:" + std::to_string(*port) + "/api?token=tok-in-query", "POST",
             "body-with-secret");
    request.headers = {{"Authorization", "Bearer sk-very-secret-key"}};
    auto response = client.Send(request);
    ASSERT_FALSE(response);
    const auto& message = response.error().message;
    EXPECT_EQ(message.find("sk-very-secret-key"), std::string::npos) << message;
    EXPECT_EQ(message.find("body-with-secret"), std::string::npos) << message;
    EXPECT_EQ(message.find("tok-in-query"), std::string::npos) << message;
    EXPECT_EQ(message.find("hunter2pw"), std::string::npos) << message;
    EXPECT_NE(message.find("POST http://127.0.0.1:"), std::string::npos) << message;
}

TEST(HttpClient, MalformedUrlIsInvalidArgument) {
    Client client;
    auto response = client.Send(Make("ftp://127.0.0.1/x"));
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument);
}

TEST(HttpClient, TlsVerificationIsOnByDefault) {
    // A plain-HTTP server spoken to over https fails the TLS handshake: a transport error, not an answer.
    TestServer server;
    Client client;
    std::string url = server.Url("/echo");
    url.replace(0, 4, "https");
    auto request = Make(url);
    request.total_timeout = milliseconds(3000);
    auto response = client.Send(request);
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, ErrorCode::kUnavailable) << response.error().message;
}

TEST(UrlEncode, EncodesReservedAndNonAscii) {
    EXPECT_EQ(UrlEncode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    EXPECT_EQ(UrlEncode("Safe-._~09AZ"), "Safe-._~09AZ");
    EXPECT_EQ(UrlEncode(R"(["x","y"])"), "%5B%22x%22%2C%22y%22%5D");
}

}  // namespace
}  // namespace spacehook::httpc
