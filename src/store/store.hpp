#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

namespace spacehook::store {

// ---------------------------------------------------------------------------------------------
// Journal: every verified delivery, keyed by (webhook id, event id) so a redelivery is a no-op.
// ---------------------------------------------------------------------------------------------

/// A verified delivery, ready to be made durable. Ingress fills it from the envelope.
struct NewDelivery {
    std::string webhook_id;  ///< webhook.id as text ("" when DocSpace omitted it)
    std::string event_id;    ///< event.id as text; the dedupe key together with webhook_id
    std::string trigger;     ///< event.trigger, e.g. "file.created"
    std::string actor;       ///< event.createBy ("" when omitted)
    std::string entity_id;   ///< payload.id as text ("" when absent)
    std::string created_on;  ///< event.createOn as sent
    std::string body;        ///< the exact bytes that were signed
    TimePoint received_at;
    /// Read back from the portal's webhook log by catch-up, not delivered live (docs/operations.md
    /// "Catching up"): the same dedupe, the same runs; only the mark differs.
    bool recovered = false;
};

enum class AppendOutcome { kStored, kDuplicate };
/// Runs on the store's writer thread once the commit holding this delivery is durable (or failed).
/// Keep it short: hand the result to another thread. Never call a synchronous Store method or Close()
/// from it (the writer would wait for itself; such calls fail with kInternal). When Append refuses at
/// once (store closed, queue full) the callback runs on the calling thread before Append returns.
using AppendCallback = std::function<void(Result<AppendOutcome>)>;

enum class EventState { kPending, kDispatched, kIgnored, kFailed };
std::string_view ToString(EventState state);
std::optional<EventState> ParseEventState(std::string_view text);

struct EventRecord {
    std::int64_t seq = 0;  ///< journal order, assigned at append
    std::string webhook_id;
    std::string event_id;
    std::string trigger;
    std::string actor;
    std::string entity_id;
    std::string created_on;
    std::string body;
    TimePoint received_at;
    EventState state = EventState::kPending;
    int attempts = 0;  ///< failed dispatch attempts (RetryDispatch, FailDispatch); reset by retry/replay
    TimePoint next_attempt_at;  ///< not before this (the append time for a new event: due at once)
    std::string last_error;     ///< why the last dispatch failed / why it was ignored
    int replay_generation = 0;  ///< bumped by ReplayEvent; dispatch keys new runs with it
    int runs_created = 0;       ///< runs created by all CompleteDispatch calls, across replays
    bool recovered = false;     ///< journaled by catch-up from the portal's log (NewDelivery::recovered)
};

struct EventFilter {
    std::optional<EventState> state;
    std::string trigger;                      ///< exact; empty = any
    std::optional<TimePoint> received_since;  ///< received_at >= this
    std::optional<TimePoint> received_until;  ///< received_at < this
    /// The entity id, or any text of the delivery (a title, an e-mail address), ignoring ASCII case;
    /// empty = any.
    std::string text;
    std::size_t limit = 50;       ///< newest first; at most 10000
    std::int64_t before_seq = 0;  ///< paging: only seq < before_seq when > 0
};

// ---------------------------------------------------------------------------------------------
// Runs: one per (rule, entity, trigger class). Steps are checkpointed one by one (a saga).
// ---------------------------------------------------------------------------------------------

/// A run the dispatcher wants. `run_key` is semantic (rule + entity + trigger class [+ replay
/// generation]); a second NewRun with the same key is silently not created.
struct NewRun {
    std::string run_key;
    std::string rule;
    std::string
        lock_key;  ///< runs with the same lock key never run at the same time ("room:890"); may be empty
    int step_count = 0;
    Json context;  ///< what the steps need: event, resolved facts (room, file, user), rule version
};

/// One event's CompleteDispatch, for Store::CompleteDispatches.
struct DispatchCompletion {
    std::int64_t seq = 0;
    std::vector<NewRun> runs;
    EventState final_state = EventState::kDispatched;
    std::string note;
};

enum class RunState { kPending, kRunning, kDone, kDead, kDropped };
std::string_view ToString(RunState state);
std::optional<RunState> ParseRunState(std::string_view text);

struct RunRecord {
    std::int64_t id = 0;
    std::string run_key;
    std::string rule;
    std::int64_t event_seq = 0;
    std::string lock_key;
    RunState state = RunState::kPending;
    int step_count = 0;
    int next_step = 0;  ///< index of the first unfinished step
    int attempts = 0;   ///< failed attempts (RetryRun, DeadLetterRun) since created or RetryDeadLetter
    TimePoint created_at;
    TimePoint updated_at;
    TimePoint next_attempt_at;
    std::string lease_owner;  ///< "" when not leased
    TimePoint lease_until;    ///< epoch when not leased
    std::string last_error;   ///< kept when a dead run is retried, so the admin still sees why it died
    Json context;
    /// While the run is live: its first failed attempt (RetryRun) since it was created or retried from the
    /// dead-letter list, the start of the runner's retry budget; epoch when it has not failed. For a dead
    /// run: when it died (DeadLetterRun).
    TimePoint failed_at;
    /// Set by ClaimRun only: this claim took the run over from an owner whose lease expired (that worker
    /// died or hung), as opposed to claiming a pending run. The runner counts takeovers so a run that
    /// kills its worker every time cannot loop forever.
    bool taken_over = false;
};

enum class StepStatus { kNone, kStarted, kDone };

/// A step's checkpoint. `kStarted` without `kDone` after a crash means "the effect may have happened":
/// the step's own idempotency check (look before create) decides what to do.
struct StepRecord {
    int index = 0;
    std::string name;
    StepStatus status = StepStatus::kNone;
    Json output;  ///< what later steps may reference as steps.<name>.*
    TimePoint started_at;
    TimePoint finished_at;
};

struct RunFilter {
    std::optional<RunState> state;
    std::string rule;                        ///< exact; empty = any
    std::int64_t event_seq = 0;              ///< only the runs of this event when > 0
    std::optional<TimePoint> created_since;  ///< created_at >= this
    std::optional<TimePoint> created_until;  ///< created_at < this
    std::size_t limit = 50;                  ///< newest first; at most 10000
    std::int64_t before_id = 0;              ///< paging: only id < before_id when > 0
};

/// How one rule's runs have gone, for the admin's rules view.
struct RuleRunCounts {
    std::string rule;
    std::int64_t live = 0;  ///< pending or running
    std::int64_t done = 0;
    std::int64_t dead = 0;
    std::int64_t dropped = 0;
    TimePoint last_run_at;  ///< when its newest run was created
};

/// An entry of the dead-letter list: a run that failed permanently or exhausted its retry budget, or an
/// event whose dispatch failed permanently.
struct DeadLetter {
    enum class Kind { kRun, kEvent } kind = Kind::kRun;
    std::int64_t id = 0;  ///< run id or event seq
    std::string rule;     ///< empty for events
    std::string trigger;
    std::string reason;
    int attempts = 0;
    TimePoint failed_at;
};

/// Which dead letters a bulk retry or drop takes (`spacehook dlq retry --all`, the admin API).
struct DeadLetterFilter {
    std::optional<DeadLetter::Kind> kind;  ///< nullopt: runs and events
    std::string rule;                      ///< only runs of this rule (events have none); empty = any
    std::optional<TimePoint> since;        ///< only those that failed at or after this
};

/// Counts for /metrics and `spacehook status`.
struct StoreStats {
    std::int64_t events_total = 0;
    std::int64_t events_pending = 0;
    std::int64_t runs_pending = 0;
    std::int64_t runs_running = 0;
    std::int64_t runs_done = 0;
    std::int64_t dead_letters = 0;
    std::int64_t bytes = 0;  ///< size of the database on disk (SQLite) or of the tables (PostgreSQL)
    /// Write transactions this process committed since open. With group commit it grows slower than
    /// the number of writes; the ratio is the batching factor.
    std::int64_t commits = 0;
    /// Writes queued for the writer right now (appends and other writes).
    std::int64_t write_queue = 0;
    /// Since when the oldest pending event waits: journaled, replayed or retried from the dead-letter
    /// list, whichever came last. nullopt when none is pending.
    std::optional<TimePoint> oldest_pending_event;
    /// The same for the oldest run not finished (pending or running): created or retried from the
    /// dead-letter list. A run failing and retrying keeps its time.
    std::optional<TimePoint> oldest_live_run;
};

struct StoreOptions {
    /// fsync every commit (SQLite synchronous=FULL; PostgreSQL commits wait for the WAL flush, and
    /// false sets synchronous_commit = off). Only turn off for throwaway stores.
    bool durable = true;
    /// Most deliveries one group commit may hold.
    std::size_t max_batch = 1024;
    /// Appends waiting for the writer beyond this are refused at once with kUnavailable (-> 503),
    /// so a stalled disk cannot make the ingress hold unbounded memory.
    std::size_t max_pending_appends = 50000;
    /// How long a claimed event or run stays owned without a renewal.
    std::chrono::milliseconds lease{30000};
    /// How long a statement waits for another process's lock on the database (e.g. a CLI command
    /// writing while `serve` runs; PostgreSQL: lock_timeout) before the write fails with kUnavailable.
    std::chrono::milliseconds busy_timeout{5000};
    /// How long a synchronous write (claims, checkpoints, admin actions) waits for the writer to take
    /// it (PostgreSQL: for a pooled connection). Past that it fails with kUnavailable and is never
    /// executed later.
    std::chrono::milliseconds write_timeout{30000};
    /// Idle read connections kept open (SQLite); more are opened while many threads read at once.
    std::size_t max_idle_readers = 4;
    /// PostgreSQL: most pooled connections one store opens for claims, checkpoints and queries (the
    /// append writer and the LISTEN session have one each on top). A caller beyond that waits for one,
    /// up to write_timeout. Mind the server's max_connections times the number of replicas.
    std::size_t pool_size = 16;
};

// ---------------------------------------------------------------------------------------------
// The store's roles. One object (the store OpenStore returns) plays all of them; each part of spacehook
// takes only the role it uses, so a test double implements a handful of methods, not thirty.
//
// Thread-safety: every method may be called from any thread. Writes that take an `owner` are fenced:
// they fail with kConflict when the caller no longer holds the lease (another worker or replica took
// the item over after the lease expired, or the item left the leased state: completed, released,
// replayed). A lease that expired but was not taken over yet still belongs to its owner, so a slow
// worker may finish or RenewLease. Owners must be unique per worker (e.g. "host:pid:worker-3").
// kNotFound when the event or run does not exist; kInvalidArgument for an empty owner or a step index
// outside [0, step_count).
//
// Times: the store keeps millisecond precision. Methods that take `now` use it for leases and
// timestamps; the others use the injected Clock.
//
// Read-your-writes: a write that returned is visible to every read started after it, on any thread.
// ---------------------------------------------------------------------------------------------

/// Where verified deliveries become durable (the ingress).
class Journal {
public:
    virtual ~Journal() = default;
    /// Appends a delivery. Concurrent appends share one durable commit (group commit). `done` gets
    /// kStored, kDuplicate (same webhook_id + event_id already journaled; nothing written) or an error
    /// (kUnavailable: disk full, store closed, queue over max_pending_appends).
    virtual void Append(NewDelivery delivery, AppendCallback done) = 0;
};

/// The work the runner takes from the store: events to dispatch, runs to execute step by step.
class WorkQueue {
public:
    virtual ~WorkQueue() = default;

