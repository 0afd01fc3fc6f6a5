#include "admin/admin_api.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>

#include "admin/record_json.hpp"
#include "admin/web_page.hpp"
#include "core/log.hpp"

using namespace spacehook;
using namespace spacehook::admin;
using namespace std::chrono_literals;

namespace {

const std::string kUserCreated =
    R"({"event":{"id":4840,"createOn":"2026-06-30T10:25:01Z","trigger":"user.created","triggerId":1},)"
    R"("payload":{"id":"5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b","email":"jane.doe@example.com"},)"
    R"("webhook":{"id":7}})";

/// A real SQLite store in a temporary directory, filled with one event of each fate: dispatched to a run
/// that died (a dead letter), failed at dispatch (a dead letter), and still pending.
class AdminApiTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("spacehook-admin-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        store::StoreOptions options;
        options.durable = false;
        auto opened = store::OpenStore("sqlite:" + (dir_ / "admin.db").string(), options, clock_);
        ASSERT_TRUE(opened) << opened.error().message;
        store_ = std::move(*opened);

        Append("7", "4840", "user.created", kUserCreated);
        Append("7", "4841", "file.created", R"({"event":{"id":4841,"trigger":"file.created"}})");
        Append("7", "4842", "room.created", R"({"event":{"id":4842,"trigger":"room.created"}})");

        auto claimed = store_->ClaimEvents("dispatcher", 2, clock_.Now());
        ASSERT_TRUE(claimed) << claimed.error().message;
        ASSERT_EQ(claimed->size(), 2u);
        seq_dispatched_ = (*claimed)[0].seq;
        seq_failed_ = (*claimed)[1].seq;
        store::NewRun run{"home-room:user:5e0b", "home-room", "", 2, Json{{"email", "jane.doe@example.com"}}};
        auto created = store_->CompleteDispatch(seq_dispatched_, "dispatcher", {run},
                                                store::EventState::kDispatched, "");
        ASSERT_TRUE(created) << created.error().message;
        ASSERT_TRUE(store_->FailDispatch(seq_failed_, "dispatcher", "rule context: folder 567 not found"));

        auto claimed_run = store_->ClaimRun("worker", clock_.Now());
        ASSERT_TRUE(claimed_run && *claimed_run);
        run_id_ = (*claimed_run)->id;
        ASSERT_TRUE(store_->BeginStep(run_id_, "worker", 0, "create_room", clock_.Now()));
        ASSERT_TRUE(store_->FinishStep(run_id_, "worker", 0, Json{{"room_id", 890}}, clock_.Now()));
        ASSERT_TRUE(store_->BeginStep(run_id_, "worker", 1, "share", clock_.Now()));
        ASSERT_TRUE(
            store_->DeadLetterRun(run_id_, "worker", "403 from DocSpace: not a room admin", clock_.Now()));

        Build("");
    }

    void TearDown() override {
        api_.reset();
        if (store_) store_->Close();
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    void Build(std::string token) {
        api_.reset();
        api_.emplace(AdminOptions{std::move(token)}, *store_, metrics_, clock_);
        http::Router router;
        api_->Register(router);
        route_ = router.AsHandler();
    }

    void Append(std::string webhook, std::string event, std::string trigger, std::string body) {
        store::NewDelivery d{std::move(webhook), std::move(event), std::move(trigger), "", "", "",
                             std::move(body),    clock_.Now()};
        std::promise<Result<store::AppendOutcome>> done;
        auto future = done.get_future();
        store_->Append(std::move(d),
                       [&done](Result<store::AppendOutcome> r) { done.set_value(std::move(r)); });
        ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
        auto r = future.get();
        ASSERT_TRUE(r) << r.error().message;
    }

    http::Response Call(std::string method, std::string target, std::vector<http::Header> headers = {},
                        std::string remote = "127.0.0.1") {
        http::Request request;
        request.method = std::move(method);
        request.target = target;
        const auto q = target.find('?');
        request.path = target.substr(0, q);
        request.query = q == std::string::npos ? "" : target.substr(q + 1);
        // An action from this loopback client carries the process's CSRF token, as the page's do.
        if (request.method == "POST" && with_csrf_ && remote == "127.0.0.1") {
            const auto session = Call("GET", "/admin/api/session", headers, remote);
            if (session.status == 200)
                headers.push_back(
                    {"x-spacehook-csrf", Json::parse(session.body)["csrf_token"].get<std::string>()});
        }
        request.headers = std::move(headers);
        request.remote_address = std::move(remote);
        auto done = std::make_shared<std::promise<http::Response>>();
        auto future = done->get_future();
        route_(std::move(request), [done](http::Response r) { done->set_value(std::move(r)); });
        if (future.wait_for(10s) != std::future_status::ready) {
            ADD_FAILURE() << "no answer within 10 s";
            return http::Response{-1, "", {}, ""};
        }
        return future.get();
    }

    Json CallJson(std::string method, std::string target, int expected_status = 200) {
        auto response = Call(std::move(method), target);
        EXPECT_EQ(response.status, expected_status) << target << ": " << response.body;
        return Json::parse(response.body, nullptr, false);
    }

    std::filesystem::path dir_;
    ManualClock clock_{FromUnixMillis(1'782'815'101'000)};
    MetricsRegistry metrics_;
    std::unique_ptr<store::Store> store_;
    std::optional<AdminApi> api_;
    http::Handler route_;
    std::int64_t seq_dispatched_ = 0, seq_failed_ = 0, run_id_ = 0;
    bool with_csrf_ = true;
};

}  // namespace

