// SmtpMailer against a real SMTP server: Debian's aiosmtpd with testdata/smtp_sink.py, which also reads
// every message back with Python's own mail parser.
#include "notify/smtp_mailer.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "core/json.hpp"
#include "core/log.hpp"
#include "httpc/testing/child_process.hpp"

namespace spacehook::notify {
namespace {

using std::chrono::milliseconds;
namespace testing = httpc::testing;

const TimePoint kNow = FromUnixMillis(1795422287000);

class SmtpSink {
public:
    SmtpSink() {
        auto port = testing::PickFreePort();
        if (!port) throw std::runtime_error(port.error().message);
        port_ = *port;
        auto child = testing::ChildProcess::Start(
            {"/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(port_), "-c",
             "smtp_sink.ParsingSink", dir_.path()},
            {{"PYTHONPATH", SPACEHOOK_NOTIFY_TESTDATA}});
        if (!child) throw std::runtime_error(child.error().message);
        child_ = std::make_unique<testing::ChildProcess>(std::move(*child));
        if (!testing::WaitForPort(port_, milliseconds(10000)))
            throw std::runtime_error("aiosmtpd did not start");
    }
    [[nodiscard]] std::string Url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] std::string Path(int n, const char* ext) const {
        return dir_.path() + "/" + std::to_string(n) + ext;
    }
    [[nodiscard]] Json Record(int n) const {
        // Written before the server answered 250, so it is there once Send returned.
        return Json::parse(testing::ReadFile(Path(n, ".json")));
    }

private:
    testing::TempDir dir_;
    std::unique_ptr<testing::ChildProcess> child_;
    std::uint16_t port_ = 0;
};

// AUTH offered over plain text, no STARTTLS: testdata/smtp_auth_sink.py, which records every credential it
// is sent (DIR/auth.jsonl).
class PlainAuthSink {
public:
    PlainAuthSink() {
        auto port = testing::PickFreePort();
        if (!port) throw std::runtime_error(port.error().message);
        port_ = *port;
        auto child = testing::ChildProcess::Start(
            {"/usr/bin/python3", std::string(SPACEHOOK_NOTIFY_TESTDATA) + "/smtp_auth_sink.py",
             std::to_string(port_), dir_.path()},
            {{"PYTHONPATH", SPACEHOOK_NOTIFY_TESTDATA}});
        if (!child) throw std::runtime_error(child.error().message);
        child_ = std::make_unique<testing::ChildProcess>(std::move(*child));
        if (!testing::WaitForPort(port_, milliseconds(10000)))
            throw std::runtime_error("smtp_auth_sink.py did not start");
    }
    [[nodiscard]] std::string Url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] std::string AuthLog() const { return dir_.path() + "/auth.jsonl"; }
    [[nodiscard]] std::string Message(int n) const { return dir_.path() + "/" + std::to_string(n) + ".eml"; }

private:
    testing::TempDir dir_;
    std::unique_ptr<testing::ChildProcess> child_;
    std::uint16_t port_ = 0;
};

SmtpOptions Options(const std::string& url) {
    SmtpOptions options;
    options.url = url;
    options.from = "spacehook <bot@example.com>";
    options.timeout = milliseconds(10000);
    return options;
}

std::string Lf(std::string text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
        out += text[i];
    }
    return out;
}

// Every defect list Python's parser filled, flattened; empty for a well-formed message.
std::vector<std::string> Defects(const Json& parsed) {
    std::vector<std::string> all;
    for (const auto& d : parsed["defects"]) all.push_back(d.get<std::string>());
    for (const auto& part : parsed["parts"]) {
        for (const auto& d : part["defects"]) all.push_back(d.get<std::string>());
    }
    if (parsed["headers"].contains("_header_defects")) {
        for (const auto& d : parsed["headers"]["_header_defects"]) all.push_back(d.get<std::string>());
    }
    return all;
}

MailMessage RichMail() {
    MailMessage m;
    m.to = {"Jürgen Müller <j.mueller@example.de>", "\"Doe, Jane\" <jane@example.com>"};
    m.cc = {"audit@example.com; Ольга Петрова <olga@example.ru>"};
    m.reply_to = "Office <office@example.com>";
    m.subject =
        "Счёт загружен: Rechnung Nr. 42 für Café Müller — bitte prüfen, es ist dringend und eilt sehr";
    m.text_body = "Hello,\n.\n..two dots\n.leading dot\n" + std::string(120, 'x') +
                  "\nline with trailing space \nПривет!\n";
    m.html_body = "<p>The invoice is in <b>Incoming</b> &mdash; = 100 &euro;</p>";
    m.message_id_seed = "invoice-intake:file-42/2";
    return m;
}

