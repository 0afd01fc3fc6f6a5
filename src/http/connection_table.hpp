#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace spacehook::http {

using SteadyTime = std::chrono::steady_clock::time_point;

/// The peer a connection counts against for the per-peer cap: an IPv4 address (an IPv4-mapped IPv6
/// address is its IPv4 address), or the /64 of an IPv6 address, because one IPv6 host normally has a
/// whole /64 to pick source addresses from. Text that is not an address is its own key.
std::string PeerKey(std::string_view address);

/// What a live connection is doing, as far as making room at the cap is concerned.
enum class ConnectionPhase {
    kReading,  ///< waiting for or reading a request: a fresh connection, a TLS handshake, a header, a body
    kBusy,     ///< its request is with the handler, or the answer is being written
    kIdle,     ///< kept alive between requests
};

/// Why the table asks a connection to close.
enum class CloseRequest {
    kEvictIdle,  ///< idle keep-alive connection, closed to admit a new one
    kEvictSlow,  ///< request still not read after ConnectionLimits::slow_request, closed to admit a new one
    kDrain,      ///< the server stops: close once the request in flight is answered
    kHardClose,  ///< the server stops and its drain deadline passed
};

/// The server's side of a tracked connection.
class TrackedConnection {
public:
    virtual ~TrackedConnection() = default;
    /// Called from any thread, never under the table's lock; it only schedules the close on the
    /// connection's own executor. An evicted connection whose request is already with its handler
    /// answers it first (nothing acknowledged is cut off).
    virtual void Close(CloseRequest request) = 0;
};

struct ConnectionLimits {
    std::size_t max_connections = 1024;
    std::size_t max_per_peer = 256;           ///< 0: no per-peer cap
    std::vector<std::string> uncapped_peers;  ///< addresses not held to max_per_peer (a reverse proxy)
    /// At the cap, a connection that has spent this long on one request without finishing reading it
    /// (slowloris: a trickled header or body, or a socket that never sends) may be closed for a newcomer.
    std::chrono::milliseconds slow_request{2000};
};

/// Counters of what the table refused and closed; all since start.
struct ConnectionTableCounts {
    std::uint64_t admitted = 0;
    std::uint64_t refused_full = 0;      ///< at max_connections with nothing to close for the newcomer
    std::uint64_t refused_per_peer = 0;  ///< the peer at max_per_peer with no idle connection of its own
    std::uint64_t evicted_idle = 0;
    std::uint64_t evicted_slow = 0;
};

/// Which connections a server holds, and whom it lets in when it is full. Plain C++ (no Asio), so the
/// policy is tested without sockets; thread-safe.
///
/// The policy, as nginx does for keep-alive connections and then some: a newcomer at the cap closes the
/// connection that has been idle longest; with none idle, the one that has spent longest on an unread
/// request if that is longer than `slow_request`; otherwise it is refused (the server answers 503). That
/// is for a newcomer whose peer holds less than a fair share of the cap (max_connections divided by the
/// peers connected); a peer with its share or more, and a peer at its own cap (max_per_peer), may only
/// replace its own idle connections. So idle keep-alive connections, however many, cannot lock deliveries
/// out; slow ones hold a place for `slow_request` at most once the server is full; and a few peers that
/// fill the server cannot take back, by re-opening, the places freed for others.
class ConnectionTable {
public:
    enum class Refusal { kNone, kFull, kPeerFull, kStopping };
    struct Admission {
        std::uint64_t id = 0;  ///< 0 when refused
        Refusal refusal = Refusal::kNone;
        explicit operator bool() const { return id != 0; }
    };

    explicit ConnectionTable(ConnectionLimits limits);
    ConnectionTable(const ConnectionTable&) = delete;
    ConnectionTable& operator=(const ConnectionTable&) = delete;

    /// Lets a connection from `peer` (its address as text) in, in phase kReading since `now`, closing
    /// another one if that is what it takes. Every admitted id must be Released exactly once.
    Admission Admit(std::string_view peer, SteadyTime now);
    /// The connection object of an admitted id, so it can be closed. False when the table is stopping
    /// (the caller closes the connection itself).
    bool Attach(std::uint64_t id, const std::weak_ptr<TrackedConnection>& connection);
    /// The connection's phase changed (see ConnectionPhase); an evicted connection stays out of reach.
    void SetPhase(std::uint64_t id, ConnectionPhase phase, SteadyTime now);
    void Release(std::uint64_t id);

    /// Closes one connection as Admit would for a newcomer (accept() ran out of file descriptors).
    /// False when there is none to close.
    bool EvictOne(SteadyTime now);
    /// At least three quarters of max_connections are open: idle connections get a shorter timeout.
    [[nodiscard]] bool UnderPressure() const {
        return live_.load(std::memory_order_relaxed) >= pressure_threshold_;
    }

    /// Refuses every later Admit and Attach.
    void StopAdmitting();
    /// Asks every attached connection to close.
    void CloseAll(CloseRequest request);
    /// Waits until every admitted connection was released; false when `bound` passed first.
    bool WaitUntilEmpty(std::chrono::milliseconds bound);

    [[nodiscard]] std::size_t size() const { return live_.load(std::memory_order_relaxed); }
    [[nodiscard]] ConnectionTableCounts counts() const;

private:
    struct PeerUse {
        std::size_t live = 0;
        std::size_t idle = 0;
        std::size_t evicting = 0;
    };
    using PeerEntry = std::pair<const std::string, PeerUse>;
    struct Entry {
        PeerEntry* peer = nullptr;
        ConnectionPhase phase = ConnectionPhase::kReading;
        SteadyTime since;
        std::weak_ptr<TrackedConnection> connection;
        std::list<std::uint64_t>::iterator position;  ///< in idle_ or reading_, when listed
        bool listed = false;
        bool evicted = false;
    };
    using Victims = std::vector<std::pair<std::shared_ptr<TrackedConnection>, CloseRequest>>;

    void Unlist(Entry& entry);
    void List(std::uint64_t id, Entry& entry);
    /// Picks whom a newcomer replaces (nullptr: nobody): the longest idle, else the slowest request.
    std::uint64_t PickVictim(SteadyTime now) const;
    std::uint64_t OldestIdleOf(const PeerEntry* peer) const;
    void Evict(std::uint64_t id, Victims& victims);
    static void CloseVictims(Victims& victims);

    const ConnectionLimits limits_;
    const std::size_t pressure_threshold_;
    std::set<std::string> uncapped_;

    mutable std::mutex mu_;
    std::condition_variable empty_cv_;
    std::unordered_map<std::uint64_t, Entry> entries_;
    std::unordered_map<std::string, PeerUse> peers_;
    std::list<std::uint64_t> idle_;     ///< longest idle first
    std::list<std::uint64_t> reading_;  ///< longest reading first
    std::size_t evicting_ = 0;          ///< evicted, not yet released
    std::uint64_t next_id_ = 1;
    bool stopping_ = false;
    ConnectionTableCounts counts_;
    std::atomic<std::size_t> live_{0};
};

}  // namespace spacehook::http
