#include "http/connection_table.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "http/body_budget.hpp"

namespace spacehook::http {
namespace {

using namespace std::chrono_literals;

// Records the close requests the table sends instead of closing anything.
class FakeConnection final : public TrackedConnection {
public:
    void Close(CloseRequest request) override { requests.push_back(request); }
    std::vector<CloseRequest> requests;
};

const SteadyTime kStart = SteadyTime{} + 1000s;

struct Tracked {
    std::uint64_t id;
    std::shared_ptr<FakeConnection> connection;
};

Tracked AdmitAndAttach(ConnectionTable& table, std::string_view peer, SteadyTime now) {
    const auto admission = table.Admit(peer, now);
    EXPECT_TRUE(admission) << "refused";
    auto connection = std::make_shared<FakeConnection>();
    EXPECT_TRUE(table.Attach(admission.id, connection));
    return {admission.id, connection};
}

ConnectionLimits Limits(std::size_t max, std::size_t per_peer = 0) {
    ConnectionLimits limits;
    limits.max_connections = max;
    limits.max_per_peer = per_peer;
    limits.slow_request = 2s;
    return limits;
}

TEST(PeerKey, Ipv4AsItIsMappedIpv6AsIpv4AndIpv6ByItsSlash64) {
    EXPECT_EQ(PeerKey("203.0.113.7"), "203.0.113.7");
    EXPECT_EQ(PeerKey("::ffff:203.0.113.7"), "203.0.113.7");
    EXPECT_EQ(PeerKey("2001:db8:1:2:3:4:5:6"), "2001:0db8:0001:0002::/64");
    EXPECT_EQ(PeerKey("2001:db8:1:2::99"), PeerKey("2001:db8:1:2:ffff::1"));
    EXPECT_NE(PeerKey("2001:db8:1:2::1"), PeerKey("2001:db8:1:3::1"));
    EXPECT_EQ(PeerKey("not an address"), "not an address");
}

TEST(ConnectionTable, AtTheCapANewcomerClosesTheLongestIdleConnection) {
    ConnectionTable table(Limits(3));
    auto a = AdmitAndAttach(table, "10.0.0.1", kStart);
    auto b = AdmitAndAttach(table, "10.0.0.2", kStart);
    auto c = AdmitAndAttach(table, "10.0.0.3", kStart);
    table.SetPhase(b.id, ConnectionPhase::kIdle, kStart + 1s);
    table.SetPhase(a.id, ConnectionPhase::kIdle, kStart + 2s);
    table.SetPhase(c.id, ConnectionPhase::kBusy, kStart + 2s);

    const auto newcomer = table.Admit("10.0.0.9", kStart + 3s);
    ASSERT_TRUE(newcomer);
    EXPECT_EQ(b.connection->requests, std::vector<CloseRequest>{CloseRequest::kEvictIdle});
    EXPECT_TRUE(a.connection->requests.empty());
    EXPECT_TRUE(c.connection->requests.empty());
    EXPECT_EQ(table.counts().evicted_idle, 1u);

    // The evicted one is out of reach (a phase change does not put it back) until it is released.
    table.SetPhase(b.id, ConnectionPhase::kIdle, kStart + 3s);
    ASSERT_TRUE(table.Admit("10.0.0.10", kStart + 4s));
    EXPECT_EQ(a.connection->requests, std::vector<CloseRequest>{CloseRequest::kEvictIdle});
    EXPECT_EQ(b.connection->requests.size(), 1u);
    EXPECT_EQ(table.size(), 5u);  // two closing, three live
    table.Release(b.id);
    table.Release(a.id);
    EXPECT_EQ(table.size(), 3u);
}

TEST(ConnectionTable, WithNothingIdleTheSlowestUnreadRequestGoesOnlyPastTheGrace) {
    ConnectionTable table(Limits(2));
    auto slow = AdmitAndAttach(table, "10.0.0.1", kStart);
    auto later = AdmitAndAttach(table, "10.0.0.2", kStart + 1s);

    // Both have been reading for less than slow_request: the newcomer is refused.
    const auto early = table.Admit("10.0.0.3", kStart + 1500ms);
    EXPECT_FALSE(early);
    EXPECT_EQ(early.refusal, ConnectionTable::Refusal::kFull);
    EXPECT_TRUE(slow.connection->requests.empty());

    const auto newcomer = table.Admit("10.0.0.3", kStart + 2s);
    ASSERT_TRUE(newcomer);
    EXPECT_EQ(slow.connection->requests, std::vector<CloseRequest>{CloseRequest::kEvictSlow});
    EXPECT_TRUE(later.connection->requests.empty());
    const auto counts = table.counts();
    EXPECT_EQ(counts.evicted_slow, 1u);
    EXPECT_EQ(counts.refused_full, 1u);
}

TEST(ConnectionTable, BusyConnectionsAreNeverClosedForANewcomer) {
    ConnectionTable table(Limits(2));
    auto a = AdmitAndAttach(table, "10.0.0.1", kStart);
    auto b = AdmitAndAttach(table, "10.0.0.2", kStart);
    table.SetPhase(a.id, ConnectionPhase::kBusy, kStart);
    table.SetPhase(b.id, ConnectionPhase::kBusy, kStart);
    EXPECT_FALSE(table.Admit("10.0.0.3", kStart + 1h));
    EXPECT_FALSE(table.EvictOne(kStart + 1h));
    EXPECT_TRUE(a.connection->requests.empty());
    EXPECT_TRUE(b.connection->requests.empty());

    // A request read anew (pipelined) restarts its clock: slow means slow on this request.
    table.SetPhase(a.id, ConnectionPhase::kReading, kStart + 1h);
    EXPECT_FALSE(table.Admit("10.0.0.3", kStart + 1h + 1s));
    EXPECT_TRUE(table.Admit("10.0.0.3", kStart + 1h + 2s));
    EXPECT_EQ(a.connection->requests, std::vector<CloseRequest>{CloseRequest::kEvictSlow});
}

TEST(ConnectionTable, APeerAtItsCapReplacesOnlyItsOwnIdleConnections) {
    ConnectionTable table(Limits(100, 2));
    auto own_busy = AdmitAndAttach(table, "10.0.0.1", kStart);
    auto own_idle = AdmitAndAttach(table, "10.0.0.1", kStart);
    auto other_idle = AdmitAndAttach(table, "10.0.0.2", kStart);
    table.SetPhase(own_busy.id, ConnectionPhase::kBusy, kStart);
    table.SetPhase(other_idle.id, ConnectionPhase::kIdle, kStart);
    table.SetPhase(own_idle.id, ConnectionPhase::kIdle, kStart + 1s);

    ASSERT_TRUE(table.Admit("10.0.0.1", kStart + 2s));
    EXPECT_EQ(own_idle.connection->requests, std::vector<CloseRequest>{CloseRequest::kEvictIdle});
    EXPECT_TRUE(other_idle.connection->requests.empty()) << "another peer's idle connection was taken";

    // Two live (one busy, the newcomer reading) and nothing of its own idle: refused, however long.
    const auto refused = table.Admit("10.0.0.1", kStart + 1h);
    EXPECT_FALSE(refused);
    EXPECT_EQ(refused.refusal, ConnectionTable::Refusal::kPeerFull);
    EXPECT_EQ(table.counts().refused_per_peer, 1u);
    // Other peers are not affected, and the IPv4-mapped form is the same peer.
    EXPECT_TRUE(table.Admit("10.0.0.3", kStart + 1h));
    EXPECT_FALSE(table.Admit("::ffff:10.0.0.1", kStart + 1h));
}

// Peers that fill the server cannot take back the places freed for others: a newcomer from a peer with its
// fair share (cap / peers) or more replaces only its own idle connections; a light peer's newcomer closes
// the slowest request of anyone.
TEST(ConnectionTable, AtTheCapOnlyAPeerUnderItsFairShareTakesAnotherPeersPlace) {
    ConnectionTable table(Limits(6));
    std::vector<Tracked> heavy;
    heavy.reserve(5);
    for (int i = 0; i < 5; ++i)
        heavy.push_back(AdmitAndAttach(table, "10.0.0.66", kStart + std::chrono::seconds(i)));
    auto light = AdmitAndAttach(table, "10.0.0.1", kStart);
    table.SetPhase(light.id, ConnectionPhase::kBusy, kStart);

    // 10.0.0.66 holds 5 of 6 (share 3): its newcomer may not close the slow one, though it is past 2 s.
    const auto refused = table.Admit("10.0.0.66", kStart + 10s);
    EXPECT_FALSE(refused);
    EXPECT_EQ(refused.refusal, ConnectionTable::Refusal::kFull);
    EXPECT_TRUE(heavy[0].connection->requests.empty());
    // A third peer holding nothing (share 2) may.
    ASSERT_TRUE(table.Admit("10.0.0.2", kStart + 10s));
    EXPECT_EQ(heavy[0].connection->requests, std::vector<CloseRequest>{CloseRequest::kEvictSlow});
    // The heavy peer may still replace its own idle connections (a keep-alive pool).
    table.SetPhase(heavy[3].id, ConnectionPhase::kIdle, kStart + 10s);
    ASSERT_TRUE(table.Admit("10.0.0.66", kStart + 11s));
    EXPECT_EQ(heavy[3].connection->requests, std::vector<CloseRequest>{CloseRequest::kEvictIdle});
    EXPECT_TRUE(heavy[1].connection->requests.empty());
}

TEST(ConnectionTable, UncappedPeersAreHeldToTheGlobalCapOnly) {
    ConnectionLimits limits = Limits(4, 1);
    limits.uncapped_peers = {"127.0.0.1", "2001:db8::1"};
    ConnectionTable table(limits);
    EXPECT_TRUE(table.Admit("127.0.0.1", kStart));
    EXPECT_TRUE(table.Admit("127.0.0.1", kStart));
    EXPECT_TRUE(table.Admit("2001:db8::7", kStart));  // the same /64 as the proxy
    EXPECT_TRUE(table.Admit("2001:db8::8", kStart));
    EXPECT_EQ(table.Admit("127.0.0.1", kStart).refusal, ConnectionTable::Refusal::kFull);
}

TEST(ConnectionTable, PressureIsThreeQuartersOfTheCap) {
    ConnectionTable table(Limits(8));
    std::vector<std::uint64_t> ids;
    ids.reserve(6);
    for (int i = 0; i < 5; ++i) ids.push_back(table.Admit("10.0.0.1", kStart).id);
    EXPECT_FALSE(table.UnderPressure());
    ids.push_back(table.Admit("10.0.0.1", kStart).id);
    EXPECT_TRUE(table.UnderPressure());
    table.Release(ids.back());
    EXPECT_FALSE(table.UnderPressure());
}

TEST(ConnectionTable, EvictOneFreesTheSameVictimAnAdmissionWould) {
    ConnectionTable table(Limits(10));
    auto reading = AdmitAndAttach(table, "10.0.0.1", kStart);
    EXPECT_FALSE(table.EvictOne(kStart + 1s));
    auto idle = AdmitAndAttach(table, "10.0.0.2", kStart);
    table.SetPhase(idle.id, ConnectionPhase::kIdle, kStart);
    EXPECT_TRUE(table.EvictOne(kStart + 1s));
    EXPECT_EQ(idle.connection->requests, std::vector<CloseRequest>{CloseRequest::kEvictIdle});
    EXPECT_TRUE(table.EvictOne(kStart + 5s));
    EXPECT_EQ(reading.connection->requests, std::vector<CloseRequest>{CloseRequest::kEvictSlow});
    EXPECT_FALSE(table.EvictOne(kStart + 5s));
}

TEST(ConnectionTable, StoppingRefusesNewcomersAndClosesEveryAttachedConnection) {
    ConnectionTable table(Limits(10));
    auto a = AdmitAndAttach(table, "10.0.0.1", kStart);
    const auto unattached = table.Admit("10.0.0.2", kStart);
    ASSERT_TRUE(unattached);
    table.StopAdmitting();
    EXPECT_EQ(table.Admit("10.0.0.3", kStart).refusal, ConnectionTable::Refusal::kStopping);
    EXPECT_FALSE(table.Attach(unattached.id, std::make_shared<FakeConnection>()));
    table.CloseAll(CloseRequest::kDrain);
    EXPECT_EQ(a.connection->requests, std::vector<CloseRequest>{CloseRequest::kDrain});
    EXPECT_FALSE(table.WaitUntilEmpty(10ms));
    table.Release(a.id);
    table.Release(unattached.id);
    EXPECT_TRUE(table.WaitUntilEmpty(10ms));
    EXPECT_EQ(table.size(), 0u);
}

TEST(BodyBudget, ReservationsShareTheLimitAndGiveBackOnDestruction) {
    BodyBudget budget(100);
    {
        BodyReservation first(budget);
        EXPECT_TRUE(first.GrowTo(60));
        BodyReservation second(budget);
        EXPECT_FALSE(second.GrowTo(50));
        EXPECT_EQ(second.held(), 0u);
        EXPECT_TRUE(second.GrowTo(40));
        EXPECT_EQ(budget.used(), 100u);
        EXPECT_TRUE(first.GrowTo(30));  // never shrinks below what it holds
        EXPECT_EQ(first.held(), 60u);
        first.Release();
        EXPECT_EQ(budget.used(), 40u);
        EXPECT_FALSE(second.GrowTo(std::size_t{1} << 62));
    }
    EXPECT_EQ(budget.used(), 0u);
}

}  // namespace
}  // namespace spacehook::http
