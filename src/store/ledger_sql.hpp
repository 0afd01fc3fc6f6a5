#pragma once

// What the ledger's statements share: column lists, the due-time and lock-key conditions, reading rows
// into records, the lease fences, and the journal's INSERT (which both backends' append writers batch).
// Private to src/store.

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/enum_names.hpp"
#include "store/database.hpp"
#include "store/sql_session.hpp"
#include "store/store.hpp"

namespace spacehook::store {

/// Listings are for people and paging; a bigger page would only hold memory.
inline constexpr std::size_t kMaxListLimit = 10000;

inline constexpr std::string_view kEventColumns =
    "seq, webhook_id, event_id, trigger_name, actor, entity_id, created_on, body, received_at, state, "
    "attempts, next_attempt_at, last_error, replay_generation, runs_created, recovered";

inline constexpr std::string_view kRunColumns =
    "id, run_key, rule, event_seq, lock_key, state, step_count, next_step, attempts, created_at, updated_at, "
    "next_attempt_at, lease_owner, lease_until, last_error, context, failed_at";

/// When a live run `r` can be claimed: a pending run when it is due, a running one when its lease
/// expires (takeover). Shared by ClaimRun and NextDueTime so both mean the same thing; the due-time
/// index runs_live_due is on exactly this expression.
inline constexpr std::string_view kRunDueAt =
    "(CASE r.state WHEN 'pending' THEN r.next_attempt_at ELSE r.lease_until END)";

/// The lock key of run `r` is free unless another running run holds it with an unexpired lease
/// (?1 = now). `h.lock_key <> ''` lets the planner use the partial index runs_by_lock.
inline constexpr std::string_view kLockFree =
    "(r.lock_key = '' OR NOT EXISTS (SELECT 1 FROM runs h WHERE h.lock_key <> '' AND h.lock_key = r.lock_key "
    "AND h.state = 'running' AND h.lease_until > ?1 AND h.id <> r.id))";

/// How the steps table spells a checkpoint's status, and the dead-letter list a letter's kind.
inline constexpr EnumNames<StepStatus, 2> kStepStatusNames{
    {{{StepStatus::kStarted, "started"}, {StepStatus::kDone, "done"}}}};
inline constexpr EnumNames<DeadLetter::Kind, 2> kDeadLetterKindNames{
    {{{DeadLetter::Kind::kRun, "run"}, {DeadLetter::Kind::kEvent, "event"}}}};

Error Internal(std::string message);

/// A statement whose parameters are added with its text, so optional conditions number themselves.
class StatementText {
public:
    explicit StatementText(std::string start) : sql_(std::move(start)) {}
    /// `start` already holds placeholders ?1..?N for `bound`; With() numbers on from N + 1.
    StatementText(std::string start, std::vector<Param> bound)
        : sql_(std::move(start)), params_(std::move(bound)) {}
    /// Appends `text` and then a placeholder bound to `value`: With(" AND state = ", "pending").
    StatementText& With(std::string_view text, Param value);
    /// Appends `text` alone (what follows a placeholder: ")", " ESCAPE ...").
    StatementText& Then(std::string_view text);
    [[nodiscard]] const std::string& sql() const { return sql_; }
    [[nodiscard]] Params params() const { return params_; }

private:
    std::string sql_;
    std::vector<Param> params_;
};

/// `text` with LIKE's wildcards (and the escape character itself) escaped by "!": a statement matches it
/// literally with `LIKE ?n ESCAPE '!'`. Not a backslash, which PostgreSQL's text of a bytea is full of.
std::string LikeEscaped(std::string_view text);

/// `text` as PostgreSQL's encode(bytes, 'escape') spells its bytes: 0 and bytes >= 0x80 as \ooo (octal),
/// a backslash doubled, everything else as it is.
std::string ByteaEscaped(std::string_view text);

/// Context and step outputs hold text from DocSpace; invalid UTF-8 must not make a checkpoint throw.
std::string DumpJson(const Json& value);
Result<Json> ParseJson(const std::string& text, std::string_view what);

/// A row of kEventColumns / kRunColumns as a record.
Result<EventRecord> ReadEvent(const Row& row);
Result<RunRecord> ReadRun(const Row& row);

Status RequireOwner(const std::string& owner);

/// Checks, inside the write's transaction, that `owner` still leases pending event `seq`. The row stays
/// locked until the transaction ends (Dialect::lock_row), so a concurrent takeover either happened before
/// (kConflict here) or waits for this write.
Status FenceEvent(Transaction& tx, const Dialect& dialect, std::int64_t seq, const std::string& owner);

/// What the fenced run writes need to know about the run.
struct LeasedRun {
    std::string lock_key;
    int step_count = 0;
};

/// Checks, inside the write's transaction, that `owner` still leases running run `run_id` (row locked as
/// in FenceEvent).
Result<LeasedRun> FenceRun(Transaction& tx, const Dialect& dialect, std::int64_t run_id,
                           const std::string& owner);

/// The write of every owner-fenced run change: `fn(tx, run)` runs only once FenceRun has confirmed,
/// inside the transaction, that `owner` still leases run `run_id`.
template <typename Fn>
auto Fenced(const Dialect& dialect, std::int64_t run_id, const std::string& owner, Fn fn) {
    return [&dialect, run_id, &owner, fn = std::move(fn)](Transaction& tx) {
        using Out = std::invoke_result_t<Fn&, Transaction&, const LeasedRun&>;
        auto run = FenceRun(tx, dialect, run_id, owner);
        if (!run) return Out(Fail(run.error()));
        return fn(tx, *run);
    };
}

/// Run `run_id` held `lock_key` and left the running state: wake the workers (of every replica) if
/// another run waits for that key (pending, or running with an expired lease that could not be taken
/// over while the key was held).
Status WakeLockWaiters(Transaction& tx, std::int64_t run_id, const std::string& lock_key);

/// Database::Write for a write that answers a value.
template <class T, class Fn>
Result<T> WriteValue(Database& db, Fn fn) {
    std::optional<Result<T>> out;
    const Status status = db.Write([&](Transaction& tx) -> Status {
        Result<T> result = fn(tx);
        if (!result) return Fail(result.error());
        out.emplace(std::move(result));
        return Ok();
    });
    if (!status) return Fail(status.error());
    return std::move(*out);
}

/// Database::Read for a read that answers a value.
template <class T, class Fn>
Result<T> ReadValue(Database& db, Fn fn, ReadMode mode = ReadMode::kLatest) {
    std::optional<Result<T>> out;
    const Status status = db.Read(
        [&](Session& session) -> Status {
            Result<T> result = fn(session);
            if (!result) return Fail(result.error());
            out.emplace(std::move(result));
            return Ok();
        },
        mode);
    if (!status) return Fail(status.error());
    return std::move(*out);
}

/// Up to `limit` (at most kMaxListLimit) rows of `query` as T, newest (highest `key`) first.
template <class T, class Read>
Result<std::vector<T>> ListNewest(Database& db, StatementText query, std::string_view key, std::size_t limit,
                                  Read read) {
    limit = std::min(limit, kMaxListLimit);
    if (limit == 0) {
        if (auto st = db.CheckCallable(); !st) return Fail(st.error());
        return std::vector<T>{};
    }
    query.With(" ORDER BY " + std::string(key) + " DESC LIMIT ", static_cast<std::int64_t>(limit));
    return ReadValue<std::vector<T>>(
        db, [&](Session& session) { return session.Collect<T>(query.sql(), query.params(), read); });
}

// --- the journal's INSERT ---------------------------------------------------------------------

inline constexpr std::size_t kParamsPerDelivery = 10;

/// INSERT of `rows` deliveries, each bound with DeliveryParams (?1..?10 for the first, ?11..?20 for the
/// second, ...). A delivery whose (webhook_id, event_id) is journaled already inserts nothing: that is
/// the dedupe, across processes and replicas, by the unique key.
std::string InsertEventsSql(std::size_t rows);

/// One delivery's parameters for InsertEventsSql; `due` is its next_attempt_at (the append time).
std::array<Param, kParamsPerDelivery> DeliveryParams(const NewDelivery& delivery, const TimePoint& due);

}  // namespace spacehook::store
