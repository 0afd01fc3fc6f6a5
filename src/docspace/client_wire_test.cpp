// The exact requests DocSpaceClient sends, recorded by a stand-in portal: id kinds, the file-operation body,
// the webhook full replace, the room search's tags and the people-by-e-mail route.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>

#include "docspace/client.hpp"
#include "http/server.hpp"

namespace spacehook::docspace {
namespace {

using std::chrono::milliseconds;

constexpr const char* kJaneId = "5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b";

/// A stand-in portal that records each request and answers with a canned envelope: for what the
/// emulator cannot show (string ids of third-party storage, the exact request bodies).
class RecordingPortal {
public:
    /// Answers every call with `response`, or with what `answer` makes of the request when given.
    explicit RecordingPortal(Json response, std::function<Json(const http::Request&)> answer = nullptr)
        : response_(std::move(response)), answer_(std::move(answer)) {
        http::ServerOptions options;
        options.host = "127.0.0.1";
        options.port = 0;
        server_ = std::make_unique<http::Server>(options, [this](http::Request&& request,
                                                                 http::Responder respond) {
            Json answered = answer_ ? answer_(request) : response_;
            {
                std::lock_guard lock(mu_);
                requests_.push_back(std::move(request));
            }
            respond(http::Response::Json(
                200, Json{{"response", answered}, {"count", 1}, {"status", 0}, {"statusCode", 200}}.dump()));
        });
        auto started = server_->Start();
        if (!started) throw std::runtime_error(started.error().message);
    }
    ~RecordingPortal() { server_->Stop(milliseconds(500)); }
    [[nodiscard]] std::string BaseUrl() const {
        return "http://127.0.0.1:" + std::to_string(server_->port());
    }
    http::Request Last() {
        std::lock_guard lock(mu_);
        return requests_.back();
    }
    /// The last request with this method.
    http::Request LastOf(std::string_view method) {
        std::lock_guard lock(mu_);
        for (auto it = requests_.rbegin(); it != requests_.rend(); ++it) {
            if (it->method == method) return *it;
        }
        throw std::runtime_error("no such request");
    }

private:
    Json response_;
    std::function<Json(const http::Request&)> answer_;
    std::mutex mu_;
    std::vector<http::Request> requests_;
    std::unique_ptr<http::Server> server_;
};

std::unique_ptr<DocSpaceClient> ClientFor(const RecordingPortal& portal) {
    ClientOptions options;
    options.base_url = portal.BaseUrl() + "/";  // a trailing slash is tolerated
    options.api_key = "sk-recording-portal-key";
    return std::make_unique<DocSpaceClient>(options, std::make_shared<RateLimiter>(RateLimitOptions{}));
}

TEST(DocSpaceClientWire, StringIdsGoBackAsStringsAndNumbersAsNumbers) {
    RecordingPortal portal(Json{{"id", "sbox-7|Copy.docx"},
                                {"title", "Copy.docx"},
                                {"folderId", "sbox-7|dir"},
                                {"fileExst", ".docx"}});
    auto client = ClientFor(portal);
    auto copy =
        client->CopyFileAs(EntityId::String("sbox-7|a b.docx"), EntityId::String("sbox-7|dir"), "Copy.docx");
    ASSERT_TRUE(copy) << copy.error().message;
    EXPECT_FALSE(copy->id.is_number());
    EXPECT_EQ(copy->parent_id.str(), "sbox-7|dir");
    auto request = portal.Last();
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.path, "/api/2.0/files/file/sbox-7%7Ca%20b.docx/copyas");
    EXPECT_EQ(*request.FindHeader("authorization"), "Bearer sk-recording-portal-key");
    EXPECT_EQ(*request.FindHeader("content-type"), "application/json");
    const auto body = Json::parse(request.body);
    EXPECT_EQ(body["destFolderId"], "sbox-7|dir");
    EXPECT_EQ(body["destTitle"], "Copy.docx");

