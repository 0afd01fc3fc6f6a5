#include "store/sqlite_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <type_traits>

#include "core/log.hpp"
#include "store/rate_bucket.hpp"
#include "store/sqlite_schema.hpp"

namespace spacehook::store::sqlite {

namespace {

/// Listings are for people and paging; a bigger page would only hold memory.
constexpr std::size_t kMaxListLimit = 10000;

constexpr std::string_view kEventColumns =
    "seq, webhook_id, event_id, trigger_name, actor, entity_id, created_on, body, received_at, state, "
    "attempts, "
    "next_attempt_at, last_error, replay_generation, runs_created";

constexpr std::string_view kRunColumns =
    "id, run_key, rule, event_seq, lock_key, state, step_count, next_step, attempts, created_at, updated_at, "
    "next_attempt_at, lease_owner, lease_until, last_error, context, failed_at";

/// When a live run `r` can be claimed: a pending run when it is due, a running one when its lease
/// expires (takeover). Shared by ClaimRun and NextDueTime so both mean the same thing.
constexpr std::string_view kRunDueAt =
    "(CASE r.state WHEN 'pending' THEN r.next_attempt_at ELSE r.lease_until END)";

/// The lock key of run `r` is free unless another running run holds it with an unexpired lease
/// (parameter ?1 = now). `h.lock_key <> ''` lets SQLite use the partial index runs_by_lock.
constexpr std::string_view kLockFree =
    "(r.lock_key = '' OR NOT EXISTS (SELECT 1 FROM runs h WHERE h.lock_key <> '' AND h.lock_key = r.lock_key "
    "AND h.state = 'running' AND h.lease_until > ?1 AND h.id <> r.id))";

Error Internal(std::string message) {
    return Error{ErrorCode::kInternal, std::move(message), 0, std::nullopt};
}

/// Context and step outputs hold text from DocSpace; invalid UTF-8 must not make a checkpoint throw.
std::string DumpJson(const Json& value) {
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<Json> ParseJson(const std::string& text, std::string_view what) {
    Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return Fail(Internal(fmt::format("stored {} is not valid JSON", what)));
    return value;
}

Result<EventRecord> ReadEvent(const Statement& row) {
    EventRecord event;
    event.seq = row.Int(0);
    event.webhook_id = row.Text(1);
    event.event_id = row.Text(2);
    event.trigger = row.Text(3);
    event.actor = row.Text(4);
    event.entity_id = row.Text(5);
    event.created_on = row.Text(6);
    event.body = row.Blob(7);
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
    return event;
}

Result<RunRecord> ReadRun(const Statement& row) {
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

/// Steps `stmt` to the end, turning each row into a T with `read`.
template <class T, class ReadRow>
Result<std::vector<T>> Collect(Statement& stmt, ReadRow read) {
    std::vector<T> out;
    for (;;) {
        auto row = stmt.Step();
        if (!row) return Fail(row.error());
        if (!*row) return out;
        auto item = read(stmt);
        if (!item) return Fail(item.error());
        out.push_back(std::move(*item));
    }
}

/// The first row of `stmt` as a T, or nullopt.
template <class T, class ReadRow>
Result<std::optional<T>> First(Statement& stmt, ReadRow read) {
    auto row = stmt.Step();
    if (!row) return Fail(row.error());
    if (!*row) return std::optional<T>();
    auto item = read(stmt);
    if (!item) return Fail(item.error());
    return std::optional<T>(std::move(*item));
}

Status RequireOwner(const std::string& owner) {
    if (owner.empty()) return Fail(ErrorCode::kInvalidArgument, "a lease owner must not be empty");
    return Ok();
}

/// Checks, inside the writer's transaction, that `owner` still leases pending event `seq`.
Status FenceEvent(Connection& db, std::int64_t seq, const std::string& owner) {
    auto stmt = db.Prepare("SELECT state, lease_owner FROM events WHERE seq = ?");
    if (!stmt) return Fail(stmt.error());
    stmt->BindAll(seq);
    auto row = stmt->Step();
    if (!row) return Fail(row.error());
    if (!*row) return Fail(ErrorCode::kNotFound, fmt::format("event {} not found", seq));
    const std::string state = stmt->Text(0);
    const std::string holder = stmt->Text(1);
    if (state != "pending" || holder != owner) {
        return Fail(ErrorCode::kConflict,
                    fmt::format("event {} is no longer leased by '{}' (state {}, lease '{}')", seq, owner,
                                state, holder));
    }
    return Ok();
}

/// What the fenced run writes need to know about the run.
struct LeasedRun {
    std::string lock_key;
    int step_count = 0;
};

/// Checks, inside the writer's transaction, that `owner` still leases running run `run_id`.
Result<LeasedRun> FenceRun(Connection& db, std::int64_t run_id, const std::string& owner) {
    auto stmt = db.Prepare("SELECT state, lease_owner, lock_key, step_count FROM runs WHERE id = ?");
    if (!stmt) return Fail(stmt.error());
    stmt->BindAll(run_id);
    auto row = stmt->Step();
    if (!row) return Fail(row.error());
    if (!*row) return Fail(ErrorCode::kNotFound, fmt::format("run {} not found", run_id));
    const std::string state = stmt->Text(0);
    const std::string holder = stmt->Text(1);
    if (state != "running" || holder != owner) {
        return Fail(ErrorCode::kConflict,
                    fmt::format("run {} is no longer leased by '{}' (state {}, lease '{}')", run_id, owner,
                                state, holder));
    }
    return LeasedRun{stmt->Text(2), static_cast<int>(stmt->Int(3))};
}

/// The writer callback of every owner-fenced run write: `fn(ctx, run)` runs only once FenceRun has
/// confirmed, inside the transaction, that `owner` still leases run `run_id`.
template <typename Fn>
auto Fenced(std::int64_t run_id, const std::string& owner, Fn fn) {
    return [run_id, &owner, fn = std::move(fn)](WriteContext& ctx) {
        using Out = std::invoke_result_t<Fn&, WriteContext&, const LeasedRun&>;
        auto run = FenceRun(ctx.db, run_id, owner);
        if (!run) return Out(Fail(run.error()));
        return fn(ctx, *run);
    };
}

Status CheckStepIndex(std::int64_t run_id, int index, const LeasedRun& run) {
    if (index < 0 || index >= run.step_count) {
        return Fail(ErrorCode::kInvalidArgument, fmt::format("step {} is outside run {} (it has {} steps)",
                                                             index, run_id, run.step_count));
    }
    return Ok();
}

/// Run `run_id` held `lock_key` and left the running state: wake the workers if another run waits for
/// that key (pending, or running with an expired lease that could not be taken over while held).
Status WakeLockWaiters(WriteContext& ctx, std::int64_t run_id, const std::string& lock_key) {
    if (lock_key.empty()) return Ok();
    auto stmt = ctx.db.Prepare(
        "SELECT EXISTS (SELECT 1 FROM runs WHERE lock_key <> '' AND lock_key = ? AND state IN ('pending', "
        "'running') "
        "AND id <> ?)");
    if (!stmt) return Fail(stmt.error());
    auto row = stmt->BindAll(lock_key, run_id).Step();
    if (!row) return Fail(row.error());
    if (*row && stmt->Int(0) != 0) ctx.RequestWakeup();
    return Ok();
}

/// Runs an UPDATE of exactly one row; kNotFound with `missing` when it matched none.
Status UpdateOne(Statement& stmt, Connection& db, const std::string& missing) {
    if (auto st = stmt.Run(); !st) return st;
    if (db.Changes() == 0) return Fail(ErrorCode::kNotFound, missing);
    return Ok();
}

}  // namespace

// --- lifecycle --------------------------------------------------------------------------------

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path, const StoreOptions& options,
                                                       const Clock& clock) {
    auto db = Connection::Open(path, Connection::Mode::kReadWrite, options.busy_timeout);
    if (!db) return Fail(db.error());
    Connection& conn = **db;

    // WAL: readers never block the writer nor wait for it, and a commit appends to one file.
    auto mode = conn.Prepare("PRAGMA journal_mode = WAL");
    if (!mode) return Fail(mode.error());
    auto row = mode->Step();
    if (!row) return Fail(row.error());
    const std::string journal_mode = *row ? mode->Text(0) : "";
    mode->Reset();  // the pragma's statement must not stay active
    if (journal_mode != "wal") {
        return Fail(ErrorCode::kConfig, fmt::format("store '{}' cannot use WAL mode (journal_mode is '{}'); "
                                                    "is it on a network filesystem?",
                                                    path, journal_mode));
    }
    // FULL syncs the WAL on every commit: an acknowledged delivery survives power loss. NORMAL only
    // survives a crash of the process.
    const std::string pragmas = fmt::format(
        "PRAGMA synchronous = {}; PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = 67108864;",
        options.durable ? "FULL" : "NORMAL");
    if (auto st = conn.Exec(pragmas); !st) return Fail(st.error());

    auto version = ApplyMigrations(conn, Migrations(), clock.Now());
    if (!version) return Fail(version.error());

    log::Info("store", "opened SQLite store",
              {{"path", path}, {"schema_version", *version}, {"durable", options.durable}});
    return std::unique_ptr<SqliteStore>(new SqliteStore(path, options, clock, std::move(*db)));
}

SqliteStore::SqliteStore(std::string path, const StoreOptions& options, const Clock& clock,
                         std::unique_ptr<Connection> write_connection)
    : path_(std::move(path)),
      options_(options),
      clock_(clock),
      readers_(path_, options.busy_timeout, options.max_idle_readers),
      writer_(std::make_unique<GroupCommitWriter>(
          std::move(write_connection),
          GroupCommitWriter::Options{options.max_batch, options.max_pending_appends, options.write_timeout},
          [this] { Wakeup(); })) {}

SqliteStore::~SqliteStore() {
    Close();
}

void SqliteStore::Close() {
    closed_.store(true);
    writer_->Close();
    readers_.Close();
}

void SqliteStore::SetWakeup(std::function<void()> wakeup) {
    std::lock_guard lock(wakeup_mu_);
    wakeup_ = std::move(wakeup);
}

void SqliteStore::Wakeup() {
    std::function<void()> wakeup;
    {
        std::lock_guard lock(wakeup_mu_);
        wakeup = wakeup_;
    }
    if (!wakeup) return;
    try {
        wakeup();
    } catch (const std::exception& e) {
        log::Error("store", "wake-up callback threw", {{"error", e.what()}});
    }
}

template <class T>
Result<T> SqliteStore::Write(const std::function<Result<T>(WriteContext&)>& fn) {
    std::optional<Result<T>> out;
    Status status = writer_->Run([&](WriteContext& ctx) -> Status {
        Result<T> result = fn(ctx);
        if (!result) return Fail(result.error());
        out.emplace(std::move(result));
        return Ok();
    });
    if (!status) return Fail(status.error());
    return std::move(*out);
}

Status SqliteStore::WriteStatus(const std::function<Status(WriteContext&)>& fn) {
    return writer_->Run(fn);
}

template <class T>
Result<T> SqliteStore::Read(const std::function<Result<T>(Connection&)>& fn) {
    if (closed_.load()) return Fail(ErrorCode::kUnavailable, "store is closed");
    auto db = readers_.Acquire();
    if (!db) return Fail(db.error());
    if (auto st = (*db)->Exec("BEGIN"); !st) return Fail(st.error());
    Result<T> result = fn(**db);
    // A read transaction commits nothing; ending it lets checkpoints move past its snapshot.
    if (auto st = (*db)->Exec("COMMIT"); !st && result) return Fail(st.error());
    if ((*db)->InTransaction()) (void)(*db)->Exec("ROLLBACK");
    return result;
}

// --- ingest -----------------------------------------------------------------------------------

void SqliteStore::Append(NewDelivery delivery, AppendCallback done) {
    const TimePoint now = clock_.Now();
    auto outcome = std::make_shared<AppendOutcome>(AppendOutcome::kDuplicate);
    WriteRequest request;
    request.counts_as_append = true;
    request.single_statement = true;
    request.apply = [delivery = std::move(delivery), now, outcome](WriteContext& ctx) -> Status {
        // ON CONFLICT DO NOTHING: a redelivery writes nothing and is told apart by changes() == 0,
        // per delivery, inside the shared transaction.
        auto stmt = ctx.db.Prepare(
            "INSERT INTO events (webhook_id, event_id, trigger_name, actor, entity_id, created_on, body, "
            "received_at, "
            "state, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?) "
            "ON CONFLICT (webhook_id, event_id) DO NOTHING");
        if (!stmt) return Fail(stmt.error());
        stmt->BindAll(delivery.webhook_id, delivery.event_id, delivery.trigger, delivery.actor,
                      delivery.entity_id, delivery.created_on);
        stmt->BindBlob(7, delivery.body).Bind(8, delivery.received_at).Bind(9, now);
        if (auto st = stmt->Run(); !st) return st;
        if (ctx.db.Changes() > 0) {
            *outcome = AppendOutcome::kStored;
            ctx.RequestWakeup();
        } else {
            *outcome = AppendOutcome::kDuplicate;
        }
        return Ok();
    };
    request.finish = [outcome, done = std::move(done)](const Status& status) {
        if (!done) return;
        if (status) {
            done(*outcome);
        } else {
            done(tl::unexpected(status.error()));
        }
    };
    writer_->Submit(std::move(request));
}

Status SqliteStore::Ping() {
    // Not ready while deliveries are being refused: a load balancer should send them elsewhere, and a
    // probe must not wait behind the backlog to learn that.
    if (writer_->AppendsRefused()) return Fail(ErrorCode::kUnavailable, "store write queue is full");
    const std::string now = FormatIso8601(clock_.Now(), true);
    return WriteStatus([&](WriteContext& ctx) -> Status {
        auto stmt = ctx.db.Prepare(
            "INSERT INTO store_meta (key, value) VALUES ('last_ping', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
        if (!stmt) return Fail(stmt.error());
        return stmt->BindAll(now).Run();
    });
}

// --- journal queries --------------------------------------------------------------------------

Result<std::vector<EventRecord>> SqliteStore::ListEvents(const EventFilter& filter) {
    const std::size_t limit = std::min(filter.limit, kMaxListLimit);
    if (limit == 0) return std::vector<EventRecord>{};
    std::string sql = fmt::format("SELECT {} FROM events WHERE 1 = 1", kEventColumns);
    if (filter.state) sql += " AND state = ?";
    if (!filter.trigger.empty()) sql += " AND trigger_name = ?";
    if (filter.before_seq > 0) sql += " AND seq < ?";
    sql += " ORDER BY seq DESC LIMIT ?";
    return Read<std::vector<EventRecord>>([&](Connection& db) -> Result<std::vector<EventRecord>> {
        auto stmt = db.Prepare(sql);
        if (!stmt) return Fail(stmt.error());
        int index = 0;
        if (filter.state) stmt->Bind(++index, ToString(*filter.state));
        if (!filter.trigger.empty()) stmt->Bind(++index, filter.trigger);
        if (filter.before_seq > 0) stmt->Bind(++index, filter.before_seq);
        stmt->Bind(++index, static_cast<std::int64_t>(limit));
        return Collect<EventRecord>(*stmt, ReadEvent);
    });
}

Result<std::optional<EventRecord>> SqliteStore::GetEvent(std::int64_t seq) {
    return Read<std::optional<EventRecord>>([&](Connection& db) -> Result<std::optional<EventRecord>> {
        auto stmt = db.Prepare(fmt::format("SELECT {} FROM events WHERE seq = ?", kEventColumns));
        if (!stmt) return Fail(stmt.error());
        stmt->BindAll(seq);
        return First<EventRecord>(*stmt, ReadEvent);
    });
}

Result<std::optional<EventRecord>> SqliteStore::FindEvent(std::string_view event_id) {
    return Read<std::optional<EventRecord>>([&](Connection& db) -> Result<std::optional<EventRecord>> {
        auto stmt = db.Prepare(
            fmt::format("SELECT {} FROM events WHERE event_id = ? ORDER BY seq DESC LIMIT 1", kEventColumns));
        if (!stmt) return Fail(stmt.error());
        stmt->BindAll(event_id);
        return First<EventRecord>(*stmt, ReadEvent);
    });
}

// --- dispatch ---------------------------------------------------------------------------------

Result<std::vector<EventRecord>> SqliteStore::ClaimEvents(const std::string& owner, std::size_t limit,
                                                          TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return Fail(st.error());
    limit = std::min(limit, kMaxListLimit);
    if (limit == 0) return std::vector<EventRecord>{};
    const TimePoint lease_until = now + options_.lease;
    return Write<std::vector<EventRecord>>([&](WriteContext& ctx) -> Result<std::vector<EventRecord>> {
        auto select = ctx.db.Prepare(fmt::format(
            "SELECT {} FROM events WHERE state = 'pending' AND next_attempt_at <= ?1 AND lease_until <= ?1 "
            "ORDER BY seq LIMIT ?2",
            kEventColumns));
        if (!select) return Fail(select.error());
        select->BindAll(now, static_cast<std::int64_t>(limit));
        auto events = Collect<EventRecord>(*select, ReadEvent);
        if (!events) return events;
        auto lease = ctx.db.Prepare("UPDATE events SET lease_owner = ?, lease_until = ? WHERE seq = ?");
        if (!lease) return Fail(lease.error());
        for (const EventRecord& event : *events) {
            if (auto st = lease->BindAll(owner, lease_until, event.seq).Run(); !st) return Fail(st.error());
        }
        return events;
    });
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

Result<int> ApplyCompletion(WriteContext& ctx, std::int64_t seq, const std::string& owner,
                            const std::vector<NewRun>& runs, EventState final_state, const std::string& note,
                            TimePoint now) {
    if (auto st = FenceEvent(ctx.db, seq, owner); !st) return Fail(st.error());
    int created = 0;
    for (const NewRun& run : runs) {
        auto insert = ctx.db.Prepare(
            "INSERT INTO runs (run_key, rule, event_seq, lock_key, state, step_count, created_at, "
            "updated_at, "
            "next_attempt_at, context) VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?6, ?6, ?7) "
            "ON CONFLICT (run_key) DO NOTHING");
        if (!insert) return Fail(insert.error());
        insert->BindAll(run.run_key, run.rule, seq, run.lock_key, run.step_count, now, DumpJson(run.context));
        if (auto st = insert->Run(); !st) return Fail(st.error());
        created += ctx.db.Changes();
    }
    auto update = ctx.db.Prepare(
        "UPDATE events SET state = ?, last_error = ?, lease_owner = '', lease_until = 0, "
        "runs_created = runs_created + ? WHERE seq = ?");
    if (!update) return Fail(update.error());
    if (auto st = update->BindAll(ToString(final_state), note, created, seq).Run(); !st)
        return Fail(st.error());
    if (created > 0) ctx.RequestWakeup();
    return created;
}

}  // namespace

Result<int> SqliteStore::CompleteDispatch(std::int64_t seq, const std::string& owner,
                                          const std::vector<NewRun>& runs, EventState final_state,
                                          const std::string& note) {
    if (auto st = RequireOwner(owner); !st) return Fail(st.error());
    if (auto st = CheckCompletion(final_state, runs); !st) return Fail(st.error());
    const TimePoint now = clock_.Now();
    return Write<int>([&](WriteContext& ctx) -> Result<int> {
        return ApplyCompletion(ctx, seq, owner, runs, final_state, note, now);
    });
}

std::vector<Result<int>> SqliteStore::CompleteDispatches(const std::string& owner,
                                                         const std::vector<DispatchCompletion>& completions) {
    std::vector<Result<int>> results(completions.size());
    if (auto st = RequireOwner(owner); !st) {
        for (auto& r : results) r = Fail(st.error());
        return results;
    }
    const TimePoint now = clock_.Now();
    std::vector<int> created(completions.size(), 0);
    std::vector<std::size_t> queued;  // index into completions of each apply
    std::vector<std::function<Status(WriteContext&)>> applies;
    for (std::size_t i = 0; i < completions.size(); ++i) {
        const DispatchCompletion& c = completions[i];
        if (auto st = CheckCompletion(c.final_state, c.runs); !st) {
            results[i] = Fail(st.error());
            continue;
        }
        queued.push_back(i);
        applies.push_back([&, i](WriteContext& ctx) -> Status {
            const DispatchCompletion& mine = completions[i];
            auto n = ApplyCompletion(ctx, mine.seq, owner, mine.runs, mine.final_state, mine.note, now);
            if (!n) return Fail(n.error());
            created[i] = *n;
            return Ok();
        });
    }
    const std::vector<Status> statuses = writer_->RunAll(std::move(applies));
    for (std::size_t k = 0; k < queued.size(); ++k) {
        const std::size_t i = queued[k];
        results[i] = statuses[k] ? Result<int>(created[i]) : Result<int>(Fail(statuses[k].error()));
    }
    return results;
}

Status SqliteStore::RetryDispatch(std::int64_t seq, const std::string& owner, TimePoint next_attempt_at,
                                  const std::string& error) {
    if (auto st = RequireOwner(owner); !st) return st;
    const bool due_now = next_attempt_at <= clock_.Now();
    return WriteStatus([&](WriteContext& ctx) -> Status {
        if (auto st = FenceEvent(ctx.db, seq, owner); !st) return st;
        auto update = ctx.db.Prepare(
            "UPDATE events SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, lease_owner = "
            "'', "
            "lease_until = 0 WHERE seq = ?");
        if (!update) return Fail(update.error());
        if (auto st = update->BindAll(next_attempt_at, error, seq).Run(); !st) return st;
        if (due_now) ctx.RequestWakeup();
        return Ok();
    });
}

Status SqliteStore::FailDispatch(std::int64_t seq, const std::string& owner, const std::string& error) {
    if (auto st = RequireOwner(owner); !st) return st;
    const TimePoint now = clock_.Now();
    return WriteStatus([&](WriteContext& ctx) -> Status {
        if (auto st = FenceEvent(ctx.db, seq, owner); !st) return st;
        auto update = ctx.db.Prepare(
            "UPDATE events SET state = 'failed', attempts = attempts + 1, last_error = ?, failed_at = ?, "
            "lease_owner = '', lease_until = 0 WHERE seq = ?");
        if (!update) return Fail(update.error());
        return update->BindAll(error, now, seq).Run();
    });
}

// --- runs -------------------------------------------------------------------------------------

Result<std::optional<RunRecord>> SqliteStore::ClaimRun(const std::string& owner, TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return Fail(st.error());
    const TimePoint lease_until = now + options_.lease;
    return Write<std::optional<RunRecord>>([&](WriteContext& ctx) -> Result<std::optional<RunRecord>> {
        // `state IN (...)` lets SQLite walk runs_by_state (the live runs only) instead of all history.
        auto select =
            ctx.db.Prepare(fmt::format("SELECT {} FROM runs r WHERE r.state IN ('pending', 'running') AND {} "
                                       "<= ?1 AND {} ORDER BY r.id LIMIT 1",
                                       kRunColumns, kRunDueAt, kLockFree));
        if (!select) return Fail(select.error());
        select->BindAll(now);
        auto run = First<RunRecord>(*select, ReadRun);
        if (!run || !*run) return run;
        select->Reset();  // done reading; end the SELECT before updating the table
        auto lease = ctx.db.Prepare(
            "UPDATE runs SET state = 'running', lease_owner = ?, lease_until = ?, updated_at = ? WHERE id = "
            "?");
        if (!lease) return Fail(lease.error());
        if (auto st = lease->BindAll(owner, lease_until, now, (*run)->id).Run(); !st) return Fail(st.error());
        RunRecord& claimed = **run;
        claimed.taken_over = claimed.state == RunState::kRunning;  // selected as running = its lease expired
        claimed.state = RunState::kRunning;
        claimed.lease_owner = owner;
        claimed.lease_until = FromUnixMillis(ToUnixMillis(lease_until));
        claimed.updated_at = FromUnixMillis(ToUnixMillis(now));
        return run;
    });
}

Status SqliteStore::RenewLease(std::int64_t run_id, const std::string& owner, TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return st;
    const TimePoint lease_until = now + options_.lease;
    return WriteStatus(Fenced(run_id, owner, [&](WriteContext& ctx, const LeasedRun&) -> Status {
        auto update = ctx.db.Prepare("UPDATE runs SET lease_until = ? WHERE id = ?");
        if (!update) return Fail(update.error());
        return update->BindAll(lease_until, run_id).Run();
    }));
}

Result<std::vector<StepRecord>> SqliteStore::GetSteps(std::int64_t run_id) {
    return Read<std::vector<StepRecord>>([&](Connection& db) -> Result<std::vector<StepRecord>> {
        auto stmt = db.Prepare(
            "SELECT step_index, name, status, output, started_at, finished_at FROM steps WHERE run_id = ? "
            "ORDER BY step_index");
        if (!stmt) return Fail(stmt.error());
        stmt->BindAll(run_id);
        return Collect<StepRecord>(*stmt, [run_id](const Statement& row) -> Result<StepRecord> {
            StepRecord step;
            step.index = static_cast<int>(row.Int(0));
            step.name = row.Text(1);
            step.status = row.Text(2) == "done" ? StepStatus::kDone : StepStatus::kStarted;
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

// The step writes, each inside the writer's transaction after FenceRun; the public methods compose them
// so that finishing a step and beginning the next (or completing the run) share one commit.

Result<StepStatus> BeginStepIn(WriteContext& ctx, std::int64_t run_id, const LeasedRun& run, int index,
                               const std::string& name, TimePoint now) {
    if (auto st = CheckStepIndex(run_id, index, run); !st) return Fail(st.error());
    StepStatus before = StepStatus::kNone;
    {
        auto select = ctx.db.Prepare("SELECT status FROM steps WHERE run_id = ? AND step_index = ?");
        if (!select) return Fail(select.error());
        auto row = select->BindAll(run_id, index).Step();
        if (!row) return Fail(row.error());
        if (*row) before = select->Text(0) == "done" ? StepStatus::kDone : StepStatus::kStarted;
    }
    if (before == StepStatus::kDone) return before;
    // A restarted step keeps one row: started_at is the latest attempt's start.
    auto upsert = ctx.db.Prepare(
        "INSERT INTO steps (run_id, step_index, name, status, started_at) VALUES (?1, ?2, ?3, 'started', ?4) "
        "ON CONFLICT (run_id, step_index) DO UPDATE SET name = excluded.name, started_at = "
        "excluded.started_at");
    if (!upsert) return Fail(upsert.error());
    if (auto st = upsert->BindAll(run_id, index, name, now).Run(); !st) return Fail(st.error());
    return before;
}

Status FinishStepIn(WriteContext& ctx, std::int64_t run_id, const LeasedRun& run, int index,
                    const std::string& output_text, TimePoint now) {
    if (auto st = CheckStepIndex(run_id, index, run); !st) return st;
    auto step = ctx.db.Prepare(
        "UPDATE steps SET status = 'done', output = ?, finished_at = ? WHERE run_id = ? AND step_index = ?");
    if (!step) return Fail(step.error());
    step->BindAll(output_text, now, run_id, index);
    if (auto st = UpdateOne(*step, ctx.db, ""); !st) {
        if (st.error().code != ErrorCode::kNotFound) return st;
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("step {} of run {} was never begun (call BeginStep first)", index, run_id));
    }
    auto advance = ctx.db.Prepare(
        "UPDATE runs SET next_step = CASE WHEN next_step < ?1 THEN ?1 ELSE next_step END, updated_at = ?2 "
        "WHERE id = ?3");
    if (!advance) return Fail(advance.error());
    return advance->BindAll(index + 1, now, run_id).Run();
}

Status CompleteRunIn(WriteContext& ctx, std::int64_t run_id, const LeasedRun& run, TimePoint now) {
    auto update = ctx.db.Prepare(
        "UPDATE runs SET state = 'done', lease_owner = '', lease_until = 0, updated_at = ? WHERE id = ?");
    if (!update) return Fail(update.error());
    if (auto st = update->BindAll(now, run_id).Run(); !st) return st;
    return WakeLockWaiters(ctx, run_id, run.lock_key);
}

}  // namespace

Result<StepStatus> SqliteStore::BeginStep(std::int64_t run_id, const std::string& owner, int index,
                                          const std::string& name, TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return Fail(st.error());
    return Write<StepStatus>(
        Fenced(run_id, owner, [&](WriteContext& ctx, const LeasedRun& run) -> Result<StepStatus> {
            return BeginStepIn(ctx, run_id, run, index, name, now);
        }));
}

Status SqliteStore::FinishStep(std::int64_t run_id, const std::string& owner, int index, const Json& output,
                               TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return st;
    const std::string output_text = DumpJson(output);
    return WriteStatus(Fenced(run_id, owner, [&](WriteContext& ctx, const LeasedRun& run) -> Status {
        return FinishStepIn(ctx, run_id, run, index, output_text, now);
    }));
}

Status SqliteStore::CompleteRun(std::int64_t run_id, const std::string& owner, TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return st;
    return WriteStatus(Fenced(run_id, owner, [&](WriteContext& ctx, const LeasedRun& run) -> Status {
        return CompleteRunIn(ctx, run_id, run, now);
    }));
}

Result<StepStatus> SqliteStore::FinishAndBeginStep(std::int64_t run_id, const std::string& owner, int index,
                                                   const Json& output, int next_index,
                                                   const std::string& next_name, TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return Fail(st.error());
    const std::string output_text = DumpJson(output);
    return Write<StepStatus>(
        Fenced(run_id, owner, [&](WriteContext& ctx, const LeasedRun& run) -> Result<StepStatus> {
            if (auto st = FinishStepIn(ctx, run_id, run, index, output_text, now); !st)
                return Fail(st.error());
            return BeginStepIn(ctx, run_id, run, next_index, next_name, now);
        }));
}

Status SqliteStore::FinishLastStep(std::int64_t run_id, const std::string& owner, int index,
                                   const Json& output, TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return st;
    const std::string output_text = DumpJson(output);
    return WriteStatus(Fenced(run_id, owner, [&](WriteContext& ctx, const LeasedRun& run) -> Status {
        if (auto st = FinishStepIn(ctx, run_id, run, index, output_text, now); !st) return st;
        return CompleteRunIn(ctx, run_id, run, now);
    }));
}

Status SqliteStore::RetryRun(std::int64_t run_id, const std::string& owner, TimePoint next_attempt_at,
                             const std::string& error) {
    if (auto st = RequireOwner(owner); !st) return st;
    const TimePoint now = clock_.Now();
    return WriteStatus(Fenced(run_id, owner, [&](WriteContext& ctx, const LeasedRun& run) -> Status {
        auto update = ctx.db.Prepare(
            "UPDATE runs SET state = 'pending', attempts = attempts + 1, next_attempt_at = ?1, last_error = "
            "?2, "
            "failed_at = CASE WHEN failed_at = 0 THEN ?3 ELSE failed_at END, "
            "lease_owner = '', lease_until = 0, updated_at = ?3 WHERE id = ?4");
        if (!update) return Fail(update.error());
        if (auto st = update->BindAll(next_attempt_at, error, now, run_id).Run(); !st) return st;
        if (next_attempt_at <= now) ctx.RequestWakeup();
        return WakeLockWaiters(ctx, run_id, run.lock_key);
    }));
}

Status SqliteStore::DeadLetterRun(std::int64_t run_id, const std::string& owner, const std::string& reason,
                                  TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return st;
    return WriteStatus(Fenced(run_id, owner, [&](WriteContext& ctx, const LeasedRun& run) -> Status {
        auto update = ctx.db.Prepare(
            "UPDATE runs SET state = 'dead', attempts = attempts + 1, last_error = ?1, failed_at = ?2, "
            "lease_owner = '', lease_until = 0, updated_at = ?2 WHERE id = ?3");
        if (!update) return Fail(update.error());
        if (auto st = update->BindAll(reason, now, run_id).Run(); !st) return st;
        return WakeLockWaiters(ctx, run_id, run.lock_key);
    }));
}

Status SqliteStore::ReleaseRun(std::int64_t run_id, const std::string& owner) {
    if (auto st = RequireOwner(owner); !st) return st;
    const TimePoint now = clock_.Now();
    return WriteStatus(Fenced(run_id, owner, [&](WriteContext& ctx, const LeasedRun&) -> Status {
        auto update = ctx.db.Prepare(
            "UPDATE runs SET state = 'pending', next_attempt_at = ?1, lease_owner = '', lease_until = 0, "
            "updated_at = ?1 WHERE id = ?2");
        if (!update) return Fail(update.error());
        if (auto st = update->BindAll(now, run_id).Run(); !st) return st;
        ctx.RequestWakeup();
        return Ok();
    }));
}

Result<std::optional<TimePoint>> SqliteStore::NextDueTime() {
    const TimePoint now = clock_.Now();
    return Read<std::optional<TimePoint>>([&](Connection& db) -> Result<std::optional<TimePoint>> {
        // Pending events (due and not leased) and live runs whose lock is free, with the claim
        // queries' own conditions. A run whose lock is held is left out (else a worker would wake
        // and find nothing to claim, again and again); the holder's lease expiry is in the list, and
        // its end fires the wake-up (WakeLockWaiters).
        //
        // Both halves walk the due-time indexes of migration 3 from their smallest key (INDEXED BY: the
        // planner would otherwise take events_by_state / runs_by_state and scan the whole backlog, and
        // with the index missing the statement fails instead of silently scanning). The runs half stops
        // at the first run whose lock is free.
        auto stmt =
            db.Prepare(fmt::format("SELECT MIN(due) FROM ("
                                   " SELECT MIN(max(next_attempt_at, lease_until)) AS due"
                                   "  FROM events INDEXED BY events_pending_due WHERE state = 'pending'"
                                   " UNION ALL"
                                   " SELECT * FROM (SELECT {0} AS due FROM runs r INDEXED BY runs_live_due"
                                   "  WHERE r.state IN ('pending', 'running') AND {1} ORDER BY {0} LIMIT 1)"
                                   ") AS due_times",
                                   kRunDueAt, kLockFree));
        if (!stmt) return Fail(stmt.error());
        auto row = stmt->BindAll(now).Step();
        if (!row) return Fail(row.error());
        if (!*row || stmt->IsNull(0)) return std::optional<TimePoint>();
        return std::optional<TimePoint>(stmt->Time(0));
    });
}

// --- admin ------------------------------------------------------------------------------------

Result<std::vector<RunRecord>> SqliteStore::ListRuns(const RunFilter& filter) {
    const std::size_t limit = std::min(filter.limit, kMaxListLimit);
    if (limit == 0) return std::vector<RunRecord>{};
    std::string sql = fmt::format("SELECT {} FROM runs WHERE 1 = 1", kRunColumns);
    if (filter.state) sql += " AND state = ?";
    if (!filter.rule.empty()) sql += " AND rule = ?";
    if (filter.before_id > 0) sql += " AND id < ?";
    sql += " ORDER BY id DESC LIMIT ?";
    return Read<std::vector<RunRecord>>([&](Connection& db) -> Result<std::vector<RunRecord>> {
        auto stmt = db.Prepare(sql);
        if (!stmt) return Fail(stmt.error());
        int index = 0;
        if (filter.state) stmt->Bind(++index, ToString(*filter.state));
        if (!filter.rule.empty()) stmt->Bind(++index, filter.rule);
        if (filter.before_id > 0) stmt->Bind(++index, filter.before_id);
        stmt->Bind(++index, static_cast<std::int64_t>(limit));
        return Collect<RunRecord>(*stmt, ReadRun);
    });
}

Result<std::optional<RunRecord>> SqliteStore::GetRun(std::int64_t run_id) {
    return Read<std::optional<RunRecord>>([&](Connection& db) -> Result<std::optional<RunRecord>> {
        auto stmt = db.Prepare(fmt::format("SELECT {} FROM runs WHERE id = ?", kRunColumns));
        if (!stmt) return Fail(stmt.error());
        stmt->BindAll(run_id);
        return First<RunRecord>(*stmt, ReadRun);
    });
}

Result<std::vector<DeadLetter>> SqliteStore::ListDeadLetters(std::size_t limit) {
    limit = std::min(limit, kMaxListLimit);
    if (limit == 0) return std::vector<DeadLetter>{};
    return Read<std::vector<DeadLetter>>([&](Connection& db) -> Result<std::vector<DeadLetter>> {
        auto stmt = db.Prepare(
            "SELECT 'run' AS kind, r.id AS id, r.rule AS rule, e.trigger_name AS trigger_name, r.last_error "
            "AS reason,"
            " r.attempts AS attempts, r.failed_at AS failed_at"
            " FROM runs r JOIN events e ON e.seq = r.event_seq WHERE r.state = 'dead'"
            " UNION ALL"
            " SELECT 'event', seq, '', trigger_name, last_error, attempts, failed_at FROM events WHERE state "
            "= 'failed'"
            " ORDER BY failed_at DESC, kind, id DESC LIMIT ?");
        if (!stmt) return Fail(stmt.error());
        stmt->BindAll(static_cast<std::int64_t>(limit));
        return Collect<DeadLetter>(*stmt, [](const Statement& row) -> Result<DeadLetter> {
            DeadLetter letter;
            letter.kind = row.Text(0) == "run" ? DeadLetter::Kind::kRun : DeadLetter::Kind::kEvent;
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

Status SqliteStore::RetryDeadLetter(DeadLetter::Kind kind, std::int64_t id, TimePoint now) {
    const TimePoint updated_at = clock_.Now();
    return WriteStatus([&](WriteContext& ctx) -> Status {
        if (kind == DeadLetter::Kind::kRun) {
            // next_step stays: the run resumes at its first unfinished step.
            auto update = ctx.db.Prepare(
                "UPDATE runs SET state = 'pending', attempts = 0, next_attempt_at = ?, failed_at = 0, "
                "lease_owner = '', lease_until = 0, updated_at = ? WHERE id = ? AND state = 'dead'");
            if (!update) return Fail(update.error());
            update->BindAll(now, updated_at, id);
            if (auto st = UpdateOne(*update, ctx.db, fmt::format("run {} is not a dead letter", id)); !st)
                return st;
        } else {
            auto update = ctx.db.Prepare(
                "UPDATE events SET state = 'pending', attempts = 0, next_attempt_at = ?, failed_at = 0, "
                "lease_owner = '', lease_until = 0 WHERE seq = ? AND state = 'failed'");
            if (!update) return Fail(update.error());
            update->BindAll(now, id);
            if (auto st = UpdateOne(*update, ctx.db, fmt::format("event {} is not a dead letter", id)); !st)
                return st;
        }
        ctx.RequestWakeup();
        return Ok();
    });
}

Status SqliteStore::DropDeadLetter(DeadLetter::Kind kind, std::int64_t id) {
    const TimePoint now = clock_.Now();
    return WriteStatus([&](WriteContext& ctx) -> Status {
        if (kind == DeadLetter::Kind::kRun) {
            auto update = ctx.db.Prepare(
                "UPDATE runs SET state = 'dropped', updated_at = ? WHERE id = ? AND state = 'dead'");
            if (!update) return Fail(update.error());
            update->BindAll(now, id);
            return UpdateOne(*update, ctx.db, fmt::format("run {} is not a dead letter", id));
        }
        auto update =
            ctx.db.Prepare("UPDATE events SET state = 'ignored' WHERE seq = ? AND state = 'failed'");
        if (!update) return Fail(update.error());
        update->BindAll(id);
        return UpdateOne(*update, ctx.db, fmt::format("event {} is not a dead letter", id));
    });
}

Status SqliteStore::ReplayEvent(std::int64_t seq, TimePoint now) {
    return WriteStatus([&](WriteContext& ctx) -> Status {
        auto update = ctx.db.Prepare(
            "UPDATE events SET state = 'pending', replay_generation = replay_generation + 1, attempts = 0, "
            "next_attempt_at = ?, last_error = '', failed_at = 0, lease_owner = '', lease_until = 0 WHERE "
            "seq = ?");
        if (!update) return Fail(update.error());
        update->BindAll(now, seq);
        if (auto st = UpdateOne(*update, ctx.db, fmt::format("event {} not found", seq)); !st) return st;
        ctx.RequestWakeup();
        return Ok();
    });
}

Result<StoreStats> SqliteStore::Stats() {
    auto stats = Read<StoreStats>([&](Connection& db) -> Result<StoreStats> {
        StoreStats out;
        auto events = db.Prepare("SELECT state, COUNT(*) FROM events GROUP BY state");
        if (!events) return Fail(events.error());
        for (;;) {
            auto row = events->Step();
            if (!row) return Fail(row.error());
            if (!*row) break;
            const std::string state = events->Text(0);
            const std::int64_t count = events->Int(1);
            out.events_total += count;
            if (state == "pending") out.events_pending = count;
            if (state == "failed") out.dead_letters += count;
        }
        auto runs = db.Prepare("SELECT state, COUNT(*) FROM runs GROUP BY state");
        if (!runs) return Fail(runs.error());
        for (;;) {
            auto row = runs->Step();
            if (!row) return Fail(row.error());
            if (!*row) break;
            const std::string state = runs->Text(0);
            const std::int64_t count = runs->Int(1);
            if (state == "pending") out.runs_pending = count;
            if (state == "running") out.runs_running = count;
            if (state == "done") out.runs_done = count;
            if (state == "dead") out.dead_letters += count;
        }
        auto pages = db.QueryInt("PRAGMA page_count");
        if (!pages) return Fail(pages.error());
        auto page_size = db.QueryInt("PRAGMA page_size");
        if (!page_size) return Fail(page_size.error());
        out.bytes = *pages * *page_size;
        return out;
    });
    if (!stats) return stats;
    std::error_code ec;
    const auto wal_size = std::filesystem::file_size(path_ + "-wal", ec);
    if (!ec) stats->bytes += static_cast<std::int64_t>(wal_size);  // no WAL file (just checkpointed): 0
    stats->commits = static_cast<std::int64_t>(writer_->commits());
    stats->write_queue = static_cast<std::int64_t>(writer_->queued());
    return stats;
}

// --- shared rate limits -----------------------------------------------------------------------

namespace {

/// Bucket `key` as stored, or a full new one. The writer's transaction is the lock: every process on
/// this file writes through BEGIN IMMEDIATE, so the read-modify-write below is atomic across them.
Result<RateBucket> LoadBucket(Connection& db, const std::string& key, int burst, std::int64_t now_ms) {
    auto stmt = db.Prepare("SELECT tokens, updated_at, paused_until FROM rate_limits WHERE key = ?");
    if (!stmt) return Fail(stmt.error());
    auto row = stmt->BindAll(key).Step();
    if (!row) return Fail(row.error());
    if (!*row) return NewRateBucket(burst, now_ms);
    return RateBucket{stmt->Double(0), stmt->Int(1), stmt->Int(2)};
}

Status SaveBucket(Connection& db, const std::string& key, const RateBucket& bucket) {
    auto stmt = db.Prepare(
        "INSERT INTO rate_limits (key, tokens, updated_at, paused_until) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at, "
        "paused_until = excluded.paused_until");
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(1, key).Bind(3, bucket.updated_at).Bind(4, bucket.paused_until);
    stmt->BindDouble(2, bucket.tokens);
    return stmt->Run();
}

}  // namespace

Result<std::chrono::milliseconds> SqliteStore::AcquireRateToken(const std::string& key,
                                                                double rate_per_second, int burst,
                                                                TimePoint now) {
    const std::int64_t now_ms = ToUnixMillis(now);
    return Write<std::chrono::milliseconds>([&](WriteContext& ctx) -> Result<std::chrono::milliseconds> {
        auto bucket = LoadBucket(ctx.db, key, burst, now_ms);
        if (!bucket) return Fail(bucket.error());
        const auto wait = TakeRateToken(*bucket, rate_per_second, burst, now_ms);
        if (auto st = SaveBucket(ctx.db, key, *bucket); !st) return Fail(st.error());
        return wait;
    });
}

Status SqliteStore::PauseRateLimit(const std::string& key, TimePoint until, TimePoint now) {
    const std::int64_t now_ms = ToUnixMillis(now);
    return WriteStatus([&](WriteContext& ctx) -> Status {
        auto bucket = LoadBucket(ctx.db, key, 1, now_ms);
        if (!bucket) return Fail(bucket.error());
        PauseRateBucket(*bucket, ToUnixMillis(until));
        return SaveBucket(ctx.db, key, *bucket);
    });
}

// --- test hooks -------------------------------------------------------------------------------

Status SqliteStore::ExecOnWriterForTesting(const std::string& sql) {
    return WriteStatus([&](WriteContext& ctx) -> Status { return ctx.db.Exec(sql); });
}

Result<std::int64_t> SqliteStore::QueryOnWriterForTesting(const std::string& sql) {
    return Write<std::int64_t>(
        [&](WriteContext& ctx) -> Result<std::int64_t> { return ctx.db.QueryInt(sql); });
}

}  // namespace spacehook::store::sqlite
