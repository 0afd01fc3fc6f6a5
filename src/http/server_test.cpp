#include "http/server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/server_test_support.hpp"
#include "http/test_client.hpp"

namespace spacehook::http {
namespace {

using namespace std::chrono_literals;
using test::BasicRouter;
using test::Eventually;
using test::MakeRequest;
using test::MillisSince;
using test::RoundTrip;
using test::ServesANewcomer;
using test::StartServer;
using test::TestClient;
using test::TestOptions;
using Clock = std::chrono::steady_clock;

// Runs calls on their own threads after a delay, the way the store's group-commit thread completes
// deliveries. Joins everything on destruction (declare it before the server so it outlives it).
class Later {
public:
    ~Later() { JoinAll(); }
    void Run(std::chrono::milliseconds delay, std::function<void()> call) {
        std::lock_guard lock(mu_);
        threads_.emplace_back([delay, call = std::move(call)] {
            std::this_thread::sleep_for(delay);
            call();
        });
    }
    void JoinAll() {
        std::vector<std::thread> threads;
        {
            std::lock_guard lock(mu_);
            threads.swap(threads_);
        }
        for (std::thread& thread : threads) thread.join();
    }

private:
    std::mutex mu_;
    std::vector<std::thread> threads_;
};

TEST(ServerTest, GetPostAndHeadCarryTheStandardHeaders) {
    auto server = StartServer(TestOptions(), BasicRouter().AsHandler());
    TestClient client(server->port());
    ASSERT_TRUE(client.connected()) << client.last_error();

    auto get = RoundTrip(client, MakeRequest("GET", "/hello"));
    ASSERT_TRUE(get.has_value());
    EXPECT_EQ(get->status, 200);
    EXPECT_EQ(get->body, "hello world");
    ASSERT_NE(get->Find("content-length"), nullptr);
    EXPECT_EQ(*get->Find("content-length"), "11");
    ASSERT_NE(get->Find("server"), nullptr);
    EXPECT_EQ(*get->Find("server"), "spacehook");
    ASSERT_NE(get->Find("date"), nullptr);
    EXPECT_NE(get->Find("date")->find(" GMT"), std::string::npos);
    ASSERT_NE(get->Find("connection"), nullptr);
    EXPECT_EQ(*get->Find("connection"), "keep-alive");
    ASSERT_NE(get->Find("content-type"), nullptr);
    EXPECT_EQ(*get->Find("content-type"), "text/plain; charset=utf-8");

    auto post = RoundTrip(client, MakeRequest("POST", "/echo", R"({"event":"file.created"})"));
    ASSERT_TRUE(post.has_value());
    EXPECT_EQ(post->status, 200);
    EXPECT_EQ(post->body, R"({"event":"file.created"})");

    // HEAD: the GET answer's Content-Length, no body bytes. The GET after it on the same connection
    // parses only if no stray body bytes were sent.
    auto head = RoundTrip(client, MakeRequest("HEAD", "/hello"), /*head=*/true);
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 200);
    ASSERT_NE(head->Find("content-length"), nullptr);
    EXPECT_EQ(*head->Find("content-length"), "11");
    auto after = RoundTrip(client, MakeRequest("GET", "/hello"));
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->status, 200);
    EXPECT_EQ(after->body, "hello world");
}

TEST(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
    auto server = StartServer(TestOptions(), BasicRouter().AsHandler());
    TestClient client(server->port());
    ASSERT_TRUE(client.connected());
    for (int i = 0; i < 5; ++i) {
        const std::string body = "request " + std::to_string(i);
        auto response = RoundTrip(client, MakeRequest("POST", "/echo", body));
        ASSERT_TRUE(response.has_value()) << "request " << i;
        EXPECT_EQ(response->body, body);
    }
    const ServerStats stats = server->Stats();
    EXPECT_EQ(stats.connections_accepted, 1u);
    EXPECT_EQ(stats.requests, 5u);
    EXPECT_EQ(stats.active_connections, 1u);
}

