#include "http/server_test_support.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace spacehook::http::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds bound) {
    const auto deadline = Clock::now() + bound;
    while (Clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return condition();
}

long long MillisSince(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

ServerOptions TestOptions() {
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.body_limit = 1024;
    options.header_limit = 1024;
    options.header_timeout = 300ms;
    options.body_timeout = 300ms;
    options.idle_timeout = 300ms;
    options.write_timeout = 300ms;
    options.handler_timeout = 300ms;
    options.max_connections = 64;
    options.threads = 2;
    return options;
}

Router BasicRouter() {
    Router router;
    router.Add("GET", "/hello",
               [](Request&&, Responder respond) { respond(Response::Text(200, "hello world")); });
    router.Add("POST", "/echo",
               [](Request&& request, Responder respond) { respond(Response::Text(200, request.body)); });
    return router;
}

std::unique_ptr<Server> StartServer(ServerOptions options, Handler handler) {
    auto server = std::make_unique<Server>(std::move(options), std::move(handler));
    const Status started = server->Start();
    EXPECT_TRUE(started.has_value()) << (started ? "" : started.error().message);
    EXPECT_NE(server->port(), 0);
    return server;
}

std::optional<WireResponse> RoundTrip(TestClient& client, const std::string& request, bool head) {
    if (!client.Send(request)) return std::nullopt;
    return client.ReadResponse(head);
}

::testing::AssertionResult ServesANewcomer(std::uint16_t port) {
    TestClient newcomer(port);
    auto served = RoundTrip(newcomer, MakeRequest("GET", "/hello"));
    if (!served) return ::testing::AssertionFailure() << "no answer to a newcomer";
    if (served->status != 200) return ::testing::AssertionFailure() << "a newcomer got " << served->status;
    return ::testing::AssertionSuccess();
}

}  // namespace spacehook::http::test
