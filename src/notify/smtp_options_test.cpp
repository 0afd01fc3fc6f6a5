#include <gtest/gtest.h>

#include "core/log.hpp"
#include "notify/smtp_mailer.hpp"

using namespace spacehook;
using namespace spacehook::notify;

namespace {

SmtpOptions Options(std::string url) {
    SmtpOptions options;
    options.url = std::move(url);
    options.from = "spacehook <bot@example.com>";
    return options;
}

}  // namespace

TEST(SmtpOptions, AcceptsSmtpAndSmtpsUrls) {
    auto plain = SmtpMailer::Create(Options("smtp://mail.example.com:587"));
    ASSERT_TRUE(plain.has_value()) << plain.error().message;
    EXPECT_EQ((*plain)->url(), "smtp://mail.example.com:587");
    EXPECT_TRUE(SmtpMailer::Create(Options("smtps://mail.example.com")).has_value());
}

TEST(SmtpOptions, MovesCredentialsOutOfTheUrlAndRegistersThePassword) {
    auto mailer =
        SmtpMailer::Create(Options("smtp://bot%40example.com:p%3Ass-w0rd-xyz@mail.example.com:587"));
    ASSERT_TRUE(mailer.has_value()) << mailer.error().message;
    EXPECT_EQ((*mailer)->url(), "smtp://mail.example.com:587");
    EXPECT_EQ(log::Redact("login with p:ss-w0rd-xyz failed"), "login with [redacted] failed");
}

TEST(SmtpOptions, RejectsBadConfigurationAsConfigErrors) {
    for (const std::string url : {"http://mail.example.com", "mail.example.com:25", "smtp://",
                                  "smtp://user:pw@", "smtp://us%zzer:pw@host"}) {
        auto mailer = SmtpMailer::Create(Options(url));
        ASSERT_FALSE(mailer.has_value()) << url;
        EXPECT_EQ(mailer.error().code, ErrorCode::kConfig) << url;
    }
    SmtpOptions no_from = Options("smtp://mail.example.com");
    no_from.from.clear();
    EXPECT_NE(SmtpMailer::Create(no_from).error().message.find("MAIL_FROM"), std::string::npos);
    SmtpOptions two_senders = Options("smtp://mail.example.com");
    two_senders.from = "a@example.com, b@example.com";
    EXPECT_EQ(SmtpMailer::Create(two_senders).error().code, ErrorCode::kConfig);
    EXPECT_EQ(SmtpMailer::Create(two_senders).error().message,
              "MAIL_FROM must be one address: \"a@example.com, b@example.com\"");
    SmtpOptions bad_sender = Options("smtp://mail.example.com");
    bad_sender.from = "spacehook <bot@>";
    const auto bad = SmtpMailer::Create(bad_sender);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, ErrorCode::kConfig);
    EXPECT_NE(bad.error().message.find("bot@"), std::string::npos) << bad.error().message;
}
