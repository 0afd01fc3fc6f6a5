#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace spacehook::http {

/// One header. Request header names are lower-cased by the server.
struct Header {
    std::string name;
    std::string value;
};

/// A complete inbound request: headers and body are read in full (within the limits) before a handler
/// sees it. Plain data in the project's own types: nothing from Beast leaks out of src/http.
struct Request {
    std::string method;  ///< "POST", "HEAD", ...
    std::string target;  ///< raw request target, "/docspace/webhook?x=1"
    std::string path;    ///< target without the query, percent-decoding NOT applied
    std::string query;   ///< text after '?', without it
    std::vector<Header> headers;
    std::string body;
    std::string remote_address;                     ///< peer IP, textual
    bool secure = false;                            ///< arrived over in-process TLS
    std::chrono::steady_clock::time_point started;  ///< when the first byte of this request arrived

    /// First header with this lower-case name, or nullptr.
    [[nodiscard]] const std::string* FindHeader(std::string_view lower_name) const;
    /// Value of a query parameter, percent-decoded ("+" is a space); nullopt when absent.
    [[nodiscard]] std::optional<std::string> QueryParam(std::string_view key) const;
};

/// What a handler answers. The server adds Date, Server, Content-Length and Connection.
struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::vector<Header> headers;
    std::string body;
    /// Close the connection without writing any answer (fault injection in the DocSpace emulator: a
    /// client must survive a peer that drops it mid-request).
    bool abort_connection = false;

    static Response Json(int status, std::string body) {
        return Response{status, "application/json", {}, std::move(body)};
    }
    static Response Text(int status, std::string body) {
        return Response{status, "text/plain; charset=utf-8", {}, std::move(body)};
    }
    /// The small JSON error body every spacehook error answer carries: {"error":"<message>"}. `message`
    /// is sent to the caller, so pass an ExternalMessage(), never an internal error text.
    static Response JsonError(int status, std::string_view message);
};

/// Completes a request. Call exactly once, from any thread (a group-commit writer completes deliveries
/// from its own thread); the server hands the response back to the connection's strand. A second call
/// is ignored with a warning. A Responder may outlive its connection and even the Server: a late call
/// (after handler_timeout answered 503, or after the client went away) is dropped safely.
using Responder = std::function<void(Response)>;
/// Runs on an I/O thread: it must not block. Slow work goes elsewhere and answers via the Responder.
using Handler = std::function<void(Request&&, Responder)>;

/// Maps method + path to a handler. Unknown path -> 404, known path with another method -> 405 with
/// an Allow header. HEAD falls back to the GET handler with the body dropped, unless HEAD is routed.
class Router {
public:
    void Add(std::string method, std::string path, Handler handler);
    /// Matches every path that starts with `prefix` (for "/api/2.0/files/..." style trees).
    void AddPrefix(std::string method, std::string prefix, Handler handler);
    /// The router as one handler, for Server. It works on a snapshot of the routes: add every route
    /// first; routes added afterwards are not seen by handlers returned earlier. Exact routes win over
    /// prefix routes, and the longest prefix wins among prefixes.
    [[nodiscard]] Handler AsHandler() const;

private:
    struct Route {
        std::string method;
        std::string path;
        bool prefix;
        Handler handler;
    };
    std::shared_ptr<std::vector<Route>> routes_ = std::make_shared<std::vector<Route>>();
};

struct TlsOptions {
    std::string certificate_file;  ///< PEM chain
    std::string private_key_file;  ///< PEM key
};

