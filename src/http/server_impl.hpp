// Server::Impl and the connection types it shares between server.cpp (listening, admission, stopping) and
// server_session.cpp (one connection's requests): the two translation units that include Boost.Beast/Asio
// (cpp-deps.md §1.5 #10). Private to src/http; nothing outside includes it.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/log.hpp"
#include "http/body_budget.hpp"
#include "http/connection_table.hpp"
#include "http/server.hpp"

namespace spacehook::http {
namespace server_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using BoostError = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;
using Strand = asio::strand<asio::io_context::executor_type>;
// Every connection's socket, timers and coroutines live on one strand, so connection state needs no
// locks even with several I/O threads.
using Socket = tcp::socket::rebind_executor<Strand>::other;
// beast::ssl_stream rather than asio's: it flattens the header+body buffer sequence so a response
// goes out in one TLS record instead of one per buffer.
using TlsStream = beast::ssl_stream<Socket>;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kComponent = "http";

/// Everything about one connection except its stream. Touched only on the connection's strand, but for
/// Close(), which posts there.
class ConnectionCore : public TrackedConnection, public std::enable_shared_from_this<ConnectionCore> {
public:
    explicit ConnectionCore(const Strand& s) : strand(s), watchdog(s), wake(s) {}

    // TrackedConnection
    void Close(CloseRequest request) override {
        asio::post(strand, [self = shared_from_this(), request] { self->OnClose(request); });
    }

    /// Bounds the socket I/O that follows: the watchdog cancels it when `at` passes. Moving the
    /// deadline later costs nothing (the watchdog re-arms when it wakes); earlier re-arms it now.
    void SetDeadline(TimePoint at) {
        deadline = at;
        timed_out = false;
        if (at < watchdog.expiry()) watchdog.cancel();
    }
    void ClearDeadline() { deadline = TimePoint::max(); }

    /// Server::Stop (drain): an idle connection closes now, a busy one after its in-flight response; a hard
    /// close closes regardless (drain deadline passed). Eviction for a newcomer: an idle or still unread
    /// connection closes now, one whose request is with the handler after answering it.
    void OnClose(CloseRequest request) {
        draining = true;
        BoostError ec;
        switch (request) {
            case CloseRequest::kHardClose:
                hard_closed = true;
                socket->close(ec);
                wake.cancel();
                break;
            case CloseRequest::kDrain:
                if (!busy) socket->cancel(ec);
                break;
            case CloseRequest::kEvictIdle:
            case CloseRequest::kEvictSlow:
                if (phase != ConnectionPhase::kBusy) socket->close(ec);
                break;
        }
    }

    Strand strand;
    asio::steady_timer watchdog;  ///< enforces `deadline` on socket I/O
    asio::steady_timer wake;      ///< the wait for a Responder; cancelled to wake the connection
    TimePoint deadline = TimePoint::max();
    Socket* socket = nullptr;  ///< lowest layer of the derived connection's stream
    std::string remote_address;
    std::uint64_t id = 0;
    bool timed_out = false;                             ///< the watchdog cancelled the last I/O
    ConnectionPhase phase = ConnectionPhase::kReading;  ///< as the ConnectionTable was last told
    bool busy = false;         ///< a request is in flight (headers read, response not yet written)
    bool draining = false;     ///< server stopping: no further requests on this connection
    bool hard_closed = false;  ///< server stopping and the drain deadline passed
    bool finished = false;     ///< the session ended; the watchdog exits
};

template <class Stream>
class Connection final : public ConnectionCore {
public:
    template <class... Args>
    explicit Connection(const Strand& s, Args&&... args)
        : ConnectionCore(s), stream(std::forward<Args>(args)...) {
        socket = &beast::get_lowest_layer(stream);
    }
    Stream stream;
};

}  // namespace server_detail

using namespace server_detail;

