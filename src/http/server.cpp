// Listening, admission and stopping; one connection's requests are in server_session.cpp. Both include
// Boost.Beast/Asio (through server_impl.hpp), nothing else in src/http does. Measured before the split:
// ~16 s CPU and ~1 GB RSS at -O0 -g for the one translation unit, ~24 s at -O2; parsing is only a fifth of
// that (the rest is coroutine/Beast template code for the two stream types), which is why a PCH or
// BOOST_ASIO/BEAST_SEPARATE_COMPILATION saved under 2 s per build and were left out.
#include <openssl/ssl.h>
#include <sys/resource.h>

#include <filesystem>

#include "http/server_impl.hpp"

namespace spacehook::http {
namespace {

// Stop(): after the drain deadline, how long closed connections get to unwind before the threads go.
constexpr std::chrono::milliseconds kHardCloseWait{2000};
// accept() failing (EMFILE, ENFILE, ENOBUFS) tends to persist for a while: pause instead of spinning.
constexpr std::chrono::milliseconds kAcceptErrorPause{50};
// After closing a connection to free a descriptor: long enough for its strand to run the close.
constexpr std::chrono::milliseconds kEvictionPause{2};

constexpr std::string_view kOverCapacity =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Server: spacehook\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 35\r\n"
    "Retry-After: 1\r\n"
    "Connection: close\r\n"
    "\r\n"
    R"({"error":"temporarily unavailable"})";

// "address already in use" reads better after "127.0.0.1:3000: " than strerror's capital letter.
std::string LowerFirst(std::string text) {
    if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] - 'A' + 'a');
    return text;
}

std::string HostPort(const std::string& host, std::uint16_t port) {
    return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                               : fmt::format("{}:{}", host, port);
}

}  // namespace

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
    if (options_.body_memory_limit < options_.body_limit) {
        return Fail(ErrorCode::kConfig,
                    fmt::format("http server: body_memory_limit ({} bytes) is below body_limit ({} bytes): "
                                "a body at the limit could never be read",
                                options_.body_memory_limit, options_.body_limit));
    }
    RaiseDescriptorLimit();
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

void Server::Impl::RaiseDescriptorLimit() const {
    // Every connection is a descriptor, and Debian starts services with a soft limit of 1024: below
    // max_connections plus what the store, the clients and the logs hold, the cap could never be reached
    // and accept() would fail instead (EMFILE). Up to the hard limit is ours to take, as Go does for every
    // program; nothing in this process uses select(), which would break past 1024.
    constexpr rlim_t kOtherDescriptors = 256;
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    const rlim_t wanted = static_cast<rlim_t>(options_.max_connections) + kOtherDescriptors;
    if (limit.rlim_cur >= wanted) return;
    const rlim_t before = limit.rlim_cur;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = before;
    }
    if (limit.rlim_cur > before) {
        log::Info(kComponent, "raised the open-file limit for max_connections",
                  {{"from", static_cast<std::uint64_t>(before)},
                   {"to", static_cast<std::uint64_t>(limit.rlim_cur)}});
    }
    if (limit.rlim_cur < wanted) {
        log::Warn(
            kComponent,
            "the open-file limit is below max_connections plus a reserve; when descriptors run out, idle "
            "connections are closed for new ones (raise LimitNOFILE to reach the cap)",
            {{"open_file_limit", static_cast<std::uint64_t>(limit.rlim_cur)},
             {"max_connections", options_.max_connections}});
    }
}

void Server::Impl::Stop(std::chrono::milliseconds drain) {
    std::lock_guard lifecycle(lifecycle_mu_);
    if (!started_ || stopped_) return;
    stopped_ = true;
    log::Info(kComponent, "stopping", {{"port", port()}, {"active", table_.size()}});
    table_.StopAdmitting();
    asio::post(acceptor_->get_executor(), [this] {
        BoostError ec;
        acceptor_->close(ec);
    });
    table_.CloseAll(CloseRequest::kDrain);
    if (!table_.WaitUntilEmpty(drain)) {
        log::Warn(kComponent, "drain deadline passed; closing in-flight connections",
                  {{"active", table_.size()}, {"drain_ms", drain.count()}});
        table_.CloseAll(CloseRequest::kHardClose);
        table_.WaitUntilEmpty(kHardCloseWait);
    }
    io_->stop();
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
    // Destroy what is left (a connection that did not unwind in time) while this object is whole: the
    // coroutine frames release their places in table_ on destruction.
    acceptor_.reset();
    io_.reset();
    log::Info(kComponent, "stopped", {{"port", port()}});
}

