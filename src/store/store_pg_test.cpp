// PostgreSQL-only behaviour: several stores on one database standing in for replicas (dedupe, claims,
// lock keys, takeover after a replica died), LISTEN/NOTIFY wake-ups, migrations racing, group commit,
// and what the writer answers when a commit, its session or the whole server fails.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "store/pg_schema.hpp"
#include "store/store_test_support.hpp"

namespace spacehook::store::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

/// How long a NOTIFY may take to wake another store. Loopback delivery takes about a millisecond; the
/// bound is generous so a loaded CI machine does not flake, yet far below any polling fallback.
constexpr milliseconds kWakeupBound{2000};

/// Runs `count` workers per store until `done()` or the deadline; each calls `step(store, owner)`.
template <class Step, class Done>
void RunWorkers(const std::vector<Store*>& stores, int count, Step step, Done done) {
    const auto deadline = SteadyClock::now() + kWait;
    std::vector<std::thread> threads;
    for (std::size_t s = 0; s < stores.size(); ++s) {
        for (int w = 0; w < count; ++w) {
            threads.emplace_back([&, s, w] {
                const std::string owner = fmt::format("replica-{}:worker-{}", s, w);
                while (!done() && SteadyClock::now() < deadline) step(*stores[s], owner);
            });
        }
    }
    for (auto& thread : threads) thread.join();
}

