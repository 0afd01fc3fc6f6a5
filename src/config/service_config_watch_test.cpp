// The `subscription` and `alerts` sections: defaults, every key, bad values located, alert channels that
// must exist in chat.channels.
#include <gtest/gtest.h>

#include "config/service_config.hpp"

namespace spacehook::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

Result<ServiceConfig> Parse(std::string_view text) {
    auto doc = LoadYamlText(text, "c.yaml", MapEnv({}));
    if (!doc) return Fail(doc.error());
    return MergeServiceConfig({*doc}, MapEnv({}));
}

TEST(WatchSettings, DefaultsWatchTheWebhookSubscribeMakesAndAlertNobody) {
    auto config = Parse("{}");
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->subscription.name, "spacehook");
    EXPECT_EQ(config->subscription.url, "");
    EXPECT_TRUE(config->subscription.catch_up);
    EXPECT_TRUE(config->subscription.keep_alive);
    EXPECT_EQ(config->subscription.check_interval, seconds(60));
    EXPECT_EQ(config->subscription.catch_up_margin, minutes(10));
    EXPECT_EQ(config->subscription.catch_up_pages, 20);
    EXPECT_TRUE(config->alerts.mail.empty());
    EXPECT_TRUE(config->alerts.chat.empty());
    EXPECT_EQ(config->alerts.throttle, minutes(15));
    EXPECT_EQ(config->alerts.backlog_age, minutes(15));
    EXPECT_EQ(config->alerts.portal_down, minutes(5));
}

TEST(WatchSettings, EveryKeyIsRead) {
    auto config = Parse(R"(
subscription:
  name: automation
  url: https://hooks.example.com/docspace/webhook
  catch_up: false
  keep_alive: false
  check_interval: 30s
  catch_up_margin: 1h
  catch_up_pages: 5
chat:
  channels:
    ops: {kind: slack, url: "https://hooks.slack.com/services/T/B/X"}
alerts:
  mail: [ops@example.com, "Night Shift <night@example.com>"]
  chat: [ops]
  throttle: 1h
  backlog_age: 30m
  portal_down: 2m
)");
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->subscription.name, "automation");
    EXPECT_EQ(config->subscription.url, "https://hooks.example.com/docspace/webhook");
    EXPECT_FALSE(config->subscription.catch_up);
    EXPECT_FALSE(config->subscription.keep_alive);
    EXPECT_EQ(config->subscription.check_interval, seconds(30));
    EXPECT_EQ(config->subscription.catch_up_margin, minutes(60));
    EXPECT_EQ(config->subscription.catch_up_pages, 5);
    EXPECT_EQ(config->alerts.mail,
              (std::vector<std::string>{"ops@example.com", "Night Shift <night@example.com>"}));
    EXPECT_EQ(config->alerts.chat, (std::vector<std::string>{"ops"}));
    EXPECT_EQ(config->alerts.throttle, minutes(60));
    EXPECT_EQ(config->alerts.backlog_age, minutes(30));
    EXPECT_EQ(config->alerts.portal_down, minutes(2));
    // Comma-separated text works too, as for the other address lists.
    auto text = Parse("alerts: {mail: 'a@example.com, b@example.com'}\n");
    ASSERT_TRUE(text) << text.error().message;
    EXPECT_EQ(text->alerts.mail, (std::vector<std::string>{"a@example.com", "b@example.com"}));
}

TEST(WatchSettings, BadValuesAreLocated) {
    auto config = Parse(R"(
subscription:
  name: ""
  url: ftp://x
  check_interval: never
  catch_up_pages: 1
  catchup: true
alerts:
  chat: [nowhere]
  backlog_age: 0
)");
    ASSERT_FALSE(config);
    const std::string& message = config.error().message;
    EXPECT_NE(message.find("c.yaml:3:3: subscription.name must be 1 to 50 characters"), std::string::npos)
        << message;
    EXPECT_NE(message.find("c.yaml:4:3: subscription.url must be the http(s) URL the portal posts to"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("c.yaml:5:3: subscription.check_interval must be a positive duration"),
              std::string::npos)
        << message;
    EXPECT_NE(
        message.find("c.yaml:6:3: subscription.catch_up_pages must be an integer from 2 to 1000, got 1"),
        std::string::npos)
        << message;
    EXPECT_NE(message.find("c.yaml:7:3: unknown key 'catchup' in subscription; did you mean 'catch_up'?"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("c.yaml:10:3: alerts.backlog_age must be a positive duration"), std::string::npos)
        << message;
    EXPECT_NE(message.find("alerts.chat names 'nowhere', which is not in chat.channels"), std::string::npos)
        << message;
}

}  // namespace
}  // namespace spacehook::config
