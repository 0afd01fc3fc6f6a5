#pragma once

// A small RAII wrapper over libpq, private to src/store. libpq-fe.h stays in the .cpp: the handles are
// forward-declared so even this private header does not leak libpq's macros.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/sql_session.hpp"

struct pg_conn;
struct pg_result;

namespace spacehook::store::pg {

/// The ledger's numbered placeholders ("?1") as PostgreSQL's ("$1"), outside quoted text.
std::string DollarPlaceholders(std::string_view sql);

/// PostgreSQL text cannot hold NUL bytes nor invalid UTF-8 (the database is UTF8). Text that came from
/// outside (webhook fields, error messages of upstreams) is made valid by replacing each offending
/// byte with U+FFFD; valid text is returned unchanged. Exact bytes belong in bytea (webhook bodies).
std::string ValidUtf8(std::string_view text);

/// The parameters of one statement ($1, $2, ...). Text goes as text (made valid by ValidUtf8), bytea
/// as binary so any bytes go through untouched; numbers and times (Unix milliseconds) as text.
class Params {
public:
    Params() = default;
    template <class... Args>
    static Params Of(const Args&... args) {
        Params params;
        (params.Add(args), ...);
        return params;
    }

    Params& Add(std::string_view text);
    Params& Add(const std::string& text) { return Add(std::string_view(text)); }
    Params& Add(const char* text) { return Add(std::string_view(text)); }
    Params& Add(std::int64_t value);
    Params& Add(int value) { return Add(static_cast<std::int64_t>(value)); }
    Params& Add(double value);
    /// Times are stored as Unix milliseconds (ToUnixMillis), the same in both backends.
    Params& Add(TimePoint time) { return Add(ToUnixMillis(time)); }
    Params& AddBytes(std::string_view bytes);

    [[nodiscard]] std::size_t size() const { return values_.size(); }

private:
    friend class Connection;
    std::vector<std::string> values_;
    std::vector<int> formats_;  // 0 text, 1 binary
};

/// The answer of one statement, in text format. Rows and columns are 0-based.
class Rows {
public:
    explicit Rows(pg_result* result) : result_(result) {}
    Rows(Rows&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
    Rows& operator=(Rows&& other) noexcept;
    Rows(const Rows&) = delete;
    Rows& operator=(const Rows&) = delete;
    ~Rows();

    [[nodiscard]] int size() const;
    [[nodiscard]] bool empty() const { return size() == 0; }
    /// Rows an INSERT/UPDATE/DELETE changed ("ON CONFLICT DO NOTHING" counts 0); for a SELECT, the rows.
    [[nodiscard]] std::int64_t affected() const;

    [[nodiscard]] bool IsNull(int row, int column) const;
    [[nodiscard]] std::string Text(int row, int column) const;
    [[nodiscard]] std::int64_t Int(int row, int column) const;
    [[nodiscard]] double Double(int row, int column) const;
    [[nodiscard]] bool Bool(int row, int column) const;
    /// A bytea column (hex text format) as the raw bytes.
    [[nodiscard]] std::string Bytes(int row, int column) const;
    [[nodiscard]] TimePoint Time(int row, int column) const { return FromUnixMillis(Int(row, column)); }

private:
    pg_result* result_;
};

/// A NOTIFY received on a LISTENing connection.
struct Notification {
    std::string channel;
    std::string payload;
    int sender_pid = 0;
};

/// How connections are opened.
struct ConnectOptions {
    std::string application_name = "spacehook";
    /// Seconds libpq may take to connect when the URL sets no connect_timeout.
    int connect_timeout_seconds = 10;
    /// How long a statement waits for a row or advisory lock held by another session (lock_timeout)
    /// before it fails with kUnavailable.
    std::chrono::milliseconds lock_timeout{5000};
    /// false: commits do not wait for the WAL flush (synchronous_commit = off), for throwaway stores.
    bool durable = true;
};

/// One PostgreSQL session, and the ledger's session on it (store::Session). Not thread-safe: the store
/// gives each connection to one thread at a time.
class Connection final : public Session {
public:
    /// Connects to `url` (postgres://... or any libpq connection string). kConfig for a malformed
    /// URL, kUnavailable when the server cannot be reached or refuses us. Messages never hold the
    /// password.
    static Result<std::unique_ptr<Connection>> Open(const std::string& url, const ConnectOptions& options);

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    /// Runs one or more statements without parameters (DDL, BEGIN/COMMIT, LISTEN).
    Status Exec(const std::string& sql);
    /// Runs one statement with parameters; its rows (none for most writes).
    Result<Rows> Query(const std::string& sql, const Params& params = {});
    /// The single integer a query answers (0 when it answers no row or NULL).
    Result<std::int64_t> QueryInt(const std::string& sql, const Params& params = {});

    // store::Session: the statement with its placeholders made PostgreSQL's, parameters as in Params.
    Result<std::int64_t> Run(std::string_view sql, store::Params params, const RowSink* each_row) override;
    Status RunScript(std::string_view sql) override { return Exec(std::string(sql)); }

    /// The session is gone (server restart, network): the pool must not give it out again.
    [[nodiscard]] bool broken() const;
    /// Inside a transaction block (also when it failed and waits for ROLLBACK).
    [[nodiscard]] bool InTransaction() const;
    /// SQLSTATE of the last failed statement ("" when it was not a server error).
    [[nodiscard]] const std::string& last_sqlstate() const { return last_sqlstate_; }
    /// The last failure was a deadlock or serialization failure: the transaction was rolled back and
    /// running it again may well succeed.
    [[nodiscard]] bool last_error_retryable() const;
    [[nodiscard]] int BackendPid() const;
    [[nodiscard]] int ServerVersion() const;

    // --- LISTEN support (one thread owns a listening connection) --------------------------------
    /// The socket to poll for readability.
    [[nodiscard]] int Socket() const;
    /// Reads what the server sent; kUnavailable when the connection is lost.
    Status ConsumeInput();
    /// The next notification already read, if any.
    std::optional<Notification> NextNotification();

private:
    Connection(pg_conn* conn, std::string redacted_url);
    /// Turns a failed result (or a missing one) into an Error and records the SQLSTATE.
    Error MakeError(pg_result* result, std::string_view what);

    pg_conn* conn_;
    std::string redacted_url_;
    std::string last_sqlstate_;
};

/// `url` with its password hidden, and every libpq message about it too (libpq may quote parts of a
/// malformed URL): RedactStoreUrl plus the password text itself.
std::string RedactPgText(std::string_view url, std::string_view text);

/// The password in a postgres:// URL (user:password@ or password=), "" when none; registered as a
/// secret so no log line can show it.
std::string PasswordOf(std::string_view url);

}  // namespace spacehook::store::pg
