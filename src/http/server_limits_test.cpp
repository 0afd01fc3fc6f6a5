// The server at its limits: the connection cap and what gives way to a newcomer there (idle keep-alive
// connections, then requests slower than pressure_request_timeout, never busy ones), the per-peer cap, the
// shorter idle timeout under pressure, and the memory budget for bodies. ConnectionTable's policy is tested
// without sockets in connection_table_test.cpp; here it is the real server on loopback.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/server.hpp"
#include "http/server_test_support.hpp"
#include "http/test_client.hpp"

namespace spacehook::http {
namespace {

using namespace std::chrono_literals;
using test::BasicRouter;
using test::Eventually;
using test::MakeRequest;
using test::RoundTrip;
using test::ServesANewcomer;
using test::StartServer;
using test::TestClient;
using test::TestOptions;

// Requests to /park wait until the test releases them: a connection whose request is with its handler.
class ParkingRouter {
public:
    ParkingRouter() : router_(BasicRouter()) {
        router_.Add("POST", "/park", [this](Request&& request, Responder respond) {
            std::lock_guard lock(mu_);
            parked_.push_back([respond, body = request.body] { respond(Response::Text(200, body)); });
        });
    }
    [[nodiscard]] Handler AsHandler() const { return router_.AsHandler(); }
    [[nodiscard]] std::size_t parked() {
        std::lock_guard lock(mu_);
        return parked_.size();
    }
    void ReleaseAll() {
        std::vector<std::function<void()>> parked;
        {
            std::lock_guard lock(mu_);
            parked.swap(parked_);
        }
        for (auto& answer : parked) answer();
    }

private:
    Router router_;
    std::mutex mu_;
    std::vector<std::function<void()>> parked_;
};

// Busy connections (a request with its handler) are never closed for a newcomer: at the cap with nothing
// idle and nothing slow, the newcomer gets 503. (Idle ones give way: see the eviction tests below.)
TEST(ServerLimitsTest, ConnectionCapRejectsNewcomersWhileExistingConnectionsWork) {
    ServerOptions options = TestOptions();
    options.max_connections = 2;
    options.idle_timeout = 5s;
    options.handler_timeout = 5s;
    ParkingRouter router;
    auto server = StartServer(options, router.AsHandler());
    TestClient first(server->port());
    TestClient second(server->port());
    ASSERT_TRUE(first.Send(MakeRequest("POST", "/park", "held one")));
    ASSERT_TRUE(second.Send(MakeRequest("POST", "/park", "held two")));
    ASSERT_TRUE(Eventually([&] { return router.parked() == 2; }));

    TestClient over(server->port());
    ASSERT_TRUE(over.connected());
    auto rejected = over.ReadResponse();
    ASSERT_TRUE(rejected.has_value());
    EXPECT_EQ(rejected->status, 503);
    EXPECT_EQ(rejected->body, R"({"error":"temporarily unavailable"})");
    EXPECT_TRUE(over.WaitForClose(2s));

    router.ReleaseAll();
    auto held_first = first.ReadResponse();
    auto held_second = second.ReadResponse();
    ASSERT_TRUE(held_first && held_second);
    EXPECT_EQ(held_first->body, "held one");
    EXPECT_EQ(held_second->body, "held two");
    auto still_first = RoundTrip(first, MakeRequest("POST", "/echo", "one"));
    auto still_second = RoundTrip(second, MakeRequest("POST", "/echo", "two"));
    ASSERT_TRUE(still_first && still_second);
    EXPECT_EQ(still_first->body, "one");
    EXPECT_EQ(still_second->body, "two");
    EXPECT_EQ(server->Stats().connections_rejected, 1u);
    EXPECT_EQ(server->Stats().active_connections, 2u);

    // A freed slot is usable again.
    first.Close();
    ASSERT_TRUE(Eventually([&] { return server->Stats().active_connections == 1; }));
    EXPECT_TRUE(ServesANewcomer(server->port()));
}

TEST(ServerLimitsTest, HalfOpenFloodHoldsSlotsOnlyUntilTheHeaderDeadline) {
    ServerOptions options = TestOptions();
    options.max_connections = 8;
    auto server = StartServer(options, BasicRouter().AsHandler());
    std::vector<std::unique_ptr<TestClient>> flood;
    for (int i = 0; i < 8; ++i) {
        flood.push_back(std::make_unique<TestClient>(server->port()));
        ASSERT_TRUE(flood.back()->connected());
    }
    ASSERT_TRUE(Eventually([&] { return server->Stats().active_connections == 8; }));
    TestClient turned_away(server->port());
    auto rejected = turned_away.ReadResponse();
    ASSERT_TRUE(rejected.has_value());
    EXPECT_EQ(rejected->status, 503);

    // The silent sockets are closed by the header deadline, then a newcomer is served.
    for (auto& client : flood) EXPECT_TRUE(client->WaitForClose(3s));
    ASSERT_TRUE(Eventually([&] { return server->Stats().active_connections == 0; }));
    EXPECT_TRUE(ServesANewcomer(server->port()));
}

TEST(ServerLimitsTest, AtTheCapTheLongestIdleKeepAliveConnectionGivesWayToANewcomer) {
    ServerOptions options = TestOptions();
    options.max_connections = 3;
    options.idle_timeout = 30s;
    options.pressure_idle_timeout = 30s;
    // One I/O thread: a connection is idle (for the table) before the next request on another one is read,
    // so "longest idle" is the order the test made them idle in.
    options.threads = 1;
    auto server = StartServer(options, BasicRouter().AsHandler());
    std::vector<std::unique_ptr<TestClient>> idle;
    for (int i = 0; i < 3; ++i) {
        idle.push_back(std::make_unique<TestClient>(server->port()));
        ASSERT_TRUE(RoundTrip(*idle.back(), MakeRequest("GET", "/hello")).has_value());
    }
    // Oldest idle is the first, unless it is used again: then the second is.
    ASSERT_TRUE(RoundTrip(*idle[0], MakeRequest("GET", "/hello")).has_value());

    // The newcomers stay connected (idle after their answer), so the second one finds the server full too.
    std::vector<std::unique_ptr<TestClient>> newcomers;
    for (int round = 0; round < 2; ++round) {
        newcomers.push_back(std::make_unique<TestClient>(server->port()));
        auto served = RoundTrip(*newcomers.back(), MakeRequest("POST", "/echo", "delivery"));
        ASSERT_TRUE(served.has_value()) << "round " << round;
        EXPECT_EQ(served->status, 200);
        EXPECT_EQ(served->body, "delivery");
    }
    EXPECT_TRUE(idle[1]->WaitForClose(3s)) << "the longest idle connection stayed open";
    EXPECT_TRUE(idle[2]->WaitForClose(3s));
    auto still = RoundTrip(*idle[0], MakeRequest("GET", "/hello"));
    ASSERT_TRUE(still.has_value()) << "a connection used more recently was closed";
    EXPECT_EQ(still->status, 200);
    const ServerStats stats = server->Stats();
    EXPECT_EQ(stats.connections_evicted_idle, 2u);
    EXPECT_EQ(stats.connections_rejected, 0u);
    EXPECT_EQ(stats.timeouts, 0u) << "an eviction is not a timeout";
}

TEST(ServerLimitsTest, AtTheCapASlowRequestGivesWayOnlyAfterThePressureRequestTimeout) {
    ServerOptions options = TestOptions();
    options.max_connections = 2;
    options.header_timeout = 30s;
    options.body_timeout = 30s;
    options.pressure_request_timeout = 300ms;
    auto server = StartServer(options, BasicRouter().AsHandler());
    TestClient trickle_header(server->port());
    ASSERT_TRUE(trickle_header.Send("POST /echo HTTP/1.1\r\nHost: x\r\n"));
    TestClient trickle_body(server->port());
    ASSERT_TRUE(trickle_body.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab"));
    ASSERT_TRUE(Eventually([&] { return server->Stats().active_connections == 2; }));

    // Neither has been at it for 300 ms yet: no room.
    TestClient early(server->port(), 5s, 0, "127.0.0.2");
    auto refused = early.ReadResponse();
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->status, 503);

    // Past it, each newcomer takes the slowest one's place; the trickling clients are cut off.
    std::this_thread::sleep_for(400ms);
    // From other addresses: the trickling peer holds the whole server, more than its fair share, so its
    // own newcomers may not close anything.
    TestClient newcomer(server->port(), 5s, 0, "127.0.0.2");
    TestClient another(server->port(), 5s, 0, "127.0.0.3");
    ASSERT_TRUE(Eventually([&] { return server->Stats().connections_evicted_slow == 2; }));
    for (TestClient* client : {&newcomer, &another}) {
        auto served = RoundTrip(*client, MakeRequest("POST", "/echo", "fast"));
        ASSERT_TRUE(served.has_value());
        EXPECT_EQ(served->status, 200);
    }
    std::string rest;
    EXPECT_TRUE(trickle_header.WaitForClose(3s, &rest));
    EXPECT_TRUE(trickle_body.WaitForClose(3s, &rest));
    EXPECT_EQ(server->Stats().connections_evicted_slow, 2u);
}

TEST(ServerLimitsTest, ARequestWithItsHandlerIsNeverSlowHoweverLongItTakes) {
    ServerOptions options = TestOptions();
    options.max_connections = 1;
    options.handler_timeout = 5s;
    options.pressure_request_timeout = 50ms;
    ParkingRouter router;
    auto server = StartServer(options, router.AsHandler());
    TestClient busy(server->port());
    ASSERT_TRUE(busy.Send(MakeRequest("POST", "/park", "acked")));
    ASSERT_TRUE(Eventually([&] { return router.parked() == 1; }));
    std::this_thread::sleep_for(100ms);
    TestClient newcomer(server->port());
    auto refused = newcomer.ReadResponse();
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->status, 503);
    router.ReleaseAll();
    auto answered = busy.ReadResponse();
    ASSERT_TRUE(answered.has_value());
    EXPECT_EQ(answered->body, "acked");
}

TEST(ServerLimitsTest, APeerAtItsCapIsRefusedWhileAnotherPeerIsServed) {
    ServerOptions options = TestOptions();
    options.max_connections_per_peer = 2;
    options.header_timeout = 30s;
    auto server = StartServer(options, BasicRouter().AsHandler());
    TestClient first(server->port());
    TestClient second(server->port());
    ASSERT_TRUE(first.Send("GET /hello HTTP/1.1\r\n"));  // both busy reading, neither idle
    ASSERT_TRUE(second.Send("GET /hello HTTP/1.1\r\n"));
    ASSERT_TRUE(Eventually([&] { return server->Stats().active_connections == 2; }));

    TestClient third(server->port());
    auto refused = third.ReadResponse();
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->status, 503);
    ASSERT_NE(refused->Find("retry-after"), nullptr);