/// Counts wake-ups and lets a test wait (bounded) for the next ones.
class WakeupRecorder {
public:
    std::function<void()> Callback() {
        return [this] {
            std::lock_guard lock(mu_);
            times_.push_back(SteadyClock::now());
            cv_.notify_all();
        };
    }
    /// The time of wake-up number `n` (1-based), waiting up to kWait for it.
    std::optional<SteadyClock::time_point> WaitFor(std::size_t n) {
        std::unique_lock lock(mu_);
        if (!cv_.wait_for(lock, kWait, [&] { return times_.size() >= n; })) return std::nullopt;
        return times_[n - 1];
    }
    std::size_t count() {
        std::lock_guard lock(mu_);
        return times_.size();
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<SteadyClock::time_point> times_;
};

TEST_F(PgStoreTest, DeliveriesAreDeduplicatedAcrossReplicas) {
    auto other = OpenAnother();
    ASSERT_TRUE(other);
    constexpr int kEvents = 400;
    std::vector<std::atomic<int>> stored(kEvents);
    std::atomic<int> answered{0};
    std::atomic<int> errors{0};
    auto callback = [&](int i) {
        return [&, i](Result<AppendOutcome> r) {
            if (!r) {
                ++errors;
            } else if (*r == AppendOutcome::kStored) {
                ++stored[static_cast<std::size_t>(i)];
            }
            ++answered;
        };
    };
    // The same deliveries reach both replicas at once, in opposite orders, so their batches overlap
    // and conflict both ways.
    std::thread a([&] {
        for (int i = 0; i < kEvents; ++i) store_->Append(MakeDelivery("wh", std::to_string(i)), callback(i));
    });
    std::thread b([&] {
        for (int i = kEvents - 1; i >= 0; --i)
            other->Append(MakeDelivery("wh", std::to_string(i)), callback(i));
    });
    a.join();
    b.join();
    const auto deadline = SteadyClock::now() + kWait;
    while (answered.load() < 2 * kEvents && SteadyClock::now() < deadline)
        std::this_thread::sleep_for(milliseconds(5));
    ASSERT_EQ(answered.load(), 2 * kEvents);
    EXPECT_EQ(errors.load(), 0);
    for (int i = 0; i < kEvents; ++i)
        EXPECT_EQ(stored[static_cast<std::size_t>(i)].load(), 1) << "event " << i;
    EXPECT_EQ(store_->Stats()->events_total, kEvents);
    other->Close();
}

TEST_F(PgStoreTest, ReplicasNeverClaimOneEventTwice) {
    constexpr int kEvents = 120;
    for (int i = 0; i < kEvents; ++i)
        ASSERT_TRUE(AppendAndWait(*store_, MakeDelivery("wh", std::to_string(i))));
    auto b = OpenAnother();
    auto c = OpenAnother();
    ASSERT_TRUE(b && c);
    std::mutex mu;
    std::map<std::int64_t, int> claims;
    std::atomic<int> errors{0};
    RunWorkers(
        {store_.get(), b.get(), c.get()}, 2,
        [&](Store& store, const std::string& owner) {
            auto claimed = store.ClaimEvents(owner, 7, clock_.Now());
            if (!claimed) {
                ++errors;
                return;
            }
            for (const EventRecord& event : *claimed) {
                {
                    std::lock_guard lock(mu);
                    ++claims[event.seq];
                }
                if (!store.CompleteDispatch(event.seq, owner, {}, EventState::kIgnored, "test")) ++errors;
            }
            if (claimed->empty()) std::this_thread::sleep_for(milliseconds(1));
        },
        [&] {
            std::lock_guard lock(mu);
            return claims.size() == static_cast<std::size_t>(kEvents);
        });
    EXPECT_EQ(errors.load(), 0);
    ASSERT_EQ(claims.size(), static_cast<std::size_t>(kEvents));
    for (const auto& [seq, count] : claims) EXPECT_EQ(count, 1) << "event " << seq;
    EventFilter pending;
    pending.state = EventState::kPending;
    EXPECT_TRUE(store_->ListEvents(pending)->empty());
    b->Close();
    c->Close();
}

TEST_F(PgStoreTest, ReplicasNeverRunOneRunTwiceNorTwoRunsOfALockKeyAtOnce) {
    constexpr int kRuns = 150;
    std::vector<NewRun> runs;
    runs.reserve(kRuns);
    for (int i = 0; i < kRuns; ++i) {
        runs.push_back(MakeRun(fmt::format("r{}", i), i % 2 == 0 ? fmt::format("room:{}", i % 5) : "", 1));
    }
    DispatchRuns("a", runs);
    auto b = OpenAnother();
    auto c = OpenAnother();
    ASSERT_TRUE(b && c);

    std::mutex mu;
    std::map<std::int64_t, int> claims;
    std::map<std::string, int> running_per_key;
    std::map<std::string, std::int64_t> last_started;  // lock key -> id of the run that started last
    int overlaps = 0;
    int out_of_order = 0;
    std::atomic<int> done{0};
    std::atomic<int> errors{0};
    RunWorkers(
        {store_.get(), b.get(), c.get()}, 3,
        [&](Store& store, const std::string& owner) {
            auto claimed = store.ClaimRun(owner, clock_.Now());
            if (!claimed) {
                ++errors;
                return;
            }
            if (!*claimed) {
                std::this_thread::sleep_for(milliseconds(1));
                return;
            }
            const RunRecord run = **claimed;
            {
                std::lock_guard lock(mu);
                ++claims[run.id];
                if (!run.lock_key.empty()) {
                    if (running_per_key[run.lock_key]++ > 0) ++overlaps;
                    // Runs of one key start in creation order, across replicas too.
                    if (run.id < last_started[run.lock_key]) ++out_of_order;
                    last_started[run.lock_key] = run.id;
                }
            }
            std::this_thread::sleep_for(std::chrono::microseconds(300));  // the run's effects
            {
                // Before CompleteRun: until it commits nobody else can claim this key, so a claim seen
                // while the counter is up is a real overlap.
                std::lock_guard lock(mu);
                if (!run.lock_key.empty()) --running_per_key[run.lock_key];
            }
            if (store.CompleteRun(run.id, owner, clock_.Now())) {
                ++done;
            } else {
                ++errors;
            }
        },
        [&] { return done.load() >= kRuns; });

    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(overlaps, 0);
    EXPECT_EQ(out_of_order, 0);
    EXPECT_EQ(done.load(), kRuns);
    ASSERT_EQ(claims.size(), static_cast<std::size_t>(kRuns));
    for (const auto& [id, count] : claims) EXPECT_EQ(count, 1) << "run " << id;
    EXPECT_EQ(store_->Stats()->runs_done, kRuns);
    b->Close();
    c->Close();
}

TEST_F(PgStoreTest, ReplicasWithSkewedClocksNeverRunTwoRunsOfALockKeyAtOnce) {
    // Each replica passes its own `now` (clocks a little apart, as on real machines), and every run is
    // first sent back with a short retry delay, so a run can be due for one replica and not yet for
    // another. Then "only the oldest due run of a key may start" cannot keep two runs of a key apart
    // on its own (the replicas disagree on which is due); the claim's lock on the key must.
    constexpr int kRuns = 90;
    std::vector<NewRun> runs;
    runs.reserve(kRuns);
    for (int i = 0; i < kRuns; ++i)
        runs.push_back(MakeRun(fmt::format("r{}", i), fmt::format("room:{}", i % 3), 1));
    DispatchRuns("a", runs);
    auto b = OpenAnother();
    auto c = OpenAnother();
    ASSERT_TRUE(b && c);
    const std::vector<Store*> stores = {store_.get(), b.get(), c.get()};
    const TimePoint base = clock_.Now();
    const auto start = SteadyClock::now();
    auto now_of = [&](const Store& store) {
        const auto skew = milliseconds(&store == stores[0] ? 0 : &store == stores[1] ? 40 : 80);
        return base + std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start) + skew;
    };

