// The only translation unit that includes Boost.Beast/Asio (cpp-deps.md §1.5 #10); everything else in
// src/http is plain C++. Measured here: ~16 s CPU and ~1 GB RSS at -O0 -g, ~24 s at -O2; parsing is only
// a fifth of that (the rest is coroutine/Beast template code for the two stream types), which is why a
// PCH or BOOST_ASIO/BEAST_SEPARATE_COMPILATION saved under 2 s per build and were left out.
#include "http/server.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>

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
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
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
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/log.hpp"

namespace spacehook::http {
namespace {

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

// First read of a request; a typical webhook header block arrives in one read.
constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
// Idle keep-alive connections give back a buffer that grew for a large body.
constexpr std::size_t kIdleBufferKeep = std::size_t{64} * 1024;
// Lingering close bounds: enough for a client to read our last answer, too little to pin a slot.
constexpr std::chrono::milliseconds kLingerTime{1000};
constexpr std::size_t kLingerBytes = std::size_t{1024} * 1024;
// Stop(): after the drain deadline, how long closed connections get to unwind before the threads go.
constexpr std::chrono::milliseconds kHardCloseWait{2000};
// accept() failing (EMFILE, ENFILE, ENOBUFS) tends to persist for a while: pause instead of spinning.
constexpr std::chrono::milliseconds kAcceptErrorPause{50};

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kOverCapacity =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Server: spacehook\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 35\r\n"
    "Retry-After: 1\r\n"
    "Connection: close\r\n"
    "\r\n"
    R"({"error":"temporarily unavailable"})";

std::string_view CurrentHttpDate() {
    // Formatted once per second per thread: a Date header on every response must not cost a strftime.
    static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    thread_local std::time_t cached_second = -1;
    thread_local std::array<char, 40> text{};
    thread_local std::size_t length = 0;
    const std::time_t now = std::time(nullptr);
    if (now != cached_second) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        const int written = std::snprintf(text.data(), text.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                                          kDays.at(static_cast<std::size_t>(tm.tm_wday) % 7), tm.tm_mday,
                                          kMonths.at(static_cast<std::size_t>(tm.tm_mon) % 12),
                                          tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        length = written > 0 ? static_cast<std::size_t>(written) : 0;
        cached_second = now;
    }
    return {text.data(), length};
}

std::string Lowered(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// A handler-supplied header must not be able to split the response (CR/LF) or break its framing.
bool IsSafeHeader(const Header& header) {
    if (header.name.empty()) return false;
    for (char c : header.name) {
        if (c <= ' ' || c == ':' || c == 0x7f) return false;
    }
    return header.value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

// The peer went away or we cancelled the socket: nothing to answer.
bool IsDisconnect(const BoostError& ec) {
    return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
           ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor ||
           ec == asio::ssl::error::stream_truncated;
}

// "address already in use" reads better after "127.0.0.1:3000: " than strerror's capital letter.
std::string LowerFirst(std::string text) {
    if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] - 'A' + 'a');
    return text;
}

std::string HostPort(const std::string& host, std::uint16_t port) {
    return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                               : fmt::format("{}:{}", host, port);
}

/// Everything about one connection except its stream. Touched only on the connection's strand.
class ConnectionCore : public std::enable_shared_from_this<ConnectionCore> {
public:
    explicit ConnectionCore(const Strand& s) : strand(s), watchdog(s), wake(s) {}

    /// Bounds the socket I/O that follows: the watchdog cancels it when `at` passes. Moving the
    /// deadline later costs nothing (the watchdog re-arms when it wakes); earlier re-arms it now.
    void SetDeadline(TimePoint at) {
        deadline = at;
        timed_out = false;
        if (at < watchdog.expiry()) watchdog.cancel();
    }
    void ClearDeadline() { deadline = TimePoint::max(); }

    /// Server::Stop: an idle connection closes now, a busy one after its in-flight response; `hard`
    /// closes regardless (drain deadline passed).
    void RequestClose(bool hard) {
        draining = true;
        BoostError ec;
        if (hard) {
            hard_closed = true;
            socket->close(ec);
            wake.cancel();
        } else if (!busy) {
            socket->cancel(ec);
        }
    }

