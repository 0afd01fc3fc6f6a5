// The steps that leave DocSpace: mail, chat posts and HTTP calls. None of them can look before acting
// (SMTP and incoming webhooks have no "did I send this?"), so each carries what a receiver needs to
// drop a repeat: the mail's Message-ID and the http step's Idempotency-Key are the same on every
// attempt of one step (docs/runner.md "Exactly once, step by step").
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "core/json_depth.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "runner/step_executor.hpp"
#include "runner/step_input.hpp"

namespace spacehook::runner {

namespace {

constexpr std::size_t kMaxStoredBody = 64 * 1024;  ///< an http step's answer kept in its checkpoint

/// "https://hooks.example.com" of a URL: what an error may show (paths and queries carry tokens).
std::string Origin(const std::string& url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return "(url)";
    const auto end = url.find_first_of("/?#", scheme + 3);
    return url.substr(0, end);
}

bool HasHeader(const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name) {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const auto& header) { return EqualsIgnoreCase(header.first, name); });
}

}  // namespace

std::optional<notify::ChatKind> ChatKindOf(std::string_view name) {
    if (name == "slack") return notify::ChatKind::kSlack;
    if (name == "teams") return notify::ChatKind::kTeams;
    if (name == "generic") return notify::ChatKind::kGeneric;
    return std::nullopt;
}

Result<Json> StepExecutor::Mail(const Json& in, const StepCall& call) {
    if (deps_.mailer == nullptr) {
        return Fail(ErrorCode::kConfig, "mail: no SMTP server is configured (mail.smtp_url / SMTP_URL)");
    }
    notify::MailMessage message;
    message.to = input::Texts(in, "to");
    message.cc = input::Texts(in, "cc");
    message.from = input::Text(in, "from");
    message.reply_to = input::Text(in, "reply_to");
    message.subject = input::Text(in, "subject");
    message.text_body = input::Text(in, "body");
    if (in.contains("html") && in["html"].is_string()) message.html_body = in["html"].get<std::string>();
    // The same seed on every attempt of this step: a mail re-sent after a crash in the window between
    // the server's 250 and our checkpoint carries the same Message-ID, so receivers can drop it.
    message.message_id_seed = MessageIdSeed(call.run_key, call.index);
    auto receipt = deps_.mailer->Send(message);
    if (!receipt) return Fail(receipt.error());
    return Json{{"message_id", receipt->message_id}, {"recipients", receipt->recipients}};
}

Result<Json> StepExecutor::Chat(const Json& in, const StepCall& call) {
    if (deps_.chat == nullptr) return Fail(ErrorCode::kConfig, "chat: no chat poster is configured");
    ChatEndpoint endpoint;
    if (in.contains("channel")) {
        const std::string channel = input::Text(in, "channel");
        auto it = deps_.chat_channels.find(channel);
        if (it == deps_.chat_channels.end()) {
            return Fail(ErrorCode::kConfig,
                        fmt::format("chat: channel '{}' is not in chat.channels", channel));
        }
        endpoint = it->second;
    } else {
        auto kind = ChatKindOf(input::Text(in, "kind"));
        if (!kind) return Fail(input::Bad("chat", "kind", "not slack, teams or generic"));
        endpoint.kind = *kind;
        endpoint.url = input::Text(in, "url");
        notify::RegisterWebhookUrl(endpoint.kind, endpoint.url);
    }
    const std::string text = input::Text(in, "text");
    const std::string title = input::Text(in, "title");
    const std::string link = input::Text(in, "link");
    const std::string link_title = input::Text(in, "link_title", "Open");
    std::vector<std::pair<std::string, std::string>> facts;
    if (in.contains("facts") && in["facts"].is_object()) {
        for (const auto& [name, value] : in["facts"].items()) {
            facts.emplace_back(name, value.is_string() ? value.get<std::string>() : value.dump());
        }
    }

    Status posted;
    switch (endpoint.kind) {
        case notify::ChatKind::kSlack: {
            // mrkdwn: a bold title line, the text, then the link as <url|title>.
            notify::SlackMessage message;
            if (!title.empty()) message.text = "*" + title + "*\n";
            message.text += text;
            for (const auto& [name, value] : facts) message.text += fmt::format("\n*{}:* {}", name, value);
            if (!link.empty()) message.text += fmt::format("\n<{}|{}>", link, link_title);
            posted = deps_.chat->PostSlack(endpoint.url, message);
            break;
        }
        case notify::ChatKind::kTeams: {
            notify::TeamsMessage message;
            message.title = title;
            message.text = text;
            message.facts = facts;
            message.link_url = link;
            message.link_title = link_title;
            posted = deps_.chat->PostTeams(endpoint.url, message);
            break;
        }
        case notify::ChatKind::kGeneric: {
            Json body = {{"text", text}};
            if (!title.empty()) body["title"] = title;
            if (!link.empty()) {
                body["link"] = link;
                body["link_title"] = link_title;
            }
            if (!facts.empty()) {
                Json map = Json::object();
                for (const auto& [name, value] : facts) map[name] = value;
                body["facts"] = std::move(map);
            }
            posted = deps_.chat->PostJson(endpoint.url, body,
                                          {{"Idempotency-Key", IdempotencyKey(call.run_key, call.index)}});
            break;
        }
    }
    if (!posted) return Fail(posted.error());
    return Json{{"status", "sent"}, {"kind", std::string(notify::ToString(endpoint.kind))}};
}

