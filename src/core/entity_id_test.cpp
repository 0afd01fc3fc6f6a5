#include "core/entity_id.hpp"

#include <gtest/gtest.h>

using namespace spacehook;

TEST(EntityId, NumbersAndStringsCompareAsText) {
    auto n = EntityId::FromJson(Json(1234));
    auto s = EntityId::FromJson(Json("1234"));
    ASSERT_TRUE(n && s);
    EXPECT_EQ(*n, *s);
    EXPECT_TRUE(n->is_number());
    EXPECT_FALSE(s->is_number());
    EXPECT_EQ(n->ToJson(), Json(1234));
    EXPECT_EQ(s->ToJson(), Json("1234"));
}

TEST(EntityId, GuidsAndThirdPartyIds) {
    auto g = EntityId::FromJson(Json("5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b"));
    ASSERT_TRUE(g);
    EXPECT_FALSE(g->is_number());
    EXPECT_EQ(EntityId::Parse("sbox-123|/Documents").str(), "sbox-123|/Documents");
    EXPECT_TRUE(EntityId::Parse("567").is_number());
    EXPECT_FALSE(EntityId::Parse("0567").is_number());
}

TEST(EntityId, RejectsOtherKinds) {
    EXPECT_FALSE(EntityId::FromJson(Json(nullptr)));
    EXPECT_FALSE(EntityId::FromJson(Json("")));
    EXPECT_FALSE(EntityId::FromJson(Json(1.5)));
    EXPECT_FALSE(EntityId::FromJson(Json::array()));
}
