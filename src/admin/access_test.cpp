#include "admin/access.hpp"

#include <gtest/gtest.h>

using namespace spacehook;
using namespace spacehook::admin;

namespace {
http::Request Make(std::string method, std::string remote, std::vector<http::Header> headers = {}) {
    http::Request r;
    r.method = std::move(method);
    r.target = r.path = "/admin/api/events";
    r.remote_address = std::move(remote);
    r.headers = std::move(headers);
    return r;
}
}  // namespace

TEST(AdminAccess, LoopbackOnlyWithoutToken) {
    EXPECT_EQ(CheckAdminAccess(Make("GET", "127.0.0.1"), ""), AdminAccess::kAllowed);
    EXPECT_EQ(CheckAdminAccess(Make("GET", "127.8.9.10", {{"host", "localhost:3000"}}), ""),
              AdminAccess::kAllowed);
    EXPECT_EQ(CheckAdminAccess(Make("GET", "::1", {{"host", "[::1]:3000"}}), ""), AdminAccess::kAllowed);
    EXPECT_EQ(CheckAdminAccess(Make("GET", "::ffff:127.0.0.1", {{"host", "127.0.0.1:3000"}}), ""),
              AdminAccess::kAllowed);
    EXPECT_EQ(CheckAdminAccess(Make("GET", "10.1.2.3"), ""), AdminAccess::kForbidden);
    EXPECT_EQ(CheckAdminAccess(Make("GET", "::ffff:10.1.2.3"), ""), AdminAccess::kForbidden);
    EXPECT_EQ(CheckAdminAccess(Make("GET", "2001:db8::1"), ""), AdminAccess::kForbidden);
}

TEST(AdminAccess, ProxiedLoopbackIsNotLocal) {
    // A reverse proxy on the same host relays internet clients from 127.0.0.1.
    for (const char* header : {"x-forwarded-for", "forwarded", "x-real-ip"}) {
        EXPECT_EQ(CheckAdminAccess(Make("GET", "127.0.0.1", {{header, "198.51.100.7"}}), ""),
                  AdminAccess::kForbidden)
            << header;
    }
}

TEST(AdminAccess, RebindingHostIsNotLocal) {
    EXPECT_EQ(CheckAdminAccess(Make("GET", "127.0.0.1", {{"host", "evil.example:3000"}}), ""),
              AdminAccess::kForbidden);
}

TEST(AdminAccess, BearerTokenFromAnywhere) {
    const std::string token = "adm-0123456789abcdef";
    EXPECT_EQ(CheckAdminAccess(Make("GET", "10.1.2.3", {{"authorization", "Bearer " + token}}), token),
              AdminAccess::kAllowed);
    EXPECT_EQ(CheckAdminAccess(Make("GET", "10.1.2.3", {{"authorization", "bearer  " + token + " "}}), token),
              AdminAccess::kAllowed);
}

TEST(AdminAccess, TokenConfiguredMeansLoopbackNeedsItToo) {
    const std::string token = "adm-0123456789abcdef";
    EXPECT_EQ(CheckAdminAccess(Make("GET", "127.0.0.1"), token), AdminAccess::kUnauthorized);
    EXPECT_EQ(CheckAdminAccess(Make("GET", "127.0.0.1", {{"authorization", "Bearer wrong"}}), token),
              AdminAccess::kUnauthorized);
    EXPECT_EQ(CheckAdminAccess(Make("GET", "127.0.0.1", {{"authorization", "Bearer " + token + "x"}}), token),
              AdminAccess::kUnauthorized);
    EXPECT_EQ(CheckAdminAccess(Make("GET", "127.0.0.1", {{"authorization", "Basic " + token}}), token),
              AdminAccess::kUnauthorized);
    EXPECT_EQ(CheckAdminAccess(Make("GET", "127.0.0.1", {{"authorization", "Bearer"}}), token),
              AdminAccess::kUnauthorized);
}

TEST(AdminAccess, CrossSiteActionsRefused) {
    const std::vector<http::Header> cross = {{"host", "127.0.0.1:3000"}, {"origin", "https://evil.example"}};
    EXPECT_EQ(CheckAdminAccess(Make("POST", "127.0.0.1", cross), ""), AdminAccess::kForbidden);
    const std::vector<http::Header> opaque = {{"host", "127.0.0.1:3000"}, {"origin", "null"}};
    EXPECT_EQ(CheckAdminAccess(Make("POST", "127.0.0.1", opaque), ""), AdminAccess::kForbidden);
    const std::vector<http::Header> same = {{"host", "127.0.0.1:3000"}, {"origin", "http://127.0.0.1:3000"}};
    EXPECT_EQ(CheckAdminAccess(Make("POST", "127.0.0.1", same), ""), AdminAccess::kAllowed);
    // curl and the CLI send no Origin at all.
    EXPECT_EQ(CheckAdminAccess(Make("POST", "127.0.0.1", {{"host", "127.0.0.1:3000"}}), ""),
              AdminAccess::kAllowed);
}

TEST(AdminAccess, LoopbackAddresses) {
    EXPECT_TRUE(IsLoopbackAddress("127.0.0.1"));
    EXPECT_TRUE(IsLoopbackAddress("127.255.0.3"));
    EXPECT_TRUE(IsLoopbackAddress("::1"));
    EXPECT_TRUE(IsLoopbackAddress("::ffff:127.0.0.1"));
    EXPECT_FALSE(IsLoopbackAddress("128.0.0.1"));
    EXPECT_FALSE(IsLoopbackAddress("127.evil.example"));
    EXPECT_FALSE(IsLoopbackAddress(""));
    EXPECT_FALSE(IsLoopbackAddress("::2"));
}

TEST(AdminAccess, Refusals) {
    const auto unauthorized = RefusalResponse(AdminAccess::kUnauthorized);
    EXPECT_EQ(unauthorized.status, 401);
    ASSERT_EQ(unauthorized.headers.size(), 1u);
    EXPECT_EQ(unauthorized.headers[0].name, "WWW-Authenticate");
    EXPECT_EQ(RefusalResponse(AdminAccess::kForbidden).status, 403);
}
