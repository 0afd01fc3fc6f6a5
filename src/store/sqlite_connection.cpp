#include "store/sqlite_connection.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace spacehook::store::sqlite {

namespace {

/// Errors after which SQLite may already have rolled the transaction back, or after which nothing
/// else in it can be trusted to commit: the whole group commit fails.
bool IsStorageFailure(int rc) {
    switch (rc & 0xff) {
        case SQLITE_FULL:
        case SQLITE_IOERR:
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_NOMEM:
        case SQLITE_READONLY:
        case SQLITE_CORRUPT:
        case SQLITE_CANTOPEN:
        case SQLITE_PROTOCOL:
        case SQLITE_NOTADB:
        case SQLITE_NOLFS:
        case SQLITE_INTERRUPT:
        case SQLITE_ABORT:
            return true;
        default:
            return false;
    }
}

ErrorCode CodeFor(int rc) {
    if (IsStorageFailure(rc)) return ErrorCode::kUnavailable;
    switch (rc & 0xff) {
        case SQLITE_CONSTRAINT:
            return ErrorCode::kConflict;
        case SQLITE_TOOBIG:
            return ErrorCode::kPayloadTooLarge;
        default:
            return ErrorCode::kInternal;
    }
}

/// Creates the database file owner-only before SQLite does (SQLite would use 0644 minus umask): it
/// holds webhook bodies and run contexts, i.e. names and e-mail addresses. SQLite gives its -wal and
/// -shm files the database file's mode.
void CreatePrivateFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    // EEXIST is the normal case; any other failure is reported by sqlite3_open_v2 with its own message.
}

}  // namespace

/// A statement prepared once per connection. `borrowed` catches a second borrower of the same SQL
/// text while the first is still stepping, which would silently reset the first.
struct CachedStatement {
    explicit CachedStatement(sqlite3_stmt* s) : stmt(s) {}
    CachedStatement(const CachedStatement&) = delete;
    CachedStatement& operator=(const CachedStatement&) = delete;
    ~CachedStatement() { sqlite3_finalize(stmt); }
    sqlite3_stmt* stmt;
    bool borrowed = false;
};

// --- Statement --------------------------------------------------------------------------------

Statement::Statement(Connection& connection, CachedStatement& cached)
    : connection_(&connection), cached_(&cached), stmt_(cached.stmt) {
    cached.borrowed = true;
}

Statement::Statement(Statement&& other) noexcept
    : connection_(other.connection_),
      cached_(other.cached_),
      stmt_(other.stmt_),
      bind_error_(other.bind_error_) {
    other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        Release();
        connection_ = other.connection_;
        cached_ = other.cached_;
        stmt_ = other.stmt_;
        bind_error_ = other.bind_error_;
        other.stmt_ = nullptr;
    }
    return *this;
}

Statement::~Statement() {
    Release();
}

void Statement::Release() {
    if (stmt_ == nullptr) return;
    Reset();
    cached_->borrowed = false;
    stmt_ = nullptr;
}

void Statement::Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    bind_error_ = 0;
}

namespace {
// An empty string_view may carry a null data(); SQLite would bind NULL for it, which NOT NULL
// columns refuse. Any non-null pointer with length 0 binds ''.
const char* NonNull(std::string_view s) {
    return s.data() != nullptr ? s.data() : "";
}
}  // namespace

