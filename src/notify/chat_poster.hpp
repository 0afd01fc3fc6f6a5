#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

namespace spacehook::notify {

/// Which kind of incoming webhook a post goes to: it decides the payload and how answers are read.
enum class ChatKind { kSlack, kTeams, kGeneric };

/// "slack", "teams", "generic": the name used in errors and logs (never the URL, which is a secret).
std::string_view ToString(ChatKind kind);

/// A Slack incoming-webhook message. `text` is Slack mrkdwn and is sent as given (a template that wants
/// literal "<", ">" or "&" escapes them); with `blocks` it is the notification fallback.
struct SlackMessage {
    std::string text;
    Json blocks;  ///< null, or an array of Block Kit blocks
};

/// A Teams message, sent as an Adaptive Card: a bold title, a text block (Teams' Markdown subset), an
/// optional fact list and an optional link button.
struct TeamsMessage {
    std::string title;
    std::string text;
    std::vector<std::pair<std::string, std::string>> facts;  ///< "File" -> "invoice.pdf", ...
    std::string link_url;                                    ///< empty: no button
    std::string link_title = "Open";
};

struct ChatOptions {
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds total_timeout{15000};
    bool verify_tls = true;
    std::string ca_file;  ///< extra CA bundle; empty: the system's
};

/// {"text": ..., "blocks": [...]}. kInvalidArgument when there is neither text nor blocks, or blocks is
/// not an array.
Result<Json> SlackPayload(const SlackMessage& message);

/// The Teams payload: a "message" whose one attachment is an Adaptive Card (1.4). kInvalidArgument
/// without title and text.
Result<Json> TeamsPayload(const TeamsMessage& message);

/// Maps a webhook's HTTP answer to a Status: 2xx ok; 429 kRateLimited and 5xx kUnavailable (transient,
/// with Retry-After in Error::retry_after); 408 kTimeout; 401/403/404 their codes and any other status
/// kPermanent, with the start of the response text in the message. Teams' legacy connectors answer 200
/// with "Webhook message delivery failed ... HTTP error N" in the body: that is classified as status N.
Status ClassifyChatAnswer(ChatKind kind, int status, const std::optional<std::string>& retry_after,
                          std::string_view body, TimePoint now);

/// Registers the secret parts of a webhook URL with log::RegisterSecret: the whole URL, and for Slack and
/// Teams the path and query, which are the credential. Call at startup for every configured URL;
/// ChatPoster also calls it before each post.
void RegisterWebhookUrl(ChatKind kind, std::string_view url);

/// Posts to chat incoming webhooks over httpc::Client (connections kept alive between posts). The
/// webhook URL never appears in an error or a log line. Thread-safe.
class ChatPoster {
public:
    explicit ChatPoster(ChatOptions options = {}, const Clock& clock = SystemClock::Instance());
    ~ChatPoster();
    ChatPoster(const ChatPoster&) = delete;
    ChatPoster& operator=(const ChatPoster&) = delete;

    Status PostSlack(const std::string& webhook_url, const SlackMessage& message);
    Status PostTeams(const std::string& webhook_url, const TeamsMessage& message);
    /// POSTs `body` as JSON. `headers` are added (Content-Type: application/json unless given); a CR or
    /// LF in a header is kInvalidArgument.
    Status PostJson(const std::string& url, const Json& body,
                    const std::vector<std::pair<std::string, std::string>>& headers = {});

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace spacehook::notify
