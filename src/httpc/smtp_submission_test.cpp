#include <gtest/gtest.h>

#include <filesystem>

#include "core/json.hpp"
#include "httpc/client.hpp"
#include "httpc/testing/child_process.hpp"

namespace spacehook::httpc {
namespace {

using std::chrono::milliseconds;
using testing::ChildProcess;
using testing::TempDir;

/// Debian's aiosmtpd with a handler from testdata/smtp_test_handler.py, on a port picked here.
class SmtpServer {
public:
    explicit SmtpServer(const std::string& handler) {
        auto port = testing::PickFreePort();
        if (!port) throw std::runtime_error(port.error().message);
        port_ = *port;
        auto child = ChildProcess::Start(
            {"/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(port_), "-c",
             "smtp_test_handler." + handler, dir_.path()},
            {{"PYTHONPATH", SPACEHOOK_HTTPC_TESTDATA}});
        if (!child) throw std::runtime_error(child.error().message);
        child_ = std::make_unique<ChildProcess>(std::move(*child));
        if (!testing::WaitForPort(port_, milliseconds(10000)))
            throw std::runtime_error("aiosmtpd did not start");
    }
    [[nodiscard]] std::string Url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] const std::string& dir() const { return dir_.path(); }

private:
    TempDir dir_;
    std::unique_ptr<ChildProcess> child_;
    std::uint16_t port_ = 0;
};

const std::string kMessage =
    "From: spacehook <bot@example.com>\r\n"
    "To: manager@example.com\r\n"
    "Subject: Invoice uploaded: Invoice-0042.docx\r\n"
    "Message-ID: <1.test@example.com>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "A new invoice arrived.\r\n"
    ".a line that starts with a dot must survive dot-stuffing\r\n"
    "..and one with two dots\r\n"
    "Последняя строка.\r\n";

MailSubmission Submission(const std::string& url) {
    MailSubmission mail;
    mail.smtp_url = url;
    mail.from = "bot@example.com";
    mail.recipients = {"manager@example.com", "<audit@example.com>"};
    mail.message = kMessage;
    mail.timeout = milliseconds(10000);
    return mail;
}

TEST(SendMail, DeliversTheMessageByteForByte) {
    SmtpServer server("SaveToDir");
    auto sent = SendMail(Submission(server.Url()));
    ASSERT_TRUE(sent) << sent.error().message;
    const auto eml = testing::WaitForFile(server.dir() + "/1.eml", milliseconds(5000));
    ASSERT_TRUE(eml);
    EXPECT_EQ(*eml, kMessage);
    const auto envelope = Json::parse(testing::ReadFile(server.dir() + "/1.json"));
    EXPECT_EQ(envelope["mail_from"], "bot@example.com");
    EXPECT_EQ(envelope["rcpt_tos"], Json::array({"manager@example.com", "audit@example.com"}));
}

TEST(SendMail, RejectedRecipientIsPermanentWithTheServersReply) {
    SmtpServer server("RejectRcpt");
    auto mail = Submission(server.Url());
    mail.username = "bot";
    mail.password = "smtp-password-123";
    mail.allow_plaintext_auth = true;  // this server offers no STARTTLS; the test allows the password anyway
    auto sent = SendMail(mail);
    ASSERT_FALSE(sent);
    EXPECT_EQ(sent.error().code, ErrorCode::kPermanent) << sent.error().message;
    EXPECT_NE(sent.error().message.find("550 5.1.1"), std::string::npos) << sent.error().message;
    EXPECT_NE(sent.error().message.find("User unknown"), std::string::npos) << sent.error().message;
    EXPECT_EQ(sent.error().message.find("smtp-password-123"), std::string::npos) << sent.error().message;
    EXPECT_FALSE(std::filesystem::exists(server.dir() + "/1.eml"));
}

TEST(SendMail, TemporaryRefusalIsTransient) {
    SmtpServer server("Busy");
    auto sent = SendMail(Submission(server.Url()));
    ASSERT_FALSE(sent);
    EXPECT_EQ(sent.error().code, ErrorCode::kUnavailable) << sent.error().message;
    EXPECT_TRUE(sent.error().IsTransient());
    EXPECT_NE(sent.error().message.find("451 4.7.1"), std::string::npos) << sent.error().message;
}

TEST(SendMail, RequiredStartTlsThatTheServerLacksIsPermanent) {
    SmtpServer server("SaveToDir");
    auto mail = Submission(server.Url());
    mail.require_starttls = true;
    auto sent = SendMail(mail);
    ASSERT_FALSE(sent);
    EXPECT_EQ(sent.error().code, ErrorCode::kPermanent) << sent.error().message;
    EXPECT_NE(sent.error().message.find("STARTTLS"), std::string::npos) << sent.error().message;
    EXPECT_FALSE(std::filesystem::exists(server.dir() + "/1.eml"));
}

TEST(SendMail, ConnectionRefusedIsTransient) {
    auto port = testing::PickFreePort();
    ASSERT_TRUE(port);
    auto sent = SendMail(Submission("smtp://user:pw-in-url@127.0.0.1:" + std::to_string(*port)));
    ASSERT_FALSE(sent);
    EXPECT_EQ(sent.error().code, ErrorCode::kUnavailable) << sent.error().message;
    EXPECT_EQ(sent.error().message.find("pw-in-url"), std::string::npos) << sent.error().message;
}

TEST(SendMail, RejectsANonSmtpUrl) {
    auto sent = SendMail(Submission("http://127.0.0.1:25"));
    ASSERT_FALSE(sent);
    EXPECT_EQ(sent.error().code, ErrorCode::kConfig);
}

/// testdata/smtp_auth_server.py: AUTH required for user "bot" with password "smtp-password-123"; each
/// attempt is logged to auth.log.
class AuthSmtpServer {
public:
    AuthSmtpServer() {
        auto port = testing::PickFreePort();
        if (!port) throw std::runtime_error(port.error().message);
        port_ = *port;
        auto child = ChildProcess::Start({"/usr/bin/python3",
                                          std::string(SPACEHOOK_HTTPC_TESTDATA) + "/smtp_auth_server.py",
                                          std::to_string(port_), "bot", "smtp-password-123", Log()});
        if (!child) throw std::runtime_error(child.error().message);
        child_ = std::make_unique<ChildProcess>(std::move(*child));
        if (!testing::WaitForPort(port_, milliseconds(10000)))
            throw std::runtime_error("the SMTP server did not start");
    }
    [[nodiscard]] std::string Url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] std::string Log() const { return dir_.path() + "/auth.log"; }
    [[nodiscard]] std::string Attempts() const {
        return std::filesystem::exists(Log()) ? testing::ReadFile(Log()) : "";
    }

private:
    TempDir dir_;
    std::unique_ptr<ChildProcess> child_;
    std::uint16_t port_ = 0;
};

