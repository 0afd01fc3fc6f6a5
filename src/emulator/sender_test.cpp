// The webhook sender against docs/docspace-api.md §1.2, §1.3 and §1.9, with a scripted transport: retry
// schedule, re-signed retry bodies, success only on 2xx, 410 deletes, trusted-period disabling, concurrency.
#include "emulator/sender.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "core/hmac_sha256.hpp"

namespace spacehook::emulator {
namespace {

using std::chrono::milliseconds;

constexpr char kSecret[] = "s3cret-key!";
constexpr char kActor[] = "66faa6e4-f133-11ea-b126-00ffeec8b4ef";

/// Answers from a script: a status per call (the last one repeats); -1 = connection refused,
/// -2 = timeout. Records every request.
class ScriptedTransport {
public:
    explicit ScriptedTransport(std::vector<int> script, milliseconds delay = milliseconds(0))
        : script_(std::move(script)), delay_(delay) {}

    Transport AsTransport() {
        return [this](const httpc::Request& request, bool) { return Call(request); };
    }
    std::vector<httpc::Request> Requests() {
        std::lock_guard lock(mu_);
        return requests_;
    }
    int max_concurrent() const { return max_concurrent_; }

private:
    Result<httpc::Response> Call(const httpc::Request& request) {
        const int now_running = ++running_;
        int seen = max_concurrent_.load();
        while (now_running > seen && !max_concurrent_.compare_exchange_weak(seen, now_running)) {
        }
        std::size_t index = 0;
        {
            std::lock_guard lock(mu_);
            index = requests_.size();
            requests_.push_back(request);
        }
        if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
        --running_;
        const int status = script_[std::min(index, script_.size() - 1)];
        if (status == -1) return Fail(ErrorCode::kUnavailable, "Couldn't connect to server");
        if (status == -2) return Fail(ErrorCode::kTimeout, "Timeout was reached");
        httpc::Response response;
        response.status = status;
        response.body = "answer";
        return response;
    }