    std::mutex mu;
    std::set<std::int64_t> retried;
    std::map<std::string, int> running_per_key;
    int overlaps = 0;
    std::atomic<int> done{0};
    std::atomic<int> errors{0};
    RunWorkers(
        stores, 3,
        [&](Store& store, const std::string& owner) {
            const TimePoint now = now_of(store);
            auto claimed = store.ClaimRun(owner, now);
            if (!claimed) {
                ++errors;
                return;
            }
            if (!*claimed) {
                std::this_thread::sleep_for(milliseconds(1));
                return;
            }
            const RunRecord run = **claimed;
            bool retry = false;
            {
                std::lock_guard lock(mu);
                if (running_per_key[run.lock_key]++ > 0) ++overlaps;
                retry = retried.insert(run.id).second;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(500));
            {
                std::lock_guard lock(mu);
                --running_per_key[run.lock_key];
            }
            const bool ok =
                retry ? static_cast<bool>(store.RetryRun(run.id, owner, now + milliseconds(60), "again"))
                      : static_cast<bool>(store.CompleteRun(run.id, owner, now));
            if (!ok) {
                ++errors;
            } else if (!retry) {
                ++done;
            }
        },
        [&] { return done.load() >= kRuns; });

    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(overlaps, 0);
    EXPECT_EQ(done.load(), kRuns);
    b->Close();
    c->Close();
}

TEST_F(PgStoreTest, ARunOfADeadReplicaIsTakenOverAtItsCheckpoint) {
    DispatchRuns("a", {MakeRun("r1", "room:1", 3), MakeRun("r2", "room:1", 1)});
    auto dying = OpenAnother();
    ASSERT_TRUE(dying);
    auto claimed = dying->ClaimRun("replica-a:w1", clock_.Now());
    ASSERT_TRUE(claimed && *claimed);
    const RunRecord run = **claimed;
    EXPECT_EQ(run.run_key, "r1");
    ASSERT_TRUE(dying->BeginStep(run.id, "replica-a:w1", 0, "create-room", clock_.Now()));
    ASSERT_TRUE(dying->FinishStep(run.id, "replica-a:w1", 0, Json{{"room_id", 890}}, clock_.Now()));
    ASSERT_TRUE(dying->BeginStep(run.id, "replica-a:w1", 1, "share", clock_.Now()));
    dying->Close();  // the replica is gone without a word; its lease stays in the database
    dying.reset();

    // Until the lease runs out the run is its owner's, and room:1 stays held (r2 waits too).
    EXPECT_FALSE(*store_->ClaimRun("replica-b:w1", clock_.Now()));
    EXPECT_EQ(store_->NextDueTime().value(), run.lease_until);
    clock_.Set(run.lease_until);
    const RunRecord taken = MustClaimRun("replica-b:w1");
    EXPECT_EQ(taken.id, run.id);
    EXPECT_TRUE(taken.taken_over);
    EXPECT_EQ(taken.next_step, 1);
    EXPECT_EQ(taken.attempts, 0);
    EXPECT_FALSE(*store_->ClaimRun("replica-b:w2", clock_.Now()));  // room:1 is held again

    // It resumes at the checkpoint: step 0's output is there, step 1 may have had its effect.
    EXPECT_EQ(store_->BeginStep(run.id, "replica-b:w1", 0, "create-room", clock_.Now()).value(),
              StepStatus::kDone);
    EXPECT_EQ(store_->BeginStep(run.id, "replica-b:w1", 1, "share", clock_.Now()).value(),
              StepStatus::kStarted);
    EXPECT_EQ((*store_->GetSteps(run.id))[0].output["room_id"], 890);
    // Were the old owner alive after all, every write of it is fenced.
    EXPECT_EQ(store_->FinishStep(run.id, "replica-a:w1", 1, Json{}, clock_.Now()).error().code,
              ErrorCode::kConflict);
    ASSERT_TRUE(store_->FinishStep(run.id, "replica-b:w1", 1, Json{}, clock_.Now()));
    ASSERT_TRUE(store_->CompleteRun(run.id, "replica-b:w1", clock_.Now()));
    EXPECT_EQ(MustClaimRun("replica-b:w2").run_key, "r2");
}

