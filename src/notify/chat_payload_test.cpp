#include <gtest/gtest.h>

#include "core/log.hpp"
#include "notify/chat_poster.hpp"

using namespace spacehook;
using namespace spacehook::notify;
using std::chrono::milliseconds;

namespace {
const TimePoint kNow = FromUnixMillis(1795422287000);  // Mon, 23 Nov 2026 08:24:47 GMT
}  // namespace

TEST(ChatPayload, SlackTextAndBlocks) {
    EXPECT_EQ(SlackPayload({"Invoice uploaded: *invoice-7.pdf*", nullptr})->dump(),
              R"({"text":"Invoice uploaded: *invoice-7.pdf*"})");
    const Json blocks = Json::parse(R"([{"type":"section","text":{"type":"mrkdwn","text":"hi"}}])");
    EXPECT_EQ(SlackPayload({"fallback", blocks})->dump(),
              R"({"blocks":[{"text":{"text":"hi","type":"mrkdwn"},"type":"section"}],"text":"fallback"})");
    EXPECT_EQ(SlackPayload({"", nullptr}).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(SlackPayload({"x", Json::object()}).error().code, ErrorCode::kInvalidArgument);
}

// Payload text is data: a file title or user name with Slack's control syntax is shown, not obeyed.
TEST(ChatPayload, SlackTextIsEscapedSoPayloadTextCannotPingMentionOrLink) {
    EXPECT_EQ(
        SlackPayload({"<!channel> urgent & <@U024BE7LH> see <https://evil.example|invoice.pdf>", nullptr})
            ->at("text"),
        "&lt;!channel&gt; urgent &amp; &lt;@U024BE7LH&gt; see &lt;https://evil.example|invoice.pdf&gt;");
    EXPECT_EQ(SlackEscape("a<b>c&d"), "a&lt;b&gt;c&amp;d");
    EXPECT_EQ(SlackEscape("&amp;"), "&amp;amp;");  // shown as typed, not decoded once more

    SlackMessage message;
    message.title = "<!here> Q3*";
    message.text = "Uploaded by <@U1>";
    message.facts = {{"File <x>", "a|b & c"}};
    message.link_url = "https://portal.example.com/doc?fileid=42&x=<y>|z";
    message.link_title = "Open <it>|now";
    EXPECT_EQ(SlackPayload(message)->at("text"),
              "*&lt;!here&gt; Q3**\nUploaded by &lt;@U1&gt;\n*File &lt;x&gt;:* a|b &amp; c\n"
              "<https://portal.example.com/doc?fileid=42&amp;x=&lt;y&gt;%7Cz|Open &lt;it&gt;|now>");

    message.link_url = "javascript:alert(1)";
    const auto refused = SlackPayload(message);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(refused.error().message.find("http(s)"), std::string::npos);
}

TEST(ChatPayload, TeamsMarkdownKeepsEmphasisButPayloadTextCannotFormALink) {
    EXPECT_EQ(TeamsEscape("**Policy.docx** [Verify now](https://evil.example) _x_"),
              "**Policy.docx** [Verify now]\xE2\x80\x8B(https://evil.example) _x_");
    EXPECT_EQ(TeamsEscape("[1] (a) ] ("), "[1] (a) ] (");  // only a ']' directly before '(' is a link

    TeamsMessage message;
    message.title = "[Title](https://evil.example/t)";
    message.text = "[Text](https://evil.example/x)";
    message.facts = {{"[k](https://e/k)", "[v](https://e/v)"}};
    const Json payload = *TeamsPayload(message);
    const std::string dumped = payload.dump();
    EXPECT_EQ(dumped.find("](http"), std::string::npos) << dumped;
    const Json& card = payload["attachments"][0]["content"];
    EXPECT_EQ(card["body"][0]["text"], "[Title]\xE2\x80\x8B(https://evil.example/t)");
    EXPECT_EQ(card["body"][2]["facts"][0]["value"], "[v]\xE2\x80\x8B(https://e/v)");

    message.link_url = "file:///etc/passwd";
    EXPECT_EQ(TeamsPayload(message).error().code, ErrorCode::kInvalidArgument);
}

TEST(ChatPayload, TeamsAdaptiveCardInAMessageAttachment) {
    TeamsMessage m;
    m.title = "Compliance file changed";
    m.text = "**Policy.docx** was edited";
    m.facts = {{"Changed by", "Jane Doe"}, {"Folder", "Compliance"}};
    m.link_url = "https://portal.example.com/doceditor?fileId=42";
    EXPECT_EQ(
        TeamsPayload(m)->dump(),
        R"({"attachments":[{"content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json",)"
        R"("actions":[{"title":"Open","type":"Action.OpenUrl","url":"https://portal.example.com/doceditor?fileId=42"}],)"
        R"("body":[{"size":"Medium","text":"Compliance file changed","type":"TextBlock","weight":"Bolder","wrap":true},)"
        R"({"text":"**Policy.docx** was edited","type":"TextBlock","wrap":true},)"
        R"({"facts":[{"title":"Changed by","value":"Jane Doe"},{"title":"Folder","value":"Compliance"}],"type":"FactSet"}],)"
        R"("type":"AdaptiveCard","version":"1.4"},"contentType":"application/vnd.microsoft.card.adaptive",)"
        R"("contentUrl":null}],"type":"message"})");

    TeamsMessage text_only;
    text_only.text = "hello";
    const Json payload = *TeamsPayload(text_only);
    const Json& card = payload["attachments"][0]["content"];
    EXPECT_EQ(card["body"].size(), 1U);
    EXPECT_FALSE(card.contains("actions"));
    EXPECT_EQ(TeamsPayload(TeamsMessage{}).error().code, ErrorCode::kInvalidArgument);
}

TEST(ChatPayload, TwoXxIsOk) {
    EXPECT_TRUE(ClassifyChatAnswer(ChatKind::kSlack, 200, std::nullopt, "ok", kNow).has_value());
    EXPECT_TRUE(ClassifyChatAnswer(ChatKind::kTeams, 202, std::nullopt, "", kNow).has_value());
    EXPECT_TRUE(ClassifyChatAnswer(ChatKind::kGeneric, 204, std::nullopt, "", kNow).has_value());
}

TEST(ChatPayload, RateLimitAndServerErrorsAreTransientWithRetryAfter) {
    auto limited = ClassifyChatAnswer(ChatKind::kSlack, 429, std::string("7"), "rate_limited", kNow);
    ASSERT_FALSE(limited.has_value());
    EXPECT_EQ(limited.error().code, ErrorCode::kRateLimited);
    EXPECT_TRUE(limited.error().IsTransient());
    EXPECT_EQ(limited.error().retry_after, milliseconds(7000));
    EXPECT_EQ(limited.error().upstream_status, 429);
    EXPECT_EQ(limited.error().message, "slack webhook answered 429: rate_limited");

    auto unavailable =
        ClassifyChatAnswer(ChatKind::kGeneric, 503, std::string("Mon, 23 Nov 2026 08:24:57 GMT"), "", kNow);
    EXPECT_EQ(unavailable.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(unavailable.error().retry_after, milliseconds(10000));
    EXPECT_EQ(unavailable.error().message, "generic webhook answered 503");

    auto server_error = ClassifyChatAnswer(ChatKind::kTeams, 500, std::nullopt, "oops", kNow);
    EXPECT_EQ(server_error.error().code, ErrorCode::kUnavailable);
    EXPECT_FALSE(server_error.error().retry_after.has_value());
    EXPECT_EQ(ClassifyChatAnswer(ChatKind::kSlack, 408, std::nullopt, "", kNow).error().code,
              ErrorCode::kTimeout);
}

TEST(ChatPayload, OtherFourXxArePermanentWithTheTrimmedText) {
    auto not_found =
        ClassifyChatAnswer(ChatKind::kSlack, 404, std::string("30"), "  channel_not_found\n", kNow);
    EXPECT_EQ(not_found.error().code, ErrorCode::kNotFound);
    EXPECT_FALSE(not_found.error().IsTransient());
    EXPECT_FALSE(not_found.error().retry_after.has_value());  // a permanent failure has nothing to wait for
    EXPECT_EQ(not_found.error().message, "slack webhook answered 404: channel_not_found");

    EXPECT_EQ(ClassifyChatAnswer(ChatKind::kSlack, 400, std::nullopt, "invalid_payload", kNow).error().code,
              ErrorCode::kPermanent);
    EXPECT_EQ(
        ClassifyChatAnswer(ChatKind::kSlack, 410, std::nullopt, "channel_is_archived", kNow).error().code,
        ErrorCode::kPermanent);
    EXPECT_EQ(ClassifyChatAnswer(ChatKind::kSlack, 403, std::nullopt, "", kNow).error().code,
              ErrorCode::kForbidden);
    EXPECT_EQ(ClassifyChatAnswer(ChatKind::kGeneric, 401, std::nullopt, "", kNow).error().code,
              ErrorCode::kUnauthorized);
    EXPECT_EQ(ClassifyChatAnswer(ChatKind::kGeneric, 302, std::nullopt, "", kNow).error().code,
              ErrorCode::kPermanent);

    const std::string long_body = "<html>\r\n<body>" + std::string(1000, 'x') + "</body></html>";
    const auto error = ClassifyChatAnswer(ChatKind::kGeneric, 400, std::nullopt, long_body, kNow).error();
    EXPECT_LT(error.message.size(), 260U);
    EXPECT_EQ(error.message.find_first_of("\r\n"), std::string::npos);
    EXPECT_EQ(error.message.rfind("generic webhook answered 400: <html> <body>xxx", 0), 0U) << error.message;
}

TEST(ChatPayload, TeamsLegacyConnectorFailuresBuriedInA200) {
    const std::string prefix =
        "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error ";
    auto limited =
        ClassifyChatAnswer(ChatKind::kTeams, 200, std::nullopt, prefix + "429 with ContextId tcid=0", kNow);
    ASSERT_FALSE(limited.has_value());
    EXPECT_EQ(limited.error().code, ErrorCode::kRateLimited);
    EXPECT_EQ(limited.error().upstream_status, 429);
    EXPECT_EQ(ClassifyChatAnswer(ChatKind::kTeams, 200, std::nullopt, prefix + "413 with ContextId", kNow)
                  .error()
                  .code,
              ErrorCode::kPermanent);
    EXPECT_EQ(ClassifyChatAnswer(ChatKind::kTeams, 200, std::nullopt, prefix + "502 with ContextId", kNow)
                  .error()
                  .code,
              ErrorCode::kUnavailable);
    // Only Teams has the quirk: the same text from Slack or a generic endpoint is just a body.
    EXPECT_TRUE(ClassifyChatAnswer(ChatKind::kGeneric, 200, std::nullopt, prefix + "429", kNow).has_value());
}

TEST(ChatPayload, WebhookUrlsAreRegisteredAsSecrets) {
    RegisterWebhookUrl(ChatKind::kSlack, "https://hooks.slack.com/services/T0001/B0001/abcdefABCDEF123456");
    EXPECT_EQ(log::Redact("POST https://hooks.slack.com/services/T0001/B0001/abcdefABCDEF123456: refused"),
              "POST [redacted]: refused");
    EXPECT_EQ(log::Redact("path /services/T0001/B0001/abcdefABCDEF123456 seen"), "path [redacted] seen");

    RegisterWebhookUrl(ChatKind::kGeneric, "https://ci.example.com/hooks/build?token=s3cr3t-t0ken");
    EXPECT_EQ(log::Redact("https://ci.example.com/hooks/build"), "https://ci.example.com/hooks/build");
    EXPECT_EQ(log::Redact("token=s3cr3t-t0ken"), "[redacted]");
}