    TestClient other_peer(server->port(), 5s, 0, "127.0.0.2");
    ASSERT_TRUE(other_peer.connected()) << other_peer.last_error();
    auto served = RoundTrip(other_peer, MakeRequest("GET", "/hello"));
    ASSERT_TRUE(served.has_value());
    EXPECT_EQ(served->status, 200);
    const ServerStats stats = server->Stats();
    EXPECT_EQ(stats.connections_rejected_per_peer, 1u);
    EXPECT_EQ(stats.connections_rejected, 1u);
}

TEST(ServerLimitsTest, UncappedPeersAreNotHeldToThePerPeerCap) {
    ServerOptions options = TestOptions();
    options.max_connections_per_peer = 1;
    options.uncapped_peers = {"127.0.0.1"};
    auto server = StartServer(options, BasicRouter().AsHandler());
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(std::make_unique<TestClient>(server->port()));
        auto served = RoundTrip(*clients.back(), MakeRequest("GET", "/hello"));
        ASSERT_TRUE(served.has_value()) << i;
        EXPECT_EQ(served->status, 200);
    }
    EXPECT_EQ(server->Stats().connections_evicted_idle, 0u);
}

TEST(ServerLimitsTest, UnderPressureAnIdleConnectionGetsThePressureIdleTimeout) {
    ServerOptions options = TestOptions();
    options.max_connections = 4;
    options.header_timeout = 30s;
    options.idle_timeout = 30s;
    options.pressure_idle_timeout = 200ms;
    auto server = StartServer(options, BasicRouter().AsHandler());
    TestClient relaxed(server->port());
    ASSERT_TRUE(RoundTrip(relaxed, MakeRequest("GET", "/hello")).has_value());
    EXPECT_TRUE(relaxed.StaysOpen(500ms)) << "closed without pressure";

    // Three of four open: pressure. An answer sent now leaves the connection idle for 200 ms at most.
    TestClient second(server->port());
    TestClient third(server->port());
    ASSERT_TRUE(Eventually([&] { return server->Stats().active_connections == 3; }));
    ASSERT_TRUE(RoundTrip(relaxed, MakeRequest("GET", "/hello")).has_value());
    EXPECT_TRUE(relaxed.WaitForClose(3s));
    EXPECT_EQ(server->Stats().timeouts, 0u);
}