    Strand strand;
    asio::steady_timer watchdog;  ///< enforces `deadline` on socket I/O
    asio::steady_timer wake;      ///< the wait for a Responder; cancelled to wake the connection
    TimePoint deadline = TimePoint::max();
    Socket* socket = nullptr;  ///< lowest layer of the derived connection's stream
    std::string remote_address;
    std::uint64_t id = 0;
    bool timed_out = false;    ///< the watchdog cancelled the last I/O
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

asio::awaitable<void> Watchdog(std::shared_ptr<ConnectionCore> c) {
    while (!c->finished) {
        c->watchdog.expires_at(c->deadline);
        co_await c->watchdog.async_wait(kAwait);
        if (c->finished) break;
        if (SteadyClock::now() >= c->deadline) {
            // cancel, not close: after a header deadline the connection still sends its 408.
            c->timed_out = true;
            c->deadline = TimePoint::max();
            BoostError ec;
            c->socket->cancel(ec);
        }
    }
}

/// Shared by one request's Responder and its connection. It holds no Asio object, so a Responder
/// kept by another thread may outlive the connection and the whole server: the connection clears
/// `wake_` (under the lock) before it stops waiting, and a late answer is simply dropped.
class ResponseSlot {
public:
    enum class CloseReason { kAnswered, kTimedOut, kConnectionGone };

    /// The Responder's body; any thread.
    void Complete(Response response) {
        std::lock_guard lock(mu_);
        if (called_) {
            log::Warn(kComponent, "responder called more than once; the later call is ignored");
            return;
        }
        called_ = true;
        if (closed_) {
            if (reason_ == CloseReason::kTimedOut) {
                log::Warn(kComponent, "response arrived after handler_timeout (503 already sent); dropped",
                          {{"status", response.status}});
            } else {
                log::Debug(kComponent, "response arrived after the connection closed; dropped",
                           {{"status", response.status}});
            }
            return;
        }
        response_ = std::move(response);
        if (wake_) wake_();
    }

    /// The server's own answer when the handler threw; a Responder call that already happened wins.
    void CompleteIfUnanswered(Response response) {
        std::lock_guard lock(mu_);
        if (called_) return;
        called_ = true;
        response_ = std::move(response);
    }

    /// The answer if it is there; otherwise installs `wake` for Complete() to call.
    std::optional<Response> TakeOrArm(std::function<void()> wake) {
        std::lock_guard lock(mu_);
        if (response_) return std::exchange(response_, std::nullopt);
        wake_ = std::move(wake);
        return std::nullopt;
    }

    std::optional<Response> Take() {
        std::lock_guard lock(mu_);
        return std::exchange(response_, std::nullopt);
    }

    /// The connection stops waiting; returns an answer that raced in. Idempotent.
    std::optional<Response> Close(CloseReason reason) {
        std::function<void()> wake;
        std::lock_guard lock(mu_);
        if (!closed_) {
            closed_ = true;
            reason_ = reason;
        }
        wake = std::move(wake_);
        wake_ = nullptr;
        return std::exchange(response_, std::nullopt);
    }

private:
    std::mutex mu_;
    bool called_ = false;
    bool closed_ = false;
    CloseReason reason_ = CloseReason::kAnswered;
    std::optional<Response> response_;
    std::function<void()> wake_;
};

/// Closes the slot even when the coroutine frame is destroyed without resuming (io_context teardown).
struct SlotCloser {
    std::shared_ptr<ResponseSlot> slot;
    ~SlotCloser() { slot->Close(ResponseSlot::CloseReason::kConnectionGone); }
};

Request ToRequest(bhttp::request<bhttp::string_body>&& message, const ConnectionCore& c, TimePoint started,
                  bool secure) {
    Request request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    const std::size_t question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) request.query = request.target.substr(question + 1);
    std::size_t count = 0;
    for (auto it = message.begin(); it != message.end(); ++it) ++count;
    request.headers.reserve(count);
    for (const auto& field : message) {
        request.headers.push_back(Header{Lowered(field.name_string()), std::string(field.value())});
    }
    request.body = std::move(message.body());
    request.remote_address = c.remote_address;
    request.secure = secure;
    request.started = started;
    return request;
}

bool WantsClose(const Response& response) {
    for (const Header& header : response.headers) {
        if (beast::iequals(header.name, "connection") &&
            Lowered(header.value).find("close") != std::string::npos) {
            return true;
        }
    }
    return false;
}

}  // namespace

class Server::Impl {
public:
    Impl(ServerOptions options, Handler handler)
        : options_(std::move(options)), handler_(std::move(handler)) {}
    ~Impl() { Stop(std::chrono::milliseconds(5000)); }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    Status Start();
    void Stop(std::chrono::milliseconds drain);
    [[nodiscard]] std::uint16_t port() const { return port_.load(std::memory_order_relaxed); }
    [[nodiscard]] ServerStats Stats() const;

private:
    /// One admitted connection: holds its slot under max_connections until the session frame dies.
    class ActiveSlot {
    public:
        ActiveSlot(Impl* impl, std::uint64_t id) : impl_(impl), id_(id) {}
        ActiveSlot(ActiveSlot&& other) noexcept
            : impl_(std::exchange(other.impl_, nullptr)), id_(other.id_) {}
        ActiveSlot& operator=(ActiveSlot&&) = delete;
        ActiveSlot(const ActiveSlot&) = delete;
        ActiveSlot& operator=(const ActiveSlot&) = delete;
        ~ActiveSlot() {
            if (impl_ != nullptr) impl_->Release(id_);
        }