TEST(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
    Later later;
    Router router = BasicRouter();
    // The first request is answered last (from another thread); its answer must still come first.
    router.Add("GET", "/slow", [&later](Request&&, Responder respond) {
        later.Run(150ms, [respond] { respond(Response::Text(200, "slow")); });
    });
    auto server = StartServer(TestOptions(), router.AsHandler());
    TestClient client(server->port());
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.Send(MakeRequest("GET", "/slow") + MakeRequest("POST", "/echo", "second") +
                            MakeRequest("GET", "/hello")));
    auto first = client.ReadResponse();
    auto second = client.ReadResponse();
    auto third = client.ReadResponse();
    ASSERT_TRUE(first && second && third);
    EXPECT_EQ(first->body, "slow");
    EXPECT_EQ(second->body, "second");
    EXPECT_EQ(third->body, "hello world");
    EXPECT_EQ(server->Stats().connections_accepted, 1u);
}

TEST(ServerTest, RouterErrorsGoOutAsSmallJson) {
    auto server = StartServer(TestOptions(), BasicRouter().AsHandler());
    TestClient client(server->port());
    ASSERT_TRUE(client.connected());
    auto missing = RoundTrip(client, MakeRequest("GET", "/nope"));
    ASSERT_TRUE(missing.has_value());
    EXPECT_EQ(missing->status, 404);
    EXPECT_EQ(missing->body, R"({"error":"not found"})");
    ASSERT_NE(missing->Find("content-type"), nullptr);
    EXPECT_EQ(*missing->Find("content-type"), "application/json");

    auto wrong_method = RoundTrip(client, MakeRequest("DELETE", "/echo"));
    ASSERT_TRUE(wrong_method.has_value());
    EXPECT_EQ(wrong_method->status, 405);
    EXPECT_EQ(wrong_method->body, R"({"error":"method not allowed"})");
    ASSERT_NE(wrong_method->Find("allow"), nullptr);
    EXPECT_EQ(*wrong_method->Find("allow"), "POST");
}

TEST(ServerTest, ContentLengthOverLimitGets413WithoutReadingTheBody) {
    std::atomic<int> calls{0};
    auto server = StartServer(TestOptions(), [&calls](Request&&, Responder respond) {
        ++calls;
        respond(Response::Text(200, "ok"));
    });
    TestClient client(server->port());
    ASSERT_TRUE(client.connected());
    // Header only: a server waiting for the 10 MB would answer 408 after body_timeout instead.
    ASSERT_TRUE(client.Send("POST /hook HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\n"));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 413);
    EXPECT_EQ(response->body, R"({"error":"payload too large"})");
    ASSERT_NE(response->Find("connection"), nullptr);
    EXPECT_EQ(*response->Find("connection"), "close");
    EXPECT_TRUE(client.WaitForClose(2s));
    EXPECT_EQ(calls.load(), 0);
    EXPECT_EQ(server->Stats().limit_rejections, 1u);
}

TEST(ServerTest, ChunkedBodyWithinLimitIsReadAndOneGrowingPastItGets413) {
    auto server = StartServer(TestOptions(), BasicRouter().AsHandler());
    const std::string head = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";

    TestClient small(server->port());
    ASSERT_TRUE(small.connected());
    auto echoed = RoundTrip(small, head + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    ASSERT_TRUE(echoed.has_value());
    EXPECT_EQ(echoed->status, 200);
    EXPECT_EQ(echoed->body, "hello world");

    TestClient big(server->port());
    ASSERT_TRUE(big.connected());
    const std::string chunk = "200\r\n" + std::string(0x200, 'x') + "\r\n";  // 512 bytes each, limit 1024
    ASSERT_TRUE(big.Send(head + chunk + chunk + chunk));
    auto rejected = big.ReadResponse();
    ASSERT_TRUE(rejected.has_value());
    EXPECT_EQ(rejected->status, 413);
    EXPECT_TRUE(big.WaitForClose(2s));
    EXPECT_EQ(server->Stats().limit_rejections, 1u);
}

TEST(ServerTest, ExpectContinueGets100ThenTheAnswer) {
    auto server = StartServer(TestOptions(), BasicRouter().AsHandler());
    TestClient client(server->port());
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(
        client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
    auto interim = client.ReadResponse();
    ASSERT_TRUE(interim.has_value());
    EXPECT_EQ(interim->status, 100);
    ASSERT_TRUE(client.Send("hello"));
    auto final_response = client.ReadResponse();
    ASSERT_TRUE(final_response.has_value());
    EXPECT_EQ(final_response->status, 200);
    EXPECT_EQ(final_response->body, "hello");
}

TEST(ServerTest, ExpectContinueOverLimitGets413Instead) {
    auto server = StartServer(TestOptions(), BasicRouter().AsHandler());
    TestClient client(server->port());
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.Send(
        "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n"));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 413);
    EXPECT_TRUE(client.WaitForClose(2s));
}

