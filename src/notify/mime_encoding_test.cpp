#include "notify/mime_encoding.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace spacehook::notify;

namespace {

std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find("\r\n", start);
        if (end == std::string::npos) {
            lines.push_back(text.substr(start));
            break;
        }
        lines.push_back(text.substr(start, end - start));
        start = end + 2;
    }
    return lines;
}

// Independent quoted-printable decoder (RFC 2045 §6.7), to check round trips.
std::string DecodeQuotedPrintable(const std::string& encoded) {
    std::string out;
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        if (encoded[i] != '=') {
            out += encoded[i];
        } else if (encoded.compare(i + 1, 2, "\r\n") == 0) {
            i += 2;
        } else {
            out += static_cast<char>(std::stoi(encoded.substr(i + 1, 2), nullptr, 16));
            i += 2;
        }
    }
    return out;
}

}  // namespace

TEST(MimeEncoding, NormalizeLineEndingsMakesEveryBreakCrlf) {
    EXPECT_EQ(NormalizeLineEndings("a\nb\r\nc\rd\r\r\ne"), "a\r\nb\r\nc\r\nd\r\n\r\ne");
    EXPECT_EQ(NormalizeLineEndings("\n"), "\r\n");
    EXPECT_EQ(NormalizeLineEndings("no break"), "no break");
}