    private:
        Impl* impl_;
        std::uint64_t id_;
    };

    Status LoadTls();
    asio::awaitable<void> AcceptLoop();
    void Reject(Socket& socket);
    std::optional<ActiveSlot> Admit(const std::shared_ptr<ConnectionCore>& connection);
    void Release(std::uint64_t id);
    void SignalConnections(bool hard);
    bool WaitForNoConnections(std::chrono::milliseconds bound);

    template <class Stream>
    void Launch(Socket socket, std::string remote_address, TimePoint accepted_at);
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
    asio::awaitable<void> ReplyAndClose(Connection<Stream>& c, int status, std::string_view message);
    template <class Stream>
    asio::awaitable<void> CloseGracefully(Connection<Stream>& c, bool request_unfinished);

    ServerOptions options_;
    Handler handler_;

    std::atomic<std::uint64_t> accepted_{0};
    std::atomic<std::uint64_t> rejected_{0};
    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> timeouts_{0};
    std::atomic<std::uint64_t> limit_rejections_{0};
    std::atomic<std::uint64_t> handler_timeouts_{0};
    std::atomic<std::size_t> active_{0};
    std::atomic<std::uint16_t> port_{0};

    // Live connections, so Stop() can drain and then close them. Guarded by registry_mu_, as are
    // changes of active_ and stopping_ (so an accept racing Stop() cannot slip past it).
    std::mutex registry_mu_;
    std::condition_variable registry_cv_;
    std::unordered_map<std::uint64_t, std::weak_ptr<ConnectionCore>> registry_;
    std::uint64_t next_id_ = 1;
    bool stopping_ = false;

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

Status Server::Impl::LoadTls() {
    const TlsOptions& files = *options_.tls;
    // Checked up front: OpenSSL's own text for a missing file ("system lib") helps nobody.
    std::error_code fs_ec;
    if (!std::filesystem::is_regular_file(files.certificate_file, fs_ec)) {
        return Fail(ErrorCode::kConfig,
                    fmt::format("tls certificate {}: not a readable file", files.certificate_file));
    }
    if (!std::filesystem::is_regular_file(files.private_key_file, fs_ec)) {
        return Fail(ErrorCode::kConfig,
                    fmt::format("tls private key {}: not a readable file", files.private_key_file));
    }
    tls_.emplace(asio::ssl::context::tls_server);
    BoostError ec;
    tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                          asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                      ec);
    if (!ec) tls_->use_certificate_chain_file(files.certificate_file, ec);
    if (ec) {
        tls_.reset();
        return Fail(ErrorCode::kConfig,
                    fmt::format("tls certificate {}: {}", files.certificate_file, ec.message()));
    }
    tls_->use_private_key_file(files.private_key_file, asio::ssl::context::pem, ec);
    if (ec) {
        tls_.reset();
        return Fail(ErrorCode::kConfig,
                    fmt::format("tls private key {}: {}", files.private_key_file, ec.message()));
    }
    if (SSL_CTX_check_private_key(tls_->native_handle()) != 1) {
        tls_.reset();
        return Fail(ErrorCode::kConfig, fmt::format("tls private key {} does not match certificate {}",
                                                    files.private_key_file, files.certificate_file));
    }
    return Ok();
}

Status Server::Impl::Start() {
    std::lock_guard lifecycle(lifecycle_mu_);
    if (started_) return Fail(ErrorCode::kInternal, "http server: already started");
    if (stopped_) return Fail(ErrorCode::kInternal, "http server: stopped; create a new one");
    if (!handler_) return Fail(ErrorCode::kConfig, "http server: no handler");
    if (options_.threads < 1) return Fail(ErrorCode::kConfig, "http server: threads must be at least 1");
    if (options_.max_connections < 1) {
        return Fail(ErrorCode::kConfig, "http server: max_connections must be at least 1");
    }
    const std::string where = HostPort(options_.host, options_.port);
    if (options_.tls) {
        if (auto loaded = LoadTls(); !loaded) return loaded;
    }
    io_.emplace(options_.threads);
    auto fail = [&](ErrorCode code, std::string message) {
        acceptor_.reset();
        io_.reset();
        tls_.reset();
        return Fail(code, std::move(message));
    };

    BoostError ec;
    tcp::endpoint endpoint;
    const asio::ip::address address = asio::ip::make_address(options_.host, ec);
    if (!ec) {
        endpoint = tcp::endpoint(address, options_.port);
    } else {
        tcp::resolver resolver(*io_);
        const auto results = resolver.resolve(options_.host, std::to_string(options_.port), ec);
        if (ec || results.empty()) {
            return fail(ErrorCode::kConfig, fmt::format("{}: cannot resolve host: {}", where,
                                                        LowerFirst(ec ? ec.message() : "no address")));
        }
        endpoint = results.begin()->endpoint();
    }

    // The acceptor gets its own strand: Stop() closes it from another thread via a post.
    acceptor_.emplace(asio::make_strand(*io_));
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail(ErrorCode::kUnavailable, fmt::format("{}: {}", where, LowerFirst(ec.message())));
    port_.store(acceptor_->local_endpoint(ec).port(), std::memory_order_relaxed);

    asio::co_spawn(acceptor_->get_executor(), AcceptLoop(), asio::detached);
    threads_.reserve(static_cast<std::size_t>(options_.threads));
    for (int i = 0; i < options_.threads; ++i) {
        threads_.emplace_back([this] {
            // Handlers are wrapped where they are called; anything reaching here is our own bug.
            // Log it and keep the thread serving rather than silently losing an I/O thread.
            for (;;) {
                try {
                    io_->run();
                    return;
                } catch (const std::exception& e) {
                    log::Error(kComponent, "uncaught exception on an I/O thread", {{"error", e.what()}});
                }
            }
        });
    }
    started_ = true;
    log::Info(kComponent, "listening",
              {{"address", HostPort(options_.host, port())},
               {"tls", options_.tls.has_value()},
               {"threads", options_.threads}});
    return Ok();
}

void Server::Impl::Stop(std::chrono::milliseconds drain) {
    std::lock_guard lifecycle(lifecycle_mu_);
    if (!started_ || stopped_) return;
    stopped_ = true;
    log::Info(kComponent, "stopping", {{"port", port()}, {"active", active_.load()}});
    {
        std::lock_guard lock(registry_mu_);
        stopping_ = true;
    }
    asio::post(acceptor_->get_executor(), [this] {
        BoostError ec;
        acceptor_->close(ec);
    });
    SignalConnections(false);
    if (!WaitForNoConnections(drain)) {
        log::Warn(kComponent, "drain deadline passed; closing in-flight connections",
                  {{"active", active_.load()}, {"drain_ms", drain.count()}});
        SignalConnections(true);
        WaitForNoConnections(kHardCloseWait);
    }
    io_->stop();
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
    // Destroy what is left (a connection that did not unwind in time) while this object is whole: the
    // coroutine frames release their slots into registry_ on destruction.
    acceptor_.reset();
    io_.reset();
    log::Info(kComponent, "stopped", {{"port", port()}});
}

ServerStats Server::Impl::Stats() const {
    ServerStats stats;
    stats.connections_accepted = accepted_.load(std::memory_order_relaxed);
    stats.connections_rejected = rejected_.load(std::memory_order_relaxed);
    stats.requests = requests_.load(std::memory_order_relaxed);
    stats.timeouts = timeouts_.load(std::memory_order_relaxed);
    stats.limit_rejections = limit_rejections_.load(std::memory_order_relaxed);
    stats.handler_timeouts = handler_timeouts_.load(std::memory_order_relaxed);
    stats.active_connections = active_.load(std::memory_order_relaxed);
    return stats;
}

std::optional<Server::Impl::ActiveSlot> Server::Impl::Admit(
    const std::shared_ptr<ConnectionCore>& connection) {
    std::lock_guard lock(registry_mu_);
    if (stopping_ || active_.load(std::memory_order_relaxed) >= options_.max_connections) return std::nullopt;
    connection->id = next_id_++;
    registry_.emplace(connection->id, connection);
    active_.fetch_add(1, std::memory_order_relaxed);
    accepted_.fetch_add(1, std::memory_order_relaxed);
    return ActiveSlot(this, connection->id);
}

void Server::Impl::Release(std::uint64_t id) {
    std::lock_guard lock(registry_mu_);
    registry_.erase(id);
    active_.fetch_sub(1, std::memory_order_relaxed);
    registry_cv_.notify_all();
}

void Server::Impl::SignalConnections(bool hard) {
    std::vector<std::shared_ptr<ConnectionCore>> live;
    {
        std::lock_guard lock(registry_mu_);
        live.reserve(registry_.size());
        for (const auto& entry : registry_) {
            if (auto connection = entry.second.lock()) live.push_back(std::move(connection));
        }
    }
    for (auto& connection : live) {
        asio::post(connection->strand, [connection, hard] { connection->RequestClose(hard); });
    }
}

bool Server::Impl::WaitForNoConnections(std::chrono::milliseconds bound) {
    std::unique_lock lock(registry_mu_);
    return registry_cv_.wait_for(lock, bound,
                                 [this] { return active_.load(std::memory_order_relaxed) == 0; });
}

void Server::Impl::Reject(Socket& socket) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    BoostError ec;
    // Plain HTTP only (a TLS client cannot read a plaintext 503). One non-blocking write: a flood must
    // not be able to stall the accept loop, and a fresh socket's send buffer has room for these bytes.
    if (!tls_) {
        socket.non_blocking(true, ec);
        socket.write_some(asio::buffer(kOverCapacity.data(), kOverCapacity.size()), ec);
    }
    socket.shutdown(tcp::socket::shutdown_send, ec);
    socket.close(ec);
    log::Debug(kComponent, "connection rejected (max_connections reached or stopping)",
               {{"max_connections", options_.max_connections}});
}