TEST(ServerTest, OversizedHeaderBlockGets431) {
    auto server = StartServer(TestOptions(), BasicRouter().AsHandler());
    TestClient client(server->port());
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(
        client.Send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n"));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 431);
    EXPECT_EQ(response->body, R"({"error":"request header fields too large"})");
    EXPECT_TRUE(client.WaitForClose(2s));
    EXPECT_EQ(server->Stats().limit_rejections, 1u);
}

TEST(ServerTest, MalformedRequestGets400AndClose) {
    auto server = StartServer(TestOptions(), BasicRouter().AsHandler());
    TestClient client(server->port());
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.Send("THIS IS NOT HTTP\r\n\r\n"));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 400);
    EXPECT_EQ(response->body, R"({"error":"bad request"})");
    EXPECT_TRUE(client.WaitForClose(2s));
}

TEST(ServerTest, SlowlorisConnectionsHitTheHeaderDeadlineWhileOthersAreServed) {
    ServerOptions options = TestOptions();
    options.header_timeout = 1000ms;
    auto server = StartServer(options, BasicRouter().AsHandler());

    const auto opened = Clock::now();
    std::vector<std::unique_ptr<TestClient>> slow;
    for (int i = 0; i < 20; ++i) {
        slow.push_back(std::make_unique<TestClient>(server->port()));
        ASSERT_TRUE(slow.back()->connected());
        ASSERT_TRUE(slow.back()->Send("POST /echo HTTP/1.1\r\nHost: t\r\nX-Slow: "));
    }
    // One more trickles a byte every 50 ms: the deadline covers the whole header block, not each read.
    TestClient trickler(server->port());
    ASSERT_TRUE(trickler.connected());
    std::atomic<bool> stop_trickling{false};
    std::thread trickle([&] {
        trickler.Send("GET /hello HTTP/1.1\r\nX-Trickle: ");
        for (int i = 0; i < 60 && !stop_trickling; ++i) {  // at most 3 s
            if (!trickler.Send("a")) break;
            std::this_thread::sleep_for(50ms);
        }
    });

    // A normal client is served at once, not behind the slow ones.
    TestClient normal(server->port());
    ASSERT_TRUE(normal.connected());
    const auto asked = Clock::now();
    auto response = RoundTrip(normal, MakeRequest("GET", "/hello"));
    const long long served_ms = MillisSince(asked);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_LT(served_ms, 800) << "the normal client waited behind slow ones";

    for (auto& client : slow) {
        auto timeout = client->ReadResponse();
        ASSERT_TRUE(timeout.has_value());
        EXPECT_EQ(timeout->status, 408);
        EXPECT_EQ(timeout->body, R"({"error":"request timeout"})");
        EXPECT_TRUE(client->WaitForClose(2s));
    }
    EXPECT_GE(MillisSince(opened), 900);  // closed by the deadline, not earlier

    std::string rest;
    EXPECT_TRUE(trickler.WaitForClose(3s, &rest));
    stop_trickling = true;
    trickle.join();
    EXPECT_NE(rest.find("408"), std::string::npos);
    EXPECT_GE(server->Stats().timeouts, 21u);
}

TEST(ServerTest, ConnectionThatSendsNothingIsClosedAfterTheHeaderTimeout) {
    auto server = StartServer(TestOptions(), BasicRouter().AsHandler());
    TestClient silent(server->port());
    ASSERT_TRUE(silent.connected());
    const auto opened = Clock::now();
    std::string rest;
    EXPECT_TRUE(silent.WaitForClose(3s, &rest));
    EXPECT_GE(MillisSince(opened), 250);
    EXPECT_TRUE(rest.empty()) << "nothing arrived, so nothing is answered";
    EXPECT_TRUE(Eventually([&] { return server->Stats().timeouts == 1; }));
}

TEST(ServerTest, StalledBodyGets408AfterTheBodyTimeout) {
    auto server = StartServer(TestOptions(), BasicRouter().AsHandler());
    TestClient client(server->port());
    ASSERT_TRUE(client.connected());
    const auto sent = Clock::now();
    ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789"));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 408);
    EXPECT_GE(MillisSince(sent), 250);
    EXPECT_TRUE(client.WaitForClose(2s));
    EXPECT_EQ(server->Stats().timeouts, 1u);
    EXPECT_EQ(server->Stats().requests, 0u);
}

