#include "store/ledger_sql.hpp"

#include <fmt/format.h>

namespace spacehook::store {

Error Internal(std::string message) {
    return Error{ErrorCode::kInternal, std::move(message), 0, std::nullopt};
}

StatementText& StatementText::With(std::string_view text, Param value) {
    params_.push_back(value);
    sql_ += text;
    sql_ += fmt::format("?{}", params_.size());
    return *this;
}

StatementText& StatementText::Then(std::string_view text) {
    sql_ += text;
    return *this;
}

std::string LikeEscaped(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (c == '!' || c == '%' || c == '_') out += '!';
        out += c;
    }
    return out;
}

std::string ByteaEscaped(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte == 0 || byte >= 0x80) {
            out += fmt::format("\\{:03o}", byte);
        } else if (c == '\\') {
            out += "\\\\";
        } else {
            out += c;
        }
    }
    return out;
}

std::string DumpJson(const Json& value) {
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<Json> ParseJson(const std::string& text, std::string_view what) {
    Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return Fail(Internal(fmt::format("stored {} is not valid JSON", what)));
    return value;
}

Result<EventRecord> ReadEvent(const Row& row) {
    EventRecord event;
    event.seq = row.Int(0);
    event.webhook_id = row.Text(1);
    event.event_id = row.Text(2);
    event.trigger = row.Text(3);
    event.actor = row.Text(4);
    event.entity_id = row.Text(5);
    event.created_on = row.Text(6);
    event.body = row.Bytes(7);
    event.received_at = row.Time(8);
    const std::string state = row.Text(9);
    auto parsed = ParseEventState(state);
    if (!parsed) return Fail(Internal(fmt::format("event {} has unknown state '{}'", event.seq, state)));
    event.state = *parsed;
    event.attempts = static_cast<int>(row.Int(10));
    event.next_attempt_at = row.Time(11);
    event.last_error = row.Text(12);
    event.replay_generation = static_cast<int>(row.Int(13));
    event.runs_created = static_cast<int>(row.Int(14));
    event.recovered = row.Int(15) != 0;
    return event;
}

Result<RunRecord> ReadRun(const Row& row) {
    RunRecord run;
    run.id = row.Int(0);
    run.run_key = row.Text(1);
    run.rule = row.Text(2);
    run.event_seq = row.Int(3);
    run.lock_key = row.Text(4);
    const std::string state = row.Text(5);
    auto parsed = ParseRunState(state);
    if (!parsed) return Fail(Internal(fmt::format("run {} has unknown state '{}'", run.id, state)));
    run.state = *parsed;
    run.step_count = static_cast<int>(row.Int(6));
    run.next_step = static_cast<int>(row.Int(7));
    run.attempts = static_cast<int>(row.Int(8));
    run.created_at = row.Time(9);
    run.updated_at = row.Time(10);
    run.next_attempt_at = row.Time(11);
    run.lease_owner = row.Text(12);
    run.lease_until = row.Time(13);
    run.last_error = row.Text(14);
    auto context = ParseJson(row.Text(15), fmt::format("context of run {}", run.id));
    if (!context) return Fail(context.error());
    run.context = std::move(*context);
    run.failed_at = row.Time(16);
    return run;
}

Status RequireOwner(const std::string& owner) {
    if (owner.empty()) return Fail(ErrorCode::kInvalidArgument, "a lease owner must not be empty");
    return Ok();
}

namespace {

/// What a fence reads: the state, the lease holder, and whether the database finds the holder equal to
/// the owner it was given (compared there, as stored: PostgreSQL stores text made valid UTF-8).
struct Lease {
    std::string state;
    std::string holder;
    bool held_by_owner = false;
    LeasedRun run;
};

Status CheckLease(const std::optional<Lease>& lease, std::string_view what, std::int64_t id,
                  std::string_view leased_state, const std::string& owner) {
    if (!lease) return Fail(ErrorCode::kNotFound, fmt::format("{} {} not found", what, id));
    if (lease->state != leased_state || !lease->held_by_owner) {
        return Fail(ErrorCode::kConflict,
                    fmt::format("{} {} is no longer leased by '{}' (state {}, lease '{}')", what, id, owner,
                                lease->state, lease->holder));
    }
    return Ok();
}

}  // namespace

Status FenceEvent(Transaction& tx, const Dialect& dialect, std::int64_t seq, const std::string& owner) {
    auto lease = tx.First<Lease>(
        fmt::format("SELECT state, lease_owner, CASE WHEN lease_owner = ?2 THEN 1 ELSE 0 END FROM events "
                    "WHERE seq = ?1{}",
                    dialect.lock_row),
        {seq, owner}, [](const Row& row) -> Result<Lease> {
            return Lease{row.Text(0), row.Text(1), row.Int(2) != 0, {}};
        });
    if (!lease) return Fail(lease.error());
    return CheckLease(*lease, "event", seq, "pending", owner);
}

Result<LeasedRun> FenceRun(Transaction& tx, const Dialect& dialect, std::int64_t run_id,
                           const std::string& owner) {
    auto lease = tx.First<Lease>(
        fmt::format("SELECT state, lease_owner, CASE WHEN lease_owner = ?2 THEN 1 ELSE 0 END, lock_key, "
                    "step_count FROM runs WHERE id = ?1{}",
                    dialect.lock_row),
        {run_id, owner}, [](const Row& row) -> Result<Lease> {
            return Lease{
                row.Text(0), row.Text(1), row.Int(2) != 0, {row.Text(3), static_cast<int>(row.Int(4))}};
        });
    if (!lease) return Fail(lease.error());
    if (auto st = CheckLease(*lease, "run", run_id, "running", owner); !st) return Fail(st.error());
    return std::move((*lease)->run);
}

Status WakeLockWaiters(Transaction& tx, std::int64_t run_id, const std::string& lock_key) {
    if (lock_key.empty()) return Ok();
    auto waiting = tx.SelectInt(
        "SELECT COUNT(*) FROM (SELECT 1 FROM runs WHERE lock_key <> '' AND lock_key = ?1 "
        "AND state IN ('pending', 'running') AND id <> ?2 LIMIT 1) AS w",
        {lock_key, run_id});
    if (!waiting) return Fail(waiting.error());
    if (waiting->value_or(0) > 0) tx.RequestWakeup();
    return Ok();
}

std::string InsertEventsSql(std::size_t rows) {
    std::string sql =
        "INSERT INTO events (webhook_id, event_id, trigger_name, actor, entity_id, created_on, body, "
        "received_at, state, next_attempt_at, queued_at, recovered) VALUES ";
    for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t p = r * kParamsPerDelivery;
        if (r > 0) sql += ", ";
        // Queued when it arrives (the received_at parameter again).
        sql += fmt::format("(?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{}, 'pending', ?{}, ?{}, ?{})", p + 1, p + 2,
                           p + 3, p + 4, p + 5, p + 6, p + 7, p + 8, p + 9, p + 8, p + 10);
    }
    sql += " ON CONFLICT (webhook_id, event_id) DO NOTHING";
    return sql;
}

std::array<Param, kParamsPerDelivery> DeliveryParams(const NewDelivery& delivery, const TimePoint& due) {
    return {delivery.webhook_id,
            delivery.event_id,
            delivery.trigger,
            delivery.actor,
            delivery.entity_id,
            delivery.created_on,
            Param::Bytes(delivery.body),
            delivery.received_at,
            due,
            std::int64_t{delivery.recovered ? 1 : 0}};
}

}  // namespace spacehook::store