asio::awaitable<void> Server::Impl::AcceptLoop() {
    for (;;) {
        auto [ec, socket] = co_await acceptor_->async_accept(asio::make_strand(*io_), kAwait);
        if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
        if (ec) {
            log::Warn(kComponent, "accept failed", {{"error", ec.message()}});
            asio::steady_timer pause(acceptor_->get_executor(), kAcceptErrorPause);
            co_await pause.async_wait(kAwait);
            continue;
        }
        // Over the cap: answer before building anything for the connection (Admit re-checks under
        // its lock; this is the cheap path a flood takes).
        if (active_.load(std::memory_order_relaxed) >= options_.max_connections) {
            Reject(socket);
            continue;
        }
        // Whatever goes wrong with one connection (SSL_new failing, bad_alloc) must not end the accept
        // loop: the server would silently stop accepting.
        try {
            const TimePoint accepted_at = SteadyClock::now();
            BoostError option_ec;
            socket.set_option(tcp::no_delay(true), option_ec);
            std::string remote = socket.remote_endpoint(option_ec).address().to_string();
            if (tls_) {
                Launch<TlsStream>(std::move(socket), std::move(remote), accepted_at);
            } else {
                Launch<Socket>(std::move(socket), std::move(remote), accepted_at);
            }
        } catch (const std::exception& e) {
            log::Error(kComponent, "could not start a connection", {{"error", e.what()}});
        }
    }
}