Result<Json> StepExecutor::Http(const Json& in, const StepCall& call) {
    if (deps_.http == nullptr) return Fail(ErrorCode::kConfig, "http: no HTTP client is configured");
    httpc::Request request;
    request.method = input::Text(in, "method", "POST");
    request.url = input::Text(in, "url");
    if (request.url.empty()) return Fail(input::Bad("http", "url", "empty"));
    // A token in the query must not reach a log line through an error message.
    notify::RegisterWebhookUrl(notify::ChatKind::kGeneric, request.url);
    if (in.contains("headers") && in["headers"].is_object()) {
        for (const auto& [name, value] : in["headers"].items()) {
            const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
            if (name.find_first_of("\r\n:") != std::string::npos ||
                text.find_first_of("\r\n") != std::string::npos) {
                return Fail(
                    input::Bad("http", "headers", "a header name or value holds a line break or colon"));
            }
            request.headers.emplace_back(name, text);
        }
    }
    // The same key on every attempt of this step, so an endpoint that honours it does the work once
    // even when our checkpoint was lost after its answer.
    if (!HasHeader(request.headers, "Idempotency-Key")) {
        request.headers.emplace_back("Idempotency-Key", IdempotencyKey(call.run_key, call.index));
    }
    if (in.contains("body") && !in["body"].is_null()) {
        const Json& body = in["body"];
        const bool text = body.is_string();
        request.body =
            text ? body.get<std::string>() : body.dump(-1, ' ', false, Json::error_handler_t::replace);
        if (!HasHeader(request.headers, "Content-Type")) {
            request.headers.emplace_back("Content-Type",
                                         text ? "text/plain; charset=utf-8" : "application/json");
        }
    }
    request.connect_timeout = std::min(request.connect_timeout, deps_.http_timeout);
    request.total_timeout = deps_.http_timeout;

    auto response = deps_.http->Send(request);
    if (!response) return Fail(response.error());
    const std::string where = fmt::format("http {} {}", request.method, Origin(request.url));
    auto classified = notify::ClassifyChatAnswer(notify::ChatKind::kGeneric, response->status,
                                                 response->Header("retry-after"), response->body, Now());
    if (!classified) {
        Error error = classified.error();
        // ClassifyChatAnswer speaks of a "generic webhook"; this is the rule's own endpoint.
        const std::string prefix = "generic webhook ";
        if (error.message.rfind(prefix, 0) == 0)
            error.message = where + " " + error.message.substr(prefix.size());
        return Fail(std::move(error));
    }
    Json body;
    const auto type = response->Header("content-type").value_or("");
    if (type.find("json") != std::string::npos) {
        // Bounded: the output is checkpointed, read back for every later step and dumped into templates,
        // run records and the admin API, each recursing once per level (core/json_depth.hpp). An answer
        // nesting deeper is kept as text, like one that is not JSON.
        if (auto parsed = ParseBoundedJson(response->body)) body = std::move(*parsed);
    }
    if (body.is_null() && !response->body.empty()) {
        // Text is kept up to 64 KiB, cut on a UTF-8 character boundary.
        std::size_t keep = std::min(response->body.size(), kMaxStoredBody);
        if (keep < response->body.size()) {
            while (keep > 0 && (static_cast<unsigned char>(response->body[keep]) & 0xC0) == 0x80) --keep;
        }
        body = response->body.substr(0, keep);
    } else if (body.dump(-1, ' ', false, Json::error_handler_t::replace).size() > kMaxStoredBody) {
        body = "(JSON answer over 64 KiB, not kept)";
    }
    log::Debug("runner", "http step answered", {{"where", where}, {"status", response->status}});
    return Json{{"status", response->status}, {"body", std::move(body)}};
}

}  // namespace spacehook::runner