    // --- dispatch -----------------------------------------------------------------------------
    /// Leases up to `limit` pending events that are due (next_attempt_at <= now) and not leased (or
    /// whose lease expired), oldest (lowest seq) first, until now + options.lease.
    virtual Result<std::vector<EventRecord>> ClaimEvents(const std::string& owner, std::size_t limit,
                                                         TimePoint now) = 0;
    /// In one transaction: creates the runs (keys already present are skipped) and sets the event to
    /// kDispatched (runs matched) or kIgnored (`note` says why). Returns how many runs were created.
    /// New runs are pending and due at once; the event's lease is released and `note` becomes its
    /// last_error. Any other final_state is kInvalidArgument. Nothing is written when it fails.
    virtual Result<int> CompleteDispatch(std::int64_t seq, const std::string& owner,
                                         const std::vector<NewRun>& runs, EventState final_state,
                                         const std::string& note) = 0;
    /// CompleteDispatch for each of `completions` (events `owner` claimed), in this order; each succeeds
    /// or fails on its own (a lease lost to a replay fails that one only). Results in the same order. A
    /// backend may let them share commits (SQLite does), so a dispatcher waits for one commit per batch
    /// of claimed events rather than one per event. The default calls CompleteDispatch for each.
    virtual std::vector<Result<int>> CompleteDispatches(const std::string& owner,
                                                        const std::vector<DispatchCompletion>& completions);
    /// Dispatch failed transiently (context lookup failed): try again at `next_attempt_at`; attempts + 1,
    /// lease released.
    virtual Status RetryDispatch(std::int64_t seq, const std::string& owner, TimePoint next_attempt_at,
                                 const std::string& error) = 0;
    /// Dispatch failed permanently: the event becomes kFailed (the dead-letter list); attempts + 1.
    virtual Status FailDispatch(std::int64_t seq, const std::string& owner, const std::string& error) = 0;

