#include "store/pg_connection.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <charconv>
#include <cstring>

#include "core/log.hpp"
#include "store/store.hpp"

namespace spacehook::store::pg {

namespace {

Error MakePlainError(ErrorCode code, std::string message) {
    return Error{code, std::move(message), 0, std::nullopt};
}

/// Which failures are the database's state rather than our statement's fault: they fail the caller
/// with kUnavailable (retry later, 503 for a delivery), like SQLite's disk-full and lock timeouts.
bool IsUnavailableState(std::string_view sqlstate) {
    if (sqlstate.size() != 5) return true;  // no server answer at all: the connection is the problem
    const std::string_view klass = sqlstate.substr(0, 2);
    return klass == "08"            // connection exception
           || klass == "40"         // transaction rollback: serialization failure, deadlock
           || klass == "53"         // insufficient resources: disk full, out of memory, too many connections
           || klass == "57"         // operator intervention: shutdown, statement/lock timeout cancel
           || klass == "58"         // system error: I/O
           || sqlstate == "55P03"   // lock_not_available (lock_timeout)
           || sqlstate == "25006";  // read_only_sql_transaction: a standby after failover
}

std::string PercentDecode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            int value = 0;
            const auto [ptr, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
            if (ec == std::errc() && ptr == text.data() + i + 3) {
                out += static_cast<char>(value);
                i += 2;
                continue;
            }
        }
        out += text[i];
    }
    return out;
}

}  // namespace

// --- text -------------------------------------------------------------------------------------

std::string DollarPlaceholders(std::string_view sql) {
    std::string out(sql);
    bool quoted = false;
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '\'') quoted = !quoted;  // '' inside a literal toggles twice: still quoted
        if (!quoted && out[i] == '?' && i + 1 < out.size() && out[i + 1] >= '0' && out[i + 1] <= '9')
            out[i] = '$';
    }
    return out;
}

std::string ValidUtf8(std::string_view text) {
    auto sequence_length = [&](std::size_t i) -> std::size_t {
        const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
        const unsigned char c = byte(i);
        if (c == 0) return 0;  // NUL: representable in UTF-8, not in PostgreSQL text
        if (c < 0x80) return 1;
        std::size_t n = 0;
        unsigned char min_second = 0x80;
        unsigned char max_second = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            if (c == 0xE0) min_second = 0xA0;  // overlong
            if (c == 0xED) max_second = 0x9F;  // surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            if (c == 0xF0) min_second = 0x90;  // overlong
            if (c == 0xF4) max_second = 0x8F;  // beyond U+10FFFF
        } else {
            return 0;
        }
        if (i + n > text.size()) return 0;
        if (byte(i + 1) < min_second || byte(i + 1) > max_second) return 0;
        for (std::size_t k = 2; k < n; ++k) {
            if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
        }
        return n;
    };
    // Most text is valid: check first, copy only when something must change.
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t n = sequence_length(i);
        if (n == 0) break;
        i += n;
    }
    if (i == text.size()) return std::string(text);
    std::string out(text.substr(0, i));
    while (i < text.size()) {
        const std::size_t n = sequence_length(i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(text.substr(i, n));
            i += n;
        }
    }
    return out;
}

std::string PasswordOf(std::string_view url) {
    std::string password;
    const std::size_t scheme_end = url.find("://");
    if (scheme_end != std::string_view::npos) {
        const std::size_t authority = scheme_end + 3;
        const std::size_t authority_end = std::min(url.find_first_of("/?#", authority), url.size());
        const std::size_t at = url.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
        if (at != std::string_view::npos && at >= authority) {
            const std::size_t colon = url.find(':', authority);
            if (colon != std::string_view::npos && colon < at)
                password = url.substr(colon + 1, at - colon - 1);
        }
    }
    constexpr std::string_view kKey = "password=";
    for (std::size_t at = url.find(kKey); at != std::string_view::npos; at = url.find(kKey, at + 1)) {
        if (at == 0 || (url[at - 1] != '?' && url[at - 1] != '&' && url[at - 1] != ' ')) continue;
        const std::size_t value = at + kKey.size();
        const std::size_t end = std::min(url.find_first_of("& ", value), url.size());
        password = url.substr(value, end - value);
    }
    return password;
}

std::string RedactPgText(std::string_view url, std::string_view text) {
    std::string out(text);
    const std::string password = PasswordOf(url);
    if (!password.empty()) {
        for (const std::string& form : {password, PercentDecode(password)}) {
            if (form.empty()) continue;
            for (std::size_t at = out.find(form); at != std::string::npos; at = out.find(form, at + 3)) {
                out.replace(at, form.size(), "***");
            }
        }
    }
    return log::Redact(out);
}

// --- params -----------------------------------------------------------------------------------

Params& Params::Add(std::string_view text) {
    values_.push_back(ValidUtf8(text));
    formats_.push_back(0);
    return *this;
}

Params& Params::Add(std::int64_t value) {
    values_.push_back(std::to_string(value));
    formats_.push_back(0);
    return *this;
}

