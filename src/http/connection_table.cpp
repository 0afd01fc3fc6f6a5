#include "http/connection_table.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace spacehook::http {

namespace {

// Connections closed for newcomers but not yet gone: each still holds a descriptor until its executor
// runs the close. Past this many a newcomer is refused instead, so a connection flood cannot push the
// descriptors in use far past max_connections.
constexpr std::size_t kMaxPendingEvictions = 64;

}  // namespace

std::string PeerKey(std::string_view address) {
    std::string text(address);
    std::array<unsigned char, 16> bytes{};
    if (inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) return text;
    if (inet_pton(AF_INET6, text.c_str(), bytes.data()) != 1) return text;
    static constexpr std::array<unsigned char, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), bytes.begin())) {
        return fmt::format("{}.{}.{}.{}", bytes[12], bytes[13], bytes[14], bytes[15]);
    }
    return fmt::format("{:02x}{:02x}:{:02x}{:02x}:{:02x}{:02x}:{:02x}{:02x}::/64", bytes[0], bytes[1],
                       bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]);
}

ConnectionTable::ConnectionTable(ConnectionLimits limits)
    : limits_(std::move(limits)),
      pressure_threshold_(std::max<std::size_t>(1, limits_.max_connections - limits_.max_connections / 4)) {
    for (const std::string& peer : limits_.uncapped_peers) uncapped_.insert(PeerKey(peer));
}

ConnectionTable::Admission ConnectionTable::Admit(std::string_view peer, SteadyTime now) {
    Victims victims;
    Admission admission;
    {
        std::lock_guard lock(mu_);
        if (stopping_) return {0, Refusal::kStopping};
        std::string key = PeerKey(peer);
        auto peer_it = peers_.find(key);
        const bool capped = limits_.max_per_peer > 0 && !uncapped_.contains(key);
        if (capped && peer_it != peers_.end() &&
            peer_it->second.live - peer_it->second.evicting >= limits_.max_per_peer) {
            // A peer at its cap may replace its own idle connections only: it cannot push others out.
            const std::uint64_t own = OldestIdleOf(&*peer_it);
            if (own == 0 || evicting_ >= kMaxPendingEvictions) {
                ++counts_.refused_per_peer;
                return {0, Refusal::kPeerFull};
            }
            Evict(own, victims);
        }
        if (entries_.size() - evicting_ >= limits_.max_connections) {
            // Another peer's connection is closed only for a peer holding less than a fair share of the
            // cap; one holding its share or more may only replace its own idle connections. Otherwise an
            // attacker re-opening every connection closed for a newcomer would keep them all younger than
            // slow_request and take each place that comes free before a delivery could.
            const bool known = peer_it != peers_.end();
            const std::size_t own = known ? peer_it->second.live - peer_it->second.evicting : 0;
            const std::size_t fair_share =
                std::max<std::size_t>(1, limits_.max_connections / (peers_.size() + (known ? 0 : 1)));
            std::uint64_t victim = 0;
            if (evicting_ < kMaxPendingEvictions) {
                victim = own < fair_share ? PickVictim(now) : OldestIdleOf(&*peer_it);
            }
            if (victim == 0) {
                ++counts_.refused_full;
                admission = {0, Refusal::kFull};
            } else {
                Evict(victim, victims);
            }
        }
        if (admission.refusal == Refusal::kNone) {
            if (peer_it == peers_.end()) peer_it = peers_.emplace(std::move(key), PeerUse{}).first;
            ++peer_it->second.live;
            const std::uint64_t id = next_id_++;
            Entry& entry = entries_[id];
            entry.peer = &*peer_it;
            entry.phase = ConnectionPhase::kReading;
            entry.since = now;
            List(id, entry);
            ++counts_.admitted;
            live_.store(entries_.size(), std::memory_order_relaxed);
            admission = {id, Refusal::kNone};
        }
    }
    CloseVictims(victims);
    return admission;
}

bool ConnectionTable::Attach(std::uint64_t id, const std::weak_ptr<TrackedConnection>& connection) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end() || stopping_) return false;
    it->second.connection = connection;
    return true;
}

