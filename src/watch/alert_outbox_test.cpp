// AlertOutbox: messages reach every channel, a failed delivery is tried again until it goes through
// (mail through RecordingMailer, chat through a loopback endpoint that fails first), and a channel that is
// down holds up neither Post nor the other channels.
#include "watch/alert_outbox.hpp"

#include <gtest/gtest.h>

#include "emulator/emulator_test_support.hpp"

namespace spacehook::watch {
namespace {

using std::chrono::milliseconds;

const TimePoint kT0 = FromUnixMillis(1'780'000'000'000);

AlertMessage Message(std::string text) {
    AlertMessage message;
    message.at = kT0;
    message.lines.push_back({AlertKind::kRecovered, AlertLine::What::kHappened, std::move(text), 3, kT0});
    return message;
}

OutboxOptions Fast() {
    OutboxOptions options;
    options.retry_base = milliseconds(5);
    options.retry_max = milliseconds(20);
    return options;
}

TEST(AlertOutbox, AMailThatFailsIsSentAgainUntilItGoesThrough) {
    notify::RecordingMailer mailer("spacehook <bot@example.com>");
    mailer.FailNext(Error{ErrorCode::kUnavailable, "SMTP server down", 0, std::nullopt});
    mailer.FailNext(Error{ErrorCode::kTimeout, "SMTP timeout", 0, std::nullopt});
    std::vector<std::unique_ptr<AlertChannel>> channels;
    channels.push_back(
        MailAlertChannel(mailer, {"ops@example.com", "night@example.com"}, "portal.example.com"));
    AlertOutbox outbox(std::move(channels), Fast());
    outbox.Post(Message("recovered 3 deliveries"));
    ASSERT_TRUE(outbox.WaitIdle(milliseconds(10000)));
    const auto sent = mailer.Sent();
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_EQ(sent[0].recipients, (std::vector<std::string>{"ops@example.com", "night@example.com"}));
    EXPECT_NE(sent[0].data.find("Subject: spacehook on portal.example.com: recovered deliveries"),
              std::string::npos)
        << sent[0].data;
    EXPECT_NE(sent[0].data.find("recovered 3 deliveries"), std::string::npos);
}

TEST(AlertOutbox, ChatChannelsGetTheirOwnShapeAndRetriesOfTheirOwn) {
    emulator::testing::Receiver slack;
    emulator::testing::Receiver generic;
    generic.SetPostScript({503, 500, 200});
    notify::ChatPoster poster;
    notify::RecordingMailer mailer("spacehook <bot@example.com>");
    std::vector<std::unique_ptr<AlertChannel>> channels;
    channels.push_back(
        ChatAlertChannel(poster, "ops", notify::ChatKind::kSlack, slack.url("/slack"), "portal"));
    channels.push_back(
        ChatAlertChannel(poster, "hooks", notify::ChatKind::kGeneric, generic.url("/generic"), "portal"));
    channels.push_back(MailAlertChannel(mailer, {"ops@example.com"}, "portal"));
    EXPECT_EQ(channels[0]->Describe(), "chat ops (slack)");
    AlertOutbox outbox(std::move(channels), Fast());
    outbox.Post(Message("recovered 3 deliveries"));
    ASSERT_TRUE(outbox.WaitIdle(milliseconds(10000)));

    const auto slack_posts = slack.Posts();
    ASSERT_EQ(slack_posts.size(), 1U);
    const std::string text = slack_posts[0].Parsed()["text"].get<std::string>();
    EXPECT_EQ(text.rfind("*spacehook on portal: recovered deliveries*\n", 0), 0U) << text;
    const auto generic_posts = generic.Posts();
    ASSERT_EQ(generic_posts.size(), 3U);  // two failures, then delivered
    const Json body = generic_posts[2].Parsed();
    EXPECT_EQ(body["title"], "spacehook on portal: recovered deliveries");
    ASSERT_EQ(body["alerts"].size(), 1U);
    EXPECT_EQ(body["alerts"][0]["kind"], "recovered");
    EXPECT_EQ(body["alerts"][0]["count"], 3);
    EXPECT_EQ(mailer.Sent().size(), 1U);
}

TEST(AlertOutbox, AChannelThatNeverTakesThemDropsTheOldestAndStopsCleanly) {
    notify::RecordingMailer mailer("spacehook <bot@example.com>");
    for (int i = 0; i < 1000; ++i) mailer.FailNext(Error{ErrorCode::kUnavailable, "down", 0, std::nullopt});
    std::vector<std::unique_ptr<AlertChannel>> channels;
    channels.push_back(MailAlertChannel(mailer, {"ops@example.com"}, ""));
    OutboxOptions options = Fast();
    options.max_waiting = 3;
    AlertOutbox outbox(std::move(channels), options);
    for (int i = 0; i < 10; ++i) outbox.Post(Message("alert " + std::to_string(i)));
    EXPECT_LE(outbox.waiting(), 3U);
    EXPECT_FALSE(outbox.WaitIdle(milliseconds(50)));
    outbox.Stop();
    EXPECT_TRUE(mailer.Sent().empty());
}

}  // namespace
}  // namespace spacehook::watch
