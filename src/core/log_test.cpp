#include "core/log.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

using namespace spacehook;

namespace {
std::string Capture(log::Format format, auto fn) {
    char* buf = nullptr;
    size_t len = 0;
    std::FILE* mem = open_memstream(&buf, &len);
    log::Configure(log::Level::kInfo, format, mem);
    fn();
    std::fclose(mem);
    log::Configure(log::Level::kInfo, log::Format::kText, stderr);
    std::string out(buf, len);
    free(buf);
    return out;
}
}  // namespace

TEST(Log, JsonLinesCarryFields) {
    auto out = Capture(log::Format::kJson, [] {
        log::Info("ingress", "stored", {{"event", "4821"}, {"bytes", 512}});
    });
    EXPECT_NE(out.find("\"component\":\"ingress\""), std::string::npos);
    EXPECT_NE(out.find("\"event\":\"4821\""), std::string::npos);
    EXPECT_NE(out.find("\"bytes\":512"), std::string::npos);
    EXPECT_EQ(out.back(), '\n');
}

TEST(Log, RegisteredSecretsNeverAppear) {
    log::RegisterSecret("sk-very-secret-key");
    auto out = Capture(log::Format::kText, [] {
        log::Warn("client", "call failed for sk-very-secret-key", {{"auth", "Bearer sk-very-secret-key"}});
    });
    EXPECT_EQ(out.find("sk-very-secret-key"), std::string::npos);
    EXPECT_NE(out.find("[redacted]"), std::string::npos);
    EXPECT_EQ(log::Redact("x sk-very-secret-key y"), "x [redacted] y");
}

TEST(Log, LevelFilters) {
    auto out = Capture(log::Format::kText, [] { log::Debug("x", "hidden"); });
    EXPECT_TRUE(out.empty());
}
