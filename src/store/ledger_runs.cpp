// The ledger's run side: claiming runs (with their lock keys), leases, step checkpoints, and the ways a
// run ends (done, retried, dead-lettered, released).

#include <fmt/format.h>

#include "store/ledger.hpp"
#include "store/ledger_sql.hpp"

namespace spacehook::store {

namespace {

/// ClaimRun looks at this many candidates per page, and at most kClaimPages pages per call.
constexpr int kClaimPage = 16;
constexpr int kClaimPages = 4;

Status CheckStepIndex(std::int64_t run_id, int index, const LeasedRun& run) {
    if (index < 0 || index >= run.step_count) {
        return Fail(ErrorCode::kInvalidArgument, fmt::format("step {} is outside run {} (it has {} steps)",
                                                             index, run_id, run.step_count));
    }
    return Ok();
}

}  // namespace

// Why claims go candidate by candidate, each in its own transaction, with the lock key checked again
// under Dialect::lock_key: with several replicas, SKIP LOCKED keeps two of them off the same *row*, but
// two different runs of one key are two rows, and each claimer would see the key free (the other's claim
// is not committed yet) and start its run. Something must serialize the claimers of one key. A lock
// table (one row per held key, with its own lease) would do it through its primary key, but it is a
// second copy of what the runs table already says (running + unexpired lease), which every renewal,
// completion, retry, takeover and crash would have to keep in step. PostgreSQL's transaction-scoped
// advisory lock on hash(key) needs no bookkeeping: it is held only between "the key looks free" and
// COMMIT of the claim, released by COMMIT/ROLLBACK or by the session's death, and the check made under
// it sees every earlier claimer's committed run (READ COMMITTED takes a new snapshot per statement).
// "Only the oldest due run of a key may start" alone does not serialize them: replicas pass their own
// `now`, so with clocks a little apart (or a retry delay ending between two claims) one replica finds an
// older run not yet due and starts the next one while another starts the older one
// (store_pg_test ReplicasWithSkewedClocksNeverRunTwoRunsOfALockKeyAtOnce fails without this lock).
// A hash collision only makes two keys' claimers wait for each other briefly; the check itself compares
// the exact key. Each attempt is its own transaction holding at most one advisory lock and one row lock,
// taken without waiting (SKIP LOCKED) before the advisory one, so claimers cannot deadlock.
//
// SQLite's single writer makes every claim exclusive already (lock_key and skip_locked are empty there):
// the first candidate is claimed, and a worker that finds nothing due never queues behind the writer.
Result<std::optional<RunRecord>> Ledger::TryClaimRun(std::int64_t id, const std::string& lock_key,
                                                     const std::string& owner, TimePoint now) {
    const TimePoint lease_until = now + options_.lease;
    return WriteValue<std::optional<RunRecord>>(
        *db_, [&](Transaction& tx) -> Result<std::optional<RunRecord>> {
            auto run = tx.First<RunRecord>(fmt::format("SELECT {} FROM runs r WHERE r.id = ?1 AND r.state IN "
                                                       "('pending', 'running') AND {} <= ?2{}",
                                                       kRunColumns, kRunDueAt, sql_.skip_locked),
                                           {id, now}, ReadRun);
            if (!run || !*run) {
                tx.NothingToCommit();  // claimed or finished meanwhile, or being written by its owner
                return run;
            }
            if (!lock_key.empty()) {
                if (!sql_.lock_key.empty()) {
                    if (auto locked = tx.Execute(sql_.lock_key, {lock_key}); !locked)
                        return Fail(locked.error());
                }
                // Free: nobody else runs the key with a live lease, and no older run of the key is due (runs
                // of one key start in creation order).
                auto free = tx.SelectInt(
                    fmt::format(
                        "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM runs h WHERE h.lock_key <> '' AND "
                        "h.lock_key = ?1 AND h.state = 'running' AND h.lease_until > ?2 AND h.id <> ?3) "
                        "AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.lock_key <> '' AND r.lock_key = ?1 "
                        "AND r.id < ?3 AND r.state IN ('pending', 'running') AND {} <= ?2) THEN 1 ELSE 0 END",
                        kRunDueAt),
                    {lock_key, now, id});
                if (!free) return Fail(free.error());
                if (free->value_or(0) == 0) {
                    tx.NothingToCommit();
                    return std::optional<RunRecord>();
                }
            }
            auto leased = tx.Execute(
                "UPDATE runs SET state = 'running', lease_owner = ?1, lease_until = ?2, updated_at = ?3 "
                "WHERE id = ?4",
                {owner, lease_until, now, id});
            if (!leased) return Fail(leased.error());
            RunRecord& claimed = **run;
            // Selected as running: its lease expired and this claim takes it over.
            claimed.taken_over = claimed.state == RunState::kRunning;
            claimed.state = RunState::kRunning;
            claimed.lease_owner = owner;
            claimed.lease_until = FromUnixMillis(ToUnixMillis(lease_until));
            claimed.updated_at = FromUnixMillis(ToUnixMillis(now));
            return run;
        });
}

Result<std::optional<RunRecord>> Ledger::ClaimRun(const std::string& owner, TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return Fail(st.error());
    // Candidates are read without locks, oldest first, with the lock-free test as a cheap filter; each is
    // then tried in its own transaction. Most calls claim the first candidate. `state IN (...)` lets the
    // planner walk runs_by_state (the live runs only) instead of all history.
    const std::string candidates_sql = fmt::format(
        "SELECT r.id, r.lock_key FROM runs r WHERE r.state IN ('pending', 'running') AND {} <= ?1 AND {} "
        "AND r.id > ?2 ORDER BY r.id LIMIT ?3",
        kRunDueAt, kLockFree);
    using Candidate = std::pair<std::int64_t, std::string>;
    std::int64_t after = 0;
    for (int page = 0; page < kClaimPages; ++page) {
        auto candidates = ReadValue<std::vector<Candidate>>(*db_, [&](Session& db) {
            return db.Collect<Candidate>(candidates_sql, {now, after, kClaimPage}, [](const Row& row) {
                return Result<Candidate>(Candidate{row.Int(0), row.Text(1)});
            });
        });
        if (!candidates) return Fail(candidates.error());
        for (const auto& [id, lock_key] : *candidates) {
            auto claimed = TryClaimRun(id, lock_key, owner, now);
            if (!claimed || *claimed) return claimed;
            after = id;
        }
        if (candidates->size() < static_cast<std::size_t>(kClaimPage)) break;
    }
    return std::optional<RunRecord>();
}

Status Ledger::RenewLease(std::int64_t run_id, const std::string& owner, TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return st;
    const TimePoint lease_until = now + options_.lease;
    return db_->Write(Fenced(sql_, run_id, owner, [&](Transaction& tx, const LeasedRun&) -> Status {
        auto renewed = tx.Execute("UPDATE runs SET lease_until = ?1 WHERE id = ?2", {lease_until, run_id});
        if (!renewed) return Fail(renewed.error());
        return Ok();
    }));
}

Result<std::vector<StepRecord>> Ledger::GetSteps(std::int64_t run_id) {
    return ReadValue<std::vector<StepRecord>>(*db_, [&](Session& db) {
        return db.Collect<StepRecord>(
            "SELECT step_index, name, status, output, started_at, finished_at FROM steps WHERE run_id = ?1 "
            "ORDER BY step_index",
            {run_id}, [run_id](const Row& row) -> Result<StepRecord> {
                StepRecord step;
                step.index = static_cast<int>(row.Int(0));
                step.name = row.Text(1);
                step.status = kStepStatusNames.Parse(row.Text(2)).value_or(StepStatus::kStarted);
                auto output =
                    ParseJson(row.Text(3), fmt::format("output of step {} of run {}", step.index, run_id));
                if (!output) return Fail(output.error());
                step.output = std::move(*output);
                step.started_at = row.Time(4);
                step.finished_at = row.Time(5);
                return step;
            });
    });
}

namespace {

// The step writes, each inside a transaction after FenceRun; the public methods compose them so that
// finishing a step and beginning the next (or completing the run) share one commit.

Result<StepStatus> BeginStepIn(Transaction& tx, std::int64_t run_id, const LeasedRun& run, int index,
                               const std::string& name, TimePoint now) {
    if (auto st = CheckStepIndex(run_id, index, run); !st) return Fail(st.error());
    auto status = tx.First<StepStatus>(
        "SELECT status FROM steps WHERE run_id = ?1 AND step_index = ?2", {run_id, index},
        [](const Row& row) {
            return Result<StepStatus>(kStepStatusNames.Parse(row.Text(0)).value_or(StepStatus::kStarted));
        });
    if (!status) return Fail(status.error());
    const StepStatus before = status->value_or(StepStatus::kNone);
    if (before == StepStatus::kDone) return before;
    // A restarted step keeps one row: started_at is the latest attempt's start.
    auto begun = tx.Execute(
        "INSERT INTO steps (run_id, step_index, name, status, started_at) VALUES (?1, ?2, ?3, 'started', ?4) "
        "ON CONFLICT (run_id, step_index) DO UPDATE SET name = excluded.name, started_at = "
        "excluded.started_at",
        {run_id, index, name, now});
    if (!begun) return Fail(begun.error());
    return before;
}

Status FinishStepIn(Transaction& tx, std::int64_t run_id, const LeasedRun& run, int index,
                    const std::string& output_text, TimePoint now) {
    if (auto st = CheckStepIndex(run_id, index, run); !st) return st;
    if (auto st = tx.ExecuteOne("UPDATE steps SET status = 'done', output = ?1, finished_at = ?2 WHERE "
                                "run_id = ?3 AND step_index = ?4",
                                {output_text, now, run_id, index}, "");
        !st) {
        if (st.error().code != ErrorCode::kNotFound) return st;
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("step {} of run {} was never begun (call BeginStep first)", index, run_id));
    }
    auto advanced = tx.Execute(
        "UPDATE runs SET next_step = CASE WHEN next_step < ?1 THEN ?1 ELSE next_step END, updated_at = ?2 "
        "WHERE id = ?3",
        {index + 1, now, run_id});
    if (!advanced) return Fail(advanced.error());
    return Ok();
}

Status CompleteRunIn(Transaction& tx, std::int64_t run_id, const LeasedRun& run, TimePoint now) {
    auto completed = tx.Execute(
        "UPDATE runs SET state = 'done', lease_owner = '', lease_until = 0, updated_at = ?1 WHERE id = ?2",
        {now, run_id});
    if (!completed) return Fail(completed.error());
    return WakeLockWaiters(tx, run_id, run.lock_key);
}

}  // namespace

