#include "notify/mail_address.hpp"

#include <gtest/gtest.h>

using namespace spacehook;
using namespace spacehook::notify;

TEST(MailAddress, ParsesTheFormsRulesWrite) {
    EXPECT_EQ(*ParseMailbox("jane@example.com"), (Mailbox{"", "jane@example.com"}));
    EXPECT_EQ(*ParseMailbox("  <jane@example.com> "), (Mailbox{"", "jane@example.com"}));
    EXPECT_EQ(*ParseMailbox("Jane Doe <jane@example.com>"), (Mailbox{"Jane Doe", "jane@example.com"}));
    EXPECT_EQ(*ParseMailbox("\"Doe, Jane\" <jane@example.com>"), (Mailbox{"Doe, Jane", "jane@example.com"}));
    EXPECT_EQ(*ParseMailbox("\"say \\\"hi\\\"\" <a@b.c>"), (Mailbox{"say \"hi\"", "a@b.c"}));
    EXPECT_EQ(*ParseMailbox("Jürgen Müller <j.mueller+inv@mail.example.de>"),
              (Mailbox{"Jürgen Müller", "j.mueller+inv@mail.example.de"}));
    EXPECT_EQ(*ParseMailbox("ops@localhost"), (Mailbox{"", "ops@localhost"}));
}

TEST(MailAddress, RejectsBadAddressesNamingThem) {
    const std::vector<std::string> bad = {
        "",
        "jane",
        "@example.com",
        "jane@",
        "jane@@example.com",
        "ja ne@example.com",
        "j..d@example.com",
        ".j@example.com",
        "jane@-example.com",
        "jane@exa_mple.com",
        "jane@example..com",
        "Jane <jane@example.com",
        "Jane jane@example.com>",
        "jäne@example.com",
        "\"Jane <jane@example.com>",
        "Jane \"Q\" Doe <jane@example.com>",
    };
    for (const auto& text : bad) {
        const auto parsed = ParseMailbox(text);
        ASSERT_FALSE(parsed.has_value()) << text;
        EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << text;
        EXPECT_NE(parsed.error().message.find("invalid mail address \"" + PrintableForMessage(text) + "\""),
                  std::string::npos)
            << parsed.error().message;
    }
    EXPECT_NE(ParseMailbox("jäne@example.com").error().message.find("SMTPUTF8"), std::string::npos);
}

TEST(MailAddress, RejectsLineBreaksAndControlCharacters) {
    for (const std::string& text :
         std::vector<std::string>{"jane@example.com\r\nBcc: evil@example.net", "Jane\n <jane@example.com>",
                                  "jane@example.com\r", std::string("jane@exa\0mple.com", 17)}) {
        const auto parsed = ParseMailbox(text);
        ASSERT_FALSE(parsed.has_value()) << PrintableForMessage(text);
        EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
        // The error quotes the input with its control characters escaped, so it cannot forge log lines.
        EXPECT_EQ(parsed.error().message.find_first_of(std::string("\r\n\0", 3)), std::string::npos);
    }
    EXPECT_NE(ParseMailbox("a@b.c\r\nBcc: x@y.z").error().message.find("a@b.c\\r\\nBcc: x@y.z"),
              std::string::npos);
}

TEST(MailAddress, ValidatesLengthLimits) {
    EXPECT_TRUE(ValidateAddress(std::string(64, 'a') + "@example.com").has_value());
    EXPECT_FALSE(ValidateAddress(std::string(65, 'a') + "@example.com").has_value());
    EXPECT_FALSE(ValidateAddress("a@" + std::string(64, 'b') + ".com").has_value());
    EXPECT_FALSE(ValidateAddress("a@" + std::string(250, 'b')).has_value());
}

TEST(MailAddress, ParsesListsWithCommasAndSemicolons) {
    const auto list =
        ParseMailboxList("a@example.com, \"Doe, Jane\" <jane@example.com>; Bob <bob@example.com>,");
    ASSERT_TRUE(list.has_value()) << list.error().message;
    ASSERT_EQ(list->size(), 3U);
    EXPECT_EQ((*list)[0], (Mailbox{"", "a@example.com"}));
    EXPECT_EQ((*list)[1], (Mailbox{"Doe, Jane", "jane@example.com"}));
    EXPECT_EQ((*list)[2], (Mailbox{"Bob", "bob@example.com"}));
}

TEST(MailAddress, ListErrorsNameTheBadItem) {
    const auto list = ParseMailboxList("a@example.com, Doe, Jane <jane@example.com>");
    ASSERT_FALSE(list.has_value());
    EXPECT_NE(list.error().message.find("\" Doe\""), std::string::npos) << list.error().message;
    EXPECT_FALSE(ParseMailboxList(" , ").has_value());
    EXPECT_FALSE(ParseMailboxList("a@example.com,\r\nBcc: b@example.com").has_value());
}

TEST(MailAddress, FormatsDisplayNamesForHeaders) {
    auto joined = [](const std::vector<HeaderToken>& tokens) {
        std::string out;
        for (const auto& t : tokens) out += (t.space_before && !out.empty() ? " " : "") + t.text;
        return out;
    };
    EXPECT_EQ(joined(MailboxTokens({"", "a@example.com"})), "a@example.com");
    EXPECT_EQ(joined(MailboxTokens({"Jane  Doe", "a@example.com"})), "Jane Doe <a@example.com>");
    EXPECT_EQ(joined(MailboxTokens({"Doe, Jane", "a@example.com"})), "\"Doe, Jane\" <a@example.com>");
    EXPECT_EQ(joined(MailboxTokens({"say \"hi\"", "a@example.com"})), "\"say \\\"hi\\\"\" <a@example.com>");
    EXPECT_EQ(joined(MailboxTokens({"Jürgen Müller", "j@example.de"})),
              "=?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <j@example.de>");
    EXPECT_EQ(joined(MailboxListTokens({{"", "a@x.org"}, {"B", "b@x.org"}})), "a@x.org, B <b@x.org>");
}
