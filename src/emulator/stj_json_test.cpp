#include "emulator/stj_json.hpp"

#include <gtest/gtest.h>

namespace spacehook::emulator {
namespace {

// docs/docspace-api.md §1.3: compact, non-ASCII and "<>&'+` as \uXXXX with upper-case hex, pure ASCII out.
TEST(StjJsonTest, EscapesNonAsciiAsUpperCaseUtf16Units) {
    EXPECT_EQ(WriteStjString("Отчёт.docx"), R"("\u041E\u0442\u0447\u0451\u0442.docx")");
    // U+1F600 is a surrogate pair.
    EXPECT_EQ(WriteStjString("\xF0\x9F\x98\x80"), R"("\uD83D\uDE00")");
}

TEST(StjJsonTest, EscapesHtmlSensitiveCharactersAndTheQuote) {
    EXPECT_EQ(WriteStjString("a\"b<c>d&e'f+g`h"), R"("a\u0022b\u003Cc\u003Ed\u0026e\u0027f\u002Bg\u0060h")");
}

TEST(StjJsonTest, ShortFormsForBackslashAndCommonControls) {
    EXPECT_EQ(WriteStjString("\\\b\f\n\r\t"), R"("\\\b\f\n\r\t")");
    EXPECT_EQ(WriteStjString(std::string("\x01\x1f\x7f", 3)), R"("\u0001\u001F\u007F")");
}

TEST(StjJsonTest, InvalidUtf8BecomesReplacementCharacter) {
    EXPECT_EQ(WriteStjString("a\xC3(b"), R"("a\uFFFD(b")");
    EXPECT_EQ(WriteStjString("\xE0\x80\x80"), R"("\uFFFD\uFFFD\uFFFD")");  // overlong
}

TEST(StjJsonTest, CompactAndInInsertionOrder) {
    OJson o = OJson::object();
    o["event"] = OJson{{"id", 1}};
    o["payload"] = OJson::object();
    o["webhook"] = OJson::array({true, false, nullptr, -5, 4294967296LL});
    EXPECT_EQ(WriteStj(o), R"({"event":{"id":1},"payload":{},"webhook":[true,false,null,-5,4294967296]})");
}

TEST(StjJsonTest, KeysAreEscapedToo) {
    OJson o = OJson::object();
    o["k<"] = "v";
    EXPECT_EQ(WriteStj(o), R"({"k\u003C":"v"})");
}

}  // namespace
}  // namespace spacehook::emulator
