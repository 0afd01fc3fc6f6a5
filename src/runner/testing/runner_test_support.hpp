#pragma once

// The runner's unit-test fixture: a real SQLite store in a temp dir, a ManualClock and a FixedRandom
// (backoff delays are exact), the FakeDocSpace, a RecordingMailer, and rules compiled from YAML text.
// Every wait is bounded.

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/document.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/random.hpp"
#include "httpc/testing/child_process.hpp"
#include "notify/mailer.hpp"
#include "rules/compiled_rules.hpp"
#include "runner/context_resolver.hpp"
#include "runner/dispatcher.hpp"
#include "runner/folder_path_cache.hpp"
#include "runner/run_executor.hpp"
#include "runner/runner_metrics.hpp"
#include "runner/testing/fake_docspace.hpp"
#include "steps/catalog.hpp"
#include "store/store.hpp"

namespace spacehook::runner::testing {

inline constexpr std::chrono::seconds kWait{20};
inline constexpr char kJaneId[] = "5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b";

/// A webhook body as DocSpace 3.7 sends it (docs/docspace-api.md §1.4).
inline Json Envelope(const std::string& trigger, Json payload, std::int64_t event_id,
                     const std::string& create_by = kJaneId) {
    return Json{{"event",
                 {{"id", event_id},
                  {"createOn", "2026-06-30T10:15:42Z"},
                  {"createBy", create_by},
                  {"trigger", trigger}}},
                {"payload", std::move(payload)},
                {"webhook", {{"id", 7}, {"name", "automation"}, {"url", "https://hooks.example/docspace"}}}};
}

/// A thin FileEntry payload (docs/docspace-api.md §1.6): no room, no webUrl, rootId is the section.
inline Json FilePayload(const EntityId& id, const EntityId& parent, const std::string& title) {
    return Json{{"id", id.ToJson()},
                {"parentId", parent.ToJson()},
                {"folderIdDisplay", parent.ToJson()},
                {"rootId", 1},
                {"title", title},
                {"createBy", kJaneId},
                {"modifiedOn", "2026-06-30T10:15:41Z"},
                {"rootFolderType", 14},
                {"fileEntryType", 2}};
}

inline Json FolderPayload(const EntityId& id, const EntityId& parent, const std::string& title) {
    Json payload = FilePayload(id, parent, title);
    payload["fileEntryType"] = 1;
    return payload;
}

class RunnerTest : public ::testing::Test {
protected:
    void SetUp() override {
        store::StoreOptions options;
        options.durable = false;  // a throwaway store: no fsync per checkpoint
        options.lease = lease_;
        auto opened = store::OpenStore("sqlite:" + dir_.path() + "/runner.db", options, clock_);
        ASSERT_TRUE(opened) << opened.error().message;
        store_ = std::move(*opened);
        retry_.backoff = BackoffPolicy{std::chrono::seconds(1), std::chrono::minutes(5), 2.0, 0.2};
        retry_.max_attempts = 5;
        retry_.budget = std::chrono::hours(1);
        Build();
    }

    void TearDown() override {
        if (store_) store_->Close();
    }

    /// Compiles `yaml` (a whole config file with a rules: list) and rebuilds the dispatcher and runner.
    void UseRules(std::string_view yaml, std::map<std::string, std::string> env = {}) {
        // The same variables when the steps run (they resolve their `${VAR}` then).
        steps_.variables = config::MapEnv(env);
        auto doc = config::LoadYamlText(yaml, "rules.yaml", config::MapEnv(std::move(env)));
        ASSERT_TRUE(doc) << doc.error().message;
        auto compiled = rules::Compile({*doc}, steps::Kinds());
        ASSERT_TRUE(compiled) << compiled.error().message;
        rules_ = std::move(*compiled);
        Build();
    }

    /// Rebuilds everything above the store with the current options (after changing retry_).
    void Build() {
        DispatcherOptions dispatch;
        dispatch.owner = "dispatcher";
        dispatch.backoff = retry_.backoff;
        dispatch.max_attempts = retry_.max_attempts;
        dispatcher_ = std::make_unique<Dispatcher>(*store_, rules_, api_, resolver_, dispatch, clock_,
                                                   random_, metrics_);
        dispatcher_->SetSelfId(FakeDocSpace::kSelfId);
        steps_.api = &api_;
        steps_.mailer = &mailer_;
        steps_.clock = &clock_;
        executor_ =
            std::make_unique<RunExecutor>(*store_, steps_, retry_, clock_, random_, metrics_, &leases_);
    }