TEST(ServerLimitsTest, BodiesBeyondTheMemoryBudgetGet503BeforeTheyAreRead) {
    ServerOptions options = TestOptions();
    options.body_limit = 1000;
    options.body_memory_limit = 2000;
    options.body_timeout = 30s;
    auto server = StartServer(options, BasicRouter().AsHandler());
    const std::string head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n";
    TestClient first(server->port());
    TestClient second(server->port());
    ASSERT_TRUE(first.Send(head + std::string(10, 'a')));
    ASSERT_TRUE(second.Send(head + std::string(10, 'b')));
    ASSERT_TRUE(Eventually([&] { return server->Stats().body_memory_in_use == 2000; }));

    TestClient third(server->port());
    ASSERT_TRUE(third.Send(head));
    auto refused = third.ReadResponse();
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->status, 503);
    EXPECT_EQ(refused->body, R"({"error":"temporarily unavailable"})");
    ASSERT_NE(refused->Find("retry-after"), nullptr);
    EXPECT_EQ(*refused->Find("retry-after"), "1");
    EXPECT_TRUE(third.WaitForClose(3s));
    // Expect: 100-continue over the budget gets the 503 instead of the invitation.
    TestClient expecting(server->port());
    ASSERT_TRUE(expecting.Send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n"));
    auto instead = expecting.ReadResponse();
    ASSERT_TRUE(instead.has_value());
    EXPECT_EQ(instead->status, 503);

    // The held bodies finish; their memory is given back, and a new body fits again.
    ASSERT_TRUE(first.Send(std::string(990, 'a')));
    auto echoed = first.ReadResponse();
    ASSERT_TRUE(echoed.has_value());
    EXPECT_EQ(echoed->body, std::string(1000, 'a'));
    ASSERT_TRUE(Eventually([&] { return server->Stats().body_memory_in_use == 1000; }));
    TestClient fourth(server->port());
    auto fits = RoundTrip(fourth, MakeRequest("POST", "/echo", std::string(1000, 'd')));
    ASSERT_TRUE(fits.has_value());
    EXPECT_EQ(fits->status, 200);
    EXPECT_EQ(server->Stats().body_memory_rejections, 2u);
    second.Close();
    EXPECT_TRUE(Eventually([&] { return server->Stats().body_memory_in_use == 0; }));
}

