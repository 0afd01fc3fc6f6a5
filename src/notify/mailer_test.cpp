#include "notify/mailer.hpp"

#include <gtest/gtest.h>

using namespace spacehook;
using namespace spacehook::notify;

namespace {

MailMessage Welcome() {
    MailMessage m;
    m.to = {"Jane Doe <jane@example.com>"};
    m.subject = "Welcome";
    m.text_body = "Your room is ready.";
    m.message_id_seed = "run-9/4";
    return m;
}

}  // namespace

TEST(RecordingMailer, ComposesWithTheDefaultSenderAndKeepsTheMail) {
    ManualClock clock(FromUnixMillis(1795422287000));
    RecordingMailer mailer("spacehook <bot@example.com>", clock);
    const auto receipt = mailer.Send(Welcome());
    ASSERT_TRUE(receipt.has_value()) << receipt.error().message;
    EXPECT_EQ(receipt->message_id, MessageIdFromSeed("run-9/4", "example.com"));
    EXPECT_EQ(receipt->recipients, 1U);
    const auto sent = mailer.Sent();
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_EQ(sent[0].envelope_from, "bot@example.com");
    EXPECT_EQ(sent[0].recipients, std::vector<std::string>{"jane@example.com"});
    EXPECT_EQ(sent[0].data.rfind(
                  "Date: Mon, 23 Nov 2026 08:24:47 +0000\r\nFrom: spacehook <bot@example.com>\r\n", 0),
              0U);
}

TEST(RecordingMailer, QueuedFailuresComeFirstThenSendsSucceed) {
    RecordingMailer mailer("bot@example.com");
    mailer.FailNext(Error{ErrorCode::kUnavailable, "451 try later", 0, std::nullopt});
    const auto first = mailer.Send(Welcome());
    ASSERT_FALSE(first.has_value());
    EXPECT_TRUE(first.error().IsTransient());
    EXPECT_TRUE(mailer.Sent().empty());
    const auto second = mailer.Send(Welcome());
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(mailer.Sent().size(), 1U);
}

TEST(RecordingMailer, BadAddressesFailAsTheRealMailerWould) {
    RecordingMailer mailer("bot@example.com");
    MailMessage m = Welcome();
    m.to = {"jane@example.com\r\nBcc: thief@example.net"};
    const auto sent = mailer.Send(m);
    ASSERT_FALSE(sent.has_value());
    EXPECT_EQ(sent.error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(mailer.Sent().empty());
}