    /// Journals a delivery (as ingress does) and returns its seq.
    std::int64_t Deliver(const Json& envelope) {
        store::NewDelivery delivery;
        delivery.webhook_id = "7";
        delivery.event_id = envelope["event"]["id"].dump();
        delivery.trigger = envelope["event"].value("trigger", "");
        delivery.actor = envelope["event"].value("createBy", "");
        delivery.entity_id =
            envelope["payload"].contains("id") ? EntityId::FromJson(envelope["payload"]["id"])->str() : "";
        delivery.created_on = envelope["event"].value("createOn", "");
        delivery.body = envelope.dump();
        delivery.received_at = clock_.Now();
        auto promise = std::make_shared<std::promise<Result<store::AppendOutcome>>>();
        auto future = promise->get_future();
        store_->Append(std::move(delivery),
                       [promise](Result<store::AppendOutcome> r) { promise->set_value(r); });
        if (future.wait_for(kWait) != std::future_status::ready) {
            ADD_FAILURE() << "append did not complete";
            return 0;
        }
        auto appended = future.get();
        EXPECT_TRUE(appended) << appended.error().message;
        auto event = store_->FindEvent(envelope["event"]["id"].dump());
        EXPECT_TRUE(event && *event);
        return event && *event ? (*event)->seq : 0;
    }

    /// Dispatches until nothing is due (bounded).
    void DispatchAll() {
        for (int i = 0; i < 100; ++i) {
            auto n = dispatcher_->DispatchDue();
            ASSERT_TRUE(n) << n.error().message;
            if (*n == 0) return;
        }
        FAIL() << "events kept coming";
    }

    store::EventRecord Event(std::int64_t seq) {
        auto event = store_->GetEvent(seq);
        EXPECT_TRUE(event && *event);
        return event && *event ? **event : store::EventRecord{};
    }

    store::RunRecord Run(std::int64_t id) {
        auto run = store_->GetRun(id);
        EXPECT_TRUE(run && *run);
        return run && *run ? **run : store::RunRecord{};
    }

    /// Every run, oldest first.
    std::vector<store::RunRecord> Runs() {
        store::RunFilter filter;
        filter.limit = 1000;
        auto runs = store_->ListRuns(filter);
        EXPECT_TRUE(runs);
        std::vector<store::RunRecord> out = runs ? *runs : std::vector<store::RunRecord>{};
        std::reverse(out.begin(), out.end());
        return out;
    }

    std::optional<RunOutcome> RunNext(const std::string& owner = "w1") {
        auto outcome = executor_->RunNext(owner);
        EXPECT_TRUE(outcome) << outcome.error().message;
        return outcome ? *outcome : std::nullopt;
    }

    /// Runs whatever is due until nothing is (bounded); returns the outcomes in order.
    std::vector<RunOutcome> RunAllDue(const std::string& owner = "w1") {
        std::vector<RunOutcome> outcomes;
        for (int i = 0; i < 100; ++i) {
            auto outcome = RunNext(owner);
            if (!outcome) return outcomes;
            outcomes.push_back(*outcome);
        }
        ADD_FAILURE() << "runs kept coming";
        return outcomes;
    }

    /// Advances the clock to the run's next attempt.
    void AdvanceToNextAttempt(std::int64_t run_id) {
        const auto run = Run(run_id);
        if (run.next_attempt_at > clock_.Now()) clock_.Set(run.next_attempt_at);
    }

    std::chrono::milliseconds lease_{30000};
    ManualClock clock_;
    FixedRandom random_{0.5};  ///< jitter factor exactly 1.0: delays are base * multiplier^(n-1)
    httpc::testing::TempDir dir_;
    std::unique_ptr<store::Store> store_;
    FakeDocSpace api_;
    notify::RecordingMailer mailer_{"spacehook <bot@example.com>", clock_};
    MetricsRegistry registry_;
    RunnerMetrics metrics_{registry_};
    FolderPathCache cache_{FolderPathCacheOptions{}, clock_};
    ContextResolver resolver_{api_, cache_};
    LeaseKeeper leases_;
    RetryOptions retry_;
    rules::CompiledRules rules_;
    std::unique_ptr<Dispatcher> dispatcher_;
    steps::StepDeps steps_;
    std::unique_ptr<RunExecutor> executor_;
};

/// A transient error as the client reports a 503.
inline Error Unavailable(std::string message = "DocSpace POST: 503 Service Unavailable") {
    return Error{ErrorCode::kUnavailable, std::move(message), 503, std::nullopt};
}

}  // namespace spacehook::runner::testing