Result<StepStatus> Ledger::BeginStep(std::int64_t run_id, const std::string& owner, int index,
                                     const std::string& name, TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return Fail(st.error());
    return WriteValue<StepStatus>(
        *db_, Fenced(sql_, run_id, owner, [&](Transaction& tx, const LeasedRun& run) -> Result<StepStatus> {
            auto before = BeginStepIn(tx, run_id, run, index, name, now);
            if (before && *before == StepStatus::kDone) tx.NothingToCommit();
            return before;
        }));
}

Status Ledger::FinishStep(std::int64_t run_id, const std::string& owner, int index, const Json& output,
                          TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return st;
    const std::string output_text = DumpJson(output);
    return db_->Write(Fenced(sql_, run_id, owner, [&](Transaction& tx, const LeasedRun& run) -> Status {
        return FinishStepIn(tx, run_id, run, index, output_text, now);
    }));
}

Status Ledger::CompleteRun(std::int64_t run_id, const std::string& owner, TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return st;
    return db_->Write(Fenced(sql_, run_id, owner, [&](Transaction& tx, const LeasedRun& run) -> Status {
        return CompleteRunIn(tx, run_id, run, now);
    }));
}

Result<StepStatus> Ledger::FinishAndBeginStep(std::int64_t run_id, const std::string& owner, int index,
                                              const Json& output, int next_index,
                                              const std::string& next_name, TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return Fail(st.error());
    const std::string output_text = DumpJson(output);
    return WriteValue<StepStatus>(
        *db_, Fenced(sql_, run_id, owner, [&](Transaction& tx, const LeasedRun& run) -> Result<StepStatus> {
            if (auto st = FinishStepIn(tx, run_id, run, index, output_text, now); !st)
                return Fail(st.error());
            return BeginStepIn(tx, run_id, run, next_index, next_name, now);
        }));
}

