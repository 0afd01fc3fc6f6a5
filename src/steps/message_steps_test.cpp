// The steps that leave DocSpace (chat, http) against a loopback HTTP server that records what it got
// and answers from a script: payload shapes, the Idempotency-Key, and how answers are classified.
#include <gtest/gtest.h>

#include <deque>
#include <mutex>

#include "core/json.hpp"
#include "http/server.hpp"
#include "steps/catalog.hpp"

namespace spacehook::steps {
namespace {

using std::chrono::milliseconds;

/// Runs a step of `kind` with a rendered input (docs/rules.md "Rendered step inputs").
Result<Json> Execute(std::string_view kind, const Json& input, const StepDeps& deps, const StepCall& call) {
    auto prepared = Kinds().Descriptor(kind)->FromRendered(input);
    if (!prepared) return Fail(prepared.error());
    return (*prepared)->Execute(deps, call);
}

/// Records requests; answers each with the next scripted response (the last one repeats).
class Endpoint {
public:
    Endpoint() {
        http::ServerOptions options;
        options.host = "127.0.0.1";
        options.port = 0;
        server_ =
            std::make_unique<http::Server>(options, [this](http::Request&& request, http::Responder respond) {
                http::Response answer;
                {
                    std::lock_guard lock(mu_);
                    requests_.push_back(std::move(request));
                    answer = script_.size() > 1 ? script_.front() : script_.back();
                    if (script_.size() > 1) script_.pop_front();
                }
                respond(std::move(answer));
            });
        auto started = server_->Start();
        if (!started) throw std::runtime_error(started.error().message);
    }
    ~Endpoint() { server_->Stop(milliseconds(200)); }

    [[nodiscard]] std::string Url(std::string_view path) const {
        return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
    }
    void Script(std::deque<http::Response> script) {
        std::lock_guard lock(mu_);
        script_ = std::move(script);
    }
    std::vector<http::Request> Requests() {
        std::lock_guard lock(mu_);
        return requests_;
    }

private:
    std::mutex mu_;
    std::deque<http::Response> script_{http::Response::Text(200, "ok")};
    std::vector<http::Request> requests_;
    std::unique_ptr<http::Server> server_;
};

std::string HeaderOf(const http::Request& request, std::string_view name) {
    const std::string* value = request.FindHeader(name);
    return value == nullptr ? "" : *value;
}

class MessageStepsTest : public ::testing::Test {
protected:
    MessageStepsTest() {
        deps_.chat = &chat_;
        deps_.http = &http_;
        deps_.chat_channels["ops"] =
            ChatEndpoint{notify::ChatKind::kSlack, endpoint_.Url("/services/T000/B000/XXXXXXXXXXXX")};
        deps_.chat_channels["hooks"] = ChatEndpoint{notify::ChatKind::kGeneric, endpoint_.Url("/generic")};
        deps_.http_timeout = milliseconds(5000);
    }

    Result<Json> Execute(std::string_view kind, const Json& input, const StepCall& call) {
        return steps::Execute(kind, input, deps_, call);
    }

