#pragma once

// Test double for the webhook handler's tests (unit and loopback). Not part of the library.

#include <mutex>
#include <vector>

#include "store/store.hpp"

namespace spacehook::ingress::test {

/// A journal in memory that the handler's test can steer: it answers at once (kStored / kDuplicate by
/// key, or a configured failure) or holds the callback until the test completes it.
class RecordingStore final : public store::Journal {
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
};

}  // namespace spacehook::ingress::test