template <class Stream>
void Server::Impl::Launch(Socket socket, std::string remote_address, TimePoint accepted_at) {
    const Strand strand = socket.get_executor();
    std::shared_ptr<Connection<Stream>> connection;
    if constexpr (std::is_same_v<Stream, TlsStream>) {
        connection = std::make_shared<Connection<TlsStream>>(strand, std::move(socket), *tls_);
    } else {
        connection = std::make_shared<Connection<Socket>>(strand, std::move(socket));
    }
    connection->remote_address = std::move(remote_address);
    std::optional<ActiveSlot> slot = Admit(connection);
    if (!slot) {
        Reject(beast::get_lowest_layer(connection->stream));
        return;
    }
    asio::co_spawn(strand, Session(std::move(connection), std::move(*slot), accepted_at), asio::detached);
}

template <class Stream>
asio::awaitable<void> Server::Impl::Session(std::shared_ptr<Connection<Stream>> c, ActiveSlot slot,
                                            TimePoint accepted_at) {
    static_cast<void>(slot);  // held for the frame's lifetime: the connection's place under the cap
    asio::co_spawn(c->strand, Watchdog(c), asio::detached);
    try {
        co_await Serve(*c, accepted_at);
    } catch (const std::exception& e) {
        log::Error(kComponent, "connection failed", {{"peer", c->remote_address}, {"error", e.what()}});
    }
    c->finished = true;
    c->watchdog.cancel();
    c->wake.cancel();
    BoostError ec;
    c->socket->close(ec);
}