    Endpoint endpoint_;
    notify::ChatPoster chat_;
    httpc::Client http_;
    StepDeps deps_;
    const StepCall call_{"tell/file.created/file:42", 2, false};
};

TEST_F(MessageStepsTest, ASlackPostCarriesTitleTextFactsAndLink) {
    const Json input = {{"channel", "ops"},        {"text", "Invoice uploaded"},
                        {"title", "Intake"},       {"link", "https://portal/doc?fileid=42"},
                        {"link_title", "Open it"}, {"facts", {{"File", "Invoice.pdf"}}}};
    auto output = Execute("chat", input, call_);
    ASSERT_TRUE(output) << output.error().message;
    EXPECT_EQ(*output, (Json{{"status", "sent"}, {"kind", "slack"}}));
    const auto requests = endpoint_.Requests();
    ASSERT_EQ(requests.size(), 1u);
    const Json body = Json::parse(requests[0].body);
    EXPECT_EQ(body["text"],
              "*Intake*\nInvoice uploaded\n*File:* Invoice.pdf\n<https://portal/doc?fileid=42|Open it>");
}

// The rendered inputs carry payload text (a file title, a user name): it reaches Slack as text.
TEST_F(MessageStepsTest, PayloadTextInASlackPostIsEscapedNotObeyed) {
    const Json input = {{"channel", "ops"},
                        {"text", "Uploaded: <!channel> <https://evil.example|Invoice.pdf> & more"},
                        {"title", "<@U024BE7LH>"},
                        {"facts", {{"File", "<!here>"}}}};
    ASSERT_TRUE(Execute("chat", input, call_));
    const Json body = Json::parse(endpoint_.Requests().at(0).body);
    EXPECT_EQ(
        body["text"],
        "*&lt;@U024BE7LH&gt;*\nUploaded: &lt;!channel&gt; &lt;https://evil.example|Invoice.pdf&gt; &amp; "
        "more\n*File:* &lt;!here&gt;");
}

TEST_F(MessageStepsTest, AGenericPostIsPlainJsonWithTheStepsIdempotencyKey) {
    const Json input = {{"channel", "hooks"}, {"text", "hello"}, {"facts", {{"a", "b"}}}};
    ASSERT_TRUE(Execute("chat", input, call_));
    ASSERT_TRUE(Execute("chat", input, call_));
    const auto requests = endpoint_.Requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(Json::parse(requests[0].body), (Json{{"text", "hello"}, {"facts", {{"a", "b"}}}}));
    EXPECT_EQ(HeaderOf(requests[0], "idempotency-key"), IdempotencyKey(call_.run_key, call_.index));
    EXPECT_EQ(HeaderOf(requests[0], "idempotency-key"), HeaderOf(requests[1], "idempotency-key"));

    auto unknown = Execute("chat", Json{{"channel", "nope"}, {"text", "x"}}, call_);
    ASSERT_FALSE(unknown);
    EXPECT_FALSE(unknown.error().IsTransient());
    EXPECT_NE(unknown.error().message.find("channel 'nope'"), std::string::npos);
}

TEST_F(MessageStepsTest, AnHttpCallSendsItsHeadersBodyAndKeyAndKeepsTheAnswer) {
    endpoint_.Script({http::Response::Json(201, R"({"ticket":7})")});
    const Json input = {{"method", "PUT"},
                        {"url", endpoint_.Url("/tickets?token=s3cr3t-t0ken")},
                        {"headers", {{"X-Source", "spacehook"}}},
                        {"body", {{"room", 890}}}};
    auto output = Execute("http", input, call_);
    ASSERT_TRUE(output) << output.error().message;
    EXPECT_EQ(*output, (Json{{"status", 201}, {"body", {{"ticket", 7}}}}));
    const auto request = endpoint_.Requests().at(0);
    EXPECT_EQ(request.method, "PUT");
    EXPECT_EQ(HeaderOf(request, "x-source"), "spacehook");
    EXPECT_EQ(HeaderOf(request, "content-type"), "application/json");
    EXPECT_EQ(HeaderOf(request, "idempotency-key").size(), 64u);
    EXPECT_EQ(Json::parse(request.body), (Json{{"room", 890}}));

    endpoint_.Script({http::Response::Text(200, "plain answer")});
    auto text = Execute("http", Json{{"method", "GET"}, {"url", endpoint_.Url("/x")}}, call_);
    ASSERT_TRUE(text);
    EXPECT_EQ((*text)["body"], "plain answer");
    EXPECT_TRUE(endpoint_.Requests().back().body.empty());
}

// The answer becomes the step's checkpointed output, copied and dumped again for every later step: a
// JSON answer nesting past kMaxJsonDepth is kept as (truncated) text, never built as JSON.
TEST_F(MessageStepsTest, AnHttpAnswerNestingTooDeepIsKeptAsTextNotParsed) {
    const std::size_t levels = 20000;
    const std::string deep = std::string(levels, '[') + std::string(levels, ']');
    endpoint_.Script({http::Response::Json(200, deep)});
    auto output = Execute("http", Json{{"url", endpoint_.Url("/deep")}}, call_);
    ASSERT_TRUE(output) << output.error().message;
    EXPECT_EQ((*output)["status"], 200);
    ASSERT_TRUE((*output)["body"].is_string());
    EXPECT_EQ((*output)["body"].get<std::string>(), deep);
    // What the store keeps and every later step reads back: the dump and a re-parse stay flat.
    const std::string stored = output->dump();
    EXPECT_EQ(Json::parse(stored), *output);

    std::string nested = "1";
    for (int i = 0; i < 60; ++i) nested.insert(0, "[").append("]");
    endpoint_.Script({http::Response::Json(200, nested)});
    auto within = Execute("http", Json{{"url", endpoint_.Url("/within")}}, call_);
    ASSERT_TRUE(within) << within.error().message;
    EXPECT_EQ((*within)["body"], Json::parse(nested));
}

// docs/runner.md: the output keeps a text answer up to 64 KiB; a JSON answer over 64 KiB is not kept.
TEST_F(MessageStepsTest, AnHttpAnswerOver64KiBKeepsItsFirst64KiBOfTextButNoJson) {
    // 'é' is two bytes: the cut at 64 KiB falls inside one and moves back to the character before.
    std::string text = "x";
    while (text.size() < std::size_t{100} * 1024) text += "é";
    endpoint_.Script({http::Response::Text(200, text)});
    auto output = Execute("http", Json{{"url", endpoint_.Url("/text")}}, call_);
    ASSERT_TRUE(output) << output.error().message;
    const std::string kept = (*output)["body"].get<std::string>();
    EXPECT_EQ(kept, text.substr(0, 64 * 1024 - 1));
    EXPECT_NO_THROW((void)Json(kept).dump());  // valid UTF-8: the store and the admin API dump it strictly

    endpoint_.Script(
        {http::Response::Json(200, Json{{"blob", std::string(std::size_t{70} * 1024, 'j')}}.dump())});
    auto big = Execute("http", Json{{"url", endpoint_.Url("/json")}}, call_);
    ASSERT_TRUE(big) << big.error().message;
    EXPECT_EQ((*big)["body"], "(JSON answer over 64 KiB, not kept)");
}

TEST_F(MessageStepsTest, HttpAnswersAreTransientOrPermanentAndNeverShowThePathOrQuery) {
    http::Response limited = http::Response::Text(429, "slow down");
    limited.headers.push_back({"Retry-After", "12"});
    endpoint_.Script({limited, http::Response::Text(503, "down"), http::Response::Text(404, "no such hook")});
    const Json input = {{"url", endpoint_.Url("/hook/s3cr3t-path?token=abc")}, {"body", "text body"}};

    auto first = Execute("http", input, call_);
    ASSERT_FALSE(first);
    EXPECT_EQ(first.error().code, ErrorCode::kRateLimited);
    EXPECT_EQ(first.error().retry_after, milliseconds(12000));
    auto second = Execute("http", input, call_);
    EXPECT_EQ(second.error().code, ErrorCode::kUnavailable);
    auto third = Execute("http", input, call_);
    EXPECT_EQ(third.error().code, ErrorCode::kNotFound);
    EXPECT_FALSE(third.error().IsTransient());
    EXPECT_NE(third.error().message.find("http POST http://127.0.0.1:"), std::string::npos)
        << third.error().message;
    EXPECT_NE(third.error().message.find("answered 404"), std::string::npos);
    EXPECT_EQ(third.error().message.find("s3cr3t-path"), std::string::npos);
    EXPECT_EQ(HeaderOf(endpoint_.Requests().back(), "content-type"), "text/plain; charset=utf-8");

    auto bad_header =
        Execute("http", Json{{"url", endpoint_.Url("/x")}, {"headers", {{"X", "a\r\nB: c"}}}}, call_);
    ASSERT_FALSE(bad_header);
    EXPECT_EQ(bad_header.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(MessageStepsTest, StepsWithoutTheirDependencyFailPermanentlyNamingTheSetting) {
    const StepDeps bare;
    auto mail = steps::Execute("mail", Json{{"to", {"a@example.com"}}, {"subject", "s"}}, bare, call_);
    ASSERT_FALSE(mail);
    EXPECT_FALSE(mail.error().IsTransient());
    EXPECT_NE(mail.error().message.find("mail.smtp_url"), std::string::npos);
    auto room = steps::Execute("create_room", Json{{"title", "x"}, {"type", 2}}, bare, call_);
    ASSERT_FALSE(room);
    EXPECT_NE(room.error().message.find("docspace.api_host"), std::string::npos);
}

// What serve gives http and chat steps (app/service.cpp): a guard that refuses internal addresses but
// those outbound.allow names, and never lets a request reach the admin listener.
TEST_F(MessageStepsTest, GuardedStepsReachNoInternalAddressUnlessAllowedAndNeverTheAdminListener) {
    Endpoint admin;
    auto guarded = [&](std::vector<std::string> allow) {
        OutboundPolicy policy;
        policy.allow = std::move(allow);
        policy.own_listeners.push_back(
            {"127.0.0.1", static_cast<std::uint16_t>(
                              std::stoi(admin.Url("").substr(std::string("http://127.0.0.1:").size())))});
        auto guard = OutboundGuard::Create(policy);
        EXPECT_TRUE(guard);
        return *guard;
    };
    const auto refuse = guarded({});
    httpc::ClientOptions http_options;
    http_options.guard = refuse;
    httpc::Client http(http_options);
    notify::ChatOptions chat_options;
    chat_options.guard = refuse;
    notify::ChatPoster chat(chat_options);
    StepDeps deps = deps_;
    deps.http = &http;
    deps.chat = &chat;

    // Default: loopback is refused before anything is sent, permanently (a retry goes to the same place).
    auto http_out =
        steps::Execute("http", Json{{"url", endpoint_.Url("/tickets")}, {"method", "POST"}}, deps, call_);
    ASSERT_FALSE(http_out);
    EXPECT_EQ(http_out.error().code, ErrorCode::kPermanent);
    EXPECT_NE(http_out.error().message.find("127.0.0.1 is a loopback address"), std::string::npos)
        << http_out.error().message;
    EXPECT_NE(http_out.error().message.find("outbound.allow"), std::string::npos);
    auto chat_out = steps::Execute("chat", Json{{"channel", "hooks"}, {"text", "hi"}}, deps, call_);
    ASSERT_FALSE(chat_out);
    EXPECT_EQ(chat_out.error().code, ErrorCode::kPermanent);
    EXPECT_TRUE(endpoint_.Requests().empty());

    // Allowed: it goes through. The admin listener stays out of reach even so.
    const auto allow = guarded({"127.0.0.1"});
    http_options.guard = allow;
    httpc::Client allowed(http_options);
    deps.http = &allowed;
    auto reached =
        steps::Execute("http", Json{{"url", endpoint_.Url("/tickets")}, {"method", "POST"}}, deps, call_);
    ASSERT_TRUE(reached) << reached.error().message;
    EXPECT_EQ(endpoint_.Requests().size(), 1u);
    auto replay = steps::Execute(
        "http", Json{{"url", admin.Url("/admin/api/events/1/replay")}, {"method", "POST"}}, deps, call_);
    ASSERT_FALSE(replay);
    EXPECT_NE(replay.error().message.find("own admin listener"), std::string::npos) << replay.error().message;
    auto localhost = steps::Execute(
        "http",
        Json{{"url", "http://localhost:" + admin.Url("").substr(17) + "/admin/api/events/1/replay"},
             {"method", "POST"}},
        deps, call_);
    ASSERT_FALSE(localhost);
    EXPECT_TRUE(admin.Requests().empty());
}

TEST(RunKeys, TagKeyAndSeedAreStableAndDistinct) {
    EXPECT_EQ(RunTag("a/b"), RunTag("a/b"));
    EXPECT_NE(RunTag("a/b"), RunTag("a/c"));
    EXPECT_EQ(RunTag("a/b").size(), std::string("spacehook-").size() + 12);
    EXPECT_EQ(MessageIdSeed("a/b", 3), "a/b/3");
    EXPECT_NE(IdempotencyKey("a/b", 3), IdempotencyKey("a/b", 4));
}

}  // namespace
}  // namespace spacehook::steps
