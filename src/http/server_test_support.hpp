#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/server.hpp"
#include "http/test_client.hpp"

namespace spacehook::http::test {

/// Polls `condition` until it holds or `bound` passes.
bool Eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds bound = std::chrono::seconds(3));

long long MillisSince(std::chrono::steady_clock::time_point start);

/// Loopback, port 0, 1 KiB limits, 300 ms deadlines, 64 connections, two I/O threads.
ServerOptions TestOptions();

/// The routes most tests share: a fixed GET /hello, an echo POST /echo; a test adds its own.
Router BasicRouter();

/// A started server (a failed start is a test failure).
std::unique_ptr<Server> StartServer(ServerOptions options, Handler handler);

std::optional<WireResponse> RoundTrip(TestClient& client, const std::string& request, bool head = false);

/// Whether a new connection to `port` gets GET /hello answered 200 (a freed or reclaimed slot works).
::testing::AssertionResult ServesANewcomer(std::uint16_t port);

}  // namespace spacehook::http::test