TEST(ServerTest, IdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
    auto server = StartServer(TestOptions(), BasicRouter().AsHandler());
    TestClient client(server->port());
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(RoundTrip(client, MakeRequest("GET", "/hello")).has_value());
    const auto answered = Clock::now();
    EXPECT_TRUE(client.StaysOpen(100ms));
    EXPECT_TRUE(client.WaitForClose(3s));
    EXPECT_GE(MillisSince(answered), 250);
    EXPECT_TRUE(Eventually([&] { return server->Stats().active_connections == 0; }));
    EXPECT_EQ(server->Stats().timeouts, 0u) << "an idle close is not a timeout";
}

TEST(ServerTest, ResponderCalledFromAnotherThreadAfterADelay) {
    Later later;
    auto server = StartServer(TestOptions(), [&later](Request&& request, Responder respond) {
        later.Run(100ms, [respond, body = request.body] { respond(Response::Json(202, body)); });
    });
    TestClient client(server->port());
    ASSERT_TRUE(client.connected());
    const auto sent = Clock::now();
    auto response = RoundTrip(client, MakeRequest("POST", "/hook", R"({"queued":true})"));
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 202);
    EXPECT_EQ(response->body, R"({"queued":true})");
    EXPECT_GE(MillisSince(sent), 90);
    auto again = RoundTrip(client, MakeRequest("POST", "/hook", "2"));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->body, "2");
}

TEST(ServerTest, SecondResponderCallIsIgnored) {
    auto server = StartServer(TestOptions(), [](Request&& request, Responder respond) {
        respond(Response::Text(200, "first " + request.body));
        respond(Response::Text(500, "second"));
    });
    TestClient client(server->port());
    ASSERT_TRUE(client.connected());
    auto response = RoundTrip(client, MakeRequest("POST", "/x", "a"));
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "first a");
    // No stray second answer is queued on the connection.
    auto next = RoundTrip(client, MakeRequest("POST", "/x", "b"));
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->body, "first b");
}

TEST(ServerTest, HandlerThatNeverRespondsGets503AndALateAnswerIsDropped) {
    std::mutex mu;
    std::vector<Responder> parked;
    Router router = BasicRouter();
    router.Add("POST", "/park", [&](Request&&, Responder respond) {
        std::lock_guard lock(mu);
        parked.push_back(std::move(respond));
    });
    auto server = StartServer(TestOptions(), router.AsHandler());
    TestClient client(server->port());
    ASSERT_TRUE(client.connected());
    const auto sent = Clock::now();
    auto response = RoundTrip(client, MakeRequest("POST", "/park", "x"));
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 503);
    EXPECT_EQ(response->body, R"({"error":"temporarily unavailable"})");
    EXPECT_GE(MillisSince(sent), 250);
    EXPECT_EQ(server->Stats().handler_timeouts, 1u);

    // The late answer goes nowhere, and the connection keeps working.
    {
        std::lock_guard lock(mu);
        ASSERT_EQ(parked.size(), 1u);
        parked.front()(Response::Text(200, "too late"));
    }
    auto next = RoundTrip(client, MakeRequest("GET", "/hello"));
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->body, "hello world");
}

TEST(ServerTest, ResponderMayOutliveTheServer) {
    std::mutex mu;
    std::vector<Responder> parked;
    ServerOptions options = TestOptions();
    options.handler_timeout = 5s;
    auto server = StartServer(options, [&](Request&&, Responder respond) {
        std::lock_guard lock(mu);
        parked.push_back(std::move(respond));
    });
    TestClient client(server->port());
    ASSERT_TRUE(client.Send(MakeRequest("POST", "/park", "x")));
    ASSERT_TRUE(Eventually([&] {
        std::lock_guard lock(mu);
        return parked.size() == 1;
    }));
    server->Stop(100ms);
    EXPECT_TRUE(client.WaitForClose(3s));
    server.reset();
    // From another thread, after the server and its io_context are gone: dropped, no crash.
    std::thread late([&] {
        std::lock_guard lock(mu);
        parked.front()(Response::Text(200, "after the end"));
    });
    late.join();
    std::lock_guard lock(mu);
    parked.clear();  // destroys the responder's shared state here, not at scope exit
    SUCCEED();
}