Statement& Statement::Bind(int index, std::int64_t value) {
    const int rc = sqlite3_bind_int64(stmt_, index, value);
    if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
    return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
    // SQLITE_TRANSIENT: SQLite copies, so temporaries may be bound.
    const int rc =
        sqlite3_bind_text64(stmt_, index, NonNull(text), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
    return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
    // sqlite3_bind_blob64 with a null pointer binds NULL, hence NonNull for empty bodies.
    const int rc = sqlite3_bind_blob64(stmt_, index, NonNull(bytes), bytes.size(), SQLITE_TRANSIENT);
    if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
    return *this;
}

Result<bool> Statement::Step() {
    if (bind_error_ != 0) return Fail(connection_->MakeError(bind_error_, sqlite3_sql(stmt_)));
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Fail(connection_->MakeError(rc, sqlite3_sql(stmt_)));
}

Status Statement::Run() {
    Status status = Ok();
    for (;;) {
        auto row = Step();
        if (!row) {
            status = Fail(row.error());
            break;
        }
        if (!*row) break;
    }
    Reset();
    return status;
}

bool Statement::ReadOnly() const {
    return sqlite3_stmt_readonly(stmt_) != 0;
}

bool Statement::IsNull(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::Int(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

double Statement::Double(int column) const {
    return sqlite3_column_double(stmt_, column);
}

Statement& Statement::BindDouble(int index, double value) {
    const int rc = sqlite3_bind_double(stmt_, index, value);
    if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
    return *this;
}

std::string Statement::Text(int column) const {
    const auto* text = sqlite3_column_text(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (text == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::string Statement::Blob(int column) const {
    const void* data = sqlite3_column_blob(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (data == nullptr) return {};
    return std::string(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

// --- Connection -------------------------------------------------------------------------------

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, Mode mode,
                                                     std::chrono::milliseconds busy_timeout) {
    // NOMUTEX: each connection is used by one thread at a time (see the class comment), so SQLite's
    // per-connection mutex would only cost.
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (mode == Mode::kReadWrite) {
        flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
        CreatePrivateFile(path);
    } else {
        flags |= SQLITE_OPEN_READONLY;
    }
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string message = fmt::format("cannot open SQLite store '{}': {}", path,
                                          db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return Fail(ErrorCode::kConfig, std::move(message));
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
    return std::unique_ptr<Connection>(new Connection(db, path));
}

Connection::Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

Connection::~Connection() {
    cache_.clear();  // statements must be finalized before the connection closes
    sqlite3_close_v2(db_);
}

Error Connection::MakeError(int rc, std::string_view what) {
    if (IsStorageFailure(rc)) storage_failed_ = true;
    // Keep the statement text short: it names the operation for an operator, nothing more.
    constexpr std::size_t kMaxWhat = 80;
    std::string_view shown = what.substr(0, kMaxWhat);
    return Error{CodeFor(rc),
                 fmt::format("sqlite: {} ({}) in '{}{}'", sqlite3_errmsg(db_), sqlite3_errstr(rc), shown,
                             what.size() > kMaxWhat ? "..." : ""),
                 0, std::nullopt};
}

Status Connection::Exec(std::string_view sql) {
    const std::string text(sql);
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return Fail(MakeError(rc, sql));
    return Ok();
}

Result<Statement> Connection::Prepare(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        sqlite3_stmt* stmt = nullptr;
        const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                          SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        if (rc != SQLITE_OK) return Fail(MakeError(rc, sql));
        it = cache_.emplace(std::string(sql), std::make_unique<CachedStatement>(stmt)).first;
    }
    if (it->second->borrowed) {
        return Fail(ErrorCode::kInternal, fmt::format("statement borrowed twice: '{}'", sql.substr(0, 80)));
    }
    return Statement(*this, *it->second);
}

namespace {

/// The row a statement stands on, as the ledger reads it.
class StatementRow final : public Row {
public:
    explicit StatementRow(const Statement& stmt) : stmt_(stmt) {}
    [[nodiscard]] bool IsNull(int column) const override { return stmt_.IsNull(column); }
    [[nodiscard]] std::int64_t Int(int column) const override { return stmt_.Int(column); }
    [[nodiscard]] double Real(int column) const override { return stmt_.Double(column); }
    [[nodiscard]] std::string Text(int column) const override { return stmt_.Text(column); }
    [[nodiscard]] std::string Bytes(int column) const override { return stmt_.Blob(column); }

private:
    const Statement& stmt_;
};

}  // namespace

Result<std::int64_t> Connection::Run(std::string_view sql, Params params, const RowSink* each_row) {
    auto stmt = Prepare(sql);
    if (!stmt) return Fail(stmt.error());
    int index = 0;
    for (const Param& param : params) {
        ++index;
        switch (param.type()) {
            case Param::Type::kInt:
                stmt->Bind(index, param.int_value());
                break;
            case Param::Type::kReal:
                stmt->BindDouble(index, param.real_value());
                break;
            case Param::Type::kText:
                stmt->Bind(index, param.text());
                break;
            case Param::Type::kBytes:
                stmt->BindBlob(index, param.text());
                break;
        }
    }
    const StatementRow row(*stmt);
    for (;;) {
        auto stepped = stmt->Step();
        if (!stepped) return Fail(stepped.error());
        if (!*stepped) break;
        if (each_row != nullptr) {
            if (auto st = (*each_row)(row); !st) return Fail(st.error());
        }
    }
    return stmt->ReadOnly() ? 0 : static_cast<std::int64_t>(Changes());
}

Result<std::int64_t> Connection::QueryInt(const std::string& sql) {
    auto stmt = Prepare(sql);
    if (!stmt) return Fail(stmt.error());
    auto row = stmt->Step();
    if (!row) return Fail(row.error());
    return *row ? stmt->Int(0) : 0;
}

int Connection::Changes() const {
    return sqlite3_changes(db_);
}

std::int64_t Connection::LastInsertId() const {
    return sqlite3_last_insert_rowid(db_);
}

bool Connection::InTransaction() const {
    return sqlite3_get_autocommit(db_) == 0;
}

}  // namespace spacehook::store::sqlite