TEST_F(AdminApiTest, Healthz) {
    const auto r = Call("GET", "/healthz", {}, "198.51.100.7");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(Json::parse(r.body)["status"], "ok");
}

TEST_F(AdminApiTest, ReadyzFollowsTheStore) {
    EXPECT_EQ(Call("GET", "/readyz", {}, "198.51.100.7").status, 200);
    store_->Close();
    const auto r = Call("GET", "/readyz", {}, "198.51.100.7");
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(Json::parse(r.body)["error"], ExternalMessage(ErrorCode::kUnavailable));
}

TEST_F(AdminApiTest, MetricsCarryStoreGauges) {
    metrics_.GetCounter("spacehook_deliveries_total", "Deliveries", {{"outcome", "stored"}}).Inc(3);
    const auto r = Call("GET", "/metrics", {}, "198.51.100.7");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type.rfind("text/plain; version=0.0.4", 0), 0u);
    EXPECT_NE(r.body.find("spacehook_deliveries_total{outcome=\"stored\"} 3"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("spacehook_journal_events 3"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("spacehook_journal_events_pending 1"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("spacehook_dead_letters 2"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("spacehook_runs{state=\"pending\"} 0"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("spacehook_store_bytes "), std::string::npos) << r.body;
    // No ids, no bodies.
    EXPECT_EQ(r.body.find("jane.doe"), std::string::npos);
    EXPECT_EQ(r.body.find("4840"), std::string::npos);
}

TEST_F(AdminApiTest, ListEventsNewestFirstWithoutBodies) {
    const Json list = CallJson("GET", "/admin/api/events");
    ASSERT_EQ(list["events"].size(), 3u);
    EXPECT_EQ(list["events"][0]["event_id"], "4842");
    EXPECT_EQ(list["events"][2]["event_id"], "4840");
    EXPECT_FALSE(list["events"][2].contains("body"));
    EXPECT_EQ(list.dump().find("jane.doe"), std::string::npos);
    EXPECT_TRUE(list["next_before"].is_null());
}

TEST_F(AdminApiTest, ListEventsFiltersAndPages) {
    const Json failed = CallJson("GET", "/admin/api/events?state=failed");
    ASSERT_EQ(failed["events"].size(), 1u);
    EXPECT_EQ(failed["events"][0]["seq"], seq_failed_);
    EXPECT_EQ(failed["events"][0]["last_error"], "rule context: folder 567 not found");

    const Json by_trigger = CallJson("GET", "/admin/api/events?trigger=user.created");
    ASSERT_EQ(by_trigger["events"].size(), 1u);
    EXPECT_EQ(by_trigger["events"][0]["trigger"], "user.created");

    const Json page1 = CallJson("GET", "/admin/api/events?limit=2");
    ASSERT_EQ(page1["events"].size(), 2u);
    ASSERT_TRUE(page1["next_before"].is_number());
    const Json page2 = CallJson(
        "GET", "/admin/api/events?limit=2&before=" + std::to_string(page1["next_before"].get<int>()));
    ASSERT_EQ(page2["events"].size(), 1u);
    EXPECT_EQ(page2["events"][0]["event_id"], "4840");
}

TEST_F(AdminApiTest, BadQueryIs400WithDetail) {
    const Json bad_state = CallJson("GET", "/admin/api/events?state=lost", 400);
    EXPECT_EQ(bad_state["error"], ExternalMessage(ErrorCode::kInvalidArgument));
    EXPECT_NE(bad_state["detail"].get<std::string>().find("pending"), std::string::npos);
    CallJson("GET", "/admin/api/events?limit=0", 400);
    CallJson("GET", "/admin/api/events?limit=abc", 400);
    CallJson("GET", "/admin/api/runs?state=finished", 400);
    CallJson("GET", "/admin/api/dlq?limit=100000", 400);
}

TEST_F(AdminApiTest, ShowEventWithBody) {
    const Json event = CallJson("GET", "/admin/api/events/" + std::to_string(seq_dispatched_));
    EXPECT_EQ(event["seq"], seq_dispatched_);
    EXPECT_EQ(event["state"], "dispatched");
    EXPECT_EQ(event["runs_created"], 1);
    EXPECT_EQ(event["body"]["payload"]["email"], "jane.doe@example.com");
    CallJson("GET", "/admin/api/events/99999", 404);
    CallJson("GET", "/admin/api/events/abc", 404);
}

// A journal row nested past kMaxJsonDepth (stored before ingress bounded the depth) is shown as text:
// as a Json value, dumping the answer would recurse once per level and overflow the stack.
TEST(RecordJson, DeeplyNestedBodyIsShownAsText) {
    store::EventRecord record;
    record.body = R"({"event":{"trigger":"file.created"},"payload":)" + std::string(200000, '[') +
                  std::string(200000, ']') + "}";
    const Json shown = EventJson(record, /*with_body=*/true);
    EXPECT_FALSE(shown.contains("body"));
    ASSERT_TRUE(shown.contains("body_text"));
    EXPECT_EQ(shown["body_text"], record.body);
    EXPECT_GT(shown.dump().size(), record.body.size());
}

TEST_F(AdminApiTest, ReplayEvent) {
    const Json replayed =
        CallJson("POST", "/admin/api/events/" + std::to_string(seq_dispatched_) + "/replay");
    EXPECT_EQ(replayed["status"], "replayed");
    auto event = store_->GetEvent(seq_dispatched_);
    ASSERT_TRUE(event && *event);
    EXPECT_EQ((*event)->state, store::EventState::kPending);
    EXPECT_EQ((*event)->replay_generation, 1);
    CallJson("POST", "/admin/api/events/99999/replay", 404);
    CallJson("POST", "/admin/api/events/1/rerun", 404);
}

TEST_F(AdminApiTest, RunsAndSteps) {
    const Json runs = CallJson("GET", "/admin/api/runs");
    ASSERT_EQ(runs["runs"].size(), 1u);
    EXPECT_EQ(runs["runs"][0]["state"], "dead");
    EXPECT_FALSE(runs["runs"][0].contains("context"));
    EXPECT_EQ(CallJson("GET", "/admin/api/runs?state=dead")["runs"].size(), 1u);
    EXPECT_EQ(CallJson("GET", "/admin/api/runs?rule=other")["runs"].size(), 0u);

    const Json run = CallJson("GET", "/admin/api/runs/" + std::to_string(run_id_));
    EXPECT_EQ(run["rule"], "home-room");
    EXPECT_EQ(run["event_seq"], seq_dispatched_);
    EXPECT_EQ(run["next_step"], 1);
    EXPECT_EQ(run["last_error"], "403 from DocSpace: not a room admin");
    EXPECT_EQ(run["context"]["email"], "jane.doe@example.com");
    ASSERT_EQ(run["steps"].size(), 2u);
    EXPECT_EQ(run["steps"][0]["name"], "create_room");
    EXPECT_EQ(run["steps"][0]["status"], "done");
    EXPECT_EQ(run["steps"][0]["output"]["room_id"], 890);
    EXPECT_EQ(run["steps"][1]["status"], "started");
    CallJson("GET", "/admin/api/runs/424242", 404);
}

TEST_F(AdminApiTest, DeadLettersRetryAndDrop) {
    const Json dlq = CallJson("GET", "/admin/api/dlq");
    ASSERT_EQ(dlq["dead_letters"].size(), 2u);
    bool saw_run = false, saw_event = false;
    for (const auto& d : dlq["dead_letters"]) {
        if (d["kind"] == "run") {
            saw_run = true;
            EXPECT_EQ(d["id"], run_id_);
            EXPECT_EQ(d["rule"], "home-room");
        } else {
            saw_event = true;
            EXPECT_EQ(d["id"], seq_failed_);
        }
    }
    EXPECT_TRUE(saw_run && saw_event);

    const Json retried = CallJson("POST", "/admin/api/dlq/run/" + std::to_string(run_id_) + "/retry");
    EXPECT_EQ(retried["status"], "queued");
    auto run = store_->GetRun(run_id_);
    ASSERT_TRUE(run && *run);
    EXPECT_EQ((*run)->state, store::RunState::kPending);
    EXPECT_EQ((*run)->next_step, 1);

    const Json dropped = CallJson("POST", "/admin/api/dlq/event/" + std::to_string(seq_failed_) + "/drop");
    EXPECT_EQ(dropped["status"], "dropped");
    EXPECT_EQ(CallJson("GET", "/admin/api/dlq")["dead_letters"].size(), 0u);

    // No longer dead letters, unknown kinds and actions.
    CallJson("POST", "/admin/api/dlq/run/" + std::to_string(run_id_) + "/retry", 404);
    CallJson("POST", "/admin/api/dlq/job/1/retry", 404);
    CallJson("POST", "/admin/api/dlq/run/1/delete", 404);
}

TEST_F(AdminApiTest, DeadLettersAreRetriedAndDroppedInBulk) {
    // By rule: the dead run of home-room only, never the failed event (events have no rule).
    Json retried = CallJson("POST", "/admin/api/dlq/retry?rule=home-room");
    EXPECT_EQ(retried["status"], "queued");
    EXPECT_EQ(retried["count"], 1);
    EXPECT_EQ((*store_->GetRun(run_id_))->state, store::RunState::kPending);
    // Since a time after every failure: nothing.
    EXPECT_EQ(CallJson("POST", "/admin/api/dlq/drop?since=2099-01-01T00:00:00Z")["count"], 0);
    // Everything left: the event.
    const Json dropped = CallJson("POST", "/admin/api/dlq/drop");
    EXPECT_EQ(dropped["status"], "dropped");
    EXPECT_EQ(dropped["count"], 1);
    EXPECT_EQ(CallJson("GET", "/admin/api/dlq")["dead_letters"].size(), 0u);
    // A filter that cannot be read is the caller's mistake.
    EXPECT_EQ(CallJson("POST", "/admin/api/dlq/retry?kind=job", 400)["detail"], "kind must be run or event");
    CallJson("POST", "/admin/api/dlq/retry?since=yesterday", 400);
}

TEST_F(AdminApiTest, StatusComesFromItsSourceAndEventsSayWhetherRecovered) {
    CallJson("GET", "/admin/api/status", 404);  // no source: no route
    api_.reset();
    AdminOptions options;
    options.status = [] { return Result<Json>(Json{{"healthy", true}}); };
    api_.emplace(std::move(options), *store_, metrics_, clock_);
    http::Router router;
    api_->Register(router);
    route_ = router.AsHandler();
    EXPECT_EQ(CallJson("GET", "/admin/api/status")["healthy"], true);
    EXPECT_EQ(Call("GET", "/admin/api/status", {}, "198.51.100.7").status, 403);  // protected like the rest

    store::NewDelivery recovered{"7",         "4900", "file.created", "", "", "", R"({"event":{"id":4900}})",
                                 clock_.Now()};
    recovered.recovered = true;
    std::promise<Result<store::AppendOutcome>> done;
    store_->Append(std::move(recovered),
                   [&done](Result<store::AppendOutcome> r) { done.set_value(std::move(r)); });
    ASSERT_TRUE(done.get_future().get());
    const Json list = CallJson("GET", "/admin/api/events");
    EXPECT_EQ(list["events"][0]["event_id"], "4900");
    EXPECT_EQ(list["events"][0]["recovered"], true);
    EXPECT_EQ(list["events"][1]["recovered"], false);
}

TEST_F(AdminApiTest, MetricsSayHowLongTheOldestPendingWorkWaited) {
    clock_.Advance(std::chrono::seconds(90));
    const auto r = Call("GET", "/metrics");
    // The pending event was journaled 90 s ago; the only run is dead, not pending.
    EXPECT_NE(r.body.find("spacehook_oldest_pending_seconds{kind=\"event\"} 90"), std::string::npos)
        << r.body;
    EXPECT_NE(r.body.find("spacehook_oldest_pending_seconds{kind=\"run\"} 0"), std::string::npos) << r.body;
}

TEST_F(AdminApiTest, RemoteClientsNeedAToken) {
    EXPECT_EQ(Call("GET", "/admin/api/events", {}, "198.51.100.7").status, 403);
    EXPECT_EQ(Call("GET", "/admin", {}, "198.51.100.7").status, 403);
    EXPECT_EQ(Call("POST", "/admin/api/dlq/run/1/retry", {}, "198.51.100.7").status, 403);

    Build("adm-0123456789abcdef");
    const auto missing = Call("GET", "/admin/api/events", {}, "198.51.100.7");
    EXPECT_EQ(missing.status, 401);
    EXPECT_EQ(Call("GET", "/admin/api/events", {}, "127.0.0.1").status, 401);
    EXPECT_EQ(Call("GET", "/admin/api/events", {{"authorization", "Bearer nope"}}, "198.51.100.7").status,
              401);
    EXPECT_EQ(
        Call("GET", "/admin/api/events", {{"authorization", "Bearer adm-0123456789abcdef"}}, "198.51.100.7")
            .status,
        200);
    // The page holds no data: with a token configured it loads anywhere and asks for the token.
    EXPECT_EQ(Call("GET", "/admin", {}, "198.51.100.7").status, 200);
    // Health, readiness and metrics stay open.
    EXPECT_EQ(Call("GET", "/metrics", {}, "198.51.100.7").status, 200);
}

TEST_F(AdminApiTest, WebViewIsSelfContained) {
    const auto page = Call("GET", "/admin");
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.content_type.rfind("text/html", 0), 0u);
    EXPECT_EQ(page.body.find("src=\"http"), std::string::npos);
    EXPECT_EQ(page.body.find("href=\"http"), std::string::npos);
    const auto script = Call("GET", "/admin/assets/app.js");
    EXPECT_EQ(script.status, 200);
    EXPECT_NE(script.body.find("/admin/api/dlq"), std::string::npos);
    for (const auto& file : AdminPageFiles()) {
        const std::string text(file.bytes);
        EXPECT_EQ(text.find("innerHTML"), std::string::npos) << file.name;
        EXPECT_EQ(text.find("outerHTML"), std::string::npos) << file.name;
        EXPECT_EQ(text.find("eval("), std::string::npos) << file.name;
        // Nothing is loaded from elsewhere: the one absolute URL is SVG's namespace, which is a name.
        for (auto at = text.find("://"); at != std::string::npos; at = text.find("://", at + 3)) {
            EXPECT_EQ(text.compare(at - 4, 26, "http://www.w3.org/2000/svg"), 0)
                << file.name << ": " << text.substr(at - 8, 40);
        }
    }
}

TEST_F(AdminApiTest, PageFilesAreServedUnderAStrictContentSecurityPolicy) {
    for (const std::string path :
         {"/admin", "/admin/", "/admin/assets/ui.js", "/admin/assets/app.js", "/admin/assets/app.css"}) {
        const auto r = Call("GET", path);
        ASSERT_EQ(r.status, 200) << path;
        const auto csp = std::find_if(r.headers.begin(), r.headers.end(), [](const http::Header& h) {
            return h.name == "Content-Security-Policy";
        });
        ASSERT_NE(csp, r.headers.end()) << path;
        // No inline script or style may run, and the page may talk to this service only.
        EXPECT_NE(csp->value.find("script-src 'self';"), std::string::npos) << csp->value;
        EXPECT_NE(csp->value.find("connect-src 'self';"), std::string::npos) << csp->value;
        EXPECT_EQ(csp->value.find("unsafe"), std::string::npos) << csp->value;
    }
    EXPECT_EQ(Call("GET", "/admin/assets/app.js").content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(Call("GET", "/admin/assets/app.css").content_type, "text/css; charset=utf-8");
    EXPECT_EQ(Call("GET", "/admin/assets/nothing.js").status, 404);
    EXPECT_EQ(Call("GET", "/admin/assets/index.html").status, 404);
    EXPECT_EQ(Call("GET", "/admin/assets/app.js", {}, "198.51.100.7").status, 403);
}

TEST_F(AdminApiTest, LocalActionsNeedTheCsrfTokenOfTheSession) {
    const std::string retry = "/admin/api/dlq/run/" + std::to_string(run_id_) + "/retry";
    with_csrf_ = false;
    const auto bare = Call("POST", retry);
    EXPECT_EQ(bare.status, 403);
    EXPECT_NE(bare.body.find("X-Spacehook-Csrf"), std::string::npos) << bare.body;
    EXPECT_EQ(Call("POST", retry, {{"x-spacehook-csrf", "guessed"}}).status, 403);
    EXPECT_EQ((*store_->GetRun(run_id_))->state, store::RunState::kDead);  // nothing happened

    const Json session = CallJson("GET", "/admin/api/session");
    EXPECT_EQ(session["access"], "local");
    const std::string csrf = session["csrf_token"];
    EXPECT_EQ(csrf.size(), 64u);
    // The right token from a page of another site is still refused (its Origin is not this host).
    EXPECT_EQ(
        Call("POST", retry,
             {{"x-spacehook-csrf", csrf}, {"origin", "http://evil.example"}, {"host", "127.0.0.1:9464"}})
            .status,
        403);
    EXPECT_EQ(Call("POST", retry, {{"x-spacehook-csrf", csrf}}).status, 200);
    EXPECT_EQ((*store_->GetRun(run_id_))->state, store::RunState::kPending);
    // The session itself is as protected as the rest.
    EXPECT_EQ(Call("GET", "/admin/api/session", {}, "198.51.100.7").status, 403);

    // A bearer token is never attached by a browser on its own: with one, no CSRF token is needed.
    Build("adm-0123456789abcdef");
    const http::Header bearer{"authorization", "Bearer adm-0123456789abcdef"};
    EXPECT_EQ(Call("POST", "/admin/api/dlq/event/" + std::to_string(seq_failed_) + "/retry", {bearer}).status,
              200);
    EXPECT_EQ(Json::parse(Call("GET", "/admin/api/session", {bearer}).body)["access"], "token");
}

TEST_F(AdminApiTest, EveryActionIsLoggedWithWhoAndWhat) {
    char* buf = nullptr;
    size_t len = 0;
    std::FILE* mem = open_memstream(&buf, &len);
    log::Configure(log::Level::kInfo, log::Format::kText, mem);
    CallJson("POST", "/admin/api/dlq/run/" + std::to_string(run_id_) + "/retry");
    CallJson("POST", "/admin/api/events/99999/replay", 404);
    with_csrf_ = false;
    Call("POST", "/admin/api/dlq/event/" + std::to_string(seq_failed_) + "/drop");  // refused: no CSRF token
    std::fclose(mem);
    log::Configure(log::Level::kInfo, log::Format::kText, stderr);
    const std::string out(buf, len);
    free(buf);
    EXPECT_NE(out.find("action=\"POST /admin/api/dlq/run/" + std::to_string(run_id_) + "/retry\""),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("status=200"), std::string::npos) << out;
    EXPECT_NE(out.find("action=\"POST /admin/api/events/99999/replay\""), std::string::npos) << out;
    EXPECT_NE(out.find("status=404"), std::string::npos) << out;
    EXPECT_NE(out.find("who=\"local user"), std::string::npos) << out;
    EXPECT_NE(out.find("from=127.0.0.1"), std::string::npos) << out;
    // A refused action changed nothing and is not an action taken.
    EXPECT_EQ(out.find("/drop"), std::string::npos) << out;
}

TEST_F(AdminApiTest, EventsFilterByTimeAndTextAndRunsByEvent) {
    const Json jane = CallJson("GET", "/admin/api/events?q=JANE.DOE");
    ASSERT_EQ(jane["events"].size(), 1u);
    EXPECT_EQ(jane["events"][0]["event_id"], "4840");
    const std::string now = FormatIso8601(clock_.Now());
    EXPECT_EQ(CallJson("GET", "/admin/api/events?until=" + now)["events"].size(), 0u);
    EXPECT_EQ(CallJson("GET", "/admin/api/events?since=" + now)["events"].size(), 3u);
    EXPECT_EQ(CallJson("GET", "/admin/api/events?since=yesterday", 400)["detail"],
              "since must be an ISO-8601 time like 2026-06-30T10:00:00Z");

    const Json runs = CallJson("GET", "/admin/api/runs?event=" + std::to_string(seq_dispatched_));
    ASSERT_EQ(runs["runs"].size(), 1u);
    EXPECT_EQ(runs["runs"][0]["id"], run_id_);
    EXPECT_EQ(CallJson("GET", "/admin/api/runs?event=" + std::to_string(seq_failed_))["runs"].size(), 0u);
    EXPECT_EQ(CallJson("GET", "/admin/api/runs?until=" + now)["runs"].size(), 0u);
    CallJson("GET", "/admin/api/runs?event=abc", 400);
}

TEST_F(AdminApiTest, RulesViewAddsEachRulesRunCounts) {
    CallJson("GET", "/admin/api/rules", 404);  // no source: no route
    api_.reset();
    AdminOptions options;
    options.rules = [] {
        return Json{{"rules", Json::array({Json{{"name", "archive"}}, Json{{"name", "home-room"}}})},
                    {"triggers", Json::array({"user.created"})}};
    };
    api_.emplace(std::move(options), *store_, metrics_, clock_);
    http::Router router;
    api_->Register(router);
    route_ = router.AsHandler();

    const Json rules = CallJson("GET", "/admin/api/rules");
    ASSERT_EQ(rules["rules"].size(), 2u);
    EXPECT_EQ(rules["rules"][0]["runs"]["dead"], 0);
    EXPECT_EQ(rules["rules"][0]["runs"]["last_run_at"], nullptr);
    EXPECT_EQ(rules["rules"][1]["runs"]["dead"], 1);
    EXPECT_EQ(rules["rules"][1]["runs"]["live"], 0);
    EXPECT_EQ(rules["rules"][1]["runs"]["last_run_at"], FormatIso8601(clock_.Now(), true));
    EXPECT_EQ(rules["unloaded_rules"].size(), 0u);
    EXPECT_EQ(rules["triggers"], Json::array({"user.created"}));
    EXPECT_EQ(Call("GET", "/admin/api/rules", {}, "198.51.100.7").status, 403);
}

TEST_F(AdminApiTest, AnEventIsExplainedByTheRulesWithSecretsMasked) {
    const std::string path = "/admin/api/events/" + std::to_string(seq_dispatched_) + "/explain";
    CallJson("GET", path, 404);  // no source: no route
    api_.reset();
    AdminOptions options;
    options.explain = [](std::string_view body) {
        return Result<std::string>(
            "rule home-room: matches\n  step 1 http: https://hooks.example/sk-explain-4242\n" +
            std::string(body.substr(0, 9)));
    };
    options.rules = [] {
        return Json{
            {"rules",
             Json::array({Json{{"name", "home-room"},
                               {"steps", Json::array({Json{{"input", {{"url", "sk-explain-4242"}}}}})}}})},
            {"triggers", Json::array()}};
    };
    api_.emplace(std::move(options), *store_, metrics_, clock_);
    http::Router router;
    api_->Register(router);
    route_ = router.AsHandler();
    log::RegisterSecret("sk-explain-4242");

    const std::string text = CallJson("GET", path)["explanation"];
    EXPECT_NE(text.find("rule home-room: matches"), std::string::npos) << text;
    EXPECT_NE(text.find(R"({"event":)"), std::string::npos) << text;  // it was handed the stored body
    EXPECT_EQ(text.find("sk-explain-4242"), std::string::npos) << text;
    CallJson("GET", "/admin/api/events/99999/explain", 404);
    EXPECT_EQ(Call("GET", path, {}, "198.51.100.7").status, 403);
    // The rules view masks it too.
    const auto rules = Call("GET", "/admin/api/rules");
    EXPECT_EQ(rules.status, 200);
    EXPECT_EQ(rules.body.find("sk-explain-4242"), std::string::npos) << rules.body;
}
