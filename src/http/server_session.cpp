// One connection's life: TLS handshake, requests read within their deadlines and the body budget, handed to
// the handler, answered in order, kept alive or closed.
#include "core/text.hpp"
#include "http/response_head.hpp"
#include "http/response_slot.hpp"
#include "http/server_impl.hpp"

namespace spacehook::http {
namespace {

// First read of a request; a typical webhook header block arrives in one read.
constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
// Idle keep-alive connections give back a buffer that grew for a large body.
constexpr std::size_t kIdleBufferKeep = std::size_t{64} * 1024;
// Lingering close bounds: enough for a client to read our last answer, too little to pin a slot.
constexpr std::chrono::milliseconds kLingerTime{1000};
constexpr std::size_t kLingerBytes = std::size_t{1024} * 1024;
// What a chunked body (no Content-Length to reserve by) takes from the body budget before its first byte.
constexpr std::size_t kChunkedReserve = std::size_t{16} * 1024;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// The peer went away or we cancelled the socket: nothing to answer.
bool IsDisconnect(const BoostError& ec) {
    return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
           ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor ||
           ec == asio::ssl::error::stream_truncated;
}

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
        request.headers.push_back(Header{ToLower(field.name_string()), std::string(field.value())});
    }
    request.body = std::move(message.body());
    request.remote_address = c.remote_address;
    request.secure = secure;
    request.started = started;
    return request;
}

}  // namespace

void Server::Impl::EnterPhase(ConnectionCore& c, ConnectionPhase phase) {
    c.phase = phase;
    table_.SetPhase(c.id, phase, SteadyClock::now());
}

template <class Stream>
void Server::Impl::Launch(Socket socket, std::string remote_address, TimePoint accepted_at, ActiveSlot slot) {
    const Strand strand = socket.get_executor();
    std::shared_ptr<Connection<Stream>> connection;
    if constexpr (std::is_same_v<Stream, TlsStream>) {
        connection = std::make_shared<Connection<TlsStream>>(strand, std::move(socket), *tls_);
    } else {
        connection = std::make_shared<Connection<Socket>>(strand, std::move(socket));
    }
    connection->remote_address = std::move(remote_address);
    connection->id = slot.id();
    if (!table_.Attach(slot.id(), connection)) {
        Reject(beast::get_lowest_layer(connection->stream), ConnectionTable::Refusal::kStopping);
        return;
    }
    asio::co_spawn(strand, Session(std::move(connection), std::move(slot), accepted_at), asio::detached);
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
        // Under pressure an idle connection gets less time: one slot less for a newcomer to take back.
        TimePoint started;
        if (buffer.size() == 0) {
            if (buffer.capacity() > kIdleBufferKeep) buffer.shrink_to_fit();
            if (first) {
                c.SetDeadline(accepted_at + options_.header_timeout);
            } else {
                EnterPhase(c, ConnectionPhase::kIdle);
                const auto idle = table_.UnderPressure()
                                      ? std::min(options_.idle_timeout, options_.pressure_idle_timeout)
                                      : options_.idle_timeout;
                c.SetDeadline(SteadyClock::now() + idle);
            }
            auto [ec, n] = co_await c.stream.async_read_some(buffer.prepare(kReadChunk), kAwait);
            if (ec) {
                if (c.timed_out && first) timeouts_.fetch_add(1, std::memory_order_relaxed);
                co_return;  // nothing of a request arrived: close without an answer
            }
            buffer.commit(n);
            started = SteadyClock::now();
            if (!first) EnterPhase(c, ConnectionPhase::kReading);
        } else {
            started = buffered_at;
            EnterPhase(c, ConnectionPhase::kReading);
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
        BodyReservation reservation(body_budget_);
        if (!parser.is_done() && !co_await ReadBody(c, buffer, parser, reservation)) co_return;
        buffered_at = SteadyClock::now();
        c.ClearDeadline();
        EnterPhase(c, ConnectionPhase::kBusy);

        const bool head = parser.get().method() == bhttp::verb::head;
        bool keep_alive = parser.get().keep_alive();
        std::optional<Response> response =
            co_await Dispatch(c, ToRequest(parser.release(), c, started, kTls));
        reservation.Release();     // the handler has taken the body where it goes
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

// The body, within the body budget: a Content-Length is reserved whole before anything is read (and before
// 100 Continue invites it); a chunked body reserves what its buffer grows to as it arrives. False when the
// request was answered (503 over the budget, 408, 413, 400) or the connection is gone.
template <class Stream>
asio::awaitable<bool> Server::Impl::ReadBody(Connection<Stream>& c, beast::flat_buffer& buffer,
                                             bhttp::request_parser<bhttp::string_body>& parser,
                                             BodyReservation& reservation) {
    const auto length = parser.content_length();  // boost::optional
    if (!reservation.GrowTo(length ? static_cast<std::size_t>(*length) : kChunkedReserve)) {
        // Counted (spacehook_http_body_memory_rejections), not logged at info: the peer chooses how often.
        body_memory_rejections_.fetch_add(1, std::memory_order_relaxed);
        log::Debug(kComponent, "body refused: server.body_memory_limit in use", {{"peer", c.remote_address}});
        co_await ReplyAndClose(c, 503, "temporarily unavailable");
        co_return false;
    }
    if (buffer.size() == 0 && parser.get().version() >= 11 &&
        beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
        c.SetDeadline(SteadyClock::now() + options_.write_timeout);
        auto [ec, n] =
            co_await asio::async_write(c.stream, asio::buffer(kContinue.data(), kContinue.size()), kAwait);
        if (ec) {
            if (c.timed_out) timeouts_.fetch_add(1, std::memory_order_relaxed);
            co_return false;
        }
    }
    c.SetDeadline(SteadyClock::now() + options_.body_timeout);
    while (!parser.is_done()) {
        if (auto [ec, n] = co_await bhttp::async_read_some(c.stream, buffer, parser, kAwait); ec) {
            co_await RejectRequest(c, ec);
            co_return false;
        }
        if (!length && !reservation.GrowTo(parser.get().body().capacity())) {
            body_memory_rejections_.fetch_add(1, std::memory_order_relaxed);
            co_await ReplyAndClose(c, 503, "temporarily unavailable");
            co_return false;
        }
    }
    co_return true;
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
    if (status == 503) response.headers.push_back({"Retry-After", "1"});
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

// Launch is called from the accept loop in server.cpp, for both kinds of stream.
template void Server::Impl::Launch<Socket>(Socket socket, std::string remote_address, TimePoint accepted_at,
                                           ActiveSlot slot);
template void Server::Impl::Launch<TlsStream>(Socket socket, std::string remote_address,
                                              TimePoint accepted_at, ActiveSlot slot);

}  // namespace spacehook::http