TEST_F(PgStoreTest, AReplicaKilledMidRunLeavesNoLockBehind) {
    DispatchRuns("a", {MakeRun("r1", "room:1", 2)});
    store_->Close();  // fork below: no store threads in this process while it happens
    store_.reset();

    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // The replica: claims the run, starts step 0 and holds a transaction open on the run's row
        // when it is killed.
        close(ready[0]);
        alarm(60);
        auto store = OpenStore(Url(), StoreOptions{}, clock_);
        if (!store) _exit(3);
        auto run = (*store)->ClaimRun("replica-a:w1", clock_.Now());
        if (!run || !*run) _exit(4);
        if (!(*store)->BeginStep((*run)->id, "replica-a:w1", 0, "create-room", clock_.Now())) _exit(5);
        auto db = pg::Connection::Open(Url(), pg::ConnectOptions{});
        if (!db || !(*db)->Exec("BEGIN") ||
            !(*db)->Query("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", pg::Params::Of((*run)->id))) {
            _exit(6);
        }
        if (write(ready[1], "x", 1) != 1) _exit(7);
        pause();
        _exit(8);
    }
    close(ready[1]);
    char byte = 0;
    const ssize_t got = read(ready[0], &byte, 1);
    close(ready[0]);
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_EQ(got, 1) << "the replica process failed before claiming (exit "
                      << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ")";

    Reopen();
    // The server ends the dead sessions (their row locks go with them); the lease is what remains.
    auto run = store_->ListRuns({});
    ASSERT_TRUE(run && run->size() == 1u);
    EXPECT_EQ((*run)[0].lease_owner, "replica-a:w1");
    clock_.Set((*run)[0].lease_until);
    // Bounded: the server notices the dead client's socket at once on loopback, but give it time.
    std::optional<RunRecord> taken;
    const auto deadline = SteadyClock::now() + kWait;
    while (!taken && SteadyClock::now() < deadline) {
        auto claimed = store_->ClaimRun("replica-b:w1", clock_.Now());
        ASSERT_TRUE(claimed) << claimed.error().message;
        if (*claimed) taken = **claimed;
        if (!taken) std::this_thread::sleep_for(milliseconds(20));
    }
    ASSERT_TRUE(taken);
    EXPECT_TRUE(taken->taken_over);
    EXPECT_EQ(store_->BeginStep(taken->id, "replica-b:w1", 0, "create-room", clock_.Now()).value(),
              StepStatus::kStarted);
}

TEST_F(PgStoreTest, NotifyWakesAnIdleReplicaPromptly) {
    auto idle = OpenAnother();
    ASSERT_TRUE(idle);
    WakeupRecorder wakeups;
    idle->SetWakeup(wakeups.Callback());
    std::vector<double> latencies_ms;
    auto expect_wakeup = [&](std::size_t n, SteadyClock::time_point since, const char* what) {
        auto at = wakeups.WaitFor(n);
        ASSERT_TRUE(at) << what << ": no wake-up within " << kWait.count() << " s";
        const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(*at - since);
        EXPECT_LT(latency, kWakeupBound) << what;
        latencies_ms.push_back(static_cast<double>(latency.count()) / 1000.0);
    };

    // A delivery another replica stored.
    auto t = SteadyClock::now();
    const std::int64_t seq = StoreEvent("a");
    expect_wakeup(1, t, "stored event");
    // Runs another replica's dispatcher created.
    ASSERT_EQ(store_->ClaimEvents("d", 10, clock_.Now())->size(), 1u);
    t = SteadyClock::now();
    ASSERT_TRUE(store_->CompleteDispatch(seq, "d", {MakeRun("r1", "room:1"), MakeRun("r2", "room:1")},
                                         EventState::kDispatched, ""));
    expect_wakeup(2, t, "created runs");
    // A lock key another replica released while a run waits for it.
    const auto holder = MustClaimRun("w");
    t = SteadyClock::now();
    ASSERT_TRUE(store_->CompleteRun(holder.id, "w", clock_.Now()));
    expect_wakeup(3, t, "released lock key");
    // A duplicate changes nothing: no wake-up (checked after a later one arrived, in commit order).
    ASSERT_TRUE(AppendAndWait(*store_, MakeDelivery("wh", "a")));
    t = SteadyClock::now();
    StoreEvent("b");
    expect_wakeup(4, t, "second stored event");
    EXPECT_EQ(wakeups.count(), 4u);

    std::printf("NOTIFY wake-up latency (ms):");
    for (double ms : latencies_ms) std::printf(" %.2f", ms);
    std::printf("\n");
    idle->Close();
}