class Server::Impl {
public:
    Impl(ServerOptions options, Handler handler)
        : options_(std::move(options)),
          handler_(std::move(handler)),
          table_(ConnectionLimits{options_.max_connections, options_.max_connections_per_peer,
                                  options_.uncapped_peers, options_.pressure_request_timeout}),
          body_budget_(options_.body_memory_limit) {}
    ~Impl() { Stop(std::chrono::milliseconds(5000)); }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    Status Start();
    void Stop(std::chrono::milliseconds drain);
    [[nodiscard]] std::uint16_t port() const { return port_.load(std::memory_order_relaxed); }
    [[nodiscard]] ServerStats Stats() const;

private:
    /// One admitted connection: holds its place in the table until the session frame dies.
    class ActiveSlot {
    public:
        ActiveSlot(ConnectionTable* table, std::uint64_t id) : table_(table), id_(id) {}
        ActiveSlot(ActiveSlot&& other) noexcept
            : table_(std::exchange(other.table_, nullptr)), id_(other.id_) {}
        ActiveSlot& operator=(ActiveSlot&&) = delete;
        ActiveSlot(const ActiveSlot&) = delete;
        ActiveSlot& operator=(const ActiveSlot&) = delete;
        ~ActiveSlot() {
            if (table_ != nullptr) table_->Release(id_);
        }
        [[nodiscard]] std::uint64_t id() const { return id_; }

    private:
        ConnectionTable* table_;
        std::uint64_t id_;
    };

    Status LoadTls();
    asio::awaitable<void> AcceptLoop();
    void Reject(Socket& socket, ConnectionTable::Refusal refusal);
    void EnterPhase(ConnectionCore& c, ConnectionPhase phase);
    void RaiseDescriptorLimit() const;

    template <class Stream>
    void Launch(Socket socket, std::string remote_address, TimePoint accepted_at, ActiveSlot slot);
    template <class Stream>
    asio::awaitable<void> Session(std::shared_ptr<Connection<Stream>> c, ActiveSlot slot,
                                  TimePoint accepted_at);
    template <class Stream>
    asio::awaitable<void> Serve(Connection<Stream>& c, TimePoint accepted_at);
    template <class Stream>
    asio::awaitable<void> RejectRequest(Connection<Stream>& c, BoostError ec);
    template <class Stream>
    asio::awaitable<std::optional<Response>> Dispatch(Connection<Stream>& c, Request request);
    template <class Stream>
    asio::awaitable<bool> Write(Connection<Stream>& c, Response& response, bool head, bool keep_alive);
    template <class Stream>
    asio::awaitable<bool> ReadBody(Connection<Stream>& c, beast::flat_buffer& buffer,
                                   bhttp::request_parser<bhttp::string_body>& parser,
                                   BodyReservation& reservation);
    template <class Stream>
    asio::awaitable<void> ReplyAndClose(Connection<Stream>& c, int status, std::string_view message);
    template <class Stream>
    asio::awaitable<void> CloseGracefully(Connection<Stream>& c, bool request_unfinished);

    ServerOptions options_;
    Handler handler_;

    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> timeouts_{0};
    std::atomic<std::uint64_t> limit_rejections_{0};
    std::atomic<std::uint64_t> handler_timeouts_{0};
    std::atomic<std::uint64_t> body_memory_rejections_{0};
    std::atomic<std::uint16_t> port_{0};

    // Live connections: who gets in at the cap, and what Stop() drains and closes.
    ConnectionTable table_;
    BodyBudget body_budget_;

    std::mutex lifecycle_mu_;  // Start/Stop
    bool started_ = false;
    bool stopped_ = false;

    // Declaration order is destruction order in reverse: the TLS context outlives the io_context (and
    // every stream in it), and Stop() destroys the acceptor before the io_context explicitly.
    std::optional<asio::ssl::context> tls_;
    std::optional<asio::io_context> io_;
    std::optional<tcp::acceptor> acceptor_;
    std::vector<std::thread> threads_;
};

}  // namespace spacehook::http