    // --- runs ---------------------------------------------------------------------------------
    /// Leases the oldest due run (pending and next_attempt_at <= now, or running with an expired lease)
    /// whose lock_key is not held by another running run. nullopt when nothing is due.
    /// "Oldest" is creation order (lowest id), so the runs of one lock key run in the order the
    /// dispatcher created them. "Held" means running with an unexpired lease. Taking over an expired
    /// lease does not count as an attempt; the run resumes at next_step (BeginStep reports kStarted
    /// for a step the previous owner died in). The returned record shows the new lease.
    virtual Result<std::optional<RunRecord>> ClaimRun(const std::string& owner, TimePoint now) = 0;
    /// Extends the lease to now + options.lease.
    virtual Status RenewLease(std::int64_t run_id, const std::string& owner, TimePoint now) = 0;
    /// The run's step checkpoints by index (steps never begun are absent; empty for an unknown run).
    virtual Result<std::vector<StepRecord>> GetSteps(std::int64_t run_id) = 0;
    /// Records that step `index` is about to cause its effect. Returns the status the step had
    /// before (kStarted = an earlier attempt died inside this step). A step that is kDone stays
    /// untouched (kDone is returned; the caller skips it).
    virtual Result<StepStatus> BeginStep(std::int64_t run_id, const std::string& owner, int index,
                                         const std::string& name, TimePoint now) = 0;
    /// Checkpoints step `index` with its output and advances next_step to index + 1 (never backwards),
    /// in one transaction. kInvalidArgument when BeginStep was not called for this step.
    virtual Status FinishStep(std::int64_t run_id, const std::string& owner, int index, const Json& output,
                              TimePoint now) = 0;
    /// The run is kDone; lease released.
    virtual Status CompleteRun(std::int64_t run_id, const std::string& owner, TimePoint now) = 0;
    /// FinishStep(index) and BeginStep(next_index, next_name) in one transaction: one commit between two
    /// steps instead of two. Returns what BeginStep returns for the next step. The next step is recorded
    /// as begun before the caller causes its effect, so a crash right after this write makes that step
    /// look before it acts on resume, as for any begun step. Nothing is written when it fails.
    virtual Result<StepStatus> FinishAndBeginStep(std::int64_t run_id, const std::string& owner, int index,
                                                  const Json& output, int next_index,
                                                  const std::string& next_name, TimePoint now) = 0;
    /// FinishStep(index) and CompleteRun in one transaction (the run's last step). Nothing is written when
    /// it fails.
    virtual Status FinishLastStep(std::int64_t run_id, const std::string& owner, int index,
                                  const Json& output, TimePoint now) = 0;
    /// Transient failure: back to pending at `next_attempt_at`, attempts + 1, lease released; failed_at is
    /// set to now on the first failure (kept on later ones).
    virtual Status RetryRun(std::int64_t run_id, const std::string& owner, TimePoint next_attempt_at,
                            const std::string& error) = 0;
    /// Permanent failure or budget exhausted: to the dead-letter list with the reason (kDead,
    /// attempts + 1, lease released, next_step kept for a later RetryDeadLetter).
    virtual Status DeadLetterRun(std::int64_t run_id, const std::string& owner, const std::string& reason,
                                 TimePoint now) = 0;
    /// Gives a run back untouched (graceful shutdown): pending, due now, attempts unchanged.
    virtual Status ReleaseRun(std::int64_t run_id, const std::string& owner) = 0;
    /// Gives a run back untouched until `not_before` (a dependency its next step needs is busy): pending,
    /// attempts and failed_at unchanged, lease released; other runs of its lock key may go first.
    virtual Status DeferRun(std::int64_t run_id, const std::string& owner, TimePoint not_before) = 0;
    /// When the next pending event or run becomes due (nullopt: nothing waiting). Workers sleep until
    /// then or until the wake-up callback fires. May be in the past (work is due now). Counts lease
    /// expiries (a takeover becomes possible) and skips runs whose lock key another run holds (the
    /// holder's end fires the wake-up; the holder's own lease expiry is counted).
    virtual Result<std::optional<TimePoint>> NextDueTime() = 0;