Params& Params::Add(double value) {
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    values_.emplace_back(buffer, ec == std::errc() ? end : buffer);
    formats_.push_back(0);
    return *this;
}

Params& Params::AddBytes(std::string_view bytes) {
    values_.emplace_back(bytes);
    formats_.push_back(1);
    return *this;
}

// --- rows -------------------------------------------------------------------------------------

Rows& Rows::operator=(Rows&& other) noexcept {
    if (this != &other) {
        if (result_ != nullptr) PQclear(result_);
        result_ = other.result_;
        other.result_ = nullptr;
    }
    return *this;
}

Rows::~Rows() {
    if (result_ != nullptr) PQclear(result_);
}

int Rows::size() const {
    return result_ == nullptr ? 0 : PQntuples(result_);
}

std::int64_t Rows::affected() const {
    if (result_ == nullptr) return 0;
    const char* text = PQcmdTuples(result_);
    std::int64_t value = 0;
    std::from_chars(text, text + std::strlen(text), value);
    return value;
}

bool Rows::IsNull(int row, int column) const {
    return PQgetisnull(result_, row, column) != 0;
}

std::string Rows::Text(int row, int column) const {
    return std::string(PQgetvalue(result_, row, column),
                       static_cast<std::size_t>(PQgetlength(result_, row, column)));
}

std::int64_t Rows::Int(int row, int column) const {
    const char* text = PQgetvalue(result_, row, column);
    std::int64_t value = 0;
    std::from_chars(text, text + PQgetlength(result_, row, column), value);
    return value;
}

double Rows::Double(int row, int column) const {
    const char* text = PQgetvalue(result_, row, column);
    double value = 0;
    std::from_chars(text, text + PQgetlength(result_, row, column), value);
    return value;
}

bool Rows::Bool(int row, int column) const {
    const char* text = PQgetvalue(result_, row, column);
    return text[0] == 't';
}

std::string Rows::Bytes(int row, int column) const {
    std::size_t length = 0;
    unsigned char* bytes =
        PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(result_, row, column)), &length);
    if (bytes == nullptr) return {};
    std::string out(reinterpret_cast<const char*>(bytes), length);
    PQfreemem(bytes);
    return out;
}

// --- connection -------------------------------------------------------------------------------

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& url, const ConnectOptions& options) {
    const std::string redacted = RedactStoreUrl(url);
    // Check the URL before connecting, so a typo is a config error and not "server unreachable".
    char* parse_error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
    if (parsed == nullptr) {
        std::string why = parse_error != nullptr ? parse_error : "out of memory";
        if (parse_error != nullptr) PQfreemem(parse_error);
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
        return Fail(ErrorCode::kConfig, fmt::format("store URL '{}' is not a valid PostgreSQL URL: {}",
                                                    redacted, RedactPgText(url, why)));
    }
    PQconninfoFree(parsed);

    // Defaults go before the URL: whatever the URL sets (connect_timeout=..., application_name=...)
    // wins. Keepalives make a dead server or a dropped NAT mapping visible to idle connections (the
    // listener above all) within about a minute instead of the kernel's two hours.
    const std::string connect_timeout = std::to_string(options.connect_timeout_seconds);
    const char* keywords[] = {"client_encoding",  "application_name", "connect_timeout",
                              "keepalives",       "keepalives_idle",  "keepalives_interval",
                              "keepalives_count", "dbname",           nullptr};
    const char* values[] = {
        "UTF8", options.application_name.c_str(), connect_timeout.c_str(), "1", "30", "10", "3", url.c_str(),
        nullptr};
    pg_conn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
    if (conn == nullptr)
        return Fail(ErrorCode::kUnavailable, "PostgreSQL: out of memory opening a connection");
    if (PQstatus(conn) != CONNECTION_OK) {
        std::string why = PQerrorMessage(conn);
        PQfinish(conn);
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
        // libpq checks option values (port, sslmode, ...) only when it connects, and says "invalid ...";
        // those are the operator's typo, not an outage that retrying would cure.
        const ErrorCode code = why.starts_with("invalid ") ? ErrorCode::kConfig : ErrorCode::kUnavailable;
        return Fail(code, fmt::format("cannot connect to store '{}': {}", redacted, RedactPgText(url, why)));
    }
    std::unique_ptr<Connection> connection(new Connection(conn, redacted));
    if (connection->ServerVersion() < 120000) {
        return Fail(ErrorCode::kConfig,
                    fmt::format("store '{}' runs PostgreSQL {}; spacehook needs 12 or newer", redacted,
                                connection->ServerVersion() / 10000));
    }
    std::string settings = fmt::format("SET lock_timeout = {}", options.lock_timeout.count());
    if (!options.durable) settings += "; SET synchronous_commit = off";
    if (auto st = connection->Exec(settings); !st) return Fail(st.error());
    return connection;
}

Connection::Connection(pg_conn* conn, std::string redacted_url)
    : conn_(conn), redacted_url_(std::move(redacted_url)) {
    // Server notices (e.g. "relation already exists, skipping") are for interactive users; the store
    // reports what matters itself.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
}

