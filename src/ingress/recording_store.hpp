#pragma once

// Test double for the webhook handler's tests (unit and loopback). Not part of the library.

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "store/store.hpp"

namespace spacehook::ingress::test {

/// A journal in memory that the handler's test can steer: it answers at once (kStored / kDuplicate by
/// key, or a configured failure) or holds the callback until the test completes it. Only the ingest
/// methods are meaningful; the webhook handler calls nothing else, and the rest fail loudly if it did.
class RecordingStore final : public store::Store {
public:
    enum class Mode { kCommit, kFail, kHold };
    Mode mode = Mode::kCommit;
    std::vector<store::NewDelivery> appended;  // every delivery handed to Append, duplicates included
    std::vector<store::NewDelivery> journal;   // what was stored
    std::vector<store::AppendCallback> held;

    /// Append runs on a server's I/O thread in loopback tests: the test reads the vectors under this lock
    /// (or after the answer arrived, which orders after the append).
    std::mutex mu;

    void Append(store::NewDelivery delivery, store::AppendCallback done) override {
        std::unique_lock lock(mu);
        appended.push_back(delivery);
        switch (mode) {
            case Mode::kFail:
                lock.unlock();
                done(Fail(ErrorCode::kUnavailable, "disk I/O error: /var/lib/spacehook/spacehook.db-wal"));
                return;
            case Mode::kHold:
                journal.push_back(std::move(delivery));
                held.push_back(std::move(done));
                return;
            case Mode::kCommit:
                for (const auto& d : journal) {
                    if (d.webhook_id == delivery.webhook_id && d.event_id == delivery.event_id) {
                        lock.unlock();
                        done(store::AppendOutcome::kDuplicate);
                        return;
                    }
                }
                journal.push_back(std::move(delivery));
                lock.unlock();
                done(store::AppendOutcome::kStored);
                return;
        }
    }
    Status Ping() override { return Ok(); }

    Result<std::vector<store::EventRecord>> ListEvents(const store::EventFilter&) override {
        return Unused();
    }
    Result<std::optional<store::EventRecord>> GetEvent(std::int64_t) override { return Unused(); }
    Result<std::optional<store::EventRecord>> FindEvent(std::string_view) override { return Unused(); }
    Result<std::vector<store::EventRecord>> ClaimEvents(const std::string&, std::size_t, TimePoint) override {
        return Unused();
    }
    Result<int> CompleteDispatch(std::int64_t, const std::string&, const std::vector<store::NewRun>&,
                                 store::EventState, const std::string&) override {
        return Unused();
    }
    Status RetryDispatch(std::int64_t, const std::string&, TimePoint, const std::string&) override {
        return Unused();
    }
    Status FailDispatch(std::int64_t, const std::string&, const std::string&) override { return Unused(); }
    Result<std::optional<store::RunRecord>> ClaimRun(const std::string&, TimePoint) override {
        return Unused();
    }
    Status RenewLease(std::int64_t, const std::string&, TimePoint) override { return Unused(); }
    Result<std::vector<store::StepRecord>> GetSteps(std::int64_t) override { return Unused(); }
    Result<store::StepStatus> BeginStep(std::int64_t, const std::string&, int, const std::string&,
                                        TimePoint) override {
        return Unused();
    }
    Status FinishStep(std::int64_t, const std::string&, int, const Json&, TimePoint) override {
        return Unused();
    }
    Status CompleteRun(std::int64_t, const std::string&, TimePoint) override { return Unused(); }
    Result<store::StepStatus> FinishAndBeginStep(std::int64_t, const std::string&, int, const Json&, int,
                                                 const std::string&, TimePoint) override {
        return Unused();
    }
    Status FinishLastStep(std::int64_t, const std::string&, int, const Json&, TimePoint) override {
        return Unused();
    }
    Status RetryRun(std::int64_t, const std::string&, TimePoint, const std::string&) override {
        return Unused();
    }
    Status DeadLetterRun(std::int64_t, const std::string&, const std::string&, TimePoint) override {
        return Unused();
    }
    Status ReleaseRun(std::int64_t, const std::string&) override { return Unused(); }
    Result<std::optional<TimePoint>> NextDueTime() override { return Unused(); }
    Result<std::vector<store::RunRecord>> ListRuns(const store::RunFilter&) override { return Unused(); }
    Result<std::optional<store::RunRecord>> GetRun(std::int64_t) override { return Unused(); }
    Result<std::vector<store::DeadLetter>> ListDeadLetters(std::size_t) override { return Unused(); }
    Status RetryDeadLetter(store::DeadLetter::Kind, std::int64_t, TimePoint) override { return Unused(); }
    Status DropDeadLetter(store::DeadLetter::Kind, std::int64_t) override { return Unused(); }
    Status ReplayEvent(std::int64_t, TimePoint) override { return Unused(); }
    Result<store::StoreStats> Stats() override { return Unused(); }
    void SetWakeup(std::function<void()>) override {}
    void Close() override {}

private:
    static tl::unexpected<Error> Unused() {
        ADD_FAILURE() << "the webhook handler must only append";
        return Fail(ErrorCode::kInternal, "not used by the webhook handler");
    }
};

}  // namespace spacehook::ingress::test