TEST_F(PgStoreTest, ListenerReconnectsAfterItsSessionIsKilledAndLooksForWork) {
    WakeupRecorder wakeups;
    store_->SetWakeup(wakeups.Callback());
    const int pid = Postgres().ListenerPidForTesting();
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(ExecRaw(fmt::format("SELECT pg_terminate_backend({})", pid)));
    // Back with a new session, and one wake-up: what was announced meanwhile is lost, look for it.
    ASSERT_TRUE(wakeups.WaitFor(1));
    EXPECT_GE(Postgres().ListenerReconnectsForTesting(), 1u);
    const int new_pid = Postgres().ListenerPidForTesting();
    EXPECT_GT(new_pid, 0);
    EXPECT_NE(new_pid, pid);
    // It hears other replicas again.
    auto other = OpenAnother();
    ASSERT_TRUE(other);
    ASSERT_TRUE(AppendAndWait(*other, MakeDelivery("wh", "after-reconnect")));
    EXPECT_TRUE(wakeups.WaitFor(2));
    other->Close();
}

TEST_F(PgStoreTest, ReplicasStartingTogetherMigrateOnce) {
    auto url = pg_->CreateDatabase();
    ASSERT_TRUE(url) << url.error().message;
    constexpr int kReplicas = 6;
    std::vector<Result<std::unique_ptr<Store>>> opened;
    opened.reserve(kReplicas);
    for (int i = 0; i < kReplicas; ++i) opened.emplace_back(Fail(ErrorCode::kInternal, "not run"));
    std::vector<std::thread> threads;
    threads.reserve(kReplicas);
    for (int i = 0; i < kReplicas; ++i) {
        threads.emplace_back(
            [&, i] { opened[static_cast<std::size_t>(i)] = OpenStore(*url, StoreOptions{}, clock_); });
    }
    for (auto& thread : threads) thread.join();
    for (auto& store : opened) {
        ASSERT_TRUE(store) << store.error().message;
    }
    auto db = pg::Connection::Open(*url, pg::ConnectOptions{});
    ASSERT_TRUE(db);
    EXPECT_EQ((*db)->QueryInt("SELECT COUNT(*) FROM schema_migrations").value(),
              static_cast<std::int64_t>(pg::Migrations().size()));
    ASSERT_TRUE(AppendAndWait(**opened[0], MakeDelivery("wh", "1")));
    EXPECT_EQ(AppendAndWait(**opened[kReplicas - 1], MakeDelivery("wh", "1")).value(),
              AppendOutcome::kDuplicate);
    for (auto& store : opened) (*store)->Close();
}

