// ChatPoster against a loopback HTTP server (testdata/chat_test_server.py) that records every request.
#include "notify/chat_poster.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/log.hpp"
#include "httpc/testing/child_process.hpp"

namespace spacehook::notify {
namespace {

using std::chrono::milliseconds;
namespace testing = httpc::testing;

class ChatServer {
public:
    ChatServer() {
        std::filesystem::create_directory(Records());
        auto child = testing::ChildProcess::Start(
            {"/usr/bin/python3", std::string(SPACEHOOK_NOTIFY_TESTDATA) + "/chat_test_server.py",
             dir_.path() + "/ready.json", Records()});
        if (!child) throw std::runtime_error(child.error().message);
        child_ = std::make_unique<testing::ChildProcess>(std::move(*child));
        const auto ready = testing::WaitForFile(dir_.path() + "/ready.json", milliseconds(10000));
        if (!ready) throw std::runtime_error("chat_test_server.py did not start");
        port_ = Json::parse(*ready)["port"].get<int>();
    }
    [[nodiscard]] std::string Url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    /// The n-th request the server received (recorded before it answered).
    [[nodiscard]] Json Request(int n) const {
        return Json::parse(testing::ReadFile(Records() + "/" + std::to_string(n) + ".json"));
    }
    [[nodiscard]] std::size_t RequestCount() const {
        std::size_t count = 0;
        for (const auto& entry : std::filesystem::directory_iterator(Records())) {
            if (entry.path().extension() == ".json") ++count;
        }
        return count;
    }

private:
    [[nodiscard]] std::string Records() const { return dir_.path() + "/records"; }
    testing::TempDir dir_;
    std::unique_ptr<testing::ChildProcess> child_;
    int port_ = 0;
};

ChatOptions FastOptions() {
    ChatOptions options;
    options.connect_timeout = milliseconds(2000);
    options.total_timeout = milliseconds(5000);
    return options;
}

// Slack and Teams webhook URLs carry their credential in the path; these look like real ones.
const std::string kSlackPath = "/services/T01ABCDEF/B02GHIJKL/Zq8uYb6s7kLpW3nV9xR2tC4m";
const std::string kTeamsPath =
    "/workflows/4c1f0e2a9b8d/triggers/manual/paths/invoke?api-version=1&sig=Xy7Qk2PzR9LmW4";

TEST(ChatPoster, SlackPostsTheExactJsonBody) {
    ChatServer server;
    ChatPoster poster(FastOptions());
    const Json blocks =
        Json::parse(R"([{"type":"section","text":{"type":"mrkdwn","text":"*invoice-7.pdf* → Incoming"}}])");
    const Status posted =
        poster.PostSlack(server.Url(kSlackPath), {"Invoice uploaded: invoice-7.pdf", blocks});
    ASSERT_TRUE(posted.has_value()) << posted.error().message;
    const Json request = server.Request(1);
    EXPECT_EQ(request["method"], "POST");
    EXPECT_EQ(request["path"], kSlackPath);
    EXPECT_EQ(request["headers"]["content-type"], "application/json; charset=utf-8");
    EXPECT_EQ(
        request["body"],
        R"({"blocks":[{"text":{"text":"*invoice-7.pdf* → Incoming","type":"mrkdwn"},"type":"section"}],)"
        R"("text":"Invoice uploaded: invoice-7.pdf"})");
}

TEST(ChatPoster, TeamsPostsAnAdaptiveCard) {
    ChatServer server;
    ChatPoster poster(FastOptions());
    TeamsMessage m;
    m.title = "Compliance file changed";
    m.text = "Policy.docx was edited by Jane Doe";
    m.link_url = "https://portal.example.com/doceditor?fileId=42";
    m.link_title = "Open file";
    const Status posted = poster.PostTeams(server.Url(kTeamsPath), m);
    ASSERT_TRUE(posted.has_value()) << posted.error().message;
    const Json request = server.Request(1);
    EXPECT_EQ(request["path"], kTeamsPath);
    EXPECT_EQ(
        request["body"],
        R"({"attachments":[{"content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json",)"
        R"("actions":[{"title":"Open file","type":"Action.OpenUrl","url":"https://portal.example.com/doceditor?fileId=42"}],)"
        R"("body":[{"size":"Medium","text":"Compliance file changed","type":"TextBlock","weight":"Bolder","wrap":true},)"
        R"({"text":"Policy.docx was edited by Jane Doe","type":"TextBlock","wrap":true}],)"
        R"("type":"AdaptiveCard","version":"1.4"},"contentType":"application/vnd.microsoft.card.adaptive",)"
        R"("contentUrl":null}],"type":"message"})");
}

TEST(ChatPoster, GenericPostsTheCallersJsonAndHeaders) {
    ChatServer server;
    ChatPoster poster(FastOptions());
    const Json body = {{"event", "file.created"}, {"file", {{"id", 42}, {"title", "Grüße.docx"}}}};
    const Status posted =
        poster.PostJson(server.Url("/hooks/intake"), body,
                        {{"X-Api-Key", "k-123456"}, {"Content-Type", "application/vnd.ci+json"}});
    ASSERT_TRUE(posted.has_value()) << posted.error().message;
    const Json request = server.Request(1);
    EXPECT_EQ(request["path"], "/hooks/intake");
    EXPECT_EQ(request["headers"]["x-api-key"], "k-123456");
    EXPECT_EQ(request["headers"]["content-type"], "application/vnd.ci+json");
    EXPECT_EQ(request["body"], R"({"event":"file.created","file":{"id":42,"title":"Grüße.docx"}})");

    const Status injected =
        poster.PostJson(server.Url("/hooks/intake"), body, {{"X-Note", "a\r\nX-Evil: 1"}});
    ASSERT_FALSE(injected.has_value());
    EXPECT_EQ(injected.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(server.RequestCount(), 1U);
}

TEST(ChatPoster, RateLimitIsTransientWithRetryAfter) {
    ChatServer server;
    ChatPoster poster(FastOptions());
    const Status posted = poster.PostSlack(
        server.Url("/status/429" + kSlackPath + "?retry_after=17&body=rate_limited"), {"hello", nullptr});
    ASSERT_FALSE(posted.has_value());
    EXPECT_EQ(posted.error().code, ErrorCode::kRateLimited);
    EXPECT_TRUE(posted.error().IsTransient());
    EXPECT_EQ(posted.error().retry_after, milliseconds(17000));
    EXPECT_EQ(posted.error().upstream_status, 429);
    EXPECT_EQ(posted.error().message, "slack webhook answered 429: rate_limited");
}

TEST(ChatPoster, ServerErrorIsTransient) {
    ChatServer server;
    ChatPoster poster(FastOptions());
    const Status posted =
        poster.PostTeams(server.Url("/status/500" + kTeamsPath), {"t", "x", {}, "", "Open"});
    ASSERT_FALSE(posted.has_value());
    EXPECT_EQ(posted.error().code, ErrorCode::kUnavailable);
    EXPECT_TRUE(posted.error().IsTransient());
    EXPECT_EQ(posted.error().upstream_status, 500);
}

TEST(ChatPoster, NotFoundIsPermanentAndNeverNamesTheUrl) {
    ChatServer server;
    ChatPoster poster(FastOptions());
    const Status posted =
        poster.PostSlack(server.Url("/status/404" + kSlackPath + "?body=no_service"), {"hello", nullptr});
    ASSERT_FALSE(posted.has_value());
    EXPECT_EQ(posted.error().code, ErrorCode::kNotFound);
    EXPECT_FALSE(posted.error().IsTransient());
    EXPECT_EQ(posted.error().message, "slack webhook answered 404: no_service");
    EXPECT_EQ(posted.error().message.find("Zq8uYb6s7kLpW3nV9xR2tC4m"), std::string::npos);
}

TEST(ChatPoster, TeamsLegacyFailureInA200IsAnError) {
    ChatServer server;
    ChatPoster poster(FastOptions());
    const Status posted =
        poster.PostTeams(server.Url("/teams-legacy-failure/429" + kTeamsPath), {"t", "x", {}, "", "Open"});
    ASSERT_FALSE(posted.has_value());
    EXPECT_EQ(posted.error().code, ErrorCode::kRateLimited);
}

TEST(ChatPoster, UnreachableIsTransientAndTheSecretPathIsNotInTheError) {
    const auto port = testing::PickFreePort();
    ASSERT_TRUE(port.has_value());
    ChatPoster poster(FastOptions());
    const std::string url = "http://127.0.0.1:" + std::to_string(*port) + kSlackPath;
    const Status posted = poster.PostSlack(url, {"hello", nullptr});
    ASSERT_FALSE(posted.has_value());
    EXPECT_TRUE(posted.error().IsTransient()) << posted.error().message;
    EXPECT_EQ(posted.error().message.rfind("slack webhook unreachable: ", 0), 0U) << posted.error().message;
    EXPECT_EQ(posted.error().message.find("B02GHIJKL"), std::string::npos) << posted.error().message;
}

}  // namespace
}  // namespace spacehook::notify