TEST(CheckSmtpLogin, LogsInAndSendsNothing) {
    AuthSmtpServer server;
    auto mail = Submission(server.Url());
    mail.username = "bot";
    mail.password = "smtp-password-123";
    mail.allow_plaintext_auth = true;  // the test server offers no STARTTLS
    auto checked = CheckSmtpLogin(mail);
    ASSERT_TRUE(checked) << checked.error().message;
    EXPECT_NE(server.Attempts().find(" ok"), std::string::npos) << server.Attempts();
}

TEST(CheckSmtpLogin, WithoutStartTlsThePasswordIsNotSentUnlessAllowed) {
    AuthSmtpServer server;
    auto mail = Submission(server.Url());
    mail.username = "bot";
    mail.password = "smtp-password-123";
    auto checked = CheckSmtpLogin(mail);
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().code, ErrorCode::kConfig) << checked.error().message;
    EXPECT_NE(checked.error().message.find("allow_plaintext_auth"), std::string::npos)
        << checked.error().message;
    EXPECT_EQ(checked.error().message.find("smtp-password-123"), std::string::npos);
    EXPECT_EQ(server.Attempts().find(" ok"), std::string::npos) << server.Attempts();
}

TEST(CheckSmtpLogin, ARefusedLoginIsPermanentWithTheServersReplyAndNoPassword) {
    AuthSmtpServer server;
    auto mail = Submission(server.Url());
    mail.username = "bot";
    mail.password = "wrong-password-456";
    mail.allow_plaintext_auth = true;
    auto checked = CheckSmtpLogin(mail);
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().code, ErrorCode::kPermanent) << checked.error().message;
    EXPECT_NE(checked.error().message.find("535"), std::string::npos) << checked.error().message;
    EXPECT_EQ(checked.error().message.find("wrong-password-456"), std::string::npos)
        << checked.error().message;
    EXPECT_NE(server.Attempts().find("refused"), std::string::npos) << server.Attempts();
}

TEST(CheckSmtpLogin, NoServerIsTransient) {
    auto port = testing::PickFreePort();
    ASSERT_TRUE(port);
    auto checked = CheckSmtpLogin(Submission("smtp://127.0.0.1:" + std::to_string(*port)));
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().code, ErrorCode::kUnavailable) << checked.error().message;
}

}  // namespace
}  // namespace spacehook::httpc
