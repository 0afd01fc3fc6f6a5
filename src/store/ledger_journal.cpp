// The ledger's journal side: appends, journal queries, and dispatch (claiming events, completing them
// into runs, retrying and failing them).

#include <fmt/format.h>

#include <algorithm>

#include "core/text.hpp"
#include "store/ledger.hpp"
#include "store/ledger_sql.hpp"

namespace spacehook::store {

Ledger::Ledger(std::unique_ptr<Database> database, const StoreOptions& options, const Clock& clock)
    : db_(std::move(database)), sql_(db_->dialect()), options_(options), clock_(clock) {}

Ledger::~Ledger() {
    Close();
}

void Ledger::Close() {
    db_->Close();
}

void Ledger::SetWakeup(std::function<void()> wakeup) {
    db_->SetWakeup(std::move(wakeup));
}

// --- ingest -----------------------------------------------------------------------------------

void Ledger::Append(NewDelivery delivery, AppendCallback done) {
    db_->Append(std::move(delivery), clock_.Now(), std::move(done));
}

// --- journal queries --------------------------------------------------------------------------

Result<std::vector<EventRecord>> Ledger::ListEvents(const EventFilter& filter) {
    StatementText query(fmt::format("SELECT {} FROM events WHERE 1 = 1", kEventColumns));
    if (filter.state) query.With(" AND state = ", ToString(*filter.state));
    if (!filter.trigger.empty()) query.With(" AND trigger_name = ", filter.trigger);
    if (filter.received_since) query.With(" AND received_at >= ", *filter.received_since);
    if (filter.received_until) query.With(" AND received_at < ", *filter.received_until);
    // Params only view their text: the pattern must outlive the query.
    std::string pattern;
    if (!filter.text.empty()) {
        // Lowered on both sides: SQLite's LIKE ignores ASCII case and PostgreSQL's does not.
        pattern =
            "%" +
            LikeEscaped(ToLower(sql_.body_text_escapes_bytes ? ByteaEscaped(filter.text) : filter.text)) +
            "%";
        query.With(" AND (entity_id = ", filter.text)
            .With(" OR " + sql_.lowered_body_text + " LIKE ", pattern)
            .Then(" ESCAPE '!')");
    }
    if (filter.before_seq > 0) query.With(" AND seq < ", filter.before_seq);
    return ListNewest<EventRecord>(*db_, std::move(query), "seq", filter.limit, ReadEvent);
}

Result<std::optional<EventRecord>> Ledger::GetEvent(std::int64_t seq) {
    return ReadValue<std::optional<EventRecord>>(*db_, [&](Session& db) {
        return db.First<EventRecord>(fmt::format("SELECT {} FROM events WHERE seq = ?1", kEventColumns),
                                     {seq}, ReadEvent);
    });
}

Result<std::optional<EventRecord>> Ledger::FindEvent(std::string_view event_id) {
    return ReadValue<std::optional<EventRecord>>(*db_, [&](Session& db) {
        return db.First<EventRecord>(
            fmt::format("SELECT {} FROM events WHERE event_id = ?1 ORDER BY seq DESC LIMIT 1", kEventColumns),
            {event_id}, ReadEvent);
    });
}

// --- dispatch ---------------------------------------------------------------------------------

Result<std::vector<EventRecord>> Ledger::ClaimEvents(const std::string& owner, std::size_t limit,
                                                     TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return Fail(st.error());
    limit = std::min(limit, kMaxListLimit);
    if (limit == 0) {
        if (auto st = db_->CheckCallable(); !st) return Fail(st.error());
        return std::vector<EventRecord>{};
    }
    const TimePoint lease_until = now + options_.lease;
    // One statement picks and leases. Dispatchers of several replicas claiming at once each get other
    // events (skip_locked) instead of queueing behind one another's candidate rows.
    const std::string sql = fmt::format(
        "UPDATE events SET lease_owner = ?1, lease_until = ?2 "
        "FROM (SELECT seq AS claimed FROM events WHERE state = 'pending' AND next_attempt_at <= ?3 "
        "AND lease_until <= ?3 ORDER BY seq LIMIT ?4{}) AS c "
        "WHERE seq = c.claimed RETURNING {}",
        sql_.skip_locked, kEventColumns);
    auto claimed = WriteValue<std::vector<EventRecord>>(*db_, [&](Transaction& tx) {
        auto events = tx.Collect<EventRecord>(
            sql, {owner, lease_until, now, static_cast<std::int64_t>(limit)}, ReadEvent);
        if (events && events->empty()) tx.NothingToCommit();
        return events;
    });
    if (!claimed) return claimed;
    // RETURNING follows no order; the contract is oldest first.
    std::sort(claimed->begin(), claimed->end(),
              [](const EventRecord& a, const EventRecord& b) { return a.seq < b.seq; });
    return claimed;
}

namespace {

Status CheckCompletion(EventState final_state, const std::vector<NewRun>& runs) {
    if (final_state != EventState::kDispatched && final_state != EventState::kIgnored) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("dispatch must end in dispatched or ignored, not {}", ToString(final_state)));
    }
    for (const NewRun& run : runs) {
        if (run.run_key.empty() || run.step_count < 0) {
            return Fail(ErrorCode::kInvalidArgument,
                        fmt::format("run for rule '{}' needs a run key and a step count >= 0", run.rule));
        }
    }
    return Ok();
}