TEST(ServerTest, AnswerForAClientThatAlreadyLeftIsDroppedSafely) {
    Later later;
    std::atomic<int> answered{0};
    Router router = BasicRouter();
    router.Add("POST", "/slow", [&](Request&&, Responder respond) {
        later.Run(150ms, [&answered, respond] {
            respond(Response::Json(202, R"({"queued":true})"));
            ++answered;
        });
    });
    ServerOptions options = TestOptions();
    options.handler_timeout = 2s;
    auto server = StartServer(options, router.AsHandler());
    {
        TestClient leaving(server->port());
        ASSERT_TRUE(leaving.Send(MakeRequest("POST", "/slow", "x")));
    }  // closed before the answer exists
    ASSERT_TRUE(Eventually([&] { return answered.load() == 1; }));
    EXPECT_TRUE(Eventually([&] { return server->Stats().active_connections == 0; }));
    EXPECT_TRUE(ServesANewcomer(server->port()));
}

TEST(ServerTest, ClientConnectionCloseAndHttp10AreHonoured) {
    auto server = StartServer(TestOptions(), BasicRouter().AsHandler());
    TestClient closing(server->port());
    auto closed = RoundTrip(closing, MakeRequest("GET", "/hello", {}, "Connection: close\r\n"));
    ASSERT_TRUE(closed.has_value());
    EXPECT_EQ(closed->body, "hello world");
    ASSERT_NE(closed->Find("connection"), nullptr);
    EXPECT_EQ(*closed->Find("connection"), "close");
    EXPECT_TRUE(closing.WaitForClose(1s));

    TestClient old(server->port());
    auto http10 = RoundTrip(old, "GET /hello HTTP/1.0\r\n\r\n");
    ASSERT_TRUE(http10.has_value());
    EXPECT_EQ(http10->body, "hello world");
    ASSERT_NE(http10->Find("connection"), nullptr);
    EXPECT_EQ(*http10->Find("connection"), "close");
    EXPECT_TRUE(old.WaitForClose(1s));
}

TEST(ServerTest, HandlerExceptionGets500) {
    auto server = StartServer(TestOptions(), [](Request&&, Responder) { throw std::runtime_error("boom"); });
    TestClient client(server->port());
    auto response = RoundTrip(client, MakeRequest("GET", "/x"));
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 500);
    EXPECT_EQ(response->body, R"({"error":"internal error"})");
}

TEST(ServerTest, RequestCarriesPeerTimingAndLowerCasedHeaders) {
    std::mutex mu;
    std::optional<Request> seen;
    auto server = StartServer(TestOptions(), [&](Request&& request, Responder respond) {
        {
            std::lock_guard lock(mu);
            seen = std::move(request);
        }
        respond(Response::Text(200, "ok"));
    });
    const auto before = std::chrono::steady_clock::now();
    TestClient client(server->port());
    auto response = RoundTrip(client, MakeRequest("POST", "/docspace/webhook?trigger=file.created&x=a+b",
                                                  "{}", "X-DocSpace-Signature-256: sha256=abc\r\n"));
    ASSERT_TRUE(response.has_value());
    const auto after = std::chrono::steady_clock::now();
    std::lock_guard lock(mu);
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->method, "POST");
    EXPECT_EQ(seen->target, "/docspace/webhook?trigger=file.created&x=a+b");
    EXPECT_EQ(seen->path, "/docspace/webhook");
    EXPECT_EQ(seen->query, "trigger=file.created&x=a+b");
    EXPECT_EQ(seen->QueryParam("x"), "a b");
    EXPECT_EQ(seen->body, "{}");
    ASSERT_NE(seen->FindHeader("x-docspace-signature-256"), nullptr);
    EXPECT_EQ(*seen->FindHeader("x-docspace-signature-256"), "sha256=abc");
    EXPECT_EQ(seen->remote_address, "127.0.0.1");
    EXPECT_FALSE(seen->secure);
    EXPECT_GE(seen->started, before);
    EXPECT_LE(seen->started, after);
}