    /// Called (from any thread) whenever work may have become available: a new event, new runs, a
    /// retry. Set once before workers start. PostgreSQL calls it for other replicas' work too
    /// (LISTEN/NOTIFY). SQLite calls it on its writer thread after the commit that made the work
    /// available: a stored event, created runs, a retry or release due now, a dead letter retried, a
    /// replay, or a run with a lock key finishing while another run waits for that key. It runs before
    /// that batch's callbacks and synchronous writes return. Keep it short (notify a condition
    /// variable); the same rules as for AppendCallback apply.
    virtual void SetWakeup(std::function<void()> wakeup) = 0;
};

/// What an operator sees and does (the admin API and the CLI): readiness, listings, the dead-letter
/// list, replays, counts.
class Admin {
public:
    virtual ~Admin() = default;
    /// Readiness: the store can commit a write right now (it commits a small one). kUnavailable at
    /// once while appends are refused for max_pending_appends.
    virtual Status Ping() = 0;

    virtual Result<std::vector<EventRecord>> ListEvents(const EventFilter& filter) = 0;
    virtual Result<std::optional<EventRecord>> GetEvent(std::int64_t seq) = 0;
    /// By DocSpace's event id (any webhook); the newest match.
    virtual Result<std::optional<EventRecord>> FindEvent(std::string_view event_id) = 0;
    virtual Result<std::vector<RunRecord>> ListRuns(const RunFilter& filter) = 0;
    virtual Result<std::optional<RunRecord>> GetRun(std::int64_t run_id) = 0;
    /// As WorkQueue::GetSteps.
    virtual Result<std::vector<StepRecord>> GetSteps(std::int64_t run_id) = 0;
    /// Dead runs and failed events, most recently failed first.
    virtual Result<std::vector<DeadLetter>> ListDeadLetters(std::size_t limit) = 0;
    /// Per rule name that has runs, in name order: its runs by state and its newest run's creation.
    virtual Result<std::vector<RuleRunCounts>> CountRunsByRule() = 0;
    /// Puts a dead run (attempts reset, resumes at its first unfinished step) or a failed event back
    /// in the queue. kNotFound when no such dead letter.
    virtual Status RetryDeadLetter(DeadLetter::Kind kind, std::int64_t id, TimePoint now) = 0;
    /// Removes a dead letter from the list for good (the run becomes kDropped / the event kIgnored).
    virtual Status DropDeadLetter(DeadLetter::Kind kind, std::int64_t id) = 0;
    /// RetryDeadLetter for every dead letter `filter` takes, in one transaction; how many.
    virtual Result<std::int64_t> RetryDeadLetters(const DeadLetterFilter& filter, TimePoint now) = 0;
    /// DropDeadLetter for every dead letter `filter` takes, in one transaction; how many.
    virtual Result<std::int64_t> DropDeadLetters(const DeadLetterFilter& filter) = 0;
    /// Dispatches the event again as if new: replay_generation + 1, so its runs get fresh keys. Works in
    /// any state: the event becomes pending, due at `now`, attempts 0, last_error cleared, and a
    /// dispatcher holding its lease loses it (its CompleteDispatch gets kConflict). kNotFound if absent.
    virtual Status ReplayEvent(std::int64_t seq, TimePoint now) = 0;
    virtual Result<StoreStats> Stats() = 0;
};

/// Token buckets kept in the store, so every process using it (replicas on one PostgreSQL database,
/// processes on one SQLite file) draws from the same ones.
class RateLimits {
public:
    virtual ~RateLimits() = default;
    /// Takes one token from the token bucket `key` (created full, `burst` tokens, refilling at
    /// `rate_per_second`). Returns 0 when the token was taken, else how long to wait before asking again
    /// (nothing was taken): what remains of a pause, or until a token accrues. `now` is the caller's wall
    /// clock; processes sharing a bucket should keep their clocks in sync (as for leases).
    virtual Result<std::chrono::milliseconds> AcquireRateToken(const std::string& key, double rate_per_second,
                                                               int burst, TimePoint now) = 0;
    /// Nobody takes a token from `key` before `until` (a 429's Retry-After, seen by one process, holds
    /// for all), and the bucket refills from empty after it. An `until` earlier than the pause in force
    /// changes nothing.
    virtual Status PauseRateLimit(const std::string& key, TimePoint until, TimePoint now) = 0;
};

/// A few named values every process using the store shares and that outlive a restart (where catch-up
/// stopped reading the portal's log, the watcher's last report, what the alerts told whom), and leases
/// for a job one process at a time is enough for (reading the portal's log, alerting: docs/replicas.md).
class SharedState {
public:
    virtual ~SharedState() = default;
    /// The value kept under `name`; nullopt when none.
    virtual Result<std::optional<std::string>> GetValue(const std::string& name) = 0;
    virtual Status PutValue(const std::string& name, const std::string& value) = 0;
    /// Takes lease `name` for `owner` until now + ttl, unless another owner holds it unexpired; renews it
    /// when `owner` holds it. True when `owner` holds it after the call. As for runs, `now` is the caller's
    /// clock: processes sharing a lease keep their clocks in sync.
    virtual Result<bool> TakeLease(const std::string& name, const std::string& owner, TimePoint now,
                                   std::chrono::milliseconds ttl) = 0;
    /// Gives the lease up, when `owner` holds it, so another process need not wait for it to expire.
    virtual Status ReleaseLease(const std::string& name, const std::string& owner) = 0;
};

/// The durable store behind every part of spacehook: the journal, runs, step checkpoints, the
/// dead-letter list, shared rate limits and shared state, in all its roles. One implementation (the
/// ledger) over two databases: SQLite embedded, PostgreSQL for replicas.
class Store : public Journal, public WorkQueue, public Admin, public RateLimits, public SharedState {
public:
    /// One method for both roles that read checkpoints.
    Result<std::vector<StepRecord>> GetSteps(std::int64_t run_id) override = 0;
    /// Stops the writer after flushing what is queued (their callbacks run). Later calls fail with
    /// kUnavailable (Append through its callback). Idempotent; the destructor closes too.
    virtual void Close() = 0;
};

/// Opens (and migrates) a store from a URL: "sqlite:PATH" (file created if missing, owner-only; ":memory:"
/// is refused, it would not be durable) or "postgres://..." / "postgresql://..." (libpq URL syntax,
/// docs/replicas.md; several replicas may share one database).
/// kConfig for a bad URL (the message shows it through RedactStoreUrl), a file that cannot be opened,
/// or a database whose schema is newer than this binary knows; kUnavailable when the PostgreSQL server
/// cannot be reached. `clock` must outlive the store.
Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const StoreOptions& options,
                                         const Clock& clock);

/// True for the URLs of a store that several processes on several machines share (PostgreSQL): what is
/// kept in it (journal, runs, lock keys, rate limits) holds across replicas.
bool IsSharedStoreUrl(std::string_view url);

/// The URL with any password replaced by "***" ("postgres://app:***@db/spacehook", also a
/// "password=" query parameter), safe for logs and error messages.
std::string RedactStoreUrl(std::string_view url);

}  // namespace spacehook::store