Result<int> ApplyCompletion(Transaction& tx, const Dialect& dialect, std::int64_t seq,
                            const std::string& owner, const std::vector<NewRun>& runs, EventState final_state,
                            const std::string& note, TimePoint now) {
    if (auto st = FenceEvent(tx, dialect, seq, owner); !st) return Fail(st.error());
    int created = 0;
    for (const NewRun& run : runs) {
        // ON CONFLICT DO NOTHING: the same semantic key from another event (or another replica's
        // dispatcher of a redelivery) creates nothing; a concurrent insert of the key waits for the other
        // transaction and then does nothing.
        auto inserted = tx.Execute(
            "INSERT INTO runs (run_key, rule, event_seq, lock_key, state, step_count, created_at, "
            "updated_at, next_attempt_at, queued_at, context) "
            "VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?6, ?6, ?6, ?7) "
            "ON CONFLICT (run_key) DO NOTHING",
            {run.run_key, run.rule, seq, run.lock_key, run.step_count, now, DumpJson(run.context)});
        if (!inserted) return Fail(inserted.error());
        created += static_cast<int>(*inserted);
    }
    auto updated = tx.Execute(
        "UPDATE events SET state = ?1, last_error = ?2, lease_owner = '', lease_until = 0, "
        "runs_created = runs_created + ?3 WHERE seq = ?4",
        {ToString(final_state), note, created, seq});
    if (!updated) return Fail(updated.error());
    if (created > 0) tx.RequestWakeup();
    return created;
}

}  // namespace

Result<int> Ledger::CompleteDispatch(std::int64_t seq, const std::string& owner,
                                     const std::vector<NewRun>& runs, EventState final_state,
                                     const std::string& note) {
    if (auto st = RequireOwner(owner); !st) return Fail(st.error());
    if (auto st = CheckCompletion(final_state, runs); !st) return Fail(st.error());
    const TimePoint now = clock_.Now();
    return WriteValue<int>(*db_, [&](Transaction& tx) {
        return ApplyCompletion(tx, sql_, seq, owner, runs, final_state, note, now);
    });
}

std::vector<Result<int>> Ledger::CompleteDispatches(const std::string& owner,
                                                    const std::vector<DispatchCompletion>& completions) {
    std::vector<Result<int>> results(completions.size());
    if (auto st = RequireOwner(owner); !st) {
        for (auto& r : results) r = Fail(st.error());
        return results;
    }
    const TimePoint now = clock_.Now();
    std::vector<int> created(completions.size(), 0);
    std::vector<std::size_t> queued;  // index into completions of each write
    std::vector<WriteFn> writes;
    for (std::size_t i = 0; i < completions.size(); ++i) {
        if (auto st = CheckCompletion(completions[i].final_state, completions[i].runs); !st) {
            results[i] = Fail(st.error());
            continue;
        }
        queued.push_back(i);
        writes.emplace_back([&, i](Transaction& tx) -> Status {
            const DispatchCompletion& mine = completions[i];
            auto n = ApplyCompletion(tx, sql_, mine.seq, owner, mine.runs, mine.final_state, mine.note, now);
            if (!n) return Fail(n.error());
            created[i] = *n;
            return Ok();
        });
    }
    const std::vector<Status> statuses = db_->WriteEach(writes);
    for (std::size_t k = 0; k < queued.size(); ++k) {
        const std::size_t i = queued[k];
        results[i] = statuses[k] ? Result<int>(created[i]) : Result<int>(Fail(statuses[k].error()));
    }
    return results;
}

Status Ledger::RetryDispatch(std::int64_t seq, const std::string& owner, TimePoint next_attempt_at,
                             const std::string& error) {
    if (auto st = RequireOwner(owner); !st) return st;
    const bool due_now = next_attempt_at <= clock_.Now();
    return db_->Write([&](Transaction& tx) -> Status {
        if (auto st = FenceEvent(tx, sql_, seq, owner); !st) return st;
        auto updated = tx.Execute(
            "UPDATE events SET attempts = attempts + 1, next_attempt_at = ?1, last_error = ?2, lease_owner = "
            "'', "
            "lease_until = 0 WHERE seq = ?3",
            {next_attempt_at, error, seq});
        if (!updated) return Fail(updated.error());
        // Due later: other replicas learn the new due time (if this one dies, one of them picks it up).
        if (due_now) {
            tx.RequestWakeup();
        } else {
            tx.AnnounceDueTime();
        }
        return Ok();
    });
}

Status Ledger::FailDispatch(std::int64_t seq, const std::string& owner, const std::string& error) {
    if (auto st = RequireOwner(owner); !st) return st;
    const TimePoint now = clock_.Now();
    return db_->Write([&](Transaction& tx) -> Status {
        if (auto st = FenceEvent(tx, sql_, seq, owner); !st) return st;
        auto updated = tx.Execute(
            "UPDATE events SET state = 'failed', attempts = attempts + 1, last_error = ?1, failed_at = ?2, "
            "lease_owner = '', lease_until = 0 WHERE seq = ?3",
            {error, now, seq});
        if (!updated) return Fail(updated.error());
        return Ok();
    });
}

}  // namespace spacehook::store