TEST_F(PgStoreTest, MigrationsApplyOnlyWhatIsMissingAndRollBackAFailure) {
    auto url = pg_->CreateDatabase();
    ASSERT_TRUE(url);
    auto db = pg::Connection::Open(*url, pg::ConnectOptions{});
    ASSERT_TRUE(db) << db.error().message;
    const TimePoint now = FromUnixMillis(1'782'814'542'000);
    const pg::Migration v1[] = {{1, "one", "CREATE TABLE t1 (a INTEGER)"}};
    EXPECT_EQ(pg::ApplyMigrations(**db, v1, now).value(), 1);
    EXPECT_EQ(pg::ApplyMigrations(**db, v1, now).value(), 1);  // nothing to do

    const pg::Migration v3[] = {{1, "one", "CREATE TABLE t1 (a INTEGER)"},
                                {2, "two", "CREATE TABLE t2 (b TEXT)"},
                                {3, "broken", "CREATE TABLE t3 (c TEXT); INSERT INTO missing VALUES (1)"}};
    auto failed = pg::ApplyMigrations(**db, v3, now);
    ASSERT_FALSE(failed);
    EXPECT_NE(failed.error().message.find("schema migration 3 (broken)"), std::string::npos)
        << failed.error().message;
    EXPECT_EQ((*db)->QueryInt("SELECT MAX(version) FROM schema_migrations").value(), 1);
    EXPECT_EQ((*db)->QueryInt("SELECT COUNT(*) FROM pg_tables WHERE tablename IN ('t2', 't3')").value(), 0);
    EXPECT_FALSE((*db)->InTransaction());

    const pg::Migration v2[] = {v3[0], v3[1]};
    EXPECT_EQ(pg::ApplyMigrations(**db, v2, now).value(), 2);
    EXPECT_EQ((*db)->QueryInt("SELECT applied_at FROM schema_migrations WHERE version = 2").value(),
              ToUnixMillis(now));
    auto newer = pg::ApplyMigrations(**db, v1, now);
    ASSERT_FALSE(newer);
    EXPECT_EQ(newer.error().code, ErrorCode::kConfig);
    const pg::Migration gap[] = {{1, "one", "SELECT 1"}, {3, "three", "SELECT 1"}};
    EXPECT_EQ(pg::ApplyMigrations(**db, gap, now).error().code, ErrorCode::kInternal);
}

TEST_F(PgStoreTest, NextDueTimeIsAnIndexLookupNotABacklogScan) {
    // Every runner thread of every replica asks before it sleeps: with a backlog, a scan would cost
    // O(backlog) per wake-up. The plan must walk the due-time indexes of migration 2 (sequential scans
    // are switched off so the tiny test tables do not make a scan the cheaper plan anyway).
    for (int i = 0; i < 20; ++i) StoreEvent(fmt::format("e{}", i));
    DispatchRuns("r", {MakeRun("held", "room:1"), MakeRun("waiter", "room:1")});
    auto db = pg::Connection::Open(Url(), pg::ConnectOptions{});
    ASSERT_TRUE(db) << db.error().message;
    ASSERT_TRUE((*db)->Exec("SET enable_seqscan = off"));
    auto plan = (*db)->Query("EXPLAIN " + pg::PgDatabase::NextDueTimeQuery(), pg::Params::Of(clock_.Now()));
    ASSERT_TRUE(plan) << plan.error().message;
    std::string text;
    for (int r = 0; r < plan->size(); ++r) text += plan->Text(r, 0) + "\n";
    EXPECT_NE(text.find("events_pending_due"), std::string::npos) << text;
    EXPECT_NE(text.find("runs_live_due"), std::string::npos) << text;
    EXPECT_EQ(store_->NextDueTime().value(), clock_.Now());
}

TEST_F(PgStoreTest, ConcurrentAcknowledgedAppendsShareCommits) {
    // Each thread is one ingress connection: it waits for its ack before sending the next delivery.
    constexpr int kThreads = 16;
    constexpr int kPerThread = 40;
    const auto before = store_->Stats()->commits;
    std::atomic<int> stored{0};
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                auto r = AppendAndWait(*store_, MakeDelivery("wh", fmt::format("{}-{}", t, i)));
                if (r && *r == AppendOutcome::kStored) ++stored;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(stored.load(), kThreads * kPerThread);
    const auto commits = store_->Stats()->commits - before;
    EXPECT_GT(commits, 0);
    EXPECT_LT(commits, kThreads * kPerThread);
    std::printf("%d acknowledged appends in %lld commits\n", kThreads * kPerThread,
                static_cast<long long>(commits));
}