template <class Stream>
asio::awaitable<void> Server::Impl::Serve(Connection<Stream>& c, TimePoint accepted_at) {
    constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
    if constexpr (kTls) {
        c.SetDeadline(accepted_at + options_.header_timeout);
        auto [ec] = co_await c.stream.async_handshake(asio::ssl::stream_base::server, kAwait);
        if (ec) {
            if (c.timed_out) timeouts_.fetch_add(1, std::memory_order_relaxed);
            log::Debug(kComponent, "tls handshake failed",
                       {{"peer", c.remote_address}, {"error", ec.message()}});
            co_return;
        }
    }
    const auto header_limit = static_cast<std::uint32_t>(
        std::min<std::size_t>(options_.header_limit, std::numeric_limits<std::uint32_t>::max()));
    beast::flat_buffer buffer;
    bool first = true;
    TimePoint buffered_at{};  // when bytes already in `buffer` (pipelined requests) had arrived
    while (!c.draining) {
        c.busy = false;
        // Wait for the first byte of the next request. On a fresh connection that is part of the header
        // deadline (a half-open socket must not hold its slot); on a kept-alive one the idle timeout.
        TimePoint started;
        if (buffer.size() == 0) {
            if (buffer.capacity() > kIdleBufferKeep) buffer.shrink_to_fit();
            c.SetDeadline(first ? accepted_at + options_.header_timeout
                                : SteadyClock::now() + options_.idle_timeout);
            auto [ec, n] = co_await c.stream.async_read_some(buffer.prepare(kReadChunk), kAwait);
            if (ec) {
                if (c.timed_out && first) timeouts_.fetch_add(1, std::memory_order_relaxed);
                co_return;  // nothing of a request arrived: close without an answer
            }
            buffer.commit(n);
            started = SteadyClock::now();
        } else {
            started = buffered_at;
        }

        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(header_limit);
        // Also checked against Content-Length as soon as the header is parsed: 413 without the body.
        parser.body_limit(static_cast<std::uint64_t>(options_.body_limit));
        c.SetDeadline((first ? accepted_at : started) + options_.header_timeout);
        if (auto [ec, n] = co_await bhttp::async_read_header(c.stream, buffer, parser, kAwait); ec) {
            co_await RejectRequest(c, ec);
            co_return;
        }

        c.busy = true;  // from here on Stop() lets the request finish (up to its drain deadline)
        if (!parser.is_done()) {
            if (buffer.size() == 0 && parser.get().version() >= 11 &&
                beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
                c.SetDeadline(SteadyClock::now() + options_.write_timeout);
                auto [ec, n] = co_await asio::async_write(
                    c.stream, asio::buffer(kContinue.data(), kContinue.size()), kAwait);
                if (ec) {
                    if (c.timed_out) timeouts_.fetch_add(1, std::memory_order_relaxed);
                    co_return;
                }
            }
            c.SetDeadline(SteadyClock::now() + options_.body_timeout);
            if (auto [ec, n] = co_await bhttp::async_read(c.stream, buffer, parser, kAwait); ec) {
                co_await RejectRequest(c, ec);
                co_return;
            }
        }
        buffered_at = SteadyClock::now();
        c.ClearDeadline();

        const bool head = parser.get().method() == bhttp::verb::head;
        bool keep_alive = parser.get().keep_alive();
        std::optional<Response> response =
            co_await Dispatch(c, ToRequest(parser.release(), c, started, kTls));
        if (!response) co_return;  // hard close during Stop()
        if (response->abort_connection) {
            BoostError ec;
            c.socket->close(ec);  // no answer at all: the peer sees the connection drop
            co_return;
        }
        keep_alive = keep_alive && !c.draining && !WantsClose(*response);
        if (!co_await Write(c, *response, head, keep_alive)) co_return;
        if (!keep_alive) {
            co_await CloseGracefully(c, false);
            co_return;
        }
        first = false;
    }
}

