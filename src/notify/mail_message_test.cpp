#include "notify/mail_message.hpp"

#include <gtest/gtest.h>

#include "notify/mime_encoding.hpp"

using namespace spacehook;
using namespace spacehook::notify;

namespace {

const TimePoint kNow = FromUnixMillis(1795422287000);  // Mon, 23 Nov 2026 08:24:47 UTC

MailMessage InvoiceMail() {
    MailMessage m;
    m.from = "spacehook <bot@example.com>";
    m.to = {"manager@example.com"};
    m.subject = "Invoice uploaded: invoice-7.pdf";
    m.text_body = "Hello,\nthe invoice is in Incoming.\n";
    m.message_id_seed = "run-1/2";
    return m;
}

std::vector<std::string> HeaderLines(const std::string& data) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (true) {
        const auto end = data.find("\r\n", start);
        if (end == std::string::npos || end == start) break;  // blank line: end of the header block
        lines.push_back(data.substr(start, end - start));
        start = end + 2;
    }
    return lines;
}

// True when some header line (not a continuation) starts with `name:`.
bool HasHeader(const std::string& data, const std::string& name) {
    for (const auto& line : HeaderLines(data)) {
        if (line.size() > name.size() && line.compare(0, name.size() + 1, name + ":") == 0) return true;
    }
    return false;
}

}  // namespace

TEST(MailMessage, PlainTextMailExactBytes) {
    const auto mail = ComposeMail(InvoiceMail(), kNow);
    ASSERT_TRUE(mail.has_value()) << mail.error().message;
    EXPECT_EQ(mail->message_id, "<sh.6c7ce67a23e8379cb01d574e7fadcac5@example.com>");
    EXPECT_EQ(mail->envelope_from, "bot@example.com");
    EXPECT_EQ(mail->recipients, std::vector<std::string>{"manager@example.com"});
    EXPECT_EQ(mail->data,
              "Date: Mon, 23 Nov 2026 08:24:47 +0000\r\n"
              "From: spacehook <bot@example.com>\r\n"
              "To: manager@example.com\r\n"
              "Subject: Invoice uploaded: invoice-7.pdf\r\n"
              "Message-ID: <sh.6c7ce67a23e8379cb01d574e7fadcac5@example.com>\r\n"
              "MIME-Version: 1.0\r\n"
              "Content-Type: text/plain; charset=UTF-8\r\n"
              "Content-Transfer-Encoding: quoted-printable\r\n"
              "\r\n"
              "Hello,\r\n"
              "the invoice is in Incoming.\r\n");
}

TEST(MailMessage, HtmlMailIsMultipartAlternativeExactBytes) {
    MailMessage m = InvoiceMail();
    m.cc = {"Jürgen Müller <j@example.de>, audit@example.com"};
    m.reply_to = "Office <office@example.com>";
    m.html_body = "<p>The invoice is in <b>Incoming</b>.</p>";
    m.date = FromUnixMillis(1795422287000 + 3000);
    const auto mail = ComposeMail(m, kNow);
    ASSERT_TRUE(mail.has_value()) << mail.error().message;
    EXPECT_EQ(mail->recipients,
              (std::vector<std::string>{"manager@example.com", "j@example.de", "audit@example.com"}));
    EXPECT_EQ(mail->data,
              "Date: Mon, 23 Nov 2026 08:24:50 +0000\r\n"
              "From: spacehook <bot@example.com>\r\n"
              "To: manager@example.com\r\n"
              "Cc: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <j@example.de>, audit@example.com\r\n"
              "Reply-To: Office <office@example.com>\r\n"
              "Subject: Invoice uploaded: invoice-7.pdf\r\n"
              "Message-ID: <sh.6c7ce67a23e8379cb01d574e7fadcac5@example.com>\r\n"
              "MIME-Version: 1.0\r\n"
              "Content-Type: multipart/alternative;\r\n"
              " boundary=\"=_sh_67b64e4afb70ad6f3637e2d0\"\r\n"
              "\r\n"
              "--=_sh_67b64e4afb70ad6f3637e2d0\r\n"
              "Content-Type: text/plain; charset=UTF-8\r\n"
              "Content-Transfer-Encoding: quoted-printable\r\n"
              "\r\n"
              "Hello,\r\n"
              "the invoice is in Incoming.\r\n"
              "\r\n"
              "--=_sh_67b64e4afb70ad6f3637e2d0\r\n"
              "Content-Type: text/html; charset=UTF-8\r\n"
              "Content-Transfer-Encoding: quoted-printable\r\n"
              "\r\n"
              "<p>The invoice is in <b>Incoming</b>.</p>\r\n"
              "--=_sh_67b64e4afb70ad6f3637e2d0--\r\n");
}

