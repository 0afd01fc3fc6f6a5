#pragma once

// The PostgreSQL backend under the ledger. Private to src/store: other parts use store.hpp and
// OpenStore().

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "store/database.hpp"
#include "store/pg_listener.hpp"
#include "store/pg_pool.hpp"
#include "store/pg_writer.hpp"

namespace spacehook::store::pg {

/// The shared database: several spacehook replicas on one PostgreSQL database.
///
/// - Appends go through an AppendWriter (group commit, one multi-row INSERT per batch); the unique
///   (webhook_id, event_id) key de-duplicates deliveries across replicas.
/// - Every other write runs in its own transaction on a pooled connection. Claims take rows with
///   SELECT ... FOR UPDATE SKIP LOCKED, so replicas never wait on each other's candidates and never
///   claim one row twice; owner-fenced writes lock their row (FOR UPDATE) before checking the lease,
///   so a takeover and a late write by the old owner are serialized.
/// - Lock keys: the runs table stays the only truth of who holds a key (running with an unexpired
///   lease, as in SQLite). Claimers of one key serialize on a transaction-scoped advisory lock on
///   hash(lock key) and check again under it, so two replicas cannot both see the key free and each
///   start a run of it (see ClaimRun in ledger_runs.cpp for why this rather than a table of held locks).
/// - Wake-ups: commits that make work available NOTIFY the channel "spacehook_work" with this store's
///   id; a Listener session per store wakes this process for other replicas' work.
/// - Shared rate limits: one row per bucket in rate_limits, read and written under FOR UPDATE.
class PgDatabase final : public Database {
public:
    /// Connects to `url`, migrates (serialized across replicas by an advisory lock), starts the append
    /// writer and LISTENs before returning.
    static Result<std::unique_ptr<PgDatabase>> Open(const std::string& url, const StoreOptions& options,
                                                    const Clock& clock);
    ~PgDatabase() override;

    [[nodiscard]] const Dialect& dialect() const override;
    /// One transaction on a pooled connection; a deadlock or serialization failure runs it again (a few
    /// times), anything else is the caller's answer. NOTIFYs what the write announced just before COMMIT.
    Status Write(const WriteFn& apply) override;
    /// kLatest: autocommit, each statement sees the latest commits. kSnapshot: one REPEATABLE READ
    /// transaction.
    Status Read(const ReadFn& read, ReadMode mode) override;
    /// Synchronous calls are refused after Close() and from the append writer's thread (a callback),
    /// which would stall every delivery behind a database round trip (the SQLite writer would wait for
    /// itself, so both backends answer kInternal there).
    [[nodiscard]] Status CheckCallable() const override;
    void Append(NewDelivery&& delivery, TimePoint now, AppendCallback&& done) override;
    [[nodiscard]] bool AppendsRefused() const override { return writer_->AppendsRefused(); }
    [[nodiscard]] WriterCounts counts() const override;
    void Close() override;

    /// NextDueTime's statement as PostgreSQL runs it ($1 = now): tests check that PostgreSQL answers it
    /// from the due-time indexes.
    static std::string NextDueTimeQuery();

    // --- test hooks (store tests only) --------------------------------------------------------
    void PauseWriterForTesting(bool paused) { writer_->PauseForTesting(paused); }
    /// The LISTEN session's server pid (0 while reconnecting) and how often it reconnected.
    [[nodiscard]] int ListenerPidForTesting() const { return listener_->BackendPidForTesting(); }
    [[nodiscard]] std::uint64_t ListenerReconnectsForTesting() const { return listener_->reconnects(); }
    /// This store's id, the payload of its NOTIFYs.
    [[nodiscard]] const std::string& instance_id() const { return instance_id_; }

private:
    PgDatabase(std::string url, const StoreOptions& options, ConnectOptions connect_options);

    const std::string url_;
    const StoreOptions options_;
    const ConnectOptions connect_options_;
    const std::string instance_id_;
    const std::string channel_{kWorkChannel};
    std::atomic<bool> closed_{false};
    std::atomic<std::uint64_t> commits_{0};
    std::unique_ptr<ConnectionPool> pool_;
    std::unique_ptr<AppendWriter> writer_;  // its thread calls Wakeup()
    std::unique_ptr<Listener> listener_;    // its thread calls Wakeup()
};

}  // namespace spacehook::store::pg