    ASSERT_TRUE(client->CopyFileAs(EntityId::Number(12), EntityId::Number(567), "Copy.docx"));
    EXPECT_EQ(Json::parse(portal.Last().body)["destFolderId"], 567);
}

TEST(DocSpaceClientWire, FileOperationBodyFollowsTheWireRules) {
    // An operation that is already finished in the PUT answer: nothing to poll; the destination, read
    // before and after, shows the copies.
    const Json finished = Json::array({Json{{"id", "op-9"},
                                            {"Operation", 1},
                                            {"progress", 100},
                                            {"error", ""},
                                            {"processed", "1"},
                                            {"finished", true}}});
    std::atomic<bool> copied{false};
    RecordingPortal portal(finished, [&](const http::Request& request) -> Json {
        if (request.method == "PUT") {
            copied = true;
            return Json(finished);  // a copy: the same answer serves every call
        }
        if (request.path == "/api/2.0/files/folder/3/path") return Json::array({{{"id", 3}, {"title", "F"}}});
        if (request.path == "/api/2.0/files/file/1") return Json{{"id", 1}, {"title", "a.docx"}};
        if (request.path == "/api/2.0/files/file/sbox%7Cf")
            return Json{{"id", "sbox|f"}, {"title", "b.docx"}};
        Json listing = {{"files", Json::array()}, {"folders", Json::array()}, {"total", 0}};
        if (copied) {
            listing["files"] = Json::array({{{"id", 11}, {"title", "a.docx"}, {"folderId", 567}},
                                            {{"id", 12}, {"title", "b.docx"}, {"folderId", 567}}});
            listing["folders"] = Json::array({{{"id", 13}, {"title", "F"}, {"parentId", 567}}});
            listing["total"] = 3;
        }
        return listing;
    });
    auto client = ClientFor(portal);
    auto outcome = client->CopyItems({EntityId::Number(1), EntityId::String("sbox|f")}, {EntityId::Number(3)},
                                     EntityId::Number(567), ConflictResolve::kDuplicate);
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_EQ(outcome->operation_id, "op-9");
    EXPECT_EQ(outcome->files.size(), 2u);
    EXPECT_EQ(outcome->folders.size(), 1u);
    const auto request = portal.LastOf("PUT");
    EXPECT_EQ(request.method, "PUT");
    EXPECT_EQ(request.path, "/api/2.0/files/fileops/copy");
    const auto body = Json::parse(request.body);
    EXPECT_EQ(body["fileIds"], Json::parse(R"([1,"sbox|f"])"));
    EXPECT_EQ(body["folderIds"], Json::parse("[3]"));
    EXPECT_EQ(body["destFolderId"], 567);
    EXPECT_EQ(body["conflictResolveType"], 2);
    EXPECT_EQ(body["deleteAfter"], false);
    EXPECT_EQ(body["returnSingleOperation"], true);
}

TEST(DocSpaceClientWire, WebhookUpdateIsAFullReplace) {
    RecordingPortal portal(
        Json{{"id", 7}, {"name", "spacehook"}, {"uri", "https://h/x"}, {"enabled", true}, {"triggers", 128}});
    auto client = ClientFor(portal);
    WebhookSpec spec;
    spec.name = "spacehook";
    spec.uri = "https://h/x";
    spec.enabled = false;
    spec.triggers = 0;
    ASSERT_TRUE(client->UpdateWebhook(7, spec));
    auto body = Json::parse(portal.Last().body);
    EXPECT_EQ(portal.Last().method, "PUT");
    EXPECT_EQ(body["id"], 7);
    EXPECT_EQ(body["enabled"], false);  // sent even when false: omitted would mean false anyway, but say it
    EXPECT_EQ(body["triggers"], 0);
    ASSERT_TRUE(body.contains("targetId"));
    EXPECT_TRUE(body["targetId"].is_null());   // never "": a "" target would match nothing
    EXPECT_FALSE(body.contains("secretKey"));  // empty = keep the current secret

    spec.secret = "Secret-12345";
    spec.target_id = "567";
    ASSERT_TRUE(client->CreateWebhook(spec));
    body = Json::parse(portal.Last().body);
    EXPECT_EQ(portal.Last().method, "POST");
    EXPECT_EQ(body["secretKey"], "Secret-12345");
    EXPECT_EQ(body["targetId"], "567");

    ASSERT_TRUE(client->EnableWebhook(7, spec, true));
    body = Json::parse(portal.Last().body);
    EXPECT_EQ(portal.Last().path, "/api/2.0/settings/webhook/enable");
    EXPECT_EQ(body, Json::parse(R"({"id":7,"name":"spacehook","uri":"https://h/x","enabled":true})"));
}

TEST(DocSpaceClientWire, RoomSearchSendsTagsAsOneJsonArray) {
    RecordingPortal portal(Json{{"folders", Json::array()}, {"files", Json::array()}, {"total", 0}});
    auto client = ClientFor(portal);
    RoomQuery query;
    query.title_contains = "Client A";
    query.tags = {"client", "run:1"};
    auto rooms = client->FindRooms(query);
    ASSERT_TRUE(rooms) << rooms.error().message;
    const auto request = portal.Last();
    EXPECT_EQ(request.path, "/api/2.0/files/rooms");
    EXPECT_EQ(request.QueryParam("tags"), R"(["client","run:1"])");
    EXPECT_EQ(request.QueryParam("filterValue"), "Client A");
    EXPECT_EQ(request.QueryParam("startIndex"), "0");
    EXPECT_EQ(request.QueryParam("count"), "100");
}

TEST(DocSpaceClientWire, PeopleByEmailUsesTheQueryRoute) {
    RecordingPortal portal(Json{{"id", kJaneId}, {"email", "jane+x@example.com"}});
    auto client = ClientFor(portal);
    auto user = client->GetUserByEmail("jane+x@example.com");
    ASSERT_TRUE(user) << user.error().message;
    EXPECT_EQ(portal.Last().path, "/api/2.0/people/email");
    EXPECT_EQ(portal.Last().QueryParam("email"), "jane+x@example.com");
    ASSERT_TRUE(client->GetSelf());
    EXPECT_EQ(portal.Last().path, "/api/2.0/people/@self");
}

TEST(DocSpaceClientWire, A2xxOfAnUnexpectedShapeIsTransientNotADeadLetter) {
    // {"response":null} to a create: the folder may well exist now. Retried, the step looks first.
    RecordingPortal null_answer(nullptr);
    auto client = ClientFor(null_answer);
    auto folder = client->CreateFolder(EntityId::Number(7), "Incoming");
    ASSERT_FALSE(folder);
    EXPECT_TRUE(folder.error().IsTransient()) << ToString(folder.error().code);
    EXPECT_NE(folder.error().message.find("unexpected answer"), std::string::npos) << folder.error().message;

    RecordingPortal odd_shape(Json{{"unheardOf", {1, 2}}});
    auto other = ClientFor(odd_shape);
    auto room = other->CreateRoom("Clients", 2, {});
    ASSERT_FALSE(room);
    EXPECT_TRUE(room.error().IsTransient());
    auto contents = other->GetFolder(EntityId::Number(7));
    ASSERT_FALSE(contents);
    EXPECT_TRUE(contents.error().IsTransient());
    auto copy = other->CopyItems({EntityId::Number(1)}, {}, EntityId::Number(2), ConflictResolve::kSkip);
    ASSERT_FALSE(copy);
    EXPECT_TRUE(copy.error().IsTransient()) << copy.error().message;
}

}  // namespace
}  // namespace spacehook::docspace