TEST(ServerTest, ClientThatDoesNotReadItsResponseIsDroppedAfterTheWriteTimeout) {
    ServerOptions options = TestOptions();
    options.idle_timeout = 5s;
    Router router = BasicRouter();
    const std::string big(std::size_t{32} * 1024 * 1024, 'z');  // more than loopback socket buffers hold
    router.Add("GET", "/big", [&big](Request&&, Responder respond) { respond(Response::Text(200, big)); });
    auto server = StartServer(options, router.AsHandler());
    TestClient stalled(server->port(), 5s, /*receive_buffer=*/4096);
    ASSERT_TRUE(stalled.Send(MakeRequest("GET", "/big")));
    ASSERT_TRUE(Eventually([&] { return server->Stats().timeouts == 1; }, 5s));
    EXPECT_TRUE(Eventually([&] { return server->Stats().active_connections == 0; }));

    TestClient other(server->port());
    auto response = RoundTrip(other, MakeRequest("GET", "/hello"));
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
}

TEST(ServerTest, StopDrainsAnInFlightRequestAndClosesIdleConnections) {
    Later later;
    std::atomic<bool> entered{false};
    Router router = BasicRouter();
    router.Add("POST", "/slow", [&](Request&&, Responder respond) {
        entered = true;
        later.Run(300ms, [respond] { respond(Response::Json(202, R"({"queued":true})")); });
    });
    ServerOptions options = TestOptions();
    options.idle_timeout = 10s;
    options.handler_timeout = 5s;
    auto server = StartServer(options, router.AsHandler());

    TestClient idle(server->port());
    ASSERT_TRUE(RoundTrip(idle, MakeRequest("GET", "/hello")).has_value());
    TestClient busy(server->port());
    ASSERT_TRUE(busy.Send(MakeRequest("POST", "/slow", "x")));
    ASSERT_TRUE(Eventually([&] { return entered.load(); }));

    const auto stopping = Clock::now();
    server->Stop(3s);
    const long long stop_ms = MillisSince(stopping);
    EXPECT_LT(stop_ms, 2500) << "Stop waited for more than the in-flight request";

    auto response = busy.ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 202);
    ASSERT_NE(response->Find("connection"), nullptr);
    EXPECT_EQ(*response->Find("connection"), "close");
    EXPECT_TRUE(busy.WaitForClose(1s));
    EXPECT_TRUE(idle.WaitForClose(1s));
    EXPECT_EQ(server->Stats().active_connections, 0u);

    TestClient refused(server->port(), 1s);
    EXPECT_FALSE(refused.connected() && RoundTrip(refused, MakeRequest("GET", "/hello")).has_value());
}

TEST(ServerTest, StopGivesUpOnAHandlerAfterTheDrainDeadline) {
    std::mutex mu;
    std::vector<Responder> parked;
    ServerOptions options = TestOptions();
    options.handler_timeout = 30s;
    auto server = StartServer(options, [&](Request&&, Responder respond) {
        std::lock_guard lock(mu);
        parked.push_back(std::move(respond));
    });
    TestClient client(server->port());
    ASSERT_TRUE(client.Send(MakeRequest("POST", "/park", "x")));
    ASSERT_TRUE(Eventually([&] {
        std::lock_guard lock(mu);
        return !parked.empty();
    }));
    const auto stopping = Clock::now();
    server->Stop(200ms);
    const long long stop_ms = MillisSince(stopping);
    EXPECT_GE(stop_ms, 180);
    EXPECT_LT(stop_ms, 2000);
    std::string rest;
    EXPECT_TRUE(client.WaitForClose(1s, &rest));
    EXPECT_TRUE(rest.empty());
    std::lock_guard lock(mu);
    parked.clear();
}

TEST(ServerTest, StopIsIdempotentAndAStoppedServerDoesNotRestart) {
    auto server = StartServer(TestOptions(), BasicRouter().AsHandler());
    server->Stop(100ms);
    server->Stop(100ms);
    const Status restarted = server->Start();
    ASSERT_FALSE(restarted.has_value());
    EXPECT_EQ(restarted.error().code, ErrorCode::kInternal);

    Server never_started(TestOptions(), BasicRouter().AsHandler());
    never_started.Stop(100ms);
    EXPECT_EQ(never_started.Stats().connections_accepted, 0u);
}

TEST(ServerTest, StartReportsAnAddressInUseReadably) {
    auto first = StartServer(TestOptions(), BasicRouter().AsHandler());
    ServerOptions options = TestOptions();
    options.port = first->port();
    Server second(options, BasicRouter().AsHandler());
    const Status started = second.Start();
    ASSERT_FALSE(started.has_value());
    EXPECT_EQ(started.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(started.error().message,
              "127.0.0.1:" + std::to_string(first->port()) + ": address already in use");
}

}  // namespace
}  // namespace spacehook::http
