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
#include "core/outbound_guard.hpp"

namespace spacehook::notify {

/// Which kind of incoming webhook a post goes to: it decides the payload and how answers are read.
enum class ChatKind { kSlack, kTeams, kGeneric };

/// "slack", "teams", "generic": the name used in errors and logs (never the URL, which is a secret).
std::string_view ToString(ChatKind kind);

/// A Slack incoming-webhook message. Every text field is plain text: `&`, `<` and `>` are escaped when the
/// payload is built (SlackEscape), so no text, wherever it came from, can ping `<!channel>`, mention
/// `<@U123>` or make a `<url|label>` link that hides its target; Slack's emphasis (`*bold*`, `_italic_`,
/// `~strike~`, `` `code` ``) still works. The one link is `link_url`, shown as `link_title`. The message
/// reads: the title in bold, the text, one "*name:* value" line per fact, the link.
struct SlackMessage {
    std::string text;
    Json blocks;  ///< null, or Block Kit blocks, sent as given (the caller's structure); text is the fallback
    // Initialised here so that {text, blocks} stays a complete initializer (-Wmissing-field-initializers).
    std::string title{};
    std::vector<std::pair<std::string, std::string>> facts{};
    std::string link_url{};  ///< http(s) only; empty: no link
    std::string link_title = "Open";
};

/// A Teams message, sent as an Adaptive Card: a bold title, a text block (Teams' Markdown subset), an
/// optional fact list and an optional link button. Title, text and facts are Markdown with its link syntax
/// broken (TeamsEscape): emphasis and lists still render, `[label](url)` does not become a link; the one
/// link is the button.
struct TeamsMessage {
    std::string title;
    std::string text;
    std::vector<std::pair<std::string, std::string>> facts;  ///< "File" -> "invoice.pdf", ...
    std::string link_url;                                    ///< http(s) only; empty: no button
    std::string link_title = "Open";
};

/// `&` `<` `>` as Slack's entities (the only characters Slack's message formatting needs escaped): the text
/// shows as written and cannot form a mention, a channel ping or a link.
std::string SlackEscape(std::string_view text);

/// Markdown for an Adaptive Card TextBlock with `[label](url)` links broken by a zero-width space between
/// `]` and `(` (invisible; both Markdown parsers Teams uses, CommonMark and the Adaptive Cards renderers'
/// own, need the two adjacent). Backslash escapes are not used: the native renderers show the backslash.
std::string TeamsEscape(std::string_view text);

struct ChatOptions {
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds total_timeout{15000};
    bool verify_tls = true;
    std::string ca_file;  ///< extra CA bundle; empty: the system's
    /// Where posts may go (`chat` steps: outbound.allow); nullptr: anywhere.
    std::shared_ptr<const OutboundGuard> guard;
};

/// {"text": ..., "blocks": [...]}. kInvalidArgument when there is neither text nor blocks, blocks is not
/// an array, or the link is not an http(s) URL.
Result<Json> SlackPayload(const SlackMessage& message);

/// The Teams payload: a "message" whose one attachment is an Adaptive Card (1.4). kInvalidArgument
/// without title and text, or when the link is not an http(s) URL.
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