Status Ledger::FinishLastStep(std::int64_t run_id, const std::string& owner, int index, const Json& output,
                              TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return st;
    const std::string output_text = DumpJson(output);
    return db_->Write(Fenced(sql_, run_id, owner, [&](Transaction& tx, const LeasedRun& run) -> Status {
        if (auto st = FinishStepIn(tx, run_id, run, index, output_text, now); !st) return st;
        return CompleteRunIn(tx, run_id, run, now);
    }));
}

Status Ledger::RetryRun(std::int64_t run_id, const std::string& owner, TimePoint next_attempt_at,
                        const std::string& error) {
    if (auto st = RequireOwner(owner); !st) return st;
    const TimePoint now = clock_.Now();
    return db_->Write(Fenced(sql_, run_id, owner, [&](Transaction& tx, const LeasedRun& run) -> Status {
        auto retried = tx.Execute(
            "UPDATE runs SET state = 'pending', attempts = attempts + 1, next_attempt_at = ?1, last_error = "
            "?2, "
            "failed_at = CASE WHEN failed_at = 0 THEN ?3 ELSE failed_at END, "
            "lease_owner = '', lease_until = 0, updated_at = ?3 WHERE id = ?4",
            {next_attempt_at, error, now, run_id});
        if (!retried) return Fail(retried.error());
        if (next_attempt_at <= now) {
            tx.RequestWakeup();
        } else {
            tx.AnnounceDueTime();
        }
        return WakeLockWaiters(tx, run_id, run.lock_key);
    }));
}