ServerStats Server::Impl::Stats() const {
    const ConnectionTableCounts counts = table_.counts();
    ServerStats stats;
    stats.connections_accepted = counts.admitted;
    stats.connections_rejected = counts.refused_full + counts.refused_per_peer;
    stats.connections_rejected_per_peer = counts.refused_per_peer;
    stats.connections_evicted_idle = counts.evicted_idle;
    stats.connections_evicted_slow = counts.evicted_slow;
    stats.requests = requests_.load(std::memory_order_relaxed);
    stats.timeouts = timeouts_.load(std::memory_order_relaxed);
    stats.limit_rejections = limit_rejections_.load(std::memory_order_relaxed);
    stats.handler_timeouts = handler_timeouts_.load(std::memory_order_relaxed);
    stats.body_memory_rejections = body_memory_rejections_.load(std::memory_order_relaxed);
    stats.active_connections = table_.size();
    stats.body_memory_in_use = body_budget_.used();
    return stats;
}

void Server::Impl::Reject(Socket& socket, ConnectionTable::Refusal refusal) {
    BoostError ec;
    // Plain HTTP only (a TLS client cannot read a plaintext 503). One non-blocking write: a flood must
    // not be able to stall the accept loop, and a fresh socket's send buffer has room for these bytes.
    if (!tls_) {
        socket.non_blocking(true, ec);
        socket.write_some(asio::buffer(kOverCapacity.data(), kOverCapacity.size()), ec);
    }
    socket.shutdown(tcp::socket::shutdown_send, ec);
    socket.close(ec);
    log::Debug(kComponent,
               refusal == ConnectionTable::Refusal::kPeerFull
                   ? "connection rejected (max_connections_per_peer)"
               : refusal == ConnectionTable::Refusal::kStopping
                   ? "connection rejected (stopping)"
                   : "connection rejected (max_connections, nothing idle or slow to close)",
               {{"max_connections", options_.max_connections}});
}

asio::awaitable<void> Server::Impl::AcceptLoop() {
    for (;;) {
        auto [ec, socket] = co_await acceptor_->async_accept(asio::make_strand(*io_), kAwait);
        if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
        if (ec) {
            // Out of descriptors: the same remedy as at the cap (close the longest idle connection, else
            // the slowest), then try again at once, instead of leaving deliveries in the backlog.
            const bool out_of_descriptors = ec == boost::system::errc::too_many_files_open ||
                                            ec == boost::system::errc::too_many_files_open_in_system;
            const bool evicted = out_of_descriptors && table_.EvictOne(SteadyClock::now());
            if (!evicted) log::Warn(kComponent, "accept failed", {{"error", ec.message()}});
            asio::steady_timer pause(acceptor_->get_executor(), evicted ? kEvictionPause : kAcceptErrorPause);
            co_await pause.async_wait(kAwait);
            continue;
        }
        // Whatever goes wrong with one connection (SSL_new failing, bad_alloc) must not end the accept
        // loop: the server would silently stop accepting.
        try {
            const TimePoint accepted_at = SteadyClock::now();
            BoostError option_ec;
            std::string remote = socket.remote_endpoint(option_ec).address().to_string();
            // Admitted (or refused) before anything is built for the connection: the cheap path of a flood.
            const ConnectionTable::Admission admission = table_.Admit(remote, accepted_at);
            if (!admission) {
                Reject(socket, admission.refusal);
                continue;
            }
            ActiveSlot slot(&table_, admission.id);
            socket.set_option(tcp::no_delay(true), option_ec);
            if (tls_) {
                Launch<TlsStream>(std::move(socket), std::move(remote), accepted_at, std::move(slot));
            } else {
                Launch<Socket>(std::move(socket), std::move(remote), accepted_at, std::move(slot));
            }
        } catch (const std::exception& e) {
            log::Error(kComponent, "could not start a connection", {{"error", e.what()}});
        }
    }
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
