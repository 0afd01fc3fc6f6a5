#include "core/outbound_guard.hpp"

#include <gtest/gtest.h>

using namespace spacehook;

namespace {

IpAddress Ip(std::string_view text) {
    auto address = IpAddress::Parse(text);
    EXPECT_TRUE(address) << text;
    return address.value_or(IpAddress{});
}

OutboundPolicy Policy(bool refuse_internal, std::vector<std::string> allow,
                      std::vector<OwnListener> own = {}) {
    OutboundPolicy policy;
    policy.refuse_internal = refuse_internal;
    policy.allow = std::move(allow);
    policy.own_listeners = std::move(own);
    return policy;
}

std::shared_ptr<const OutboundGuard> Guard(OutboundPolicy policy) {
    auto guard = OutboundGuard::Create(std::move(policy));
    EXPECT_TRUE(guard) << (guard ? "" : guard.error().message);
    return guard ? *guard : nullptr;
}

}  // namespace

TEST(OutboundGuard, InternalAddressesAreRefusedByDefault) {
    auto guard = Guard({});
    for (const char* internal : {"127.0.0.1",
                                 "127.1.2.3",
                                 "10.1.2.3",
                                 "172.16.0.1",
                                 "172.31.255.255",
                                 "192.168.1.1",
                                 "169.254.169.254",
                                 "100.64.0.1",
                                 "0.0.0.0",
                                 "224.0.0.1",
                                 "255.255.255.255",
                                 "::1",
                                 "::",
                                 "fe80::1",
                                 "fd00::1",
                                 "fc00::2",
                                 "::ffff:127.0.0.1",
                                 "::ffff:10.0.0.1",
                                 "64:ff9b::a9fe:a9fe",
                                 "[::1]"}) {
        auto refusal = guard->Refusal(Ip(internal), 80, "example.com");
        ASSERT_TRUE(refusal) << internal;
        EXPECT_NE(refusal->find("outbound.allow"), std::string::npos) << *refusal;
    }
    EXPECT_NE(guard->Refusal(Ip("127.0.0.1"), 80, "h")->find("127.0.0.1 is a loopback address"),
              std::string::npos);
    EXPECT_NE(guard->Refusal(Ip("169.254.169.254"), 80, "h")->find("link-local"), std::string::npos);
    for (const char* external :
         {"93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"}) {
        EXPECT_FALSE(guard->Refusal(Ip(external), 443, "example.com")) << external;
    }
}

TEST(OutboundGuard, TheAllowListNamesAddressesNetworksAndHosts) {
    auto guard = Guard(Policy(true, {"127.0.0.1", "10.0.0.0/8", "fd00::/8", "Intranet.Example.com"}));
    EXPECT_FALSE(guard->Refusal(Ip("127.0.0.1"), 8080, "127.0.0.1"));
    EXPECT_TRUE(guard->Refusal(Ip("127.0.0.2"), 8080, "127.0.0.2"));
    EXPECT_FALSE(guard->Refusal(Ip("10.200.0.7"), 80, "x"));
    EXPECT_TRUE(guard->Refusal(Ip("192.168.0.7"), 80, "x"));
    EXPECT_FALSE(guard->Refusal(Ip("fd12::7"), 80, "x"));
    EXPECT_FALSE(guard->Refusal(Ip("192.168.0.7"), 80, "intranet.example.COM"));
    EXPECT_TRUE(guard->Refusal(Ip("192.168.0.7"), 80, "other.example.com"));

    EXPECT_TRUE(CheckOutboundAllowEntry("10.0.0.0/8"));
    EXPECT_TRUE(CheckOutboundAllowEntry("hooks.internal"));
    for (const char* bad : {"10.0.0.0/33", "not a host", "10.0.0.0/x", "", "http://x", "1.2.3"}) {
        auto checked = CheckOutboundAllowEntry(bad);
        ASSERT_FALSE(checked) << bad;
        EXPECT_EQ(checked.error().code, ErrorCode::kConfig);
        EXPECT_NE(checked.error().message.find("outbound.allow"), std::string::npos);
    }
    EXPECT_FALSE(OutboundGuard::Create(Policy(true, {"300.1.1.1/8"})));
}

TEST(OutboundGuard, OwnAdminListenerIsNeverReachedWhateverTheAllowList) {
    auto guard = Guard(Policy(true, {"127.0.0.0/8", "::1"}, {{"127.0.0.1", 9464}}));
    for (const char* self : {"127.0.0.1", "127.0.0.5", "::1"}) {
        auto refusal = guard->Refusal(Ip(self), 9464, "localhost");
        ASSERT_TRUE(refusal) << self;
        EXPECT_NE(refusal->find("own admin listener"), std::string::npos) << *refusal;
    }
    EXPECT_FALSE(guard->Refusal(Ip("127.0.0.1"), 9465, "localhost"));
    // Even with internal addresses allowed wholesale, and a listener on every interface.
    auto open = Guard(Policy(false, {}, {{"0.0.0.0", 9000}}));
    EXPECT_TRUE(open->Refusal(Ip("127.0.0.1"), 9000, "x"));
    EXPECT_FALSE(open->Refusal(Ip("127.0.0.1"), 9001, "x"));
    EXPECT_FALSE(open->Refusal(Ip("8.8.8.8"), 9000, "x"));
}