Status Ledger::DeadLetterRun(std::int64_t run_id, const std::string& owner, const std::string& reason,
                             TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return st;
    return db_->Write(Fenced(sql_, run_id, owner, [&](Transaction& tx, const LeasedRun& run) -> Status {
        auto dead = tx.Execute(
            "UPDATE runs SET state = 'dead', attempts = attempts + 1, last_error = ?1, failed_at = ?2, "
            "lease_owner = '', lease_until = 0, updated_at = ?2 WHERE id = ?3",
            {reason, now, run_id});
        if (!dead) return Fail(dead.error());
        return WakeLockWaiters(tx, run_id, run.lock_key);
    }));
}

Status Ledger::ReleaseRun(std::int64_t run_id, const std::string& owner) {
    if (auto st = RequireOwner(owner); !st) return st;
    const TimePoint now = clock_.Now();
    return db_->Write(Fenced(sql_, run_id, owner, [&](Transaction& tx, const LeasedRun&) -> Status {
        auto released = tx.Execute(
            "UPDATE runs SET state = 'pending', next_attempt_at = ?1, lease_owner = '', lease_until = 0, "
            "updated_at = ?1 WHERE id = ?2",
            {now, run_id});
        if (!released) return Fail(released.error());
        tx.RequestWakeup();
        return Ok();
    }));
}

Status Ledger::DeferRun(std::int64_t run_id, const std::string& owner, TimePoint not_before) {
    if (auto st = RequireOwner(owner); !st) return st;
    const TimePoint now = clock_.Now();
    return db_->Write(Fenced(sql_, run_id, owner, [&](Transaction& tx, const LeasedRun& run) -> Status {
        auto deferred = tx.Execute(
            "UPDATE runs SET state = 'pending', next_attempt_at = ?1, lease_owner = '', lease_until = 0, "
            "updated_at = ?2 WHERE id = ?3",
            {not_before, now, run_id});
        if (!deferred) return Fail(deferred.error());
        if (not_before <= now) {
            tx.RequestWakeup();
        } else {
            tx.AnnounceDueTime();
        }
        return WakeLockWaiters(tx, run_id, run.lock_key);
    }));
}

Result<std::optional<TimePoint>> Ledger::NextDueTime() {
    const TimePoint now = clock_.Now();
    auto due = ReadValue<std::optional<std::int64_t>>(
        *db_, [&](Session& db) { return db.SelectInt(sql_.next_due_time, {now}); });
    if (!due) return Fail(due.error());
    if (!*due) return std::optional<TimePoint>();
    return std::optional<TimePoint>(FromUnixMillis(**due));
}

}  // namespace spacehook::store