TEST(MailMessage, NonAsciiSubjectIsEncoded) {
    MailMessage m = InvoiceMail();
    m.subject = "Счёт загружен: Grüße.pdf";
    const auto mail = ComposeMail(m, kNow);
    ASSERT_TRUE(mail.has_value());
    EXPECT_NE(
        mail->data.find("\r\nSubject: =?UTF-8?B?" + EncodeBase64("Счёт загружен: Grüße.pdf") + "?=\r\n"),
        std::string::npos)
        << mail->data;
}

TEST(MailMessage, LongSubjectsFoldWithinSeventySixColumns) {
    MailMessage m = InvoiceMail();
    m.subject = "Weekly compliance digest: 14 files changed in Compliance/Policies by three people this week";
    auto mail = ComposeMail(m, kNow);
    ASSERT_TRUE(mail.has_value());
    EXPECT_NE(mail->data.find("Subject: Weekly compliance digest: 14 files changed in Compliance/Policies\r\n"
                              " by three people this week\r\n"),
              std::string::npos)
        << mail->data;

    std::string long_utf8;
    for (int i = 0; i < 12; ++i) long_utf8 += "Отчёт по проекту ";
    m.subject = long_utf8;
    mail = ComposeMail(m, kNow);
    ASSERT_TRUE(mail.has_value());
    const auto lines = HeaderLines(mail->data);
    std::size_t subject_lines = 0;
    bool in_subject = false;
    for (const auto& line : lines) {
        EXPECT_LE(line.size(), kMaxHeaderLine) << line;
        if (line.rfind("Subject: =?UTF-8?B?", 0) == 0) {
            in_subject = true;
        } else if (in_subject && line.rfind(" =?UTF-8?B?", 0) == 0) {
            ++subject_lines;
        } else {
            in_subject = false;
        }
    }
    EXPECT_GE(subject_lines, 4U);

    // A single word longer than a line (a URL) cannot fold at a space: it is carried as encoded-words.
    m.subject = "See https://portal.example.com/rooms/shared/filter?folder=123456&subfolder=789012&page=3";
    mail = ComposeMail(m, kNow);
    ASSERT_TRUE(mail.has_value());
    for (const auto& line : HeaderLines(mail->data)) EXPECT_LE(line.size(), kMaxHeaderLine) << line;
    EXPECT_NE(mail->data.find("Subject: =?UTF-8?Q?See_https"), std::string::npos) << mail->data;
}

TEST(MailMessage, SubjectLineBreaksCannotInjectHeaders) {
    MailMessage m = InvoiceMail();
    m.subject = "Invoice\r\nBcc: thief@example.net\nX-Evil: 1";
    const auto mail = ComposeMail(m, kNow);
    ASSERT_TRUE(mail.has_value());
    EXPECT_FALSE(HasHeader(mail->data, "Bcc"));
    EXPECT_FALSE(HasHeader(mail->data, "X-Evil"));
    EXPECT_NE(mail->data.find("Subject: Invoice  Bcc: thief@example.net X-Evil: 1\r\n"), std::string::npos);
    EXPECT_EQ(mail->recipients, std::vector<std::string>{"manager@example.com"});
}

TEST(MailMessage, AddressLineBreaksAreRejected) {
    const std::string injection = "\r\nBcc: thief@example.net";
    for (int field = 0; field < 4; ++field) {
        MailMessage m = InvoiceMail();
        if (field == 0) m.from += injection;
        if (field == 1) m.to[0] += injection;
        if (field == 2) m.cc = {"Ann" + injection + " <ann@example.com>"};
        if (field == 3) m.reply_to = "office@example.com" + injection;
        const auto mail = ComposeMail(m, kNow);
        ASSERT_FALSE(mail.has_value()) << field;
        EXPECT_EQ(mail.error().code, ErrorCode::kInvalidArgument);
        EXPECT_NE(mail.error().message.find("line break"), std::string::npos) << mail.error().message;
    }
}

