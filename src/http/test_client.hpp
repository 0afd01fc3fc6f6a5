#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/server.hpp"

struct ssl_ctx_st;
struct ssl_st;

namespace spacehook::http::test {

/// One parsed response as the test client saw it on the wire. Header names are lower-cased.
struct WireResponse {
    int status = 0;
    std::vector<Header> headers;
    std::string body;

    [[nodiscard]] const std::string* Find(std::string_view lower_name) const;
};

/// A deliberately dumb blocking HTTP/1.1 client over a POSIX socket (optionally OpenSSL on top) so
/// the tests exercise the server the way any peer on the internet would: raw bytes, half-sent
/// headers, pipelining, not reading. Every call is bounded by `io_timeout` (SO_RCVTIMEO/SO_SNDTIMEO).
class TestClient {
public:
    /// `source_address`: connect from this loopback address (127.0.0.2, ...), i.e. as another peer.
    explicit TestClient(std::uint16_t port, std::chrono::milliseconds io_timeout = std::chrono::seconds(5),
                        int receive_buffer = 0, const char* source_address = nullptr);
    ~TestClient();
    TestClient(const TestClient&) = delete;
    TestClient& operator=(const TestClient&) = delete;

    [[nodiscard]] bool connected() const { return fd_ >= 0; }
    /// TLS handshake over the connected socket; false (and the reason in last_error()) on failure.
    bool StartTls(ssl_ctx_st* context);
    bool Send(std::string_view bytes);
    /// Reads one response. `head`: a HEAD answer (Content-Length but no body bytes). nullopt on
    /// timeout, EOF or garbage.
    std::optional<WireResponse> ReadResponse(bool head = false);
    /// Reads until the server closes. True when it closed within `bound`; bytes read go to `rest`.
    bool WaitForClose(std::chrono::milliseconds bound, std::string* rest = nullptr);
    /// True if nothing (no byte, no EOF) arrives within `quiet`.
    bool StaysOpen(std::chrono::milliseconds quiet);
    void Close();
    [[nodiscard]] const std::string& last_error() const { return last_error_; }

private:
    /// >0 bytes, 0 on EOF, -1 on error/timeout.
    long ReadSome(char* data, std::size_t size);
    bool Fill();

    int fd_ = -1;
    ssl_st* ssl_ = nullptr;
    std::chrono::milliseconds io_timeout_;
    std::string pending_;
    std::string last_error_;
};

/// "GET /path HTTP/1.1" with Host and, when given, a body with Content-Length.
std::string MakeRequest(std::string_view method, std::string_view target, std::string_view body = {},
                        std::string_view extra_headers = {});

}  // namespace spacehook::http::test