void ConnectionTable::SetPhase(std::uint64_t id, ConnectionPhase phase, SteadyTime now) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.evicted) return;
    Entry& entry = it->second;
    Unlist(entry);
    entry.phase = phase;
    entry.since = now;
    List(id, entry);
}

void ConnectionTable::Release(std::uint64_t id) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    Entry& entry = it->second;
    Unlist(entry);
    PeerEntry* peer = entry.peer;
    --peer->second.live;
    if (entry.evicted) {
        --evicting_;
        --peer->second.evicting;
    }
    entries_.erase(it);
    if (peer->second.live == 0) {
        const std::string key = peer->first;  // erase(key) must not be handed the key it destroys
        peers_.erase(key);
    }
    live_.store(entries_.size(), std::memory_order_relaxed);
    if (entries_.empty()) empty_cv_.notify_all();
}

bool ConnectionTable::EvictOne(SteadyTime now) {
    Victims victims;
    {
        std::lock_guard lock(mu_);
        if (evicting_ >= kMaxPendingEvictions) return false;
        const std::uint64_t victim = PickVictim(now);
        if (victim == 0) return false;
        Evict(victim, victims);
    }
    CloseVictims(victims);
    return true;
}

void ConnectionTable::StopAdmitting() {
    std::lock_guard lock(mu_);
    stopping_ = true;
}

void ConnectionTable::CloseAll(CloseRequest request) {
    Victims live;
    {
        std::lock_guard lock(mu_);
        live.reserve(entries_.size());
        for (const auto& [id, entry] : entries_) {
            if (auto connection = entry.connection.lock()) live.emplace_back(std::move(connection), request);
        }
    }
    CloseVictims(live);
}

bool ConnectionTable::WaitUntilEmpty(std::chrono::milliseconds bound) {
    std::unique_lock lock(mu_);
    return empty_cv_.wait_for(lock, bound, [this] { return entries_.empty(); });
}

ConnectionTableCounts ConnectionTable::counts() const {
    std::lock_guard lock(mu_);
    return counts_;
}

void ConnectionTable::Unlist(Entry& entry) {
    if (!entry.listed) return;
    if (entry.phase == ConnectionPhase::kIdle) {
        idle_.erase(entry.position);
        --entry.peer->second.idle;
    } else {
        reading_.erase(entry.position);
    }
    entry.listed = false;
}

void ConnectionTable::List(std::uint64_t id, Entry& entry) {
    if (entry.phase == ConnectionPhase::kIdle) {
        entry.position = idle_.insert(idle_.end(), id);
        ++entry.peer->second.idle;
        entry.listed = true;
    } else if (entry.phase == ConnectionPhase::kReading) {
        entry.position = reading_.insert(reading_.end(), id);
        entry.listed = true;
    }
}

std::uint64_t ConnectionTable::PickVictim(SteadyTime now) const {
    if (!idle_.empty()) return idle_.front();
    // reading_ is in the order the requests started, so its front is the slowest.
    for (const std::uint64_t id : reading_) {
        const Entry& entry = entries_.at(id);
        if (now - entry.since < limits_.slow_request) return 0;
        if (!entry.connection.expired()) return id;
    }
    return 0;
}

std::uint64_t ConnectionTable::OldestIdleOf(const PeerEntry* peer) const {
    if (peer->second.idle == 0) return 0;
    for (const std::uint64_t id : idle_) {
        if (entries_.at(id).peer == peer) return id;
    }
    return 0;
}

void ConnectionTable::Evict(std::uint64_t id, Victims& victims) {
    Entry& entry = entries_.at(id);
    const CloseRequest request =
        entry.phase == ConnectionPhase::kIdle ? CloseRequest::kEvictIdle : CloseRequest::kEvictSlow;
    ++(request == CloseRequest::kEvictIdle ? counts_.evicted_idle : counts_.evicted_slow);
    Unlist(entry);
    entry.evicted = true;
    ++evicting_;
    ++entry.peer->second.evicting;
    if (auto connection = entry.connection.lock()) victims.emplace_back(std::move(connection), request);
}

void ConnectionTable::CloseVictims(Victims& victims) {
    for (auto& [connection, request] : victims) connection->Close(request);
    victims.clear();
}

}  // namespace spacehook::http