TEST(SmtpMailer, DeliversAMailThatAnIndependentParserReadsBack) {
    SmtpSink sink;
    ManualClock clock(kNow);
    auto mailer = SmtpMailer::Create(Options(sink.Url()), clock);
    ASSERT_TRUE(mailer.has_value()) << mailer.error().message;
    const MailMessage m = RichMail();
    const auto receipt = (*mailer)->Send(m);
    ASSERT_TRUE(receipt.has_value()) << receipt.error().message;
    EXPECT_EQ(receipt->message_id, MessageIdFromSeed("invoice-intake:file-42/2", "example.com"));
    EXPECT_EQ(receipt->recipients, 4U);

    // Byte for byte what ComposeMail built: nothing lost or doubled in SMTP's dot-stuffing.
    MailMessage expected_input = m;
    expected_input.from = "spacehook <bot@example.com>";
    EXPECT_EQ(testing::ReadFile(sink.Path(1, ".eml")), ComposeMail(expected_input, kNow)->data);

    const Json record = sink.Record(1);
    EXPECT_EQ(record["mail_from"], "bot@example.com");
    EXPECT_EQ(record["rcpt_tos"], Json::array({"j.mueller@example.de", "jane@example.com",
                                               "audit@example.com", "olga@example.ru"}));
    ASSERT_TRUE(record.contains("parsed")) << record.dump();
    const Json& parsed = record["parsed"];
    EXPECT_EQ(Defects(parsed), std::vector<std::string>{});
    EXPECT_EQ(parsed["subject"], m.subject);
    EXPECT_EQ(parsed["message_id"], receipt->message_id);
    EXPECT_EQ(parsed["headers"]["Date"], Json::array({"Mon, 23 Nov 2026 08:24:47 +0000"}));
    EXPECT_EQ(parsed["headers"]["MIME-Version"], Json::array({"1.0"}));
    EXPECT_EQ(parsed["from"], Json::parse(R"([{"name":"spacehook","address":"bot@example.com"}])"));
    EXPECT_EQ(parsed["to"], Json::parse(R"([{"name":"Jürgen Müller","address":"j.mueller@example.de"},
                                            {"name":"Doe, Jane","address":"jane@example.com"}])"));
    EXPECT_EQ(parsed["cc"], Json::parse(R"([{"name":"","address":"audit@example.com"},
                                            {"name":"Ольга Петрова","address":"olga@example.ru"}])"));
    EXPECT_EQ(parsed["reply_to"], Json::parse(R"([{"name":"Office","address":"office@example.com"}])"));
    EXPECT_EQ(parsed["content_type"], "multipart/alternative");
    ASSERT_EQ(parsed["parts"].size(), 2U);
    EXPECT_EQ(parsed["parts"][0]["content_type"], "text/plain");
    EXPECT_EQ(parsed["parts"][0]["charset"], "utf-8");
    EXPECT_EQ(Lf(parsed["parts"][0]["text"].get<std::string>()), m.text_body);
    EXPECT_EQ(parsed["parts"][1]["content_type"], "text/html");
    EXPECT_EQ(Lf(parsed["parts"][1]["text"].get<std::string>()), *m.html_body);
}

TEST(SmtpMailer, ASecondSendWithTheSameSeedCarriesTheSameMessageId) {
    SmtpSink sink;
    ManualClock clock(kNow);
    auto mailer = SmtpMailer::Create(Options(sink.Url()), clock);
    ASSERT_TRUE(mailer.has_value());
    MailMessage m = RichMail();
    m.html_body.reset();
    ASSERT_TRUE((*mailer)->Send(m).has_value());
    clock.Advance(std::chrono::minutes(3));  // the runner retries a step after a crash
    ASSERT_TRUE((*mailer)->Send(m).has_value());
    EXPECT_EQ(sink.Record(1)["parsed"]["message_id"], sink.Record(2)["parsed"]["message_id"]);
    EXPECT_NE(sink.Record(1)["parsed"]["headers"]["Date"], sink.Record(2)["parsed"]["headers"]["Date"]);
}

TEST(SmtpMailer, RejectedRecipientIsPermanentAndSecretsStayOutOfLogsAndErrors) {
    SmtpSink sink;
    std::FILE* log_file = std::tmpfile();
    ASSERT_NE(log_file, nullptr);
    log::Configure(log::Level::kDebug, log::Format::kJson, log_file);
    // The sink offers no STARTTLS: credentials over plain text only because this test allows it by name.
    SmtpOptions options = Options("smtp://bot:Sm7p-pa55word@" + sink.Url().substr(7));
    options.allow_plaintext_auth = true;
    auto mailer = SmtpMailer::Create(std::move(options));
    ASSERT_TRUE(mailer.has_value()) << mailer.error().message;
    MailMessage m = RichMail();
    m.to = {"reject5@example.com"};
    m.cc.clear();
    const auto sent = (*mailer)->Send(m);
    ASSERT_FALSE(sent.has_value());
    EXPECT_EQ(sent.error().code, ErrorCode::kPermanent) << sent.error().message;
    EXPECT_FALSE(sent.error().IsTransient());
    EXPECT_NE(sent.error().message.find("550"), std::string::npos) << sent.error().message;
    EXPECT_NE(sent.error().message.find(MessageIdFromSeed(m.message_id_seed, "example.com")),
              std::string::npos);
    EXPECT_EQ(sent.error().message.find("Sm7p-pa55word"), std::string::npos) << sent.error().message;
    EXPECT_FALSE(std::filesystem::exists(sink.Path(1, ".eml")));

    std::fflush(log_file);
    std::rewind(log_file);
    std::string logged;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, log_file)) > 0;) logged.append(buffer, n);
    log::Configure(log::Level::kInfo, log::Format::kText, stderr);
    std::fclose(log_file);
    EXPECT_NE(logged.find("mail not sent"), std::string::npos) << logged;
    EXPECT_NE(logged.find("\"recipients\":1"), std::string::npos) << logged;
    EXPECT_EQ(logged.find("Sm7p-pa55word"), std::string::npos) << logged;
    EXPECT_EQ(logged.find("two dots"), std::string::npos) << logged;  // no bodies in logs
}

