#include "core/text.hpp"

#include <gtest/gtest.h>

#include "core/enum_names.hpp"

namespace spacehook {
namespace {

TEST(TextTest, TrimRemovesWhitespaceOrTheGivenCharacters) {
    EXPECT_EQ(Trim("  a b \t\r\n"), "a b");
    EXPECT_EQ(Trim(" \t "), "");
    EXPECT_EQ(Trim(""), "");
    EXPECT_EQ(Trim(" \tvalue\r\n", kHttpWhitespace), "value\r\n");
    EXPECT_EQ(Trim("xxaxx", "x"), "a");
}

TEST(TextTest, CaseFoldingIsAsciiOnly) {
    EXPECT_EQ(ToLower("Content-TYPE"), "content-type");
    EXPECT_EQ(ToUpper("sha256=ab"), "SHA256=AB");
    EXPECT_EQ(ToLower("\xC3\x84rger"), "\xC3\x84rger");  // UTF-8 bytes untouched
    EXPECT_TRUE(EqualsIgnoreCase("Duplicate", "dUPLICATE"));
    EXPECT_FALSE(EqualsIgnoreCase("Skip", "Skips"));
    EXPECT_FALSE(EqualsIgnoreCase("a", "b"));
}

TEST(TextTest, IsHttpUrlWantsASchemeAndAHost) {
    EXPECT_TRUE(IsHttpUrl("https://portal.example.com"));
    EXPECT_TRUE(IsHttpUrl("http://127.0.0.1:8080/hook?x=1"));
    EXPECT_FALSE(IsHttpUrl("https://"));
    EXPECT_FALSE(IsHttpUrl("https://:443/x"));
    EXPECT_FALSE(IsHttpUrl("ftp://host"));
    EXPECT_FALSE(IsHttpUrl("https://host/a b"));
    EXPECT_FALSE(IsHttpUrl("portal.example.com"));
}

enum class Color { kRed, kGreen };
constexpr EnumNames<Color, 2> kColorNames{{{{Color::kRed, "red"}, {Color::kGreen, "green"}}}};

TEST(EnumNamesTest, NamesAndParsesBothWays) {
    EXPECT_EQ(kColorNames.Name(Color::kGreen), "green");
    EXPECT_EQ(kColorNames.Parse("red"), Color::kRed);
    EXPECT_EQ(kColorNames.Parse("Red"), std::nullopt);
    static_assert(kColorNames.Name(Color::kRed) == "red");
}

TEST(EnumNamesTest, UniqueAndDenseCatchBrokenTables) {
    static_assert(kColorNames.Unique() && kColorNames.Dense());
    constexpr EnumNames<Color, 2> kSameValueTwice{{{{Color::kRed, "red"}, {Color::kRed, "green"}}}};
    constexpr EnumNames<Color, 2> kSameNameTwice{{{{Color::kRed, "red"}, {Color::kGreen, "red"}}}};
    constexpr EnumNames<Color, 3> kOneEntryShort{{{{Color::kRed, "red"}, {Color::kGreen, "green"}}}};
    constexpr EnumNames<Color, 2> kOutOfOrder{{{{Color::kGreen, "green"}, {Color::kRed, "red"}}}};
    static_assert(!kSameValueTwice.Unique());
    static_assert(!kSameNameTwice.Unique());
    static_assert(!kOneEntryShort.Unique());
    static_assert(kOutOfOrder.Unique() && !kOutOfOrder.Dense());
    EXPECT_EQ(kOutOfOrder.Name(Color::kRed), "red");
}

}  // namespace
}  // namespace spacehook
