#include "core/hmac_sha256.hpp"

#include <gtest/gtest.h>

using namespace spacehook;

TEST(HmacSha256, Rfc4231Case2) {
    EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?", false),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
              "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843");
}

TEST(HmacSha256, CaseInsensitiveConstantTimeCompare) {
    const auto upper = HmacSha256Hex("secret", "body");
    const auto lower = HmacSha256Hex("secret", "body", false);
    EXPECT_TRUE(HexEqualsConstantTime(upper, lower));
    EXPECT_FALSE(HexEqualsConstantTime(upper, HmacSha256Hex("secret", "body2")));
    EXPECT_FALSE(HexEqualsConstantTime(upper, upper.substr(0, 63)));
    EXPECT_FALSE(HexEqualsConstantTime("", ""));
    std::string tampered = lower;
    tampered[0] = '\x10';  // would fold onto '0' without the alphabet check
    EXPECT_FALSE(HexEqualsConstantTime(std::string(64, '0'), std::string(64, '\x10')));
}

TEST(HmacSha256, Sha256) {
    EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
