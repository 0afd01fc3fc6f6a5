#pragma once

// Shared fixtures of the store tests.
//
// StoreTest is the conformance suite: every TEST_P runs against each backend it is instantiated with
// (store_conformance_sqlite.cpp: a SQLite file in a temp dir, label unit; store_conformance_pg.cpp: a
// fresh database on a throwaway PostgreSQL server this process starts, label pg), so both backends meet
// one contract. Hooks that reach behind the Store interface (pausing the writer, injecting a failure,
// raw SQL) have one implementation per backend here. SqliteStoreTest holds SQLite-only tests (pragmas,
// file modes, a full disk); PgStoreTest the PostgreSQL-only ones (store_pg_test.cpp).

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "store/ledger.hpp"
#include "store/pg_connection.hpp"
#include "store/pg_database.hpp"
#include "store/sqlite_database.hpp"
#include "store/store.hpp"
#include "store/testing/pg_server.hpp"

namespace spacehook::store::testing {

/// Every wait in these tests is bounded by this.
inline constexpr std::chrono::seconds kWait{20};

enum class Backend { kSqlite, kPostgres };

inline std::string_view ToString(Backend backend) {
    return backend == Backend::kSqlite ? "sqlite" : "postgres";
}
/// gtest's name for an instantiation: Backend/StoreTest.Foo/sqlite, Backend/StoreTest.Foo/postgres.
inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
    return std::string(ToString(info.param));
}
inline void PrintTo(Backend backend, std::ostream* out) {
    *out << ToString(backend);
}

/// A directory under $TMPDIR (or /tmp) removed with everything in it at destruction.
class TempDir {
public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string pattern =
            std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/spacehook-store-XXXXXX";
        if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
        path_ = pattern;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};

inline NewDelivery MakeDelivery(std::string webhook_id, std::string event_id,
                                std::string trigger = "file.created") {
    NewDelivery d;
    d.webhook_id = std::move(webhook_id);
    d.event_id = std::move(event_id);
    d.trigger = std::move(trigger);
    d.actor = "user-1";
    d.entity_id = "42";
    d.created_on = "2026-06-30T10:15:42.537Z";
    d.body = R"({"event":{"id":)" + d.event_id + "}}";
    d.received_at = FromUnixMillis(1'782'814'542'537);
    return d;
}

/// Appends and waits (bounded) for the callback.
inline Result<AppendOutcome> AppendAndWait(Store& store, NewDelivery delivery) {
    auto promise = std::make_shared<std::promise<Result<AppendOutcome>>>();
    auto future = promise->get_future();
    store.Append(std::move(delivery),
                 [promise](Result<AppendOutcome> r) { promise->set_value(std::move(r)); });
    if (future.wait_for(kWait) != std::future_status::ready) {
        ADD_FAILURE() << "append callback did not run within " << kWait.count() << " s";
        return Fail(ErrorCode::kTimeout, "test wait expired");
    }
    return future.get();
}

/// Counts append callbacks and lets a test wait (bounded) until `n` arrived.
class CallbackLatch {
public:
    AppendCallback Callback() {
        return [this](Result<AppendOutcome> result) {
            std::lock_guard lock(mu_);
            results_.push_back(std::move(result));
            cv_.notify_all();
        };
    }
    bool WaitFor(std::size_t n) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, kWait, [&] { return results_.size() >= n; });
    }
    std::vector<Result<AppendOutcome>> Results() {
        std::lock_guard lock(mu_);
        return results_;
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Result<AppendOutcome>> results_;
};

/// A test that needs PostgreSQL is skipped (not failed) where the server binaries are not installed,
/// unless SPACEHOOK_REQUIRE_PG=1 (scripts/test's pg stage sets it, so a broken setup cannot pass).
inline bool PgSkippable(const Error& error) {
    const char* required = std::getenv("SPACEHOOK_REQUIRE_PG");
    return PgServer::NotInstalled(error) && (required == nullptr || std::string(required) != "1");
}