Connection::~Connection() {
    PQfinish(conn_);
}

Error Connection::MakeError(pg_result* result, std::string_view what) {
    const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    last_sqlstate_ = state != nullptr ? state : "";
    const char* primary = result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string message = primary != nullptr ? primary : PQerrorMessage(conn_);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    if (message.empty()) message = "no answer from the server";
    const bool unavailable = broken() || IsUnavailableState(last_sqlstate_);
    std::string text = last_sqlstate_.empty()
                           ? fmt::format("PostgreSQL {}: {}", what, message)
                           : fmt::format("PostgreSQL {}: {} (SQLSTATE {})", what, message, last_sqlstate_);
    return MakePlainError(unavailable ? ErrorCode::kUnavailable : ErrorCode::kInternal, log::Redact(text));
}

Status Connection::Exec(const std::string& sql) {
    last_sqlstate_.clear();
    pg_result* result = PQexec(conn_, sql.c_str());
    const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        PQclear(result);
        return Ok();
    }
    Error error = MakeError(result, "statement failed");
    if (result != nullptr) PQclear(result);
    return Fail(std::move(error));
}

Result<Rows> Connection::Query(const std::string& sql, const Params& params) {
    last_sqlstate_.clear();
    std::vector<const char*> values;
    std::vector<int> lengths;
    values.reserve(params.size());
    lengths.reserve(params.size());
    for (const std::string& value : params.values_) {
        values.push_back(value.data());
        lengths.push_back(static_cast<int>(value.size()));
    }
    pg_result* result =
        PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                     lengths.data(), params.formats_.data(), /*resultFormat=*/0);
    const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Rows(result);
    Error error = MakeError(result, "query failed");
    if (result != nullptr) PQclear(result);
    return Fail(std::move(error));
}

namespace {

/// One row of an answer, as the ledger reads it.
class ResultRow final : public Row {
public:
    ResultRow(const Rows& rows, int row) : rows_(rows), row_(row) {}
    [[nodiscard]] bool IsNull(int column) const override { return rows_.IsNull(row_, column); }
    [[nodiscard]] std::int64_t Int(int column) const override { return rows_.Int(row_, column); }
    [[nodiscard]] double Real(int column) const override { return rows_.Double(row_, column); }
    [[nodiscard]] std::string Text(int column) const override { return rows_.Text(row_, column); }
    [[nodiscard]] std::string Bytes(int column) const override { return rows_.Bytes(row_, column); }

private:
    const Rows& rows_;
    int row_;
};

}  // namespace

Result<std::int64_t> Connection::Run(std::string_view sql, store::Params params, const RowSink* each_row) {
    Params bound;
    for (const Param& param : params) {
        switch (param.type()) {
            case Param::Type::kInt:
                bound.Add(param.int_value());
                break;
            case Param::Type::kReal:
                bound.Add(param.real_value());
                break;
            case Param::Type::kText:
                bound.Add(param.text());
                break;
            case Param::Type::kBytes:
                bound.AddBytes(param.text());
                break;
        }
    }
    auto rows = Query(DollarPlaceholders(sql), bound);
    if (!rows) return Fail(rows.error());
    if (each_row != nullptr) {
        for (int r = 0; r < rows->size(); ++r) {
            if (auto st = (*each_row)(ResultRow(*rows, r)); !st) return Fail(st.error());
        }
    }
    return rows->affected();
}

Result<std::int64_t> Connection::QueryInt(const std::string& sql, const Params& params) {
    auto rows = Query(sql, params);
    if (!rows) return Fail(rows.error());
    if (rows->empty() || rows->IsNull(0, 0)) return std::int64_t{0};
    return rows->Int(0, 0);
}

bool Connection::broken() const {
    return PQstatus(conn_) != CONNECTION_OK;
}

bool Connection::InTransaction() const {
    const PGTransactionStatusType status = PQtransactionStatus(conn_);
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

bool Connection::last_error_retryable() const {
    return last_sqlstate_ == "40001" || last_sqlstate_ == "40P01";
}

int Connection::BackendPid() const {
    return PQbackendPID(conn_);
}

int Connection::ServerVersion() const {
    return PQserverVersion(conn_);
}

int Connection::Socket() const {
    return PQsocket(conn_);
}

Status Connection::ConsumeInput() {
    if (PQconsumeInput(conn_) == 1 && !broken()) return Ok();
    std::string why = PQerrorMessage(conn_);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return Fail(ErrorCode::kUnavailable, log::Redact(fmt::format("PostgreSQL connection lost: {}", why)));
}

std::optional<Notification> Connection::NextNotification() {
    PGnotify* notify = PQnotifies(conn_);
    if (notify == nullptr) return std::nullopt;
    Notification out{notify->relname != nullptr ? notify->relname : "",
                     notify->extra != nullptr ? notify->extra : "", notify->be_pid};
    PQfreemem(notify);
    return out;
}

}  // namespace spacehook::store::pg