/// Limits and deadlines. Defaults suit a webhook receiver facing the internet: a slow or half-open client
/// can hold at most one connection slot until a deadline closes it, and once the server is full, idle and
/// slow connections give way to new ones (see ConnectionTable in http/connection_table.hpp).
struct ServerOptions {
    std::string host = "0.0.0.0";
    std::uint16_t port = 3000;                          ///< 0 = pick a free port (tests), see Server::port()
    std::size_t body_limit = std::size_t{1024} * 1024;  ///< larger bodies -> 413, connection closed
    std::size_t header_limit = std::size_t{16} * 1024;  ///< larger header blocks -> 431, connection closed
    std::chrono::milliseconds header_timeout{
        10000};  ///< whole header block must arrive within this -> else 408
    std::chrono::milliseconds body_timeout{30000};   ///< whole body must arrive within this -> else 408
    std::chrono::milliseconds idle_timeout{60000};   ///< keep-alive connection with no new request is closed
    std::chrono::milliseconds write_timeout{30000};  ///< a client not reading its response is dropped
    std::chrono::milliseconds handler_timeout{30000};  ///< a handler that never responds -> 503
    /// At this many connections a newcomer closes the longest idle keep-alive connection, else the one
    /// slowest to send its request (past pressure_request_timeout); with neither it gets 503 and is closed.
    std::size_t max_connections = 1024;
    /// Connections one peer (an IPv4 address, an IPv6 /64) may hold; a newcomer past it replaces that
    /// peer's own longest idle connection or gets 503. 0: no per-peer cap.
    std::size_t max_connections_per_peer = 256;
    /// Peers not held to max_connections_per_peer: a reverse proxy speaks for many clients.
    std::vector<std::string> uncapped_peers;
    /// Once three quarters of max_connections are open, a connection going idle is closed after this
    /// (if shorter than idle_timeout).
    std::chrono::milliseconds pressure_idle_timeout{5000};
    /// At max_connections, a connection that has spent this long on a request it has not finished sending
    /// (a trickled header or body, a socket that never sends) may be closed to admit a newcomer.
    std::chrono::milliseconds pressure_request_timeout{2000};
    /// All request bodies being read or handled, together. A body that does not fit (by its
    /// Content-Length, or as a chunked body grows) gets 503 with Retry-After before it is read.
    std::size_t body_memory_limit = std::size_t{64} * 1024 * 1024;
    int threads = 1;                ///< I/O threads
    std::optional<TlsOptions> tls;  ///< serve HTTPS in-process
};

/// Counters a server keeps about itself (for /metrics).
struct ServerStats {
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_rejected = 0;           ///< refused with 503: full, or the peer at its cap
    std::uint64_t connections_rejected_per_peer = 0;  ///< of those, for max_connections_per_peer
    std::uint64_t connections_evicted_idle = 0;       ///< idle keep-alive connections closed for a newcomer
    std::uint64_t connections_evicted_slow =
        0;                                     ///< requests not sent within pressure_request_timeout, closed
    std::uint64_t requests = 0;                ///< complete requests handed to the handler
    std::uint64_t timeouts = 0;                ///< header/body/write deadlines hit
    std::uint64_t limit_rejections = 0;        ///< 413/431
    std::uint64_t handler_timeouts = 0;        ///< handler did not respond within handler_timeout -> 503
    std::uint64_t body_memory_rejections = 0;  ///< bodies answered 503 over body_memory_limit
    std::size_t active_connections = 0;
    std::size_t body_memory_in_use = 0;  ///< bytes of bodies held now (reserved by Content-Length)
};

/// An HTTP/1.1 server (Boost.Beast + Asio, C++20 coroutines, keep-alive, pipelining-safe). Beast
/// stays inside server.cpp; this header speaks only the project's types.
class Server {
public:
    Server(ServerOptions options, Handler handler);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds and starts the I/O threads. Fails with a readable error (address in use, bad TLS files).
    Status Start();
    /// The bound port (useful with port 0).
    [[nodiscard]] std::uint16_t port() const;
    /// Stops accepting, waits up to `drain` for in-flight requests to be answered, then closes all
    /// connections and joins the threads. Idempotent; a stopped server cannot be started again. Call it
    /// from outside the I/O threads (never from a handler).
    void Stop(std::chrono::milliseconds drain = std::chrono::milliseconds(5000));
    [[nodiscard]] ServerStats Stats() const;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace spacehook::http