/// The database name at the end of a postgres:// URL.
inline std::string DatabaseOf(const std::string& url) {
    return url.substr(url.rfind('/') + 1);
}

/// A store over one backend with a ManualClock, opened in SetUp, closed in TearDown.
class StoreFixture : public ::testing::Test {
protected:
    [[nodiscard]] virtual Backend backend() const = 0;

    void SetUp() override {
        if (backend() == Backend::kPostgres) {
            Error error{ErrorCode::kInternal, "", 0, std::nullopt};
            pg_ = SharedPgServer(&error);
            if (pg_ == nullptr && PgSkippable(error)) GTEST_SKIP() << error.message;
            ASSERT_NE(pg_, nullptr) << "cannot start the test PostgreSQL: " << error.message;
            auto url = pg_->CreateDatabase();
            ASSERT_TRUE(url) << url.error().message;
            url_ = *url;
        } else {
            url_ = "sqlite:" + DbPath();
        }
        Open();
    }
    void TearDown() override {
        if (store_) store_->Close();
    }

    [[nodiscard]] bool IsPostgres() const { return backend() == Backend::kPostgres; }
    /// The SQLite file (SQLite only).
    [[nodiscard]] std::string DbPath() const { return dir_.path() + "/store.db"; }
    [[nodiscard]] const std::string& Url() const { return url_; }

    void Open(StoreOptions options = {}) {
        if (store_) store_->Close();
        store_.reset();
        options_ = options;
        auto opened = OpenStore(Url(), options, clock_);
        ASSERT_TRUE(opened) << opened.error().message;
        store_ = std::move(*opened);
    }
    void Reopen() { Open(options_); }
    /// Another store on the same database or file (another replica / process), same clock.
    std::unique_ptr<Store> OpenAnother(StoreOptions options = {}) {
        auto opened = OpenStore(Url(), options, clock_);
        EXPECT_TRUE(opened) << opened.error().message;
        return opened ? std::move(*opened) : nullptr;
    }

    /// The backend under the store, for hooks behind the interface.
    static Database& BackendOf(Store& store) { return dynamic_cast<Ledger&>(store).database(); }
    sqlite::SqliteDatabase& Sqlite() { return dynamic_cast<sqlite::SqliteDatabase&>(BackendOf(*store_)); }
    pg::PgDatabase& Postgres() { return dynamic_cast<pg::PgDatabase&>(BackendOf(*store_)); }

    // --- hooks behind the interface, one implementation per backend ---------------------------

    /// While paused the append writer takes nothing from its queue (Close() un-pauses).
    void PauseWriter(bool paused) {
        if (IsPostgres()) {
            Postgres().PauseWriterForTesting(paused);
        } else {
            Sqlite().PauseWriterForTesting(paused);
        }
    }

    /// The single integer `sql` answers, read through a separate session (SQLite: the writer's).
    Result<std::int64_t> QueryInt(const std::string& sql) {
        if (!IsPostgres()) return Sqlite().QueryOnWriterForTesting(sql);
        auto db = pg::Connection::Open(Url(), pg::ConnectOptions{});
        if (!db) return Fail(db.error());
        return (*db)->QueryInt(sql);
    }

    /// Runs `sql` as the server's superuser (PostgreSQL) or on a raw connection to the file, which no
    /// store may hold open meanwhile (SQLite).
    Status ExecRaw(const std::string& sql) {
        if (IsPostgres()) return pg_->Exec(DatabaseOf(Url()), sql);
        auto db =
            sqlite::Connection::Open(DbPath(), sqlite::Connection::Mode::kReadWrite, std::chrono::seconds(5));
        if (!db) return Fail(db.error());
        return (*db)->Exec(sql);
    }