TEST(MailMessage, EveryLineEndIsCrlfAndNoLineIsTooLong) {
    MailMessage m = InvoiceMail();
    m.text_body = std::string(300, 'x') + "\n.\r..\rend";
    m.html_body = "<p>" + std::string(500, 'y') + "</p>\n";
    const auto mail = ComposeMail(m, kNow);
    ASSERT_TRUE(mail.has_value());
    const std::string& d = mail->data;
    for (std::size_t i = 0; i < d.size(); ++i) {
        if (d[i] == '\n') {
            ASSERT_TRUE(i > 0 && d[i - 1] == '\r') << i;
        }
        if (d[i] == '\r') {
            ASSERT_TRUE(i + 1 < d.size() && d[i + 1] == '\n') << i;
        }
    }
    std::size_t start = 0;
    while (start < d.size()) {
        const auto end = d.find("\r\n", start);
        EXPECT_LE(end - start, 76U);
        EXPECT_NE(d[start], '.');  // nothing for SMTP to stuff: the body never starts a line with a dot
        start = end + 2;
    }
}

TEST(MailMessage, MessageIdIsDeterministicForASeedAndRandomWithout) {
    const auto a = ComposeMail(InvoiceMail(), kNow);
    const auto b = ComposeMail(InvoiceMail(), kNow + std::chrono::hours(5));
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->message_id, b->message_id);
    EXPECT_EQ(MessageIdFromSeed("run-1/2", "example.com"), a->message_id);
    EXPECT_NE(MessageIdFromSeed("run-1/3", "example.com"), a->message_id);

    MailMessage unseeded = InvoiceMail();
    unseeded.message_id_seed.clear();
    const auto c = ComposeMail(unseeded, kNow);
    const auto d = ComposeMail(unseeded, kNow);
    ASSERT_TRUE(c && d);
    EXPECT_NE(c->message_id, d->message_id);
    EXPECT_EQ(c->message_id.rfind("<sh.", 0), 0U);
    EXPECT_EQ(c->message_id.size(), std::string("<sh.@example.com>").size() + 32);
}

TEST(MailMessage, RecipientsAreDeduplicated) {
    MailMessage m = InvoiceMail();
    m.to = {"manager@example.com, Boss <boss@example.com>"};
    m.cc = {"manager@example.com"};
    const auto mail = ComposeMail(m, kNow);
    ASSERT_TRUE(mail.has_value());
    EXPECT_EQ(mail->recipients, (std::vector<std::string>{"manager@example.com", "boss@example.com"}));
}

TEST(MailMessage, RejectsMissingOrMultipleSenderAndNoRecipients) {
    MailMessage m = InvoiceMail();
    m.from.clear();
    EXPECT_EQ(ComposeMail(m, kNow).error().code, ErrorCode::kInvalidArgument);
    m.from = "a@example.com, b@example.com";
    EXPECT_NE(ComposeMail(m, kNow).error().message.find("one mailbox"), std::string::npos);
    m = InvoiceMail();
    m.to.clear();
    EXPECT_NE(ComposeMail(m, kNow).error().message.find("no recipients"), std::string::npos);
    m.cc = {"x@example.com"};
    EXPECT_TRUE(ComposeMail(m, kNow).has_value());
    m.to = {"not an address"};
    const auto bad = ComposeMail(m, kNow);
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.error().message.find("\"not an address\""), std::string::npos) << bad.error().message;
}

TEST(MailMessage, HtmlOnlyMailIsASingleHtmlPart) {
    MailMessage m = InvoiceMail();
    m.text_body.clear();
    m.html_body = "<p>hi</p>";
    const auto mail = ComposeMail(m, kNow);
    ASSERT_TRUE(mail.has_value());
    EXPECT_EQ(mail->data.find("multipart"), std::string::npos);
    EXPECT_NE(mail->data.find("Content-Type: text/html; charset=UTF-8\r\n"
                              "Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>hi</p>\r\n"),
              std::string::npos);
}
