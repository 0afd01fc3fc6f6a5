#include "notify/chat_poster.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "core/enum_names.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "httpc/client.hpp"
#include "httpc/retry_after.hpp"
#include "notify/mail_address.hpp"

namespace spacehook::notify {

namespace {

constexpr std::string_view kLogComponent = "notify.chat";
constexpr std::size_t kMaxBodyInMessage = 200;
// Shorter paths are not worth redacting ("/hook" would blank unrelated log text) nor secret enough to
// be a credential.
constexpr std::size_t kMinSecretPath = 16;

// The answer's text as it may stand in an error: one line, control characters escaped, cut short.
std::string TrimmedBody(std::string_view body) {
    std::string flat;
    bool space = false;
    for (const char c : body) {
        if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
            space = !flat.empty();
            continue;
        }
        if (space) flat += ' ';
        space = false;
        flat += c;
    }
    return log::Redact(PrintableForMessage(flat, kMaxBodyInMessage));
}

// httpc's transport errors name the request's URL (scheme, host and path); for a chat webhook the path
// is the credential, so every URL is cut out of the text.
std::string WithoutUrls(std::string_view text) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::string_view rest = text.substr(i);
        if (rest.rfind("http://", 0) == 0 || rest.rfind("https://", 0) == 0) {
            out += "<url>";
            while (i < text.size() && text[i] != ' ') ++i;
            if (i > 0 && text[i - 1] == ':') out += ':';
            continue;
        }
        out += text[i++];
    }
    return log::Redact(out);
}

// Teams' Office 365 connectors answer 200 and report the real failure in the body (a documented quirk:
// connectors must not look broken to Trello & co.). Returns the status buried there, or 0.
int TeamsLegacyFailureStatus(std::string_view body) {
    static constexpr std::string_view kPrefix = "Webhook message delivery failed";
    static constexpr std::string_view kStatus = "HTTP error ";
    if (body.rfind(kPrefix, 0) != 0) return 0;
    const auto at = body.find(kStatus);
    int status = 0;
    if (at != std::string_view::npos) {
        for (std::size_t i = at + kStatus.size();
             i < body.size() && std::isdigit(static_cast<unsigned char>(body[i])); ++i) {
            status = status * 10 + (body[i] - '0');
            if (status > 999) break;
        }
    }
    return (status >= 400 && status <= 599) ? status : 500;
}

// Where the path starts: after "scheme://authority".
std::size_t PathStart(std::string_view url) {
    const auto scheme = url.find("://");
    const auto host = scheme == std::string_view::npos ? 0 : scheme + 3;
    return std::min(url.find_first_of("/?#", host), url.size());
}

constexpr EnumNames<ChatKind, 3> kChatKindNames{{{
    {ChatKind::kSlack, "slack"},
    {ChatKind::kTeams, "teams"},
    {ChatKind::kGeneric, "generic"},
}}};
static_assert(kChatKindNames.Unique());
}  // namespace

std::string_view ToString(ChatKind kind) {
    return kChatKindNames.Name(kind);
}

std::string SlackEscape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string TeamsEscape(std::string_view text) {
    static constexpr std::string_view kZeroWidthSpace = "\xE2\x80\x8B";  // U+200B
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        out += text[i];
        if (text[i] == ']' && i + 1 < text.size() && text[i + 1] == '(') out += kZeroWidthSpace;
    }
    return out;
}

namespace {

Status CheckLink(ChatKind kind, const std::string& url) {
    if (url.empty() || IsHttpUrl(url)) return Ok();
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{} link must be an http(s) URL, got \"{}\"",
                                                         ToString(kind), PrintableForMessage(url, 80)));
}

// Inside <url|label> a URL must not end the link early: '|' and '>' are taken by the syntax, the rest of
// Slack's escaping applies as in text.
std::string SlackLinkTarget(std::string_view url) {
    std::string out;
    for (const char c : url) {
        if (c == '|') {
            out += "%7C";
        } else {
            out += SlackEscape(std::string_view(&c, 1));
        }
    }
    return out;
}

}  // namespace