    std::vector<int> script_;
    milliseconds delay_;
    std::mutex mu_;
    std::vector<httpc::Request> requests_;
    std::atomic<int> running_{0};
    std::atomic<int> max_concurrent_{0};
};

struct SenderFixture {
    explicit SenderFixture(std::vector<int> script, double base = 0.02,
                           const Clock& clock = SystemClock::Instance(), milliseconds delay = milliseconds(0),
                           int threads = 10)
        : clock_(clock),
          book(clock),
          transport(std::move(script), delay),
          sender(book, clock, transport.AsTransport(), Options(base, threads)) {
        WebhookConfig c;
        c.name = "automation";
        c.uri = "http://127.0.0.1:9/hook";
        c.secret = kSecret;
        c.enabled = true;
        c.triggers = 128;
        c.created_by = kActor;
        c.created_on = clock.Now();
        config_id = book.Add(c).id;
        sender.Start();
    }
    static SenderOptions Options(double base, int threads) {
        SenderOptions o;
        o.retry_base_seconds = base;
        o.threads = threads;
        return o;
    }
    std::int64_t Publish() {
        OJson payload = OJson::object();
        payload["id"] = 12;
        payload["title"] = "Отчёт.docx";
        const auto ids =
            book.Publish("file.created", payload, "12", 12, kActor, [](const auto&) { return true; });
        for (auto id : ids) sender.Enqueue(id);
        return ids.at(0);
    }
    const Clock& clock_;
    WebhookBook book;
    ScriptedTransport transport;
    WebhookSender sender;
    std::int64_t config_id = 0;
};

TEST(SenderTest, RetriesFiveTimesWithExponentialBackoff) {
    SenderFixture f({503});
    f.Publish();
    ASSERT_TRUE(f.sender.WaitIdle(milliseconds(10000)));
    const auto attempts = f.sender.Attempts();
    ASSERT_EQ(attempts.size(), 6U);  // 1 try + 5 retries
    // Waits of base x 1, 2, 4, 8, 16 with base 20 ms.
    const std::int64_t expected[] = {20, 40, 80, 160, 320};
    for (std::size_t i = 1; i < attempts.size(); ++i) {
        const auto gap = attempts[i].monotonic_ms - attempts[i - 1].monotonic_ms;
        EXPECT_GE(gap, expected[i - 1]) << "retry " << i;
        EXPECT_LT(gap, expected[i - 1] + 150) << "retry " << i;
        EXPECT_EQ(attempts[i].attempt, static_cast<int>(i));
    }
    EXPECT_EQ(f.sender.Counters().at("deliveries_failed"), 1);
}

TEST(SenderTest, EveryRetryIsReserializedAndResigned) {
    SenderFixture f({503, 500, 200});
    const auto log_id = f.Publish();
    ASSERT_TRUE(f.sender.WaitIdle(milliseconds(10000)));
    const auto requests = f.transport.Requests();
    ASSERT_EQ(requests.size(), 3U);
    std::set<std::string> signatures;
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto& r = requests[i];
        // Exactly these headers, no User-Agent (docs/docspace-api.md §1.2).
        ASSERT_EQ(r.headers.size(), 3U);
        EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Accept", "*/*"}));
        EXPECT_EQ(r.headers[1],
                  (std::pair<std::string, std::string>{"Content-Type", "application/json; charset=utf-8"}));
        EXPECT_EQ(r.headers[2].first, "x-docspace-signature-256");
        // Upper-case hex HMAC of the exact body (docs/docspace-api.md §1.3).
        EXPECT_EQ(r.headers[2].second, "sha256=" + HmacSha256Hex(kSecret, r.body, true));
        EXPECT_EQ(r.method, "POST");
        signatures.insert(r.headers[2].second);
        const auto body = OJson::parse(r.body);
        EXPECT_EQ(body["event"]["id"], log_id);  // stable across automatic retries
        if (i == 0) {
            EXPECT_FALSE(body["webhook"].contains("retryCount"));
        } else {
            EXPECT_EQ(body["webhook"]["retryCount"], static_cast<int>(i));
            EXPECT_TRUE(body["webhook"].contains("retryOn"));
            EXPECT_TRUE(body["webhook"].contains("lastFailureOn"));
            EXPECT_FALSE(body["webhook"].contains("lastSuccessOn"));  // never succeeded: omitted
        }
        EXPECT_EQ(r.body.find("Отчёт"), std::string::npos);  // escaped: pure ASCII
    }
    EXPECT_EQ(signatures.size(), 3U);
    EXPECT_EQ(OJson::parse(requests[1].body)["webhook"]["lastFailureContent"],
              "Response status code does not indicate success: 503 (Service Unavailable).");
    EXPECT_EQ(OJson::parse(requests[2].body)["webhook"]["lastFailureContent"],
              "Response status code does not indicate success: 500 (Internal Server Error).");
    const auto entry = f.book.Entry(log_id);
    EXPECT_EQ(entry->status, 200);
    EXPECT_TRUE(entry->delivery.has_value());
    EXPECT_EQ(entry->request_payload, requests[2].body);
    EXPECT_TRUE(f.book.Get(f.config_id)->last_success_on.has_value());
}

TEST(SenderTest, OnlyTwoHundredsSucceed) {
    SenderFixture f({302, 404, 101, 204});
    const auto log_id = f.Publish();
    ASSERT_TRUE(f.sender.WaitIdle(milliseconds(10000)));
    EXPECT_EQ(f.transport.Requests().size(), 4U);
    EXPECT_EQ(f.book.Entry(log_id)->status, 204);
}

TEST(SenderTest, RetryCarriesTheLastSuccessWithoutZ) {
    SenderFixture f({503, 200});
    f.book.MarkSuccess(f.config_id, *ParseIso8601("2026-06-29T08:00:00Z"), 200);
    f.Publish();
    ASSERT_TRUE(f.sender.WaitIdle(milliseconds(10000)));
    const auto requests = f.transport.Requests();
    ASSERT_EQ(requests.size(), 2U);
    EXPECT_EQ(OJson::parse(requests[1].body)["webhook"]["lastSuccessOn"], "2026-06-29T08:00:00");
}

TEST(SenderTest, FinalGoneDeletesTheConfig) {
    SenderFixture f({410});
    f.Publish();
    ASSERT_TRUE(f.sender.WaitIdle(milliseconds(10000)));
    EXPECT_EQ(f.transport.Requests().size(), 6U);  // 410 is retried like any failure first
    EXPECT_FALSE(f.book.Get(f.config_id).has_value());
    EXPECT_EQ(f.sender.Counters().at("webhooks_deleted_gone"), 1);
}

TEST(SenderTest, GoneThenSuccessKeepsTheConfig) {
    SenderFixture f({410, 200});
    f.Publish();
    ASSERT_TRUE(f.sender.WaitIdle(milliseconds(10000)));
    EXPECT_TRUE(f.book.Get(f.config_id).has_value());
}

TEST(SenderTest, FailingPastTheTrustedPeriodDisables) {
    ManualClock clock;
    SenderFixture f({500}, 0.001, clock);
    // Created four days ago, never succeeded: more than trustedDaysCount (3).
    auto config = *f.book.Get(f.config_id);
    config.created_on = clock.Now() - std::chrono::hours(96);
    f.book.Replace(config);
    f.Publish();
    ASSERT_TRUE(f.sender.WaitIdle(milliseconds(10000)));
    EXPECT_FALSE(f.book.Get(f.config_id)->enabled);
}

TEST(SenderTest, RecentFailuresStayEnabled) {
    ManualClock clock;
    SenderFixture f({500}, 0.001, clock);
    f.Publish();
    ASSERT_TRUE(f.sender.WaitIdle(milliseconds(10000)));
    EXPECT_TRUE(f.book.Get(f.config_id)->enabled);
    EXPECT_EQ(f.book.Get(f.config_id)->last_failure_content,
              "Response status code does not indicate success: 500 (Internal Server Error).");
}

TEST(SenderTest, TimeoutIsRecordedAs500AndNeverDisables) {
    ManualClock clock;
    SenderFixture f({-2}, 0.001, clock);
    auto config = *f.book.Get(f.config_id);
    config.created_on = clock.Now() - std::chrono::hours(96);
    f.book.Replace(config);
    const auto log_id = f.Publish();
    ASSERT_TRUE(f.sender.WaitIdle(milliseconds(10000)));
    EXPECT_EQ(f.book.Entry(log_id)->status, 500);
    EXPECT_TRUE(f.book.Get(f.config_id)->enabled);
}

TEST(SenderTest, ConnectionFailureIsStatusZero) {
    SenderFixture f({-1}, 0.001);
    const auto log_id = f.Publish();
    ASSERT_TRUE(f.sender.WaitIdle(milliseconds(10000)));
    EXPECT_EQ(f.book.Entry(log_id)->status, 0);
    const auto attempts = f.sender.Attempts();
    ASSERT_FALSE(attempts.empty());
    EXPECT_EQ(attempts[0].error, "Connection refused (127.0.0.1:9)");
}

TEST(SenderTest, UpToTenDeliveriesRunAtOnce) {
    SenderFixture f({200}, 0.001, SystemClock::Instance(), milliseconds(150));
    for (int i = 0; i < 25; ++i) f.Publish();
    ASSERT_TRUE(f.sender.WaitIdle(milliseconds(20000)));
    EXPECT_EQ(f.transport.Requests().size(), 25U);
    EXPECT_EQ(f.transport.max_concurrent(), 10);
}

TEST(SenderTest, EachAttemptRecordsHowLongTheReceiverTookToAnswer) {
    SenderFixture f({200}, 0.001, SystemClock::Instance(), milliseconds(120));
    f.Publish();
    ASSERT_TRUE(f.sender.WaitIdle(milliseconds(5000)));
    const auto attempts = f.sender.Attempts();
    ASSERT_EQ(attempts.size(), 1U);
    EXPECT_GE(attempts[0].duration_ms, 120);
    EXPECT_LT(attempts[0].duration_ms, 2000);
}

TEST(SenderTest, CancelAllAbandonsRetries) {
    SenderFixture f({503}, 0.5);
    f.Publish();
    // Let the first attempt happen, then cancel while it waits for retry 1.
    for (int i = 0; i < 200 && f.transport.Requests().empty(); ++i)
        std::this_thread::sleep_for(milliseconds(5));
    f.sender.CancelAll();
    ASSERT_TRUE(f.sender.WaitIdle(milliseconds(5000)));
    EXPECT_EQ(f.transport.Requests().size(), 1U);
}

}  // namespace
}  // namespace spacehook::emulator
