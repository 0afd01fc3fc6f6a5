// The ledger's admin side (readiness, run listings, the dead-letter list, replays, stats) and the
// shared rate buckets.

#include <fmt/format.h>

#include <algorithm>

#include "store/ledger.hpp"
#include "store/ledger_sql.hpp"
#include "store/rate_bucket.hpp"

namespace spacehook::store {

Status Ledger::Ping() {
    // Not ready while deliveries are being refused: a load balancer should send them elsewhere, and a
    // probe must not wait behind the backlog to learn that.
    if (db_->AppendsRefused()) return Fail(ErrorCode::kUnavailable, "store write queue is full");
    const std::string now = FormatIso8601(clock_.Now(), true);
    return db_->Write([&](Transaction& tx) -> Status {
        auto pinged = tx.Execute(
            "INSERT INTO store_meta (key, value) VALUES ('last_ping', ?1) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            {now});
        if (!pinged) return Fail(pinged.error());
        return Ok();
    });
}

Result<std::vector<RunRecord>> Ledger::ListRuns(const RunFilter& filter) {
    StatementText query(fmt::format("SELECT {} FROM runs WHERE 1 = 1", kRunColumns));
    if (filter.state) query.With(" AND state = ", ToString(*filter.state));
    if (!filter.rule.empty()) query.With(" AND rule = ", filter.rule);
    if (filter.event_seq > 0) query.With(" AND event_seq = ", filter.event_seq);
    if (filter.created_since) query.With(" AND created_at >= ", *filter.created_since);
    if (filter.created_until) query.With(" AND created_at < ", *filter.created_until);
    if (filter.before_id > 0) query.With(" AND id < ", filter.before_id);
    return ListNewest<RunRecord>(*db_, std::move(query), "id", filter.limit, ReadRun);
}

Result<std::optional<RunRecord>> Ledger::GetRun(std::int64_t run_id) {
    return ReadValue<std::optional<RunRecord>>(*db_, [&](Session& db) {
        return db.First<RunRecord>(fmt::format("SELECT {} FROM runs WHERE id = ?1", kRunColumns), {run_id},
                                   ReadRun);
    });
}

Result<std::vector<DeadLetter>> Ledger::ListDeadLetters(std::size_t limit) {
    limit = std::min(limit, kMaxListLimit);
    if (limit == 0) {
        if (auto st = db_->CheckCallable(); !st) return Fail(st.error());
        return std::vector<DeadLetter>{};
    }
    return ReadValue<std::vector<DeadLetter>>(*db_, [&](Session& db) {
        return db.Collect<DeadLetter>(
            "SELECT 'run' AS kind, r.id AS id, r.rule AS rule, e.trigger_name AS trigger_name, "
            "r.last_error AS reason, r.attempts AS attempts, r.failed_at AS failed_at"
            " FROM runs r JOIN events e ON e.seq = r.event_seq WHERE r.state = 'dead'"
            " UNION ALL"
            " SELECT 'event', seq, '', trigger_name, last_error, attempts, failed_at FROM events"
            " WHERE state = 'failed'"
            " ORDER BY failed_at DESC, kind, id DESC LIMIT ?1",
            {static_cast<std::int64_t>(limit)}, [](const Row& row) -> Result<DeadLetter> {
                DeadLetter letter;
                letter.kind = kDeadLetterKindNames.Parse(row.Text(0)).value_or(DeadLetter::Kind::kEvent);
                letter.id = row.Int(1);
                letter.rule = row.Text(2);
                letter.trigger = row.Text(3);
                letter.reason = row.Text(4);
                letter.attempts = static_cast<int>(row.Int(5));
                letter.failed_at = row.Time(6);
                return letter;
            });
    });
}

Result<std::vector<RuleRunCounts>> Ledger::CountRunsByRule() {
    struct Group {
        std::string rule;
        std::string state;
        std::int64_t count = 0;
        TimePoint newest;
    };
    auto groups = ReadValue<std::vector<Group>>(*db_, [&](Session& db) {
        return db.Collect<Group>(
            "SELECT rule, state, COUNT(*), MAX(created_at) FROM runs GROUP BY rule, state ORDER BY rule", {},
            [](const Row& row) -> Result<Group> {
                return Group{row.Text(0), row.Text(1), row.Int(2), row.Time(3)};
            });
    });
    if (!groups) return Fail(groups.error());
    std::vector<RuleRunCounts> out;
    for (const auto& group : *groups) {
        if (out.empty() || out.back().rule != group.rule) {
            out.emplace_back();
            out.back().rule = group.rule;
        }
        auto& counts = out.back();
        counts.last_run_at = std::max(counts.last_run_at, group.newest);
        switch (ParseRunState(group.state).value_or(RunState::kPending)) {
            case RunState::kPending:
            case RunState::kRunning:
                counts.live += group.count;
                break;
            case RunState::kDone:
                counts.done += group.count;
                break;
            case RunState::kDead:
                counts.dead += group.count;
                break;
            case RunState::kDropped:
                counts.dropped += group.count;
                break;
        }
    }
    return out;
}

namespace {

// A dead letter back in the queue: due at ?1, attempts and the failure time reset, queued again at ?1. A
// run keeps next_step (it resumes at its first unfinished step) and is stamped ?2.
constexpr std::string_view kRetryRunSql =
    "UPDATE runs SET state = 'pending', attempts = 0, next_attempt_at = ?1, queued_at = ?1, failed_at = 0, "
    "lease_owner = '', lease_until = 0, updated_at = ?2";
constexpr std::string_view kRetryEventSql =
    "UPDATE events SET state = 'pending', attempts = 0, next_attempt_at = ?1, queued_at = ?1, failed_at = 0, "
    "lease_owner = '', lease_until = 0";

/// Adds `filter`'s conditions to a statement over the dead runs (or the failed events).
void AddFilter(StatementText& statement, const DeadLetterFilter& filter, bool runs) {
    if (runs && !filter.rule.empty()) statement.With(" AND rule = ", filter.rule);
    if (filter.since) statement.With(" AND failed_at >= ", *filter.since);
}

/// Runs `statement` in `tx` and adds the rows it changed to `count`.
Status ExecuteCounting(Transaction& tx, const StatementText& statement, std::int64_t& count) {
    auto changed = tx.Execute(statement.sql(), statement.params());
    if (!changed) return Fail(changed.error());
    count += *changed;
    return Ok();
}

bool TakesRuns(const DeadLetterFilter& filter) {
    return !filter.kind || *filter.kind == DeadLetter::Kind::kRun;
}
/// Events have no rule: a filter by rule takes runs only.
bool TakesEvents(const DeadLetterFilter& filter) {
    return (!filter.kind || *filter.kind == DeadLetter::Kind::kEvent) && filter.rule.empty();
}

}  // namespace

Status Ledger::RetryDeadLetter(DeadLetter::Kind kind, std::int64_t id, TimePoint now) {
    const TimePoint updated_at = clock_.Now();
    return db_->Write([&](Transaction& tx) -> Status {
        if (kind == DeadLetter::Kind::kRun) {
            // next_step stays: the run resumes at its first unfinished step.
            if (auto st =
                    tx.ExecuteOne(std::string(kRetryRunSql) + " WHERE id = ?3 AND state = 'dead'",
                                  {now, updated_at, id}, fmt::format("run {} is not a dead letter", id));
                !st) {
                return st;
            }
        } else if (auto st =
                       tx.ExecuteOne(std::string(kRetryEventSql) + " WHERE seq = ?2 AND state = 'failed'",
                                     {now, id}, fmt::format("event {} is not a dead letter", id));
                   !st) {
            return st;
        }
        tx.RequestWakeup();
        return Ok();
    });
}

Status Ledger::DropDeadLetter(DeadLetter::Kind kind, std::int64_t id) {
    const TimePoint now = clock_.Now();
    return db_->Write([&](Transaction& tx) -> Status {
        if (kind == DeadLetter::Kind::kRun) {
            return tx.ExecuteOne(
                "UPDATE runs SET state = 'dropped', updated_at = ?1 WHERE id = ?2 AND state = 'dead'",
                {now, id}, fmt::format("run {} is not a dead letter", id));
        }
        return tx.ExecuteOne("UPDATE events SET state = 'ignored' WHERE seq = ?1 AND state = 'failed'", {id},
                             fmt::format("event {} is not a dead letter", id));
    });
}

Result<std::int64_t> Ledger::RetryDeadLetters(const DeadLetterFilter& filter, TimePoint now) {
    const TimePoint updated_at = clock_.Now();
    return WriteValue<std::int64_t>(*db_, [&](Transaction& tx) -> Result<std::int64_t> {
        std::int64_t count = 0;
        if (TakesRuns(filter)) {
            StatementText runs(std::string(kRetryRunSql) + " WHERE state = 'dead'", {now, updated_at});
            AddFilter(runs, filter, true);
            if (auto st = ExecuteCounting(tx, runs, count); !st) return Fail(st.error());
        }
        if (TakesEvents(filter)) {
            StatementText events(std::string(kRetryEventSql) + " WHERE state = 'failed'", {now});
            AddFilter(events, filter, false);
            if (auto st = ExecuteCounting(tx, events, count); !st) return Fail(st.error());
        }
        if (count > 0) tx.RequestWakeup();
        return count;
    });
}

Result<std::int64_t> Ledger::DropDeadLetters(const DeadLetterFilter& filter) {
    const TimePoint now = clock_.Now();
    return WriteValue<std::int64_t>(*db_, [&](Transaction& tx) -> Result<std::int64_t> {
        std::int64_t count = 0;
        if (TakesRuns(filter)) {
            StatementText runs("UPDATE runs SET state = 'dropped', updated_at = ?1 WHERE state = 'dead'",
                               {now});
            AddFilter(runs, filter, true);
            if (auto st = ExecuteCounting(tx, runs, count); !st) return Fail(st.error());
        }
        if (TakesEvents(filter)) {
            StatementText events("UPDATE events SET state = 'ignored' WHERE state = 'failed'");
            AddFilter(events, filter, false);
            if (auto st = ExecuteCounting(tx, events, count); !st) return Fail(st.error());
        }
        if (count == 0) tx.NothingToCommit();
        return count;
    });
}

Status Ledger::ReplayEvent(std::int64_t seq, TimePoint now) {
    return db_->Write([&](Transaction& tx) -> Status {
        if (auto st = tx.ExecuteOne(
                "UPDATE events SET state = 'pending', replay_generation = replay_generation + 1, "
                "attempts = 0, next_attempt_at = ?1, queued_at = ?1, last_error = '', failed_at = 0, "
                "lease_owner = '', lease_until = 0 WHERE seq = ?2",
                {now, seq}, fmt::format("event {} not found", seq));
            !st) {
            return st;
        }
        tx.RequestWakeup();
        return Ok();
    });
}

Result<StoreStats> Ledger::Stats() {
    // One snapshot for all counts, so they add up.
    auto stats = ReadValue<StoreStats>(
        *db_,
        [&](Session& db) -> Result<StoreStats> {
            StoreStats out;
            auto count_events = [&](const Row& row) -> Status {
                const std::int64_t count = row.Int(1);
                const auto state = ParseEventState(row.Text(0));
                out.events_total += count;
                if (state == EventState::kPending) out.events_pending = count;
                if (state == EventState::kFailed) out.dead_letters += count;
                return Ok();
            };
            const RowSink events(count_events);
            if (auto ran = db.Run("SELECT state, COUNT(*) FROM events GROUP BY state", {}, &events); !ran)
                return Fail(ran.error());
            auto count_runs = [&](const Row& row) -> Status {
                const std::int64_t count = row.Int(1);
                const auto state = ParseRunState(row.Text(0));
                if (state == RunState::kPending) out.runs_pending = count;
                if (state == RunState::kRunning) out.runs_running = count;
                if (state == RunState::kDone) out.runs_done = count;
                if (state == RunState::kDead) out.dead_letters += count;
                return Ok();
            };
            const RowSink runs(count_runs);
            if (auto ran = db.Run("SELECT state, COUNT(*) FROM runs GROUP BY state", {}, &runs); !ran)
                return Fail(ran.error());
            // The first entries of the partial indexes events_pending_queued and runs_live_queued (their
            // predicates, queued_at >= 0 included, so that the planner may use them).
            auto oldest = [&](const char* sql, std::optional<TimePoint>& slot) -> Status {
                auto first = db.SelectInt(sql);
                if (!first) return Fail(first.error());
                if (*first) slot = FromUnixMillis(**first);
                return Ok();
            };
            if (auto st = oldest("SELECT queued_at FROM events WHERE state = 'pending' AND queued_at >= 0 "
                                 "ORDER BY queued_at LIMIT 1",
                                 out.oldest_pending_event);
                !st) {
                return Fail(st.error());
            }
            if (auto st = oldest(
                    "SELECT queued_at FROM runs WHERE state IN ('pending', 'running') AND queued_at >= 0 "
                    "ORDER BY queued_at LIMIT 1",
                    out.oldest_live_run);
                !st) {
                return Fail(st.error());
            }
            auto bytes = db.SelectInt(sql_.storage_bytes);
            if (!bytes) return Fail(bytes.error());
            out.bytes = bytes->value_or(0);
            return out;
        },
        ReadMode::kSnapshot);
    if (!stats) return stats;
    const WriterCounts counts = db_->counts();
    stats->bytes += counts.extra_bytes;
    stats->commits = counts.commits;
    stats->write_queue = counts.write_queue;
    return stats;
}

// --- shared rate limits -----------------------------------------------------------------------

namespace {

/// Bucket `key` as stored, created full when missing, locked (Dialect::lock_row) until the transaction
/// ends, so the read-modify-write of a token is atomic across every process using the store.
Result<RateBucket> LockBucket(Transaction& tx, const Dialect& dialect, const std::string& key, int burst,
                              std::int64_t now_ms) {
    // A bucket row is not worth a flush: after a crash it is at most a few tokens off.
    if (!dialect.relaxed_commit.empty()) {
        if (auto st = tx.RunScript(dialect.relaxed_commit); !st) return Fail(st.error());
    }
    const std::string select = fmt::format(
        "SELECT tokens, updated_at, paused_until FROM rate_limits WHERE key = ?1{}", dialect.lock_row);
    const auto read = [](const Row& row) {
        return Result<RateBucket>(RateBucket{row.Real(0), row.Int(1), row.Int(2)});
    };
    auto bucket = tx.First<RateBucket>(select, {key}, read);
    if (!bucket) return Fail(bucket.error());
    if (*bucket) return **bucket;
    const RateBucket fresh = NewRateBucket(burst, now_ms);
    auto inserted = tx.Execute(
        "INSERT INTO rate_limits (key, tokens, updated_at, paused_until) VALUES (?1, ?2, ?3, 0) "
        "ON CONFLICT (key) DO NOTHING",
        {key, fresh.tokens, fresh.updated_at});
    if (!inserted) return Fail(inserted.error());
    bucket = tx.First<RateBucket>(select, {key}, read);  // ours, or another replica's that came first
    if (!bucket) return Fail(bucket.error());
    if (!*bucket) return Fail(Internal(fmt::format("rate limit bucket '{}' vanished", key)));
    return **bucket;
}

Status SaveBucket(Transaction& tx, const std::string& key, const RateBucket& bucket) {
    auto saved =
        tx.Execute("UPDATE rate_limits SET tokens = ?2, updated_at = ?3, paused_until = ?4 WHERE key = ?1",
                   {key, bucket.tokens, bucket.updated_at, bucket.paused_until});
    if (!saved) return Fail(saved.error());
    return Ok();
}

}  // namespace

Result<std::chrono::milliseconds> Ledger::AcquireRateToken(const std::string& key, double rate_per_second,
                                                           int burst, TimePoint now) {
    const std::int64_t now_ms = ToUnixMillis(now);
    return WriteValue<std::chrono::milliseconds>(
        *db_, [&](Transaction& tx) -> Result<std::chrono::milliseconds> {
            auto bucket = LockBucket(tx, sql_, key, burst, now_ms);
            if (!bucket) return Fail(bucket.error());
            const auto wait = TakeRateToken(*bucket, rate_per_second, burst, now_ms);
            if (auto st = SaveBucket(tx, key, *bucket); !st) return Fail(st.error());
            return wait;
        });
}

Status Ledger::PauseRateLimit(const std::string& key, TimePoint until, TimePoint now) {
    const std::int64_t now_ms = ToUnixMillis(now);
    return db_->Write([&](Transaction& tx) -> Status {
        // A pause on a bucket nobody used yet still holds: the bucket is created (full) and paused.
        auto bucket = LockBucket(tx, sql_, key, 1, now_ms);
        if (!bucket) return Fail(bucket.error());
        PauseRateBucket(*bucket, ToUnixMillis(until));
        return SaveBucket(tx, key, *bucket);
    });
}

}  // namespace spacehook::store