Result<Json> SlackPayload(const SlackMessage& message) {
    if (!message.blocks.is_null() && !message.blocks.is_array()) {
        return Fail(ErrorCode::kInvalidArgument, "slack blocks must be an array");
    }
    if (auto link = CheckLink(ChatKind::kSlack, message.link_url); !link) return Fail(link.error());
    std::string text;
    if (!message.title.empty()) text = "*" + SlackEscape(message.title) + "*\n";
    text += SlackEscape(message.text);
    for (const auto& [name, value] : message.facts)
        text += fmt::format("\n*{}:* {}", SlackEscape(name), SlackEscape(value));
    if (!message.link_url.empty()) {
        text += fmt::format("\n<{}|{}>", SlackLinkTarget(message.link_url),
                            SlackEscape(message.link_title.empty() ? "Open" : message.link_title));
    }
    if (text.empty() && (message.blocks.is_null() || message.blocks.empty())) {
        return Fail(ErrorCode::kInvalidArgument, "slack message has neither text nor blocks");
    }
    Json payload = {{"text", std::move(text)}};
    if (!message.blocks.is_null()) payload["blocks"] = message.blocks;
    return payload;
}

Result<Json> TeamsPayload(const TeamsMessage& message) {
    if (message.title.empty() && message.text.empty()) {
        return Fail(ErrorCode::kInvalidArgument, "teams message has neither title nor text");
    }
    if (auto link = CheckLink(ChatKind::kTeams, message.link_url); !link) return Fail(link.error());
    Json body = Json::array();
    if (!message.title.empty()) {
        body.push_back({{"type", "TextBlock"},
                        {"text", TeamsEscape(message.title)},
                        {"weight", "Bolder"},
                        {"size", "Medium"},
                        {"wrap", true}});
    }
    if (!message.text.empty())
        body.push_back({{"type", "TextBlock"}, {"text", TeamsEscape(message.text)}, {"wrap", true}});
    if (!message.facts.empty()) {
        Json facts = Json::array();
        for (const auto& [title, value] : message.facts)
            facts.push_back({{"title", TeamsEscape(title)}, {"value", TeamsEscape(value)}});
        body.push_back({{"type", "FactSet"}, {"facts", std::move(facts)}});
    }
    // Adaptive Card in a "message" attachment, not the legacy MessageCard: Microsoft is retiring the Office
    // 365 connectors (the only receivers of MessageCard) in favour of Teams Workflows, whose "post to a
    // channel when a webhook request is received" flows take exactly this envelope; the old connectors
    // accept it too. Version 1.4 is what Teams renders on every client (desktop, web, mobile).
    Json card = {{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                 {"type", "AdaptiveCard"},
                 {"version", "1.4"},
                 {"body", std::move(body)}};
    if (!message.link_url.empty()) {
        card["actions"] = Json::array({{{"type", "Action.OpenUrl"},
                                        {"title", message.link_title.empty() ? "Open" : message.link_title},
                                        {"url", message.link_url}}});
    }
    return Json{{"type", "message"},
                {"attachments", Json::array({{{"contentType", "application/vnd.microsoft.card.adaptive"},
                                              {"contentUrl", nullptr},
                                              {"content", std::move(card)}}})}};
}

Status ClassifyChatAnswer(ChatKind kind, int status, const std::optional<std::string>& retry_after,
                          std::string_view body, TimePoint now) {
    if (status >= 200 && status <= 299) {
        const int buried = kind == ChatKind::kTeams ? TeamsLegacyFailureStatus(body) : 0;
        if (buried == 0) return Ok();
        status = buried;
    }
    Error error;
    error.upstream_status = status;
    error.message = fmt::format("{} webhook answered {}", ToString(kind), status);
    const std::string text = TrimmedBody(body);
    if (!text.empty()) error.message += ": " + text;
    if (status == 429) {
        error.code = ErrorCode::kRateLimited;
    } else if (status >= 500 && status <= 599) {
        error.code = ErrorCode::kUnavailable;
    } else if (status == 408) {
        error.code = ErrorCode::kTimeout;
    } else if (status == 401) {
        error.code = ErrorCode::kUnauthorized;
    } else if (status == 403) {
        error.code = ErrorCode::kForbidden;
    } else if (status == 404) {
        error.code = ErrorCode::kNotFound;  // Slack: channel_not_found / no_service; a deleted Teams flow
    } else {
        error.code = ErrorCode::kPermanent;  // 400 invalid_payload, 410 channel_is_archived, redirects
    }
    if (error.IsTransient() && retry_after) error.retry_after = httpc::ParseRetryAfter(*retry_after, now);
    return Fail(std::move(error));
}

void RegisterWebhookUrl(ChatKind kind, std::string_view url) {
    log::RegisterSecret(url);
    const std::string_view path_and_query = url.substr(PathStart(url));
    if (kind != ChatKind::kGeneric) {
        if (path_and_query.size() >= kMinSecretPath) log::RegisterSecret(path_and_query);
        return;
    }
    // A generic endpoint's path is usually not a secret, but a token in its query often is.
    const auto query = path_and_query.find('?');
    if (query != std::string_view::npos && path_and_query.size() - query - 1 >= 8) {
        log::RegisterSecret(path_and_query.substr(query + 1));
    }
}

httpc::ClientOptions ClientOptionsOf(const ChatOptions& options) {
    httpc::ClientOptions client;
    client.verify_tls = options.verify_tls;
    client.ca_file = options.ca_file;
    client.guard = options.guard;
    return client;
}

class ChatPoster::Impl {
public:
    Impl(ChatOptions options, const Clock& clock)
        : options_(std::move(options)), clock_(clock), client_(ClientOptionsOf(options_)) {}

    Status Post(ChatKind kind, const std::string& url, const Json& payload,
                const std::vector<std::pair<std::string, std::string>>& headers) {
        RegisterWebhookUrl(kind, url);
        httpc::Request request;
        request.method = "POST";
        request.url = url;
        request.connect_timeout = options_.connect_timeout;
        request.total_timeout = options_.total_timeout;
        bool has_content_type = false;
        for (const auto& [name, value] : headers) {
            if ((name + value).find_first_of("\r\n") != std::string::npos || name.empty()) {
                return Fail(ErrorCode::kInvalidArgument,
                            fmt::format("{} header \"{}\" is empty or contains a line break", ToString(kind),
                                        PrintableForMessage(name, 60)));
            }
            has_content_type = has_content_type || EqualsIgnoreCase(name, "content-type");
            request.headers.emplace_back(name, value);
        }
        if (!has_content_type)
            request.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
        // Template output may carry invalid UTF-8 (a mangled file title): replaced, not thrown.
        request.body = payload.dump(-1, ' ', false, Json::error_handler_t::replace);

        auto response = client_.Send(request);
        if (!response) {
            Error error = response.error();
            error.message =
                fmt::format("{} webhook unreachable: {}", ToString(kind), WithoutUrls(error.message));
            log::Warn(
                kLogComponent, "post failed",
                {{"target", ToString(kind)}, {"error", ToString(error.code)}, {"reason", error.message}});
            return Fail(std::move(error));
        }
        Status answer = ClassifyChatAnswer(kind, response->status, response->Header("retry-after"),
                                           response->body, clock_.Now());
        if (!answer) {
            log::Warn(kLogComponent, "post refused",
                      {{"target", ToString(kind)},
                       {"status", response->status},
                       {"error", ToString(answer.error().code)}});
            return answer;
        }
        log::Debug(kLogComponent, "posted", {{"target", ToString(kind)}, {"status", response->status}});
        return Ok();
    }

private:
    ChatOptions options_;
    const Clock& clock_;
    httpc::Client client_;
};

ChatPoster::ChatPoster(ChatOptions options, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}

ChatPoster::~ChatPoster() = default;

Status ChatPoster::PostSlack(const std::string& webhook_url, const SlackMessage& message) {
    auto payload = SlackPayload(message);
    if (!payload) return Fail(std::move(payload.error()));
    return impl_->Post(ChatKind::kSlack, webhook_url, *payload, {});
}

Status ChatPoster::PostTeams(const std::string& webhook_url, const TeamsMessage& message) {
    auto payload = TeamsPayload(message);
    if (!payload) return Fail(std::move(payload.error()));
    return impl_->Post(ChatKind::kTeams, webhook_url, *payload, {});
}

Status ChatPoster::PostJson(const std::string& url, const Json& body,
                            const std::vector<std::pair<std::string, std::string>>& headers) {
    return impl_->Post(ChatKind::kGeneric, url, body, headers);
}

}  // namespace spacehook::notify
