// chat: a post to an incoming webhook (Slack, Teams, or any endpoint taking JSON). An incoming webhook
// cannot be asked whether it got a post: a generic post carries the step's Idempotency-Key, Slack and
// Teams cannot deduplicate (docs/runner.md "Exactly once, step by step").
#include <fmt/format.h>

#include "core/text.hpp"
#include "steps/kind.hpp"

namespace spacehook::steps {
namespace {

constexpr EnumNames<notify::ChatKind, 3> kChatKindNames{{{
    {notify::ChatKind::kSlack, "slack"},
    {notify::ChatKind::kTeams, "teams"},
    {notify::ChatKind::kGeneric, "generic"},
}}};

struct ChatInput {
    std::optional<std::string> channel;  ///< a name from chat.channels, or else kind and url
    std::optional<notify::ChatKind> kind;
    std::optional<std::string> url;
    std::string text;
    std::optional<std::string> title;
    std::optional<std::string> link;
    std::optional<std::string> link_title;
    std::optional<std::map<std::string, std::string>> facts;
};

class Chat final : public Kind<ChatInput> {
public:
    Chat()
        : Kind("chat", {.what = "incoming webhook post", .looks = "nothing"},
               {Bind("channel", rules::InputType::kChannel, &ChatInput::channel),
                Choice("kind", &ChatInput::kind, kChatKindNames),
                Bind("url", rules::InputType::kUrl, &ChatInput::url).Sensitive(),
                Bind("text", rules::InputType::kText, &ChatInput::text).Required(),
                Bind("title", rules::InputType::kText, &ChatInput::title),
                Bind("link", rules::InputType::kText, &ChatInput::link),
                Bind("link_title", rules::InputType::kText, &ChatInput::link_title),
                Bind("facts", rules::InputType::kTextMap, &ChatInput::facts)}) {}

private:
    void Check(rules::StepCheck& check) const override {
        const Json& input = check.input;
        if (input.contains("channel") && input.contains("url")) {
            check.Error("chat takes either channel (a name from chat.channels) or kind and url, not both");
        } else if (!input.contains("channel") && !input.contains("url")) {
            check.Error("chat needs channel (a name from chat.channels) or kind and url");
        } else if (input.contains("url") && !input.contains("kind")) {
            check.Error("chat with url needs kind: slack, teams or generic");
        } else if (input.contains("channel") && input.contains("kind")) {
            check.ErrorAt("kind", "a named channel has its kind in chat.channels");
        }
    }

    Status Finish(ChatInput& in, const InputProblems& problem, bool strict) const override {
        if (strict && in.url && !IsHttpUrl(*in.url)) return Fail(problem("url", "expected an http(s) URL"));
        return Ok();
    }

    Result<Json> Execute(const ChatInput& in, const StepDeps& deps, const StepCall& call) const override;
};

Result<Json> Chat::Execute(const ChatInput& in, const StepDeps& deps, const StepCall& call) const {
    if (deps.chat == nullptr) return Fail(ErrorCode::kConfig, "chat: no chat poster is configured");
    ChatEndpoint endpoint;
    if (in.channel) {
        auto it = deps.chat_channels.find(*in.channel);
        if (it == deps.chat_channels.end()) {
            return Fail(ErrorCode::kConfig,
                        fmt::format("chat: channel '{}' is not in chat.channels", *in.channel));
        }
        endpoint = it->second;
    } else {
        if (!in.kind) return Fail(Bad("kind", "not slack, teams or generic"));
        endpoint.kind = *in.kind;
        endpoint.url = in.url.value_or("");
        notify::RegisterWebhookUrl(endpoint.kind, endpoint.url);
    }
    const std::string title = in.title.value_or("");
    const std::string link = in.link.value_or("");
    const std::string link_title = in.link_title.value_or("Open");
    std::vector<std::pair<std::string, std::string>> facts;
    if (in.facts) facts.assign(in.facts->begin(), in.facts->end());

    Status posted;
    switch (endpoint.kind) {
        case notify::ChatKind::kSlack: {
            // Rendered text is payload data: notify escapes it where it enters Slack's markup.
            notify::SlackMessage message;
            message.title = title;
            message.text = in.text;
            message.facts = facts;
            message.link_url = link;
            message.link_title = link_title;
            posted = deps.chat->PostSlack(endpoint.url, message);
            break;
        }
        case notify::ChatKind::kTeams: {
            notify::TeamsMessage message;
            message.title = title;
            message.text = in.text;
            message.facts = facts;
            message.link_url = link;
            message.link_title = link_title;
            posted = deps.chat->PostTeams(endpoint.url, message);
            break;
        }
        case notify::ChatKind::kGeneric: {
            Json body = {{"text", in.text}};
            if (!title.empty()) body["title"] = title;
            if (!link.empty()) {
                body["link"] = link;
                body["link_title"] = link_title;
            }
            if (!facts.empty()) body["facts"] = codec::Show(*in.facts);
            posted = deps.chat->PostJson(endpoint.url, body,
                                         {{"Idempotency-Key", IdempotencyKey(call.run_key, call.index)}});
            break;
        }
    }
    if (!posted) return Fail(posted.error());
    return Json{{"status", "sent"}, {"kind", std::string(notify::ToString(endpoint.kind))}};
}

}  // namespace

std::optional<notify::ChatKind> ChatKindOf(std::string_view name) {
    return kChatKindNames.Parse(name);
}

const StepDescriptor& ChatStep() {
    static const Chat kind;
    return kind;
}

}  // namespace spacehook::steps
