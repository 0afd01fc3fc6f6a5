#pragma once

// A small RAII wrapper over the SQLite C API, private to src/store. sqlite3.h stays in the .cpp: the
// handles are forward-declared so even this private header does not leak SQLite's macros.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/sql_session.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace spacehook::store::sqlite {

class Connection;
struct CachedStatement;

/// A prepared statement borrowed from its connection's cache. Binds are 1-based, columns 0-based.
/// Destroying (or moving from) the handle resets the statement and clears its bindings, so the next
/// borrower starts clean and no read transaction is kept open by a half-stepped SELECT.
class Statement {
public:
    Statement(Connection& connection, CachedStatement& cached);
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    Statement& Bind(int index, std::int64_t value);
    Statement& Bind(int index, int value) { return Bind(index, static_cast<std::int64_t>(value)); }
    Statement& Bind(int index, std::string_view text);
    Statement& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
    Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
    /// Times are stored as Unix milliseconds (ToUnixMillis), the same in both backends.
    Statement& Bind(int index, TimePoint time) { return Bind(index, ToUnixMillis(time)); }
    Statement& BindBlob(int index, std::string_view bytes);
    /// A REAL (rate-limit buckets); not an overload of Bind, so an int never binds as one by accident.
    Statement& BindDouble(int index, double value);

    /// Binds the arguments to parameters 1..N in order.
    template <class... Args>
    Statement& BindAll(const Args&... args) {
        int index = 0;
        (Bind(++index, args), ...);
        return *this;
    }

    /// Advances one row: true when a row is ready, false when done. A failed Bind shows up here.
    Result<bool> Step();
    /// Steps to completion, ignoring rows (INSERT/UPDATE/DELETE), then resets, so the statement can
    /// be bound and run again (a loop over rows to update).
    Status Run();
    /// Rewinds the statement and clears its bindings (ends an unfinished SELECT before a write).
    void Reset();

    [[nodiscard]] bool IsNull(int column) const;
    [[nodiscard]] std::int64_t Int(int column) const;
    [[nodiscard]] double Double(int column) const;
    [[nodiscard]] std::string Text(int column) const;
    [[nodiscard]] std::string Blob(int column) const;
    [[nodiscard]] TimePoint Time(int column) const { return FromUnixMillis(Int(column)); }
    /// The statement writes nothing (a SELECT).
    [[nodiscard]] bool ReadOnly() const;

private:
    void Release();

    Connection* connection_;
    CachedStatement* cached_;
    sqlite3_stmt* stmt_;
    int bind_error_ = 0;  // first failed sqlite3_bind_* (SQLITE_RANGE, SQLITE_TOOBIG, ...), reported by Step
};

/// One SQLite connection, and the ledger's session on it (store::Session). Not thread-safe: the store
/// gives each connection to one thread at a time (the writer thread owns the write connection; readers
/// borrow from a pool).
class Connection final : public Session {
public:
    enum class Mode { kReadWrite, kReadOnly };

    /// Opens (creating when kReadWrite) the database at `path`. `busy_timeout` bounds how long a
    /// statement waits for another process's lock before failing with kUnavailable.
    static Result<std::unique_ptr<Connection>> Open(const std::string& path, Mode mode,
                                                    std::chrono::milliseconds busy_timeout);

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    /// Runs one or more statements without parameters (DDL, PRAGMA, BEGIN/COMMIT).
    Status Exec(std::string_view sql);
    /// A cached prepared statement for `sql` (prepared once per connection).
    Result<Statement> Prepare(std::string_view sql);

    // store::Session: a prepared (cached) statement, bound, stepped to the end, reset.
    Result<std::int64_t> Run(std::string_view sql, Params params, const RowSink* each_row) override;
    Status RunScript(std::string_view sql) override { return Exec(sql); }
    /// The single integer a query such as "PRAGMA page_count" answers (0 when it answers no row).
    Result<std::int64_t> QueryInt(const std::string& sql);

    /// Rows changed by the last INSERT/UPDATE/DELETE ("ON CONFLICT DO NOTHING" counts 0).
    [[nodiscard]] int Changes() const;
    [[nodiscard]] std::int64_t LastInsertId() const;
    /// True inside an explicit transaction. SQLite rolls a transaction back by itself after some
    /// errors (SQLITE_FULL, SQLITE_IOERR, ...); the writer checks this to know the batch is gone.
    [[nodiscard]] bool InTransaction() const;

    /// Set once a statement failed in a way that dooms the surrounding transaction (disk full, I/O
    /// error, lock timeout, corruption), as opposed to a per-statement failure (constraint). The
    /// writer clears it before each batch.
    [[nodiscard]] bool storage_failed() const { return storage_failed_; }
    void ClearStorageFailed() { storage_failed_ = false; }

    [[nodiscard]] const std::string& path() const { return path_; }

private:
    friend class Statement;
    Connection(sqlite3* db, std::string path);
    /// Turns the connection's current error into an Error and records storage failures.
    Error MakeError(int rc, std::string_view what);

    sqlite3* db_;
    std::string path_;
    bool storage_failed_ = false;
    /// Looked up by the statement's text without copying it (transparent hash).
    struct TextHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
    };
    std::unordered_map<std::string, std::unique_ptr<CachedStatement>, TextHash, std::equal_to<>> cache_;
};

}  // namespace spacehook::store::sqlite