TEST(MimeEncoding, Base64MatchesRfc4648Vectors) {
    EXPECT_EQ(EncodeBase64(""), "");
    EXPECT_EQ(EncodeBase64("f"), "Zg==");
    EXPECT_EQ(EncodeBase64("fo"), "Zm8=");
    EXPECT_EQ(EncodeBase64("foo"), "Zm9v");
    EXPECT_EQ(EncodeBase64("foob"), "Zm9vYg==");
    EXPECT_EQ(EncodeBase64("fooba"), "Zm9vYmE=");
    EXPECT_EQ(EncodeBase64("foobar"), "Zm9vYmFy");
    EXPECT_EQ(EncodeBase64(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(MimeEncoding, Base64LinesAreSeventySixWide) {
    const std::string encoded = EncodeBase64Lines(std::string(100, 'x'));
    const auto lines = Lines(encoded);
    ASSERT_EQ(lines.size(), 2U);
    EXPECT_EQ(lines[0].size(), 76U);
    EXPECT_EQ(lines[0] + lines[1], EncodeBase64(std::string(100, 'x')));
    EXPECT_EQ(encoded.substr(encoded.size() - 2), "\r\n");
}

TEST(MimeEncoding, QuotedPrintableEncodesWhatItMust) {
    EXPECT_EQ(EncodeQuotedPrintable("plain text"), "plain text");
    EXPECT_EQ(EncodeQuotedPrintable("a=b"), "a=3Db");
    EXPECT_EQ(EncodeQuotedPrintable("Gr\xc3\xbc\xc3\x9f"
                                    "e"),
              "Gr=C3=BC=C3=9Fe");
    // Whitespace ending a line would be stripped by relays: encoded; inside the line it stays.
    EXPECT_EQ(EncodeQuotedPrintable("a b \r\nc\t"), "a b=20\r\nc=09");
    EXPECT_EQ(EncodeQuotedPrintable("line\r\n"), "line\r\n");
    EXPECT_EQ(EncodeQuotedPrintable("a\r\n\r\nb"), "a\r\n\r\nb");
    EXPECT_EQ(EncodeQuotedPrintable(std::string("nul\0", 4)), "nul=00");
}

TEST(MimeEncoding, QuotedPrintableNeverStartsALineWithADot) {
    EXPECT_EQ(EncodeQuotedPrintable(".\r\n..x\r\na.b"), "=2E\r\n=2E.x\r\na.b");
    // A soft break that would leave a dot at the start of the next line encodes it too.
    const std::string text = std::string(75, 'a') + ".b";
    EXPECT_EQ(EncodeQuotedPrintable(text), std::string(75, 'a') + "=\r\n=2Eb");
}

TEST(MimeEncoding, QuotedPrintableSoftBreaksAtSeventySix) {
    const std::string text = std::string(200, 'x');
    const std::string encoded = EncodeQuotedPrintable(text);
    for (const auto& line : Lines(encoded)) EXPECT_LE(line.size(), 76U) << line;
    EXPECT_EQ(Lines(encoded)[0], std::string(75, 'x') + "=");
    EXPECT_EQ(DecodeQuotedPrintable(encoded), text);
    // Exactly 76 characters fit without a soft break; an escape is never split.
    EXPECT_EQ(EncodeQuotedPrintable(std::string(76, 'y')), std::string(76, 'y'));
    EXPECT_EQ(EncodeQuotedPrintable(std::string(74, 'y') + "="), std::string(74, 'y') + "=\r\n=3D");
}

TEST(MimeEncoding, QuotedPrintableRoundTripsMixedText) {
    std::string text;
    for (int i = 0; i < 40; ++i) text += "Счёт №" + std::to_string(i) + " = 100 € . \t end\r\n";
    const std::string encoded = EncodeQuotedPrintable(text);
    for (const auto& line : Lines(encoded)) {
        EXPECT_LE(line.size(), 76U);
        EXPECT_NE(line.front(), '.');
        EXPECT_NE(line.back(), ' ');
    }
    EXPECT_EQ(DecodeQuotedPrintable(encoded), text);
}

TEST(MimeEncoding, TextBodyPicksTheSmallerEncoding) {
    const EncodedBody ascii = EncodeTextBody("Hello,\nthe invoice is in Incoming.\n");
    EXPECT_EQ(ascii.transfer_encoding, "quoted-printable");
    EXPECT_EQ(ascii.text, "Hello,\r\nthe invoice is in Incoming.\r\n");

    const EncodedBody cyrillic = EncodeTextBody("Здравствуйте, счёт загружен.");
    EXPECT_EQ(cyrillic.transfer_encoding, "base64");
    EXPECT_EQ(cyrillic.text, EncodeBase64Lines("Здравствуйте, счёт загружен."));
}

TEST(MimeEncoding, PlainHeaderText) {
    EXPECT_TRUE(IsPlainHeaderText("Invoice uploaded: invoice-7.pdf"));
    EXPECT_FALSE(IsPlainHeaderText("Caf\xc3\xa9"));
    EXPECT_FALSE(IsPlainHeaderText("tab\there"));
    EXPECT_FALSE(IsPlainHeaderText("looks =?UTF-8?Q?encoded?="));
}

TEST(MimeEncoding, EncodeWordsPicksBase64ForMostlyNonAscii) {
    // 16 bytes: base64 needs 24 characters, Q would need 29.
    EXPECT_EQ(EncodeWords("Grüße aus Köln"),
              std::vector<std::string>{"=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?="});
}

TEST(MimeEncoding, EncodeWordsPicksQForMostlyAscii) {
    EXPECT_EQ(EncodeWords("Invoice from Müller, 2 pages"),
              std::vector<std::string>{"=?UTF-8?Q?Invoice_from_M=C3=BCller=2C_2_pages?="});
}

TEST(MimeEncoding, EncodeWordsSplitsOnCharacterBoundaries) {
    std::string text;
    for (int i = 0; i < 30; ++i) text += "ж";  // 2 bytes each: base64
    const auto words = EncodeWords(text, 40);
    // 40 characters leave 28 for the payload: 21 bytes, cut back to 20 so no character is split; the
    // remaining 40 bytes fit one full-size word.
    ASSERT_EQ(words.size(), 2U);
    EXPECT_EQ(words[0], "=?UTF-8?B?" + EncodeBase64(text.substr(0, 20)) + "?=");
    EXPECT_EQ(words[1], "=?UTF-8?B?" + EncodeBase64(text.substr(20)) + "?=");
    EXPECT_LE(words[0].size(), 40U);
    EXPECT_LE(words[1].size(), kMaxEncodedWord);
}

TEST(MimeEncoding, EncodeWordsKeepsMultiByteCharactersWholeInQ) {
    const std::string text = std::string(50, 'a') + "€€€";  // Q: each € is =E2=82=AC
    const auto words = EncodeWords(text);
    ASSERT_EQ(words.size(), 2U);
    EXPECT_EQ(words[0], "=?UTF-8?Q?" + std::string(50, 'a') + "=E2=82=AC?=");
    EXPECT_EQ(words[1], "=?UTF-8?Q?=E2=82=AC=E2=82=AC?=");
}

TEST(MimeEncoding, FoldHeaderBreaksAtSpacesWithinSeventySix) {
    std::vector<HeaderToken> tokens;
    tokens.reserve(12);
    for (int i = 0; i < 12; ++i) tokens.push_back({"word" + std::to_string(i) + "-abcdefgh", true});
    const std::string header = FoldHeader("Subject", tokens);
    EXPECT_EQ(header,
              "Subject: word0-abcdefgh word1-abcdefgh word2-abcdefgh word3-abcdefgh\r\n"
              " word4-abcdefgh word5-abcdefgh word6-abcdefgh word7-abcdefgh word8-abcdefgh\r\n"
              " word9-abcdefgh word10-abcdefgh word11-abcdefgh\r\n");
    for (const auto& line : Lines(header)) EXPECT_LE(line.size(), kMaxHeaderLine);
}

TEST(MimeEncoding, FoldHeaderKeepsGluedTokensTogether) {
    const std::string header =
        FoldHeader("To", {{"a@example.com", true}, {",", false}, {"b@example.com", true}});
    EXPECT_EQ(header, "To: a@example.com, b@example.com\r\n");
    EXPECT_EQ(FoldHeader("Subject", {}), "Subject:\r\n");
}
