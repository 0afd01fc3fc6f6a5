#include "store/pg_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <type_traits>

#include "core/log.hpp"
#include "core/random.hpp"
#include "store/pg_schema.hpp"
#include "store/rate_bucket.hpp"

namespace spacehook::store::pg {

namespace {

using std::chrono::milliseconds;

/// Listings are for people and paging; a bigger page would only hold memory.
constexpr std::size_t kMaxListLimit = 10000;
/// A transaction that lost a deadlock or serialization race is run again this many times in all.
constexpr int kMaxAttempts = 4;
/// ClaimRun looks at this many candidates per page, and at most kClaimPages pages per call.
constexpr int kClaimPage = 16;
constexpr int kClaimPages = 4;
/// The first key of the two-int advisory lock space for run lock keys ("runk"); the second is
/// hashtext(lock_key). Migrations use the separate single-bigint space.
constexpr std::int64_t kRunLockClass = 0x72756e6b;
/// How long Open waits for the LISTEN session before failing.
constexpr milliseconds kListenTimeout{10000};

constexpr std::string_view kEventColumns =
    "seq, webhook_id, event_id, trigger_name, actor, entity_id, created_on, body, received_at, state, "
    "attempts, "
    "next_attempt_at, last_error, replay_generation, runs_created";

constexpr std::string_view kRunColumns =
    "id, run_key, rule, event_seq, lock_key, state, step_count, next_step, attempts, created_at, updated_at, "
    "next_attempt_at, lease_owner, lease_until, last_error, context, failed_at";

/// When a live run `r` can be claimed: a pending run when it is due, a running one when its lease
/// expires (takeover). The same expression as SQLite's, shared by ClaimRun and NextDueTime.
constexpr std::string_view kRunDueAt =
    "(CASE r.state WHEN 'pending' THEN r.next_attempt_at ELSE r.lease_until END)";

/// The lock key of run `r` is free unless another running run holds it with an unexpired lease
/// (parameter $1 = now). `h.lock_key <> ''` lets PostgreSQL use the partial index runs_by_lock.
constexpr std::string_view kLockFree =
    "(r.lock_key = '' OR NOT EXISTS (SELECT 1 FROM runs h WHERE h.lock_key <> '' AND h.lock_key = r.lock_key "
    "AND h.state = 'running' AND h.lease_until > $1 AND h.id <> r.id))";

/// "a, b" -> "p.a, p.b" (for RETURNING after an UPDATE ... FROM, where names would be ambiguous).
std::string Prefixed(std::string_view prefix, std::string_view columns) {
    std::string out;
    std::size_t from = 0;
    while (from < columns.size()) {
        std::size_t comma = columns.find(',', from);
        if (comma == std::string_view::npos) comma = columns.size();
        std::string_view name = columns.substr(from, comma - from);
        while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
        if (!out.empty()) out += ", ";
        out += prefix;
        out += name;
        from = comma + 1;
    }
    return out;
}

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

Result<EventRecord> ReadEvent(const Rows& rows, int r) {
    EventRecord event;
    event.seq = rows.Int(r, 0);
    event.webhook_id = rows.Text(r, 1);
    event.event_id = rows.Text(r, 2);
    event.trigger = rows.Text(r, 3);
    event.actor = rows.Text(r, 4);
    event.entity_id = rows.Text(r, 5);
    event.created_on = rows.Text(r, 6);
    event.body = rows.Bytes(r, 7);
    event.received_at = rows.Time(r, 8);
    const std::string state = rows.Text(r, 9);
    auto parsed = ParseEventState(state);
    if (!parsed) return Fail(Internal(fmt::format("event {} has unknown state '{}'", event.seq, state)));
    event.state = *parsed;
    event.attempts = static_cast<int>(rows.Int(r, 10));
    event.next_attempt_at = rows.Time(r, 11);
    event.last_error = rows.Text(r, 12);
    event.replay_generation = static_cast<int>(rows.Int(r, 13));
    event.runs_created = static_cast<int>(rows.Int(r, 14));
    return event;
}

Result<RunRecord> ReadRun(const Rows& rows, int r) {
    RunRecord run;
    run.id = rows.Int(r, 0);
    run.run_key = rows.Text(r, 1);
    run.rule = rows.Text(r, 2);
    run.event_seq = rows.Int(r, 3);
    run.lock_key = rows.Text(r, 4);
    const std::string state = rows.Text(r, 5);
    auto parsed = ParseRunState(state);
    if (!parsed) return Fail(Internal(fmt::format("run {} has unknown state '{}'", run.id, state)));
    run.state = *parsed;
    run.step_count = static_cast<int>(rows.Int(r, 6));
    run.next_step = static_cast<int>(rows.Int(r, 7));
    run.attempts = static_cast<int>(rows.Int(r, 8));
    run.created_at = rows.Time(r, 9);
    run.updated_at = rows.Time(r, 10);
    run.next_attempt_at = rows.Time(r, 11);
    run.lease_owner = rows.Text(r, 12);
    run.lease_until = rows.Time(r, 13);
    run.last_error = rows.Text(r, 14);
    auto context = ParseJson(rows.Text(r, 15), fmt::format("context of run {}", run.id));
    if (!context) return Fail(context.error());
    run.context = std::move(*context);
    run.failed_at = rows.Time(r, 16);
    return run;
}

/// Every row of `rows` as a T, with `read`.
template <class T, class ReadRow>
Result<std::vector<T>> Collect(const Rows& rows, ReadRow read) {
    std::vector<T> out;
    out.reserve(static_cast<std::size_t>(rows.size()));
    for (int r = 0; r < rows.size(); ++r) {
        auto item = read(rows, r);
        if (!item) return Fail(item.error());
        out.push_back(std::move(*item));
    }
    return out;
}

/// The first row of `rows` as a T, or nullopt.
template <class T, class ReadRow>
Result<std::optional<T>> First(const Rows& rows, ReadRow read) {
    if (rows.empty()) return std::optional<T>();
    auto item = read(rows, 0);
    if (!item) return Fail(item.error());
    return std::optional<T>(std::move(*item));
}

Status RequireOwner(const std::string& owner) {
    if (owner.empty()) return Fail(ErrorCode::kInvalidArgument, "a lease owner must not be empty");
    return Ok();
}

/// Checks, inside the caller's transaction, that `owner` still leases pending event `seq`. The row
/// stays locked until the transaction ends, so a concurrent takeover (ClaimEvents on another replica)
/// either happened before (kConflict here) or waits for this write.
Status FenceEvent(Connection& db, std::int64_t seq, const std::string& owner) {
    auto rows = db.Query("SELECT state, lease_owner FROM events WHERE seq = $1 FOR UPDATE", Params::Of(seq));
    if (!rows) return Fail(rows.error());
    if (rows->empty()) return Fail(ErrorCode::kNotFound, fmt::format("event {} not found", seq));
    const std::string state = rows->Text(0, 0);
    const std::string holder = rows->Text(0, 1);
    if (state != "pending" || holder != ValidUtf8(owner)) {
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

/// Checks, inside the caller's transaction, that `owner` still leases running run `run_id` (row
/// locked until the transaction ends, as in FenceEvent).
Result<LeasedRun> FenceRun(Connection& db, std::int64_t run_id, const std::string& owner) {
    auto rows = db.Query("SELECT state, lease_owner, lock_key, step_count FROM runs WHERE id = $1 FOR UPDATE",
                         Params::Of(run_id));
    if (!rows) return Fail(rows.error());
    if (rows->empty()) return Fail(ErrorCode::kNotFound, fmt::format("run {} not found", run_id));
    const std::string state = rows->Text(0, 0);
    const std::string holder = rows->Text(0, 1);
    if (state != "running" || holder != ValidUtf8(owner)) {
        return Fail(ErrorCode::kConflict,
                    fmt::format("run {} is no longer leased by '{}' (state {}, lease '{}')", run_id, owner,
                                state, holder));
    }
    return LeasedRun{rows->Text(0, 2), static_cast<int>(rows->Int(0, 3))};
}

/// The writer callback of every owner-fenced run write: `fn(tx, run)` runs only once FenceRun has
/// confirmed, inside the transaction, that `owner` still leases run `run_id`.
template <typename Fn>
auto Fenced(std::int64_t run_id, const std::string& owner, Fn fn) {
    return [run_id, &owner, fn = std::move(fn)](Tx& tx) {
        using Out = std::invoke_result_t<Fn&, Tx&, const LeasedRun&>;
        auto run = FenceRun(tx.db, run_id, owner);
        if (!run) return Out(Fail(run.error()));
        return fn(tx, *run);
    };
}

Status CheckStepIndex(std::int64_t run_id, int index, const LeasedRun& run) {
    if (index < 0 || index >= run.step_count) {
        return Fail(ErrorCode::kInvalidArgument, fmt::format("step {} is outside run {} (it has {} steps)",
                                                             index, run_id, run.step_count));
    }
    return Ok();
}

/// Run `run_id` held `lock_key` and left the running state: wake the workers (of every replica) if
/// another run waits for that key.
Status WakeLockWaiters(Tx& tx, std::int64_t run_id, const std::string& lock_key) {
    if (lock_key.empty()) return Ok();
    auto waiting = tx.db.QueryInt(
        "SELECT COUNT(*) FROM (SELECT 1 FROM runs WHERE lock_key <> '' AND lock_key = $1 "
        "AND state IN ('pending', 'running') AND id <> $2 LIMIT 1) AS w",
        Params::Of(lock_key, run_id));
    if (!waiting) return Fail(waiting.error());
    if (*waiting > 0) return tx.RequestWakeup();
    return Ok();
}

/// Runs an UPDATE that must change exactly one row; kNotFound with `missing` when it changed none.
Status UpdateOne(Connection& db, const std::string& sql, const Params& params, const std::string& missing) {
    auto rows = db.Query(sql, params);
    if (!rows) return Fail(rows.error());
    if (rows->affected() == 0) return Fail(ErrorCode::kNotFound, missing);
    return Ok();
}

}  // namespace

// --- transactions -----------------------------------------------------------------------------

Status Tx::Notify() {
    if (notified_) return Ok();
    auto rows = db.Query("SELECT pg_notify($1, $2)", Params::Of(channel_, payload_));
    if (!rows) return Fail(rows.error());
    notified_ = true;
    return Ok();
}

Status Tx::RequestWakeup() {
    local_wakeup_ = true;
    return Notify();
}

Status Tx::AnnounceToOthers() {
    return Notify();
}

// --- lifecycle --------------------------------------------------------------------------------

Result<std::unique_ptr<PgStore>> PgStore::Open(const std::string& url, const StoreOptions& options,
                                               const Clock& clock) {
    // Defence in depth: no log line or error text may ever show the database password.
    if (const std::string password = PasswordOf(url); !password.empty()) log::RegisterSecret(password);
    ConnectOptions connect;
    connect.lock_timeout = options.busy_timeout;
    connect.durable = options.durable;
    auto first = Connection::Open(url, connect);
    if (!first) return Fail(first.error());
    auto version = ApplyMigrations(**first, Migrations(), clock.Now());
    if (!version) return Fail(version.error());

    std::unique_ptr<PgStore> store(new PgStore(url, options, clock, connect));
    store->pool_->Adopt(std::move(*first));
    if (auto listening = store->listener_->WaitListening(kListenTimeout); !listening) {
        store->Close();
        return Fail(listening.error());
    }
    log::Info("store", "opened PostgreSQL store",
              {{"url", RedactStoreUrl(url)},
               {"schema_version", *version},
               {"durable", options.durable},
               {"instance", store->instance_id_}});
    return store;
}

PgStore::PgStore(std::string url, const StoreOptions& options, const Clock& clock,
                 ConnectOptions connect_options)
    : url_(std::move(url)),
      options_(options),
      clock_(clock),
      connect_options_(std::move(connect_options)),
      instance_id_(RandomHexToken(8)) {
    // Each role names its sessions, so pg_stat_activity shows an operator which is which (and how many
    // pooled ones a replica holds).
    auto connector = [this](const char* role) -> Connector {
        ConnectOptions role_options = connect_options_;
        role_options.application_name = role;
        return [this, role_options] { return Connection::Open(url_, role_options); };
    };
    pool_ = std::make_unique<ConnectionPool>(connector("spacehook"), options.pool_size);
    AppendWriter::Options writer_options{options.max_batch, options.max_pending_appends,
                                         std::string(kWorkChannel), instance_id_};
    writer_ = std::make_unique<AppendWriter>(
        connector("spacehook-append"), std::move(writer_options), [this] { Wakeup(); }, commits_);
    listener_ = std::make_unique<Listener>(connector("spacehook-listen"), std::string(kWorkChannel),
                                           instance_id_, [this] { Wakeup(); });
}

PgStore::~PgStore() {
    Close();
}

void PgStore::Close() {
    closed_.store(true);
    writer_->Close();  // flushes queued appends (their callbacks run)
    listener_->Close();
    pool_->Close();
}

void PgStore::SetWakeup(std::function<void()> wakeup) {
    std::lock_guard lock(wakeup_mu_);
    wakeup_ = std::move(wakeup);
}

void PgStore::Wakeup() {
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

Status PgStore::CheckCallable() const {
    if (closed_.load()) return Fail(ErrorCode::kUnavailable, "store is closed");
    if (writer_->OnWriterThread()) {
        return Fail(ErrorCode::kInternal, "a synchronous store call was made from the store's writer thread");
    }
    return Ok();
}

template <class T>
Result<T> PgStore::Write(const std::function<Result<T>(Tx&)>& fn) {
    if (auto st = CheckCallable(); !st) return Fail(st.error());
    for (int attempt = 1;; ++attempt) {
        auto lease = pool_->Acquire(options_.write_timeout);
        if (!lease) return Fail(lease.error());
        Connection& db = **lease;
        if (auto st = db.Exec("BEGIN"); !st) {
            // An idle pooled session the server dropped (restart, failover): nothing ran yet, so try
            // again on a fresh one (the broken one is discarded when the lease ends).
            if (db.broken() && attempt < kMaxAttempts) continue;
            return Fail(st.error());
        }
        Tx tx(db, channel_, instance_id_);
        Result<T> result = fn(tx);
        Status ended = Ok();
        if (result && !tx.nothing_to_commit()) {
            ended = db.Exec("COMMIT");
            if (ended) {
                commits_.fetch_add(1, std::memory_order_relaxed);
                if (tx.local_wakeup()) Wakeup();
                return result;
            }
        }
        const bool retry = db.last_error_retryable() && attempt < kMaxAttempts;
        if (db.InTransaction() && !db.broken()) (void)db.Exec("ROLLBACK");
        if (result && ended) return result;  // nothing to commit: rolled back, nothing lost
        if (!retry) return result ? Result<T>(Fail(ended.error())) : result;
        log::Debug("store", "transaction lost a lock race; running it again", {{"attempt", attempt}});
    }
}

Status PgStore::WriteStatus(const std::function<Status(Tx&)>& fn) {
    auto result = Write<bool>([&](Tx& tx) -> Result<bool> {
        if (auto st = fn(tx); !st) return Fail(st.error());
        return true;
    });
    if (!result) return Fail(result.error());
    return Ok();
}

template <class T>
Result<T> PgStore::Read(const std::function<Result<T>(Connection&)>& fn) {
    if (auto st = CheckCallable(); !st) return Fail(st.error());
    for (int attempt = 1;; ++attempt) {
        auto lease = pool_->Acquire(options_.write_timeout);
        if (!lease) return Fail(lease.error());
        Result<T> result = fn(**lease);
        // A read on a session the server dropped meanwhile changed nothing: read again on a fresh one.
        if (result || !(*lease)->broken() || attempt >= 2) return result;
    }
}

// --- ingest -----------------------------------------------------------------------------------

void PgStore::Append(NewDelivery delivery, AppendCallback done) {
    writer_->Submit(std::move(delivery), clock_.Now(), std::move(done));
}

Status PgStore::Ping() {
    // Not ready while deliveries are being refused: a load balancer should send them to another
    // replica, and a probe must not wait behind the backlog to learn that.
    if (writer_->AppendsRefused()) return Fail(ErrorCode::kUnavailable, "store write queue is full");
    const std::string now = FormatIso8601(clock_.Now(), true);
    return WriteStatus([&](Tx& tx) -> Status {
        auto rows = tx.db.Query(
            "INSERT INTO store_meta (key, value) VALUES ('last_ping', $1) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            Params::Of(now));
        if (!rows) return Fail(rows.error());
        return Ok();
    });
}

// --- journal queries --------------------------------------------------------------------------

Result<std::vector<EventRecord>> PgStore::ListEvents(const EventFilter& filter) {
    const std::size_t limit = std::min(filter.limit, kMaxListLimit);
    if (limit == 0) {
        if (auto st = CheckCallable(); !st) return Fail(st.error());
        return std::vector<EventRecord>{};
    }
    std::string sql = fmt::format("SELECT {} FROM events WHERE TRUE", kEventColumns);
    Params params;
    if (filter.state) {
        params.Add(ToString(*filter.state));
        sql += fmt::format(" AND state = ${}", params.size());
    }
    if (!filter.trigger.empty()) {
        params.Add(filter.trigger);
        sql += fmt::format(" AND trigger_name = ${}", params.size());
    }
    if (filter.before_seq > 0) {
        params.Add(filter.before_seq);
        sql += fmt::format(" AND seq < ${}", params.size());
    }
    params.Add(static_cast<std::int64_t>(limit));
    sql += fmt::format(" ORDER BY seq DESC LIMIT ${}", params.size());
    return Read<std::vector<EventRecord>>([&](Connection& db) -> Result<std::vector<EventRecord>> {
        auto rows = db.Query(sql, params);
        if (!rows) return Fail(rows.error());
        return Collect<EventRecord>(*rows, ReadEvent);
    });
}

Result<std::optional<EventRecord>> PgStore::GetEvent(std::int64_t seq) {
    return Read<std::optional<EventRecord>>([&](Connection& db) -> Result<std::optional<EventRecord>> {
        auto rows =
            db.Query(fmt::format("SELECT {} FROM events WHERE seq = $1", kEventColumns), Params::Of(seq));
        if (!rows) return Fail(rows.error());
        return First<EventRecord>(*rows, ReadEvent);
    });
}

Result<std::optional<EventRecord>> PgStore::FindEvent(std::string_view event_id) {
    return Read<std::optional<EventRecord>>([&](Connection& db) -> Result<std::optional<EventRecord>> {
        auto rows = db.Query(
            fmt::format("SELECT {} FROM events WHERE event_id = $1 ORDER BY seq DESC LIMIT 1", kEventColumns),
            Params::Of(event_id));
        if (!rows) return Fail(rows.error());
        return First<EventRecord>(*rows, ReadEvent);
    });
}

// --- dispatch ---------------------------------------------------------------------------------

Result<std::vector<EventRecord>> PgStore::ClaimEvents(const std::string& owner, std::size_t limit,
                                                      TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return Fail(st.error());
    limit = std::min(limit, kMaxListLimit);
    if (limit == 0) {
        if (auto st = CheckCallable(); !st) return Fail(st.error());
        return std::vector<EventRecord>{};
    }
    const TimePoint lease_until = now + options_.lease;
    // SKIP LOCKED: dispatchers of several replicas claiming at once each get other events instead of
    // queueing behind one another's candidate rows.
    const std::string sql = fmt::format(
        "UPDATE events e SET lease_owner = $1, lease_until = $2 "
        "FROM (SELECT seq FROM events WHERE state = 'pending' AND next_attempt_at <= $3 AND lease_until <= "
        "$3 "
        "ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED) AS c "
        "WHERE e.seq = c.seq RETURNING {}",
        Prefixed("e.", kEventColumns));
    auto claimed = Write<std::vector<EventRecord>>([&](Tx& tx) -> Result<std::vector<EventRecord>> {
        auto rows = tx.db.Query(sql, Params::Of(owner, lease_until, now, static_cast<std::int64_t>(limit)));
        if (!rows) return Fail(rows.error());
        if (rows->empty()) tx.NothingToCommit();
        return Collect<EventRecord>(*rows, ReadEvent);
    });
    if (!claimed) return claimed;
    // RETURNING follows no order; the contract is oldest first.
    std::sort(claimed->begin(), claimed->end(),
              [](const EventRecord& a, const EventRecord& b) { return a.seq < b.seq; });
    return claimed;
}

Result<int> PgStore::CompleteDispatch(std::int64_t seq, const std::string& owner,
                                      const std::vector<NewRun>& runs, EventState final_state,
                                      const std::string& note) {
    if (auto st = RequireOwner(owner); !st) return Fail(st.error());
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
    const TimePoint now = clock_.Now();
    return Write<int>([&](Tx& tx) -> Result<int> {
        if (auto st = FenceEvent(tx.db, seq, owner); !st) return Fail(st.error());
        int created = 0;
        for (const NewRun& run : runs) {
            // ON CONFLICT DO NOTHING: the same semantic key from another event (or another replica's
            // dispatcher of a redelivery) creates nothing; a concurrent insert of the key waits for
            // the other transaction and then does nothing.
            auto rows = tx.db.Query(
                "INSERT INTO runs (run_key, rule, event_seq, lock_key, state, step_count, created_at, "
                "updated_at, "
                "next_attempt_at, context) VALUES ($1, $2, $3, $4, 'pending', $5, $6, $6, $6, $7) "
                "ON CONFLICT (run_key) DO NOTHING",
                Params::Of(run.run_key, run.rule, seq, run.lock_key, run.step_count, now,
                           DumpJson(run.context)));
            if (!rows) return Fail(rows.error());
            created += static_cast<int>(rows->affected());
        }
        auto update = tx.db.Query(
            "UPDATE events SET state = $1, last_error = $2, lease_owner = '', lease_until = 0, "
            "runs_created = runs_created + $3 WHERE seq = $4",
            Params::Of(ToString(final_state), note, created, seq));
        if (!update) return Fail(update.error());
        if (created > 0) {
            if (auto st = tx.RequestWakeup(); !st) return Fail(st.error());
        }
        return created;
    });
}

Status PgStore::RetryDispatch(std::int64_t seq, const std::string& owner, TimePoint next_attempt_at,
                              const std::string& error) {
    if (auto st = RequireOwner(owner); !st) return st;
    const bool due_now = next_attempt_at <= clock_.Now();
    return WriteStatus([&](Tx& tx) -> Status {
        if (auto st = FenceEvent(tx.db, seq, owner); !st) return st;
        auto rows = tx.db.Query(
            "UPDATE events SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2, lease_owner = "
            "'', "
            "lease_until = 0 WHERE seq = $3",
            Params::Of(next_attempt_at, error, seq));
        if (!rows) return Fail(rows.error());
        // Due later: other replicas learn the new due time (if this one dies, one of them picks it up).
        return due_now ? tx.RequestWakeup() : tx.AnnounceToOthers();
    });
}

Status PgStore::FailDispatch(std::int64_t seq, const std::string& owner, const std::string& error) {
    if (auto st = RequireOwner(owner); !st) return st;
    const TimePoint now = clock_.Now();
    return WriteStatus([&](Tx& tx) -> Status {
        if (auto st = FenceEvent(tx.db, seq, owner); !st) return st;
        auto rows = tx.db.Query(
            "UPDATE events SET state = 'failed', attempts = attempts + 1, last_error = $1, failed_at = $2, "
            "lease_owner = '', lease_until = 0 WHERE seq = $3",
            Params::Of(error, now, seq));
        if (!rows) return Fail(rows.error());
        return Ok();
    });
}

// --- runs -------------------------------------------------------------------------------------

// Why an advisory lock and not a table of held lock keys: SKIP LOCKED keeps two replicas off the same
// *row*, but two different runs of one key are two rows, and each claimer would see the key free
// (the other's claim is not committed yet) and start its run. Something must serialize the claimers
// of one key. A lock table (one row per held key, with its own lease) would do it through its primary
// key, but it is a second copy of what the runs table already says (running + unexpired lease), which
// every renewal, completion, retry, takeover and crash would have to keep in step. A transaction-scoped
// advisory lock on hash(key) needs no bookkeeping: it is held only between "the key looks free" and
// COMMIT of the claim, released by COMMIT/ROLLBACK or by the session's death, and the check made under
// it sees every earlier claimer's committed run (READ COMMITTED takes a new snapshot per statement).
// "Only the oldest due run of a key may start" alone does not serialize them: replicas pass their own
// `now`, so with clocks a little apart (or a retry delay ending between two claims) one replica finds
// an older run not yet due and starts the next one while another starts the older one
// (store_pg_test ReplicasWithSkewedClocksNeverRunTwoRunsOfALockKeyAtOnce fails without this lock).
// A hash collision only makes two keys' claimers wait for each other briefly; the check itself
// compares the exact key. Each attempt is its own transaction holding at most one advisory lock and one
// row lock, taken without waiting (SKIP LOCKED) before the advisory one, so claimers cannot deadlock.
Result<std::optional<RunRecord>> PgStore::TryClaimRun(std::int64_t id, const std::string& lock_key,
                                                      const std::string& owner, TimePoint now) {
    const TimePoint lease_until = now + options_.lease;
    return Write<std::optional<RunRecord>>([&](Tx& tx) -> Result<std::optional<RunRecord>> {
        auto rows =
            tx.db.Query(fmt::format("SELECT {} FROM runs r WHERE r.id = $1 AND r.state IN ('pending', "
                                    "'running') AND {} <= $2 FOR UPDATE SKIP LOCKED",
                                    kRunColumns, kRunDueAt),
                        Params::Of(id, now));
        if (!rows) return Fail(rows.error());
        auto run = First<RunRecord>(*rows, ReadRun);
        if (!run || !*run) {
            tx.NothingToCommit();  // claimed or finished meanwhile, or being written by its owner
            return run;
        }
        if (!lock_key.empty()) {
            auto locked = tx.db.Query("SELECT pg_advisory_xact_lock($1::int4, hashtext($2))",
                                      Params::Of(kRunLockClass, lock_key));
            if (!locked) return Fail(locked.error());
            // Free: nobody else runs the key with a live lease, and no older run of the key is due
            // (runs of one key start in creation order, as in SQLite where the oldest due run wins).
            auto free = tx.db.Query(
                "SELECT NOT EXISTS (SELECT 1 FROM runs h WHERE h.lock_key <> '' AND h.lock_key = $1 "
                "AND h.state = 'running' AND h.lease_until > $2 AND h.id <> $3) "
                "AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.lock_key <> '' AND r.lock_key = $1 AND r.id < "
                "$3 "
                "AND r.state IN ('pending', 'running') AND " +
                    std::string(kRunDueAt) + " <= $2)",
                Params::Of(lock_key, now, id));
            if (!free) return Fail(free.error());
            if (!free->Bool(0, 0)) {
                tx.NothingToCommit();
                return std::optional<RunRecord>();
            }
        }
        auto update = tx.db.Query(
            "UPDATE runs SET state = 'running', lease_owner = $1, lease_until = $2, updated_at = $3 WHERE id "
            "= $4",
            Params::Of(owner, lease_until, now, id));
        if (!update) return Fail(update.error());
        RunRecord& claimed = **run;
        claimed.taken_over = claimed.state == RunState::kRunning;  // selected as running = its lease expired
        claimed.state = RunState::kRunning;
        claimed.lease_owner = owner;
        claimed.lease_until = FromUnixMillis(ToUnixMillis(lease_until));
        claimed.updated_at = FromUnixMillis(ToUnixMillis(now));
        return run;
    });
}

Result<std::optional<RunRecord>> PgStore::ClaimRun(const std::string& owner, TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return Fail(st.error());
    // Candidates are read without locks, oldest first, with the lock-free test as a cheap filter; each
    // is then tried in its own transaction. Most calls claim the first candidate.
    const std::string candidates_sql = fmt::format(
        "SELECT r.id, r.lock_key FROM runs r WHERE r.state IN ('pending', 'running') AND {} <= $1 AND {} "
        "AND r.id > $2 ORDER BY r.id LIMIT $3",
        kRunDueAt, kLockFree);
    std::int64_t after = 0;
    for (int page = 0; page < kClaimPages; ++page) {
        using Candidates = std::vector<std::pair<std::int64_t, std::string>>;
        auto candidates = Read<Candidates>([&](Connection& db) -> Result<Candidates> {
            auto rows = db.Query(candidates_sql, Params::Of(now, after, kClaimPage));
            if (!rows) return Fail(rows.error());
            Candidates out;
            for (int r = 0; r < rows->size(); ++r) out.emplace_back(rows->Int(r, 0), rows->Text(r, 1));
            return out;
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

Status PgStore::RenewLease(std::int64_t run_id, const std::string& owner, TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return st;
    const TimePoint lease_until = now + options_.lease;
    return WriteStatus(Fenced(run_id, owner, [&](Tx& tx, const LeasedRun&) -> Status {
        auto rows =
            tx.db.Query("UPDATE runs SET lease_until = $1 WHERE id = $2", Params::Of(lease_until, run_id));
        if (!rows) return Fail(rows.error());
        return Ok();
    }));
}

Result<std::vector<StepRecord>> PgStore::GetSteps(std::int64_t run_id) {
    return Read<std::vector<StepRecord>>([&](Connection& db) -> Result<std::vector<StepRecord>> {
        auto rows = db.Query(
            "SELECT step_index, name, status, output, started_at, finished_at FROM steps WHERE run_id = $1 "
            "ORDER BY step_index",
            Params::Of(run_id));
        if (!rows) return Fail(rows.error());
        return Collect<StepRecord>(*rows, [run_id](const Rows& row, int r) -> Result<StepRecord> {
            StepRecord step;
            step.index = static_cast<int>(row.Int(r, 0));
            step.name = row.Text(r, 1);
            step.status = row.Text(r, 2) == "done" ? StepStatus::kDone : StepStatus::kStarted;
            auto output =
                ParseJson(row.Text(r, 3), fmt::format("output of step {} of run {}", step.index, run_id));
            if (!output) return Fail(output.error());
            step.output = std::move(*output);
            step.started_at = row.Time(r, 4);
            step.finished_at = row.Time(r, 5);
            return step;
        });
    });
}

namespace {

// The step writes, each inside a transaction after FenceRun; the public methods compose them so that
// finishing a step and beginning the next (or completing the run) share one commit.

Result<StepStatus> BeginStepIn(Tx& tx, std::int64_t run_id, const LeasedRun& run, int index,
                               const std::string& name, TimePoint now) {
    if (auto st = CheckStepIndex(run_id, index, run); !st) return Fail(st.error());
    auto select = tx.db.Query("SELECT status FROM steps WHERE run_id = $1 AND step_index = $2",
                              Params::Of(run_id, index));
    if (!select) return Fail(select.error());
    StepStatus before = StepStatus::kNone;
    if (!select->empty()) before = select->Text(0, 0) == "done" ? StepStatus::kDone : StepStatus::kStarted;
    if (before == StepStatus::kDone) return before;
    // A restarted step keeps one row: started_at is the latest attempt's start.
    auto upsert = tx.db.Query(
        "INSERT INTO steps (run_id, step_index, name, status, started_at) VALUES ($1, $2, $3, 'started', $4) "
        "ON CONFLICT (run_id, step_index) DO UPDATE SET name = EXCLUDED.name, started_at = "
        "EXCLUDED.started_at",
        Params::Of(run_id, index, name, now));
    if (!upsert) return Fail(upsert.error());
    return before;
}

Status FinishStepIn(Tx& tx, std::int64_t run_id, const LeasedRun& run, int index,
                    const std::string& output_text, TimePoint now) {
    if (auto st = CheckStepIndex(run_id, index, run); !st) return st;
    if (auto st = UpdateOne(tx.db,
                            "UPDATE steps SET status = 'done', output = $1, finished_at = $2 "
                            "WHERE run_id = $3 AND step_index = $4",
                            Params::Of(output_text, now, run_id, index), "");
        !st) {
        if (st.error().code != ErrorCode::kNotFound) return st;
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("step {} of run {} was never begun (call BeginStep first)", index, run_id));
    }
    auto advance =
        tx.db.Query("UPDATE runs SET next_step = GREATEST(next_step, $1), updated_at = $2 WHERE id = $3",
                    Params::Of(index + 1, now, run_id));
    if (!advance) return Fail(advance.error());
    return Ok();
}

Status CompleteRunIn(Tx& tx, std::int64_t run_id, const LeasedRun& run, TimePoint now) {
    auto rows = tx.db.Query(
        "UPDATE runs SET state = 'done', lease_owner = '', lease_until = 0, updated_at = $1 WHERE id = $2",
        Params::Of(now, run_id));
    if (!rows) return Fail(rows.error());
    return WakeLockWaiters(tx, run_id, run.lock_key);
}

}  // namespace

Result<StepStatus> PgStore::BeginStep(std::int64_t run_id, const std::string& owner, int index,
                                      const std::string& name, TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return Fail(st.error());
    return Write<StepStatus>(Fenced(run_id, owner, [&](Tx& tx, const LeasedRun& run) -> Result<StepStatus> {
        auto before = BeginStepIn(tx, run_id, run, index, name, now);
        if (before && *before == StepStatus::kDone) tx.NothingToCommit();
        return before;
    }));
}

Status PgStore::FinishStep(std::int64_t run_id, const std::string& owner, int index, const Json& output,
                           TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return st;
    const std::string output_text = DumpJson(output);
    return WriteStatus(Fenced(run_id, owner, [&](Tx& tx, const LeasedRun& run) -> Status {
        return FinishStepIn(tx, run_id, run, index, output_text, now);
    }));
}

Status PgStore::CompleteRun(std::int64_t run_id, const std::string& owner, TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return st;
    return WriteStatus(Fenced(run_id, owner, [&](Tx& tx, const LeasedRun& run) -> Status {
        return CompleteRunIn(tx, run_id, run, now);
    }));
}

Result<StepStatus> PgStore::FinishAndBeginStep(std::int64_t run_id, const std::string& owner, int index,
                                               const Json& output, int next_index,
                                               const std::string& next_name, TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return Fail(st.error());
    const std::string output_text = DumpJson(output);
    return Write<StepStatus>(Fenced(run_id, owner, [&](Tx& tx, const LeasedRun& run) -> Result<StepStatus> {
        if (auto st = FinishStepIn(tx, run_id, run, index, output_text, now); !st) return Fail(st.error());
        return BeginStepIn(tx, run_id, run, next_index, next_name, now);
    }));
}

Status PgStore::FinishLastStep(std::int64_t run_id, const std::string& owner, int index, const Json& output,
                               TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return st;
    const std::string output_text = DumpJson(output);
    return WriteStatus(Fenced(run_id, owner, [&](Tx& tx, const LeasedRun& run) -> Status {
        if (auto st = FinishStepIn(tx, run_id, run, index, output_text, now); !st) return st;
        return CompleteRunIn(tx, run_id, run, now);
    }));
}

Status PgStore::RetryRun(std::int64_t run_id, const std::string& owner, TimePoint next_attempt_at,
                         const std::string& error) {
    if (auto st = RequireOwner(owner); !st) return st;
    const TimePoint now = clock_.Now();
    return WriteStatus(Fenced(run_id, owner, [&](Tx& tx, const LeasedRun& run) -> Status {
        auto rows = tx.db.Query(
            "UPDATE runs SET state = 'pending', attempts = attempts + 1, next_attempt_at = $1, last_error = "
            "$2, "
            "failed_at = CASE WHEN failed_at = 0 THEN $3 ELSE failed_at END, "
            "lease_owner = '', lease_until = 0, updated_at = $3 WHERE id = $4",
            Params::Of(next_attempt_at, error, now, run_id));
        if (!rows) return Fail(rows.error());
        if (next_attempt_at <= now) {
            if (auto st = tx.RequestWakeup(); !st) return st;
        } else if (auto st = tx.AnnounceToOthers(); !st) {
            return st;
        }
        return WakeLockWaiters(tx, run_id, run.lock_key);
    }));
}

Status PgStore::DeadLetterRun(std::int64_t run_id, const std::string& owner, const std::string& reason,
                              TimePoint now) {
    if (auto st = RequireOwner(owner); !st) return st;
    return WriteStatus(Fenced(run_id, owner, [&](Tx& tx, const LeasedRun& run) -> Status {
        auto rows = tx.db.Query(
            "UPDATE runs SET state = 'dead', attempts = attempts + 1, last_error = $1, failed_at = $2, "
            "lease_owner = '', lease_until = 0, updated_at = $2 WHERE id = $3",
            Params::Of(reason, now, run_id));
        if (!rows) return Fail(rows.error());
        return WakeLockWaiters(tx, run_id, run.lock_key);
    }));
}

Status PgStore::ReleaseRun(std::int64_t run_id, const std::string& owner) {
    if (auto st = RequireOwner(owner); !st) return st;
    const TimePoint now = clock_.Now();
    return WriteStatus(Fenced(run_id, owner, [&](Tx& tx, const LeasedRun&) -> Status {
        auto rows = tx.db.Query(
            "UPDATE runs SET state = 'pending', next_attempt_at = $1, lease_owner = '', lease_until = 0, "
            "updated_at = $1 WHERE id = $2",
            Params::Of(now, run_id));
        if (!rows) return Fail(rows.error());
        return tx.RequestWakeup();
    }));
}

std::string PgStore::NextDueTimeQuery() {
    // As SQLite's: pending events (due and not leased) and live runs whose lock is free; a run whose
    // lock is held is left out, the holder's lease expiry is in the list and its end NOTIFYs. Each half
    // walks its due-time index (migration 2) from the smallest key and stops at the first row that
    // qualifies (for runs: whose lock is free), instead of scanning the backlog; LEAST skips a NULL half.
    return fmt::format(
        "SELECT LEAST("
        "(SELECT GREATEST(next_attempt_at, lease_until) FROM events WHERE state = 'pending'"
        " ORDER BY GREATEST(next_attempt_at, lease_until) LIMIT 1), "
        "(SELECT {0} FROM runs r WHERE r.state IN ('pending', 'running') AND {1} ORDER BY {0} LIMIT 1))",
        kRunDueAt, kLockFree);
}

Result<std::optional<TimePoint>> PgStore::NextDueTime() {
    const TimePoint now = clock_.Now();
    const std::string sql = NextDueTimeQuery();
    return Read<std::optional<TimePoint>>([&](Connection& db) -> Result<std::optional<TimePoint>> {
        auto rows = db.Query(sql, Params::Of(now));
        if (!rows) return Fail(rows.error());
        if (rows->empty() || rows->IsNull(0, 0)) return std::optional<TimePoint>();
        return std::optional<TimePoint>(rows->Time(0, 0));
    });
}

// --- admin ------------------------------------------------------------------------------------

Result<std::vector<RunRecord>> PgStore::ListRuns(const RunFilter& filter) {
    const std::size_t limit = std::min(filter.limit, kMaxListLimit);
    if (limit == 0) {
        if (auto st = CheckCallable(); !st) return Fail(st.error());
        return std::vector<RunRecord>{};
    }
    std::string sql = fmt::format("SELECT {} FROM runs WHERE TRUE", kRunColumns);
    Params params;
    if (filter.state) {
        params.Add(ToString(*filter.state));
        sql += fmt::format(" AND state = ${}", params.size());
    }
    if (!filter.rule.empty()) {
        params.Add(filter.rule);
        sql += fmt::format(" AND rule = ${}", params.size());
    }
    if (filter.before_id > 0) {
        params.Add(filter.before_id);
        sql += fmt::format(" AND id < ${}", params.size());
    }
    params.Add(static_cast<std::int64_t>(limit));
    sql += fmt::format(" ORDER BY id DESC LIMIT ${}", params.size());
    return Read<std::vector<RunRecord>>([&](Connection& db) -> Result<std::vector<RunRecord>> {
        auto rows = db.Query(sql, params);
        if (!rows) return Fail(rows.error());
        return Collect<RunRecord>(*rows, ReadRun);
    });
}

Result<std::optional<RunRecord>> PgStore::GetRun(std::int64_t run_id) {
    return Read<std::optional<RunRecord>>([&](Connection& db) -> Result<std::optional<RunRecord>> {
        auto rows =
            db.Query(fmt::format("SELECT {} FROM runs WHERE id = $1", kRunColumns), Params::Of(run_id));
        if (!rows) return Fail(rows.error());
        return First<RunRecord>(*rows, ReadRun);
    });
}

Result<std::vector<DeadLetter>> PgStore::ListDeadLetters(std::size_t limit) {
    limit = std::min(limit, kMaxListLimit);
    if (limit == 0) {
        if (auto st = CheckCallable(); !st) return Fail(st.error());
        return std::vector<DeadLetter>{};
    }
    return Read<std::vector<DeadLetter>>([&](Connection& db) -> Result<std::vector<DeadLetter>> {
        auto rows = db.Query(
            "SELECT 'run' AS kind, r.id AS id, r.rule AS rule, e.trigger_name AS trigger_name, r.last_error "
            "AS reason,"
            " r.attempts AS attempts, r.failed_at AS failed_at"
            " FROM runs r JOIN events e ON e.seq = r.event_seq WHERE r.state = 'dead'"
            " UNION ALL"
            " SELECT 'event', seq, '', trigger_name, last_error, attempts, failed_at FROM events WHERE state "
            "= 'failed'"
            " ORDER BY failed_at DESC, kind, id DESC LIMIT $1",
            Params::Of(static_cast<std::int64_t>(limit)));
        if (!rows) return Fail(rows.error());
        return Collect<DeadLetter>(*rows, [](const Rows& row, int r) -> Result<DeadLetter> {
            DeadLetter letter;
            letter.kind = row.Text(r, 0) == "run" ? DeadLetter::Kind::kRun : DeadLetter::Kind::kEvent;
            letter.id = row.Int(r, 1);
            letter.rule = row.Text(r, 2);
            letter.trigger = row.Text(r, 3);
            letter.reason = row.Text(r, 4);
            letter.attempts = static_cast<int>(row.Int(r, 5));
            letter.failed_at = row.Time(r, 6);
            return letter;
        });
    });
}

Status PgStore::RetryDeadLetter(DeadLetter::Kind kind, std::int64_t id, TimePoint now) {
    const TimePoint updated_at = clock_.Now();
    return WriteStatus([&](Tx& tx) -> Status {
        if (kind == DeadLetter::Kind::kRun) {
            // next_step stays: the run resumes at its first unfinished step.
            if (auto st = UpdateOne(tx.db,
                                    "UPDATE runs SET state = 'pending', attempts = 0, next_attempt_at = $1, "
                                    "failed_at = 0, lease_owner = '', lease_until = 0, updated_at = $2 "
                                    "WHERE id = $3 AND state = 'dead'",
                                    Params::Of(now, updated_at, id),
                                    fmt::format("run {} is not a dead letter", id));
                !st) {
                return st;
            }
        } else if (auto st =
                       UpdateOne(tx.db,
                                 "UPDATE events SET state = 'pending', attempts = 0, next_attempt_at = $1, "
                                 "failed_at = 0, lease_owner = '', lease_until = 0 "
                                 "WHERE seq = $2 AND state = 'failed'",
                                 Params::Of(now, id), fmt::format("event {} is not a dead letter", id));
                   !st) {
            return st;
        }
        return tx.RequestWakeup();
    });
}

Status PgStore::DropDeadLetter(DeadLetter::Kind kind, std::int64_t id) {
    const TimePoint now = clock_.Now();
    return WriteStatus([&](Tx& tx) -> Status {
        if (kind == DeadLetter::Kind::kRun) {
            return UpdateOne(
                tx.db, "UPDATE runs SET state = 'dropped', updated_at = $1 WHERE id = $2 AND state = 'dead'",
                Params::Of(now, id), fmt::format("run {} is not a dead letter", id));
        }
        return UpdateOne(tx.db, "UPDATE events SET state = 'ignored' WHERE seq = $1 AND state = 'failed'",
                         Params::Of(id), fmt::format("event {} is not a dead letter", id));
    });
}

Status PgStore::ReplayEvent(std::int64_t seq, TimePoint now) {
    return WriteStatus([&](Tx& tx) -> Status {
        if (auto st = UpdateOne(
                tx.db,
                "UPDATE events SET state = 'pending', replay_generation = replay_generation + 1, "
                "attempts = 0, next_attempt_at = $1, last_error = '', failed_at = 0, lease_owner = '', "
                "lease_until = 0 WHERE seq = $2",
                Params::Of(now, seq), fmt::format("event {} not found", seq));
            !st) {
            return st;
        }
        return tx.RequestWakeup();
    });
}

Result<StoreStats> PgStore::Stats() {
    auto stats = Read<StoreStats>([&](Connection& db) -> Result<StoreStats> {
        // One snapshot for all counts, so they add up.
        if (auto st = db.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !st)
            return Fail(st.error());
        auto counts = [&]() -> Result<StoreStats> {
            StoreStats out;
            auto events = db.Query("SELECT state, COUNT(*) FROM events GROUP BY state");
            if (!events) return Fail(events.error());
            for (int r = 0; r < events->size(); ++r) {
                const std::string state = events->Text(r, 0);
                const std::int64_t count = events->Int(r, 1);
                out.events_total += count;
                if (state == "pending") out.events_pending = count;
                if (state == "failed") out.dead_letters += count;
            }
            auto runs = db.Query("SELECT state, COUNT(*) FROM runs GROUP BY state");
            if (!runs) return Fail(runs.error());
            for (int r = 0; r < runs->size(); ++r) {
                const std::string state = runs->Text(r, 0);
                const std::int64_t count = runs->Int(r, 1);
                if (state == "pending") out.runs_pending = count;
                if (state == "running") out.runs_running = count;
                if (state == "done") out.runs_done = count;
                if (state == "dead") out.dead_letters += count;
            }
            auto bytes = db.QueryInt(
                "SELECT pg_total_relation_size('events') + pg_total_relation_size('runs') + "
                "pg_total_relation_size('steps') + pg_total_relation_size('store_meta') + "
                "pg_total_relation_size('rate_limits') + pg_total_relation_size('schema_migrations')");
            if (!bytes) return Fail(bytes.error());
            out.bytes = *bytes;
            return out;
        }();
        Status ended = db.Exec(counts ? "COMMIT" : "ROLLBACK");
        if (!counts) return counts;
        if (!ended) return Fail(ended.error());
        return counts;
    });
    if (!stats) return stats;
    stats->commits = static_cast<std::int64_t>(commits_.load(std::memory_order_relaxed));
    stats->write_queue = static_cast<std::int64_t>(writer_->queued());
    return stats;
}

// --- shared rate limits -----------------------------------------------------------------------

namespace {

/// Loads bucket `key` locked (FOR UPDATE) inside `tx`, creating it full when missing.
Result<RateBucket> LockBucket(Tx& tx, const std::string& key, int burst, std::int64_t now_ms) {
    // A bucket row is not worth a WAL flush: after a crash it is at most a few tokens off.
    if (auto st = tx.db.Exec("SET LOCAL synchronous_commit = off"); !st) return Fail(st.error());
    const std::string select =
        "SELECT tokens, updated_at, paused_until FROM rate_limits WHERE key = $1 FOR UPDATE";
    auto rows = tx.db.Query(select, Params::Of(key));
    if (!rows) return Fail(rows.error());
    if (rows->empty()) {
        const RateBucket fresh = NewRateBucket(burst, now_ms);
        auto inserted = tx.db.Query(
            "INSERT INTO rate_limits (key, tokens, updated_at, paused_until) VALUES ($1, $2, $3, 0) "
            "ON CONFLICT (key) DO NOTHING",
            Params::Of(key, fresh.tokens, fresh.updated_at));
        if (!inserted) return Fail(inserted.error());
        rows = tx.db.Query(select, Params::Of(key));  // ours, or another replica's that came first
        if (!rows) return Fail(rows.error());
        if (rows->empty()) return Fail(Internal(fmt::format("rate limit bucket '{}' vanished", key)));
    }
    return RateBucket{rows->Double(0, 0), rows->Int(0, 1), rows->Int(0, 2)};
}

Status SaveBucket(Tx& tx, const std::string& key, const RateBucket& bucket) {
    auto rows =
        tx.db.Query("UPDATE rate_limits SET tokens = $2, updated_at = $3, paused_until = $4 WHERE key = $1",
                    Params::Of(key, bucket.tokens, bucket.updated_at, bucket.paused_until));
    if (!rows) return Fail(rows.error());
    return Ok();
}

}  // namespace

Result<milliseconds> PgStore::AcquireRateToken(const std::string& key, double rate_per_second, int burst,
                                               TimePoint now) {
    const std::int64_t now_ms = ToUnixMillis(now);
    return Write<milliseconds>([&](Tx& tx) -> Result<milliseconds> {
        auto bucket = LockBucket(tx, key, burst, now_ms);
        if (!bucket) return Fail(bucket.error());
        const milliseconds wait = TakeRateToken(*bucket, rate_per_second, burst, now_ms);
        if (auto st = SaveBucket(tx, key, *bucket); !st) return Fail(st.error());
        return wait;
    });
}

Status PgStore::PauseRateLimit(const std::string& key, TimePoint until, TimePoint now) {
    const std::int64_t now_ms = ToUnixMillis(now);
    return WriteStatus([&](Tx& tx) -> Status {
        // A pause on a bucket nobody used yet still holds: the bucket is created (full) and paused.
        auto bucket = LockBucket(tx, key, 1, now_ms);
        if (!bucket) return Fail(bucket.error());
        PauseRateBucket(*bucket, ToUnixMillis(until));
        return SaveBucket(tx, key, *bucket);
    });
}

}  // namespace spacehook::store::pg
