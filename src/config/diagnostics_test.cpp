#include "config/diagnostics.hpp"

#include <gtest/gtest.h>

using namespace spacehook;
using namespace spacehook::config;

TEST(Diagnostics, SuggestsTheClosestKey) {
    EXPECT_EQ(ClosestName("lisen", {"listen", "threads", "tls"}), "listen");
    EXPECT_EQ(ClosestName("max_connectoins", {"max_connections", "threads"}), "max_connections");
    EXPECT_EQ(ClosestName("Listen", {"listen"}), "listen");  // case is ignored
    EXPECT_EQ(ClosestName("completely_different", {"listen", "threads"}), "");
}

TEST(Diagnostics, UnknownKeyMessages) {
    EXPECT_EQ(UnknownKeyMessage("lisen", "server", {"listen", "threads"}),
              "unknown key 'lisen' in server; did you mean 'listen'?");
    EXPECT_EQ(UnknownKeyMessage("zzz", "log", {"level", "format"}),
              "unknown key 'zzz' in log; expected one of: level, format");
}

TEST(Diagnostics, CollectsEveryLocatedMessage) {
    auto doc = LoadYamlText("log:\n  levl: info\n  formt: json\n", "c.yaml", MapEnv({}));
    ASSERT_TRUE(doc);
    Diagnostics diagnostics;
    EXPECT_FALSE(CheckKeys(*doc, "/log", doc->root["log"], "log", {"level", "format"}, diagnostics));
    ASSERT_EQ(diagnostics.size(), 2u);
    const auto error = diagnostics.ToError();
    EXPECT_EQ(error.code, ErrorCode::kConfig);
    // Keys come back in Json (sorted) order.
    EXPECT_EQ(error.message,
              "c.yaml:3:3: unknown key 'formt' in log; did you mean 'format'?\n"
              "c.yaml:2:3: unknown key 'levl' in log; did you mean 'level'?");
}

TEST(Diagnostics, PointerJoinEscapes) {
    EXPECT_EQ(PointerJoin("/a", "b/c~d"), "/a/b~1c~0d");
    EXPECT_EQ(PointerJoin("", std::size_t{3}), "/3");
}

TEST(Diagnostics, KindNames) {
    EXPECT_EQ(KindName(Json::array()), "a list");
    EXPECT_EQ(KindName(Json::object()), "a map");
    EXPECT_EQ(KindName(Json(3)), "an integer");
    EXPECT_EQ(KindName(Json("x")), "text");
    EXPECT_EQ(KindName(Json(nullptr)), "empty");
}