template <class Stream>
asio::awaitable<void> Server::Impl::RejectRequest(Connection<Stream>& c, BoostError ec) {
    if (c.timed_out) {
        timeouts_.fetch_add(1, std::memory_order_relaxed);
        log::Debug(kComponent, "request deadline passed", {{"peer", c.remote_address}});
        co_await ReplyAndClose(c, 408, "request timeout");
    } else if (ec == bhttp::error::header_limit) {
        limit_rejections_.fetch_add(1, std::memory_order_relaxed);
        co_await ReplyAndClose(c, 431, "request header fields too large");
    } else if (ec == bhttp::error::body_limit) {
        limit_rejections_.fetch_add(1, std::memory_order_relaxed);
        co_await ReplyAndClose(c, 413, "payload too large");
    } else if (!IsDisconnect(ec) && !c.draining) {
        log::Debug(kComponent, "malformed request", {{"peer", c.remote_address}, {"error", ec.message()}});
        co_await ReplyAndClose(c, 400, "bad request");
    }
}

template <class Stream>
asio::awaitable<std::optional<Response>> Server::Impl::Dispatch(Connection<Stream>& c, Request request) {
    requests_.fetch_add(1, std::memory_order_relaxed);
    std::string path = request.path;  // for log lines only: never the query, headers or body
    auto slot = std::make_shared<ResponseSlot>();
    SlotCloser closer{slot};
    try {
        handler_(std::move(request), [slot](Response response) { slot->Complete(std::move(response)); });
    } catch (const std::exception& e) {
        log::Error(kComponent, "handler threw", {{"path", path}, {"error", e.what()}});
        slot->CompleteIfUnanswered(Response::JsonError(500, "internal error"));
    } catch (...) {
        log::Error(kComponent, "handler threw a non-standard exception", {{"path", path}});
        slot->CompleteIfUnanswered(Response::JsonError(500, "internal error"));
    }

    // Usually the handler has answered synchronously and this returns at once. Otherwise the
    // Responder posts a wake-up to this strand; the loop also tolerates a stale wake-up that was meant
    // for an earlier request on this connection.
    std::weak_ptr<ConnectionCore> weak = c.weak_from_this();
    std::optional<Response> response = slot->TakeOrArm([strand = c.strand, weak] {
        asio::post(strand, [weak] {
            if (auto core = weak.lock()) core->wake.cancel();
        });
    });
    const TimePoint deadline = SteadyClock::now() + options_.handler_timeout;
    while (!response && !c.hard_closed && SteadyClock::now() < deadline) {
        c.wake.expires_at(deadline);
        co_await c.wake.async_wait(kAwait);
        response = slot->Take();
    }
    std::optional<Response> raced = slot->Close(c.hard_closed ? ResponseSlot::CloseReason::kConnectionGone
                                                              : ResponseSlot::CloseReason::kTimedOut);
    if (!response) response = std::move(raced);
    if (c.hard_closed) co_return std::nullopt;
    if (!response) {
        handler_timeouts_.fetch_add(1, std::memory_order_relaxed);
        log::Warn(kComponent, "handler did not respond within handler_timeout; answered 503",
                  {{"path", path}, {"handler_timeout_ms", options_.handler_timeout.count()}});
        co_return Response::JsonError(503, "temporarily unavailable");
    }
    co_return response;
}

