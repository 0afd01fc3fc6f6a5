#include "store/pg_listener.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <exception>

#include "core/log.hpp"

namespace spacehook::store::pg {

namespace {
using std::chrono::milliseconds;

constexpr milliseconds kFirstBackoff{100};
constexpr milliseconds kMaxBackoff{5000};
/// An idle session sends a probe this often: a server that vanished without closing the socket (a
/// failover, a dropped NAT mapping) is noticed within this plus the probe's round trip.
constexpr milliseconds kProbeInterval{10000};
}  // namespace

Status Notify(Connection& db, const std::string& channel, const std::string& payload) {
    auto notified = db.Query("SELECT pg_notify($1, $2)", Params::Of(channel, payload));
    if (!notified) return Fail(notified.error());
    return Ok();
}

Listener::Listener(Connector connect, std::string channel, std::string own_payload,
                   std::function<void()> on_notify)
    : connect_(std::move(connect)),
      channel_(std::move(channel)),
      own_payload_(std::move(own_payload)),
      on_notify_(std::move(on_notify)) {
    stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    thread_ = std::thread([this] { Loop(); });
}

Listener::~Listener() {
    Close();
    if (stop_fd_ >= 0) ::close(stop_fd_);
}

void Listener::Close() {
    if (stopping_.exchange(true)) {
        if (thread_.joinable() && std::this_thread::get_id() != thread_.get_id()) thread_.join();
        return;
    }
    const std::uint64_t one = 1;
    if (stop_fd_ >= 0) (void)!::write(stop_fd_, &one, sizeof one);
    cv_.notify_all();
    if (thread_.joinable() && std::this_thread::get_id() != thread_.get_id()) thread_.join();
}

Status Listener::WaitListening(milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, timeout, [&] { return listening_.load() || stopping_.load(); }) &&
        listening_.load()) {
        return Ok();
    }
    return Fail(ErrorCode::kUnavailable,
                fmt::format("could not LISTEN for other replicas' work within {} ms", timeout.count()));
}

bool Listener::SleepUnlessStopped(milliseconds duration) {
    pollfd stop{stop_fd_, POLLIN, 0};
    (void)::poll(&stop, 1, static_cast<int>(duration.count()));
    return !stopping_.load();
}

void Listener::Loop() {
    milliseconds backoff = kFirstBackoff;
    bool ever_listened = false;
    bool reported_down = false;
    std::unique_ptr<Connection> db;
    auto notify = [this] {
        try {
            on_notify_();
        } catch (const std::exception& e) {
            log::Error("store", "wake-up callback threw", {{"error", e.what()}});
        }
    };

    while (!stopping_.load()) {
        if (!db) {
            auto connected = connect_();
            Status listened =
                connected ? (*connected)->Exec("LISTEN " + channel_) : Status(Fail(connected.error()));
            if (!listened) {
                if (!reported_down) {
                    reported_down = true;
                    log::Warn("store", "cannot LISTEN for other replicas' work; retrying",
                              {{"error", listened.error().message}});
                }
                if (!SleepUnlessStopped(backoff)) break;
                backoff = std::min(backoff * 2, kMaxBackoff);
                continue;
            }
            db = std::move(*connected);
            backoff = kFirstBackoff;
            backend_pid_.store(db->BackendPid());
            {
                std::lock_guard lock(mu_);
                listening_.store(true);
            }
            cv_.notify_all();
            if (ever_listened) {
                reconnects_.fetch_add(1);
                log::Info("store", "listening for other replicas' work again");
                // What other replicas announced while we were away is lost: look for it now.
                notify();
            }
            ever_listened = true;
            reported_down = false;
        }

        pollfd fds[2] = {{db->Socket(), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        const int ready = ::poll(fds, 2, static_cast<int>(kProbeInterval.count()));
        if (stopping_.load()) break;
        if (ready < 0 && errno == EINTR) continue;

        Status alive = Ok();
        if (ready == 0) {
            alive = db->Exec("SELECT 1");  // idle: prove the session still works
        } else if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
            alive = db->ConsumeInput();
        }
        bool wake = false;
        if (alive) {
            while (auto n = db->NextNotification()) {
                if (n->payload != own_payload_) wake = true;
            }
        }
        if (wake) notify();
        if (!alive || db->broken()) {
            listening_.store(false);
            backend_pid_.store(0);
            db.reset();
            log::Warn("store", "lost the LISTEN session; reconnecting",
                      {{"error", alive ? "connection broken" : alive.error().message}});
            reported_down = true;
        }
    }
    listening_.store(false);
    backend_pid_.store(0);
}

}  // namespace spacehook::store::pg