// Opportunistic STARTTLS (the default) must not mean "AUTH in the open when the server leaves STARTTLS
// out": a server that offers AUTH but no STARTTLS gets no password, and the error says what to change.
TEST(SmtpMailer, ThePasswordIsNeverSentWithoutTls) {
    PlainAuthSink sink;
    SmtpOptions options = Options(sink.Url());
    options.username = "bot";
    options.password = "Sm7p-pa55word";
    auto mailer = SmtpMailer::Create(std::move(options));
    ASSERT_TRUE(mailer.has_value()) << mailer.error().message;
    const auto sent = (*mailer)->Send(RichMail());
    EXPECT_FALSE(std::filesystem::exists(sink.AuthLog()))
        << "credentials went out in clear text: " << testing::ReadFile(sink.AuthLog());
    ASSERT_FALSE(sent.has_value()) << "mail sent over plain text with a password";
    EXPECT_EQ(sent.error().code, ErrorCode::kConfig) << sent.error().message;
    EXPECT_NE(sent.error().message.find("STARTTLS"), std::string::npos) << sent.error().message;
    EXPECT_NE(sent.error().message.find("allow_plaintext_auth"), std::string::npos) << sent.error().message;
    EXPECT_EQ(sent.error().message.find("Sm7p-pa55word"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(sink.Message(1)));

    // Without credentials opportunistic STARTTLS stays what it was: the mail goes, in clear text.
    auto anonymous = SmtpMailer::Create(Options(sink.Url()));
    ASSERT_TRUE(anonymous.has_value());
    EXPECT_TRUE((*anonymous)->Send(RichMail()).has_value());
    EXPECT_FALSE(std::filesystem::exists(sink.AuthLog()));
}

TEST(SmtpMailer, AllowPlaintextAuthSendsThePasswordWhenTheConfigSaysSo) {
    PlainAuthSink sink;
    SmtpOptions options = Options(sink.Url());
    options.username = "bot";
    options.password = "Sm7p-pa55word";
    options.allow_plaintext_auth = true;
    auto mailer = SmtpMailer::Create(std::move(options));
    ASSERT_TRUE(mailer.has_value());
    const auto sent = (*mailer)->Send(RichMail());
    ASSERT_TRUE(sent.has_value()) << sent.error().message;
    const Json auth = Json::parse(testing::ReadFile(sink.AuthLog()));
    EXPECT_EQ(auth["login"], "bot");
    EXPECT_EQ(auth["password"], "Sm7p-pa55word");
    EXPECT_TRUE(std::filesystem::exists(sink.Message(1)));
}

TEST(SmtpMailer, TemporaryRefusalIsTransient) {
    SmtpSink sink;
    auto mailer = SmtpMailer::Create(Options(sink.Url()));
    ASSERT_TRUE(mailer.has_value());
    MailMessage m = RichMail();
    m.to = {"reject4@example.com"};
    const auto sent = (*mailer)->Send(m);
    ASSERT_FALSE(sent.has_value());
    EXPECT_EQ(sent.error().code, ErrorCode::kUnavailable) << sent.error().message;
    EXPECT_TRUE(sent.error().IsTransient());
    EXPECT_NE(sent.error().message.find("451"), std::string::npos) << sent.error().message;
}

TEST(SmtpMailer, ServerDownIsTransient) {
    const auto port = testing::PickFreePort();
    ASSERT_TRUE(port.has_value());
    auto mailer = SmtpMailer::Create(Options("smtp://127.0.0.1:" + std::to_string(*port)));
    ASSERT_TRUE(mailer.has_value());
    const auto sent = (*mailer)->Send(RichMail());
    ASSERT_FALSE(sent.has_value());
    EXPECT_TRUE(sent.error().IsTransient()) << sent.error().message;
}

TEST(SmtpMailer, InvalidAddressFailsBeforeAnyConnection) {
    const auto port = testing::PickFreePort();
    ASSERT_TRUE(port.has_value());
    auto mailer = SmtpMailer::Create(Options("smtp://127.0.0.1:" + std::to_string(*port)));
    ASSERT_TRUE(mailer.has_value());
    MailMessage m = RichMail();
    m.cc = {"Ann <ann@example.com>\nBcc: thief@example.net"};
    const auto sent = (*mailer)->Send(m);
    ASSERT_FALSE(sent.has_value());
    EXPECT_EQ(sent.error().code, ErrorCode::kInvalidArgument) << sent.error().message;
}

}  // namespace
}  // namespace spacehook::notify