    /// From now on inserting the run `run_key` fails inside the store's transaction (an injected
    /// failure: the API validates what it can before writing). StopFailingRunInserts undoes it.
    Status FailRunInserts(const std::string& run_key) {
        if (!IsPostgres()) {
            return Sqlite().ExecOnWriterForTesting(fmt::format(
                "CREATE TEMP TRIGGER fail_run_insert BEFORE INSERT ON runs WHEN NEW.run_key = '{}' "
                "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
                run_key));
        }
        return ExecRaw(fmt::format(
            "CREATE FUNCTION fail_run_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.run_key = '{}' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$; "
            "CREATE TRIGGER fail_run_insert BEFORE INSERT ON runs FOR EACH ROW EXECUTE FUNCTION "
            "fail_run_insert()",
            run_key));
    }
    Status StopFailingRunInserts() {
        if (!IsPostgres()) return Sqlite().ExecOnWriterForTesting("DROP TRIGGER fail_run_insert");
        return ExecRaw("DROP TRIGGER fail_run_insert ON runs; DROP FUNCTION fail_run_insert()");
    }

    // --- shorthands -------------------------------------------------------------------------------

    /// Appends a delivery that must be stored and returns its seq.
    std::int64_t StoreEvent(const std::string& event_id, const std::string& trigger = "file.created") {
        auto outcome = AppendAndWait(*store_, MakeDelivery("wh", event_id, trigger));
        EXPECT_TRUE(outcome && *outcome == AppendOutcome::kStored);
        auto event = store_->FindEvent(event_id);
        EXPECT_TRUE(event && *event);
        return event && *event ? (*event)->seq : 0;
    }

    /// Stores an event and dispatches it into `runs` (as owner "dispatcher"); returns the event seq.
    std::int64_t DispatchRuns(const std::string& event_id, const std::vector<NewRun>& runs) {
        const std::int64_t seq = StoreEvent(event_id);
        auto claimed = store_->ClaimEvents("dispatcher", 100, clock_.Now());
        EXPECT_TRUE(claimed);
        auto created = store_->CompleteDispatch(seq, "dispatcher", runs, EventState::kDispatched, "");
        EXPECT_TRUE(created) << (created ? "" : created.error().message);
        return seq;
    }

    /// Claims a run that must be due now.
    RunRecord MustClaimRun(const std::string& owner) {
        auto run = store_->ClaimRun(owner, clock_.Now());
        EXPECT_TRUE(run && *run) << (run ? "no run was due" : run.error().message);
        return run && *run ? **run : RunRecord{};
    }

    static NewRun MakeRun(std::string key, std::string lock_key = "", int steps = 3) {
        NewRun run;
        run.run_key = std::move(key);
        run.rule = "invoice-intake";
        run.lock_key = std::move(lock_key);
        run.step_count = steps;
        run.context = Json{{"file", {{"id", 42}, {"title", "invoice.pdf"}}}};
        return run;
    }

    TempDir dir_;
    ManualClock clock_;
    StoreOptions options_;
    std::unique_ptr<Store> store_;
    PgServer* pg_ = nullptr;  // PostgreSQL only: the process's shared test server
    std::string url_;
};

/// The conformance suite: TEST_P(StoreTest, ...) runs once per instantiated backend.
class StoreTest : public StoreFixture, public ::testing::WithParamInterface<Backend> {
protected:
    [[nodiscard]] Backend backend() const override { return GetParam(); }
};

/// SQLite-only behaviour (pragmas, file mode, page limits, the single writer's queue).
class SqliteStoreTest : public StoreFixture {
protected:
    [[nodiscard]] Backend backend() const override { return Backend::kSqlite; }
};

/// PostgreSQL-only behaviour (several stores on one database, LISTEN/NOTIFY, server-side failures).
class PgStoreTest : public StoreFixture {
protected:
    [[nodiscard]] Backend backend() const override { return Backend::kPostgres; }
};

}  // namespace spacehook::store::testing