TEST(ServerLimitsTest, AChunkedBodyGrowingPastTheBudgetGets503) {
    ServerOptions options = TestOptions();
    options.body_limit = std::size_t{64} * 1024;
    options.body_memory_limit = std::size_t{64} * 1024;
    options.body_timeout = 30s;
    auto server = StartServer(options, BasicRouter().AsHandler());
    // One body holds 40 KiB of the budget...
    TestClient holder(server->port());
    ASSERT_TRUE(holder.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 40960\r\n\r\nx"));
    ASSERT_TRUE(Eventually([&] { return server->Stats().body_memory_in_use == 40960; }));
    // ...so a chunked one may start (16 KiB) but not grow to 32 KiB.
    TestClient chunked(server->port());
    ASSERT_TRUE(chunked.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
    std::string piece = "1000\r\n" + std::string(4096, 'c') + "\r\n";
    for (int i = 0; i < 8; ++i) {
        if (!chunked.Send(piece)) break;
    }
    auto refused = chunked.ReadResponse();
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->status, 503);
    EXPECT_EQ(server->Stats().body_memory_rejections, 1u);

    // Within the budget a chunked body is read whole.
    holder.Close();
    ASSERT_TRUE(Eventually([&] { return server->Stats().body_memory_in_use == 0; }));
    TestClient fits(server->port());
    std::string body_chunks;
    for (int i = 0; i < 8; ++i) body_chunks += piece;
    auto answered = RoundTrip(fits, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                        body_chunks + "0\r\n\r\n");
    ASSERT_TRUE(answered.has_value());
    EXPECT_EQ(answered->status, 200);
    EXPECT_EQ(answered->body, std::string(std::size_t{8} * 4096, 'c'));
}

TEST(ServerLimitsTest, ABodyMemoryLimitBelowTheBodyLimitIsAConfigError) {
    ServerOptions options = TestOptions();
    options.body_limit = 4096;
    options.body_memory_limit = 1024;
    Server server(options, BasicRouter().AsHandler());
    const Status started = server.Start();
    ASSERT_FALSE(started.has_value());
    EXPECT_EQ(started.error().code, ErrorCode::kConfig);
    EXPECT_NE(started.error().message.find("body_memory_limit"), std::string::npos)
        << started.error().message;
}

}  // namespace
}  // namespace spacehook::http