TEST_F(PgStoreTest, AFailedCommitFailsTheWholeBatchWithUnavailable) {
    ASSERT_TRUE(AppendAndWait(*store_, MakeDelivery("wh", "before")));
    // A deferred constraint trigger refuses at COMMIT, after every INSERT of the batch succeeded.
    ASSERT_TRUE(ExecRaw(
        "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.event_id = 'poison' THEN RAISE EXCEPTION 'injected commit failure'; END IF; RETURN NULL; END "
        "$$; "
        "CREATE CONSTRAINT TRIGGER refuse_poison AFTER INSERT ON events DEFERRABLE INITIALLY DEFERRED "
        "FOR EACH ROW EXECUTE FUNCTION refuse_poison()"));
    std::atomic<int> wakeups{0};
    store_->SetWakeup([&] { ++wakeups; });
    const auto commits_before = store_->Stats()->commits;

    PauseWriter(true);
    CallbackLatch latch;
    for (const char* id : {"a", "poison", "b"}) store_->Append(MakeDelivery("wh", id), latch.Callback());
    PauseWriter(false);
    ASSERT_TRUE(latch.WaitFor(3));
    for (const auto& r : latch.Results()) {
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
        EXPECT_NE(r.error().message.find("nothing of its batch was kept"), std::string::npos)
            << r.error().message;
        EXPECT_NE(r.error().message.find("injected commit failure"), std::string::npos) << r.error().message;
    }
    for (const char* id : {"a", "poison", "b"}) EXPECT_FALSE(*store_->FindEvent(id)) << id;
    EXPECT_EQ(store_->Stats()->commits, commits_before);
    EXPECT_EQ(wakeups.load(), 0);  // nothing new to work on

    // The callers retry once the database accepts again: stored, not duplicates.
    ASSERT_TRUE(ExecRaw("DROP TRIGGER refuse_poison ON events; DROP FUNCTION refuse_poison()"));
    for (const char* id : {"a", "poison", "b"})
        EXPECT_EQ(AppendAndWait(*store_, MakeDelivery("wh", id)).value(), AppendOutcome::kStored);
    EXPECT_TRUE(store_->Ping());
}

TEST_F(PgStoreTest, AppendWriterReconnectsAfterItsSessionIsKilled) {
    ASSERT_EQ(AppendAndWait(*store_, MakeDelivery("wh", "a")).value(), AppendOutcome::kStored);
    ASSERT_TRUE(
        ExecRaw("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'spacehook-append' AND datname = current_database()"));
    // The writer finds the session dead before sending anything of the next batch, so it reconnects
    // and the delivery is stored rather than refused.
    auto next = AppendAndWait(*store_, MakeDelivery("wh", "b"));
    ASSERT_TRUE(next) << next.error().message;
    EXPECT_EQ(*next, AppendOutcome::kStored);
}

TEST_F(PgStoreTest, PooledSessionsKilledByTheServerAreReplaced) {
    DispatchRuns("a", {MakeRun("r1")});
    ASSERT_TRUE(ExecRaw(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'spacehook' AND datname = current_database() AND pid <> pg_backend_pid()"));
    auto run = store_->ClaimRun("w", clock_.Now());
    ASSERT_TRUE(run) << run.error().message;
    ASSERT_TRUE(*run);
    ASSERT_TRUE(store_->CompleteRun((*run)->id, "w", clock_.Now()));
}

TEST_F(PgStoreTest, AStoppedServerAnswersUnavailableWithinBounds) {
    auto server = PgServer::Start();
    ASSERT_TRUE(server) << server.error().message;
    auto url = (*server)->CreateDatabase();
    ASSERT_TRUE(url);
    StoreOptions options;
    options.busy_timeout = milliseconds(1000);
    options.write_timeout = milliseconds(2000);
    auto opened = OpenStore(*url, options, clock_);
    ASSERT_TRUE(opened) << opened.error().message;
    Store& store = **opened;
    ASSERT_TRUE(AppendAndWait(store, MakeDelivery("wh", "a")));

    ASSERT_TRUE((*server)->Stop());
    const auto start = SteadyClock::now();
    auto append = AppendAndWait(store, MakeDelivery("wh", "b"));
    ASSERT_FALSE(append);
    EXPECT_EQ(append.error().code, ErrorCode::kUnavailable) << append.error().message;
    EXPECT_EQ(store.Ping().error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(store.ClaimRun("w", clock_.Now()).error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(store.ListEvents({}).error().code, ErrorCode::kUnavailable);
    EXPECT_LT(SteadyClock::now() - start, seconds(15));
    store.Close();
}

}  // namespace
}  // namespace spacehook::store::testing