template <class Stream>
asio::awaitable<bool> Server::Impl::Write(Connection<Stream>& c, Response& response, bool head,
                                          bool keep_alive) {
    if (response.status < 200 || response.status > 599) {
        log::Error(kComponent, "handler answered an invalid status; sent 500", {{"status", response.status}});
        response = Response::JsonError(500, "internal error");
    }
    bhttp::response<bhttp::string_body> message;
    message.version(11);
    message.result(static_cast<unsigned>(response.status));
    message.set(bhttp::field::date, CurrentHttpDate());
    message.set(bhttp::field::server, "spacehook");
    if (!response.content_type.empty()) message.set(bhttp::field::content_type, response.content_type);
    for (const Header& header : response.headers) {
        if (!IsSafeHeader(header)) {
            log::Warn(kComponent, "dropped a response header with invalid characters");
            continue;
        }
        // Framing is ours alone.
        if (beast::iequals(header.name, "content-length") ||
            beast::iequals(header.name, "transfer-encoding") || beast::iequals(header.name, "connection")) {
            continue;
        }
        if (beast::iequals(header.name, "date") || beast::iequals(header.name, "server")) {
            message.set(header.name, header.value);
        } else {
            message.insert(header.name, header.value);
        }
    }
    message.set(bhttp::field::connection, keep_alive ? "keep-alive" : "close");
    const bool bodiless = response.status == 204 || response.status == 304;
    if (!bodiless) message.content_length(response.body.size());
    // HEAD: the Content-Length of the GET answer, no body bytes.
    const bool header_only = head || bodiless;
    if (!header_only) message.body() = std::move(response.body);

    c.SetDeadline(SteadyClock::now() + options_.write_timeout);
    bhttp::response_serializer<bhttp::string_body> serializer{message};
    BoostError ec;
    if (header_only) {
        std::tie(ec, std::ignore) = co_await bhttp::async_write_header(c.stream, serializer, kAwait);
    } else {
        std::tie(ec, std::ignore) = co_await bhttp::async_write(c.stream, serializer, kAwait);
    }
    c.ClearDeadline();
    if (ec) {
        if (c.timed_out) {
            timeouts_.fetch_add(1, std::memory_order_relaxed);
            log::Debug(kComponent, "client did not read its response within write_timeout; dropped",
                       {{"peer", c.remote_address}});
        }
        co_return false;
    }
    co_return true;
}

template <class Stream>
asio::awaitable<void> Server::Impl::ReplyAndClose(Connection<Stream>& c, int status,
                                                  std::string_view message) {
    Response response = Response::JsonError(status, message);
    if (co_await Write(c, response, false, false)) co_await CloseGracefully(c, true);
}

// `request_unfinished`: we answered before reading the whole request (413, 408, 431, 400), so the
// client may well still be sending.
template <class Stream>
asio::awaitable<void> Server::Impl::CloseGracefully(Connection<Stream>& c, bool request_unfinished) {
    if (c.hard_closed) co_return;
    c.SetDeadline(SteadyClock::now() + kLingerTime);
    if constexpr (std::is_same_v<Stream, TlsStream>) {
        static_cast<void>(request_unfinished);
        co_await c.stream.async_shutdown(kAwait);
    } else {
        BoostError ec;
        c.stream.shutdown(tcp::socket::shutdown_send, ec);
        const bool unread = !ec && (request_unfinished || c.stream.available(ec) > 0);
        if (unread) {
            // Lingering close, as nginx does: closing with unread input (the body we refused, the rest
            // of a slow header) makes the kernel answer with RST, which can destroy our last response in
            // the client's receive buffer before it reads it. Read and discard for a bounded while first.
            std::array<char, 4096> sink;
            std::size_t drained = 0;
            while (drained < kLingerBytes) {
                auto [read_ec, n] = co_await c.stream.async_read_some(asio::buffer(sink), kAwait);
                if (read_ec) break;
                drained += n;
            }
        }
    }
    c.ClearDeadline();
}

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() = default;

Status Server::Start() {
    return impl_->Start();
}

std::uint16_t Server::port() const {
    return impl_->port();
}

void Server::Stop(std::chrono::milliseconds drain) {
    impl_->Stop(drain);
}

ServerStats Server::Stats() const {
    return impl_->Stats();
}

}  // namespace spacehook::http
