#pragma once

// Shared fixture of the store tests: a real SQLite file in a fresh temp dir and a ManualClock.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "store/sqlite_store.hpp"
#include "store/store.hpp"

namespace spacehook::store::testing {

/// Every wait in these tests is bounded by this.
inline constexpr std::chrono::seconds kWait{20};

/// A directory under $TMPDIR (or /tmp) removed with everything in it at destruction.
class TempDir {
public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/spacehook-store-XXXXXX";
        if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
        path_ = pattern;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};

inline NewDelivery MakeDelivery(std::string webhook_id, std::string event_id, std::string trigger = "file.created") {
    NewDelivery d;
    d.webhook_id = std::move(webhook_id);
    d.event_id = std::move(event_id);
    d.trigger = std::move(trigger);
    d.actor = "user-1";
    d.entity_id = "42";
    d.created_on = "2026-06-30T10:15:42.537Z";
    d.body = R"({"event":{"id":)" + d.event_id + "}}";
    d.received_at = FromUnixMillis(1'782'814'542'537);
    return d;
}

/// Appends and waits (bounded) for the callback.
inline Result<AppendOutcome> AppendAndWait(Store& store, NewDelivery delivery) {
    auto promise = std::make_shared<std::promise<Result<AppendOutcome>>>();
    auto future = promise->get_future();
    store.Append(std::move(delivery), [promise](Result<AppendOutcome> r) { promise->set_value(std::move(r)); });
    if (future.wait_for(kWait) != std::future_status::ready) {
        ADD_FAILURE() << "append callback did not run within " << kWait.count() << " s";
        return Fail(ErrorCode::kTimeout, "test wait expired");
    }
    return future.get();
}

class StoreTest : public ::testing::Test {
protected:
    void SetUp() override { Open(); }
    void TearDown() override {
        if (store_) store_->Close();
    }

    [[nodiscard]] std::string DbPath() const { return dir_.path() + "/store.db"; }
    [[nodiscard]] std::string Url() const { return "sqlite:" + DbPath(); }

    void Open(StoreOptions options = {}) {
        if (store_) store_->Close();
        store_.reset();
        options_ = options;
        auto opened = OpenStore(Url(), options, clock_);
        ASSERT_TRUE(opened) << opened.error().message;
        store_ = std::move(*opened);
    }
    void Reopen() { Open(options_); }

    sqlite::SqliteStore& Sqlite() { return dynamic_cast<sqlite::SqliteStore&>(*store_); }

    /// Appends a delivery that must be stored and returns its seq.
    std::int64_t StoreEvent(const std::string& event_id, const std::string& trigger = "file.created") {
        auto outcome = AppendAndWait(*store_, MakeDelivery("wh", event_id, trigger));
        EXPECT_TRUE(outcome && *outcome == AppendOutcome::kStored);
        auto event = store_->FindEvent(event_id);
        EXPECT_TRUE(event && *event);
        return event && *event ? (*event)->seq : 0;
    }

    /// Stores an event and dispatches it into `runs` (as owner "dispatcher"); returns the event seq.
    std::int64_t DispatchRuns(const std::string& event_id, const std::vector<NewRun>& runs) {
        const std::int64_t seq = StoreEvent(event_id);
        auto claimed = store_->ClaimEvents("dispatcher", 100, clock_.Now());
        EXPECT_TRUE(claimed);
        auto created = store_->CompleteDispatch(seq, "dispatcher", runs, EventState::kDispatched, "");
        EXPECT_TRUE(created) << (created ? "" : created.error().message);
        return seq;
    }

    /// Claims a run that must be due now.
    RunRecord MustClaimRun(const std::string& owner) {
        auto run = store_->ClaimRun(owner, clock_.Now());
        EXPECT_TRUE(run && *run) << (run ? "no run was due" : run.error().message);
        return run && *run ? **run : RunRecord{};
    }

    static NewRun MakeRun(std::string key, std::string lock_key = "", int steps = 3) {
        NewRun run;
        run.run_key = std::move(key);
        run.rule = "invoice-intake";
        run.lock_key = std::move(lock_key);
        run.step_count = steps;
        run.context = Json{{"file", {{"id", 42}, {"title", "invoice.pdf"}}}};
        return run;
    }

    TempDir dir_;
    ManualClock clock_;
    StoreOptions options_;
    std::unique_ptr<Store> store_;
};

}  // namespace spacehook::store::testing
