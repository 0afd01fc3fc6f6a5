#pragma once

// The seam between the ledger (the store's state machine, written once in ledger_*.cpp) and a SQL
// database: statements with typed parameters, rows read by column, and what a write transaction may ask
// for besides statements. Private to src/store.
//
// Placeholders are numbered, "?1", "?2", ...: SQLite takes them as they are and the PostgreSQL session
// rewrites them to "$1", "$2". A number may appear more than once in a statement.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace spacehook::store {

/// One statement parameter: an integer, a real, text or bytes. It does not own text or bytes, which must
/// outlive the statement call (a temporary written in the call's argument list does).
class Param {
public:
    enum class Type : std::uint8_t { kInt, kReal, kText, kBytes };

    Param(std::int64_t value) : type_(Type::kInt), int_(value) {}      // NOLINT(google-explicit-constructor)
    Param(int value) : Param(static_cast<std::int64_t>(value)) {}      // NOLINT(google-explicit-constructor)
    Param(double value) : type_(Type::kReal), real_(value) {}          // NOLINT(google-explicit-constructor)
    Param(std::string_view text) : type_(Type::kText), text_(text) {}  // NOLINT(google-explicit-constructor)
    Param(const std::string& text) : Param(std::string_view(text)) {}  // NOLINT(google-explicit-constructor)
    Param(const char* text) : Param(std::string_view(text)) {}         // NOLINT(google-explicit-constructor)
    /// Times are stored as Unix milliseconds (ToUnixMillis), the same in every backend.
    Param(TimePoint time) : Param(ToUnixMillis(time)) {}  // NOLINT(google-explicit-constructor)
    /// Exact bytes (a webhook body): a BLOB / BYTEA, never re-encoded.
    static Param Bytes(std::string_view bytes) {
        Param param(bytes);
        param.type_ = Type::kBytes;
        return param;
    }

    [[nodiscard]] Type type() const { return type_; }
    [[nodiscard]] std::int64_t int_value() const { return int_; }
    [[nodiscard]] double real_value() const { return real_; }
    /// Text or bytes.
    [[nodiscard]] std::string_view text() const { return text_; }

private:
    Type type_;
    union {
        std::int64_t int_ = 0;
        double real_;
    };
    std::string_view text_;
};

using Params = std::span<const Param>;

/// One row of an answer; columns are 0-based, in the order the statement selects them.
class Row {
public:
    [[nodiscard]] virtual bool IsNull(int column) const = 0;
    [[nodiscard]] virtual std::int64_t Int(int column) const = 0;
    [[nodiscard]] virtual double Real(int column) const = 0;
    [[nodiscard]] virtual std::string Text(int column) const = 0;
    /// A BLOB / BYTEA column as the exact bytes.
    [[nodiscard]] virtual std::string Bytes(int column) const = 0;
    [[nodiscard]] TimePoint Time(int column) const { return FromUnixMillis(Int(column)); }

protected:
    ~Row() = default;
};

/// Called for each row of an answer: a reference to any callable `Status(const Row&)`, without copying
/// it or allocating (the callable outlives the call that takes the sink).
class RowSink {
public:
    template <class F>
    RowSink(F& f)  // NOLINT(google-explicit-constructor)
        : callable_(&f),
          call_([](void* callable, const Row& row) -> Status { return (*static_cast<F*>(callable))(row); }) {}
    Status operator()(const Row& row) const { return call_(callable_, row); }

private:
    void* callable_;
    Status (*call_)(void*, const Row&);
};

/// Statements on one connection. Not thread-safe: a session belongs to one thread while it is lent.
class Session {
public:
    /// Runs one statement with `params` bound to ?1..?N; `each_row` (when given) sees every row of the
    /// answer, and an error it returns stops the statement and is returned. Returns how many rows an
    /// INSERT, UPDATE or DELETE changed (an "ON CONFLICT DO NOTHING" that did nothing counts 0; for a
    /// SELECT the number means nothing).
    virtual Result<std::int64_t> Run(std::string_view sql, Params params, const RowSink* each_row) = 0;
    /// Runs statements without parameters (DDL, transaction control).
    virtual Status RunScript(std::string_view sql) = 0;

    /// Run without rows.
    Result<std::int64_t> Execute(std::string_view sql, Params params) { return Run(sql, params, nullptr); }
    Result<std::int64_t> Execute(std::string_view sql, std::initializer_list<Param> params = {}) {
        return Run(sql, Params(params.begin(), params.size()), nullptr);
    }
    /// Runs `sql`, which must change exactly one row; kNotFound with `missing` when it changed none.
    Status ExecuteOne(std::string_view sql, std::initializer_list<Param> params, const std::string& missing);

    /// Every row as a T made by `read` (Result<T> read(const Row&)).
    template <class T, class Read>
    Result<std::vector<T>> Collect(std::string_view sql, Params params, Read read) {
        std::vector<T> out;
        auto each = [&](const Row& row) -> Status {
            auto item = read(row);
            if (!item) return Fail(item.error());
            out.push_back(std::move(*item));
            return Ok();
        };
        const RowSink sink(each);
        if (auto ran = Run(sql, params, &sink); !ran) return Fail(ran.error());
        return out;
    }
    template <class T, class Read>
    Result<std::vector<T>> Collect(std::string_view sql, std::initializer_list<Param> params, Read read) {
        return Collect<T>(sql, Params(params.begin(), params.size()), read);
    }

    /// The first row as a T made by `read`, nullopt when there is none (later rows are ignored).
    template <class T, class Read>
    Result<std::optional<T>> First(std::string_view sql, std::initializer_list<Param> params, Read read) {
        std::optional<T> out;
        auto first = [&](const Row& row) -> Status {
            if (out) return Ok();
            auto item = read(row);
            if (!item) return Fail(item.error());
            out.emplace(std::move(*item));
            return Ok();
        };
        const RowSink sink(first);
        if (auto ran = Run(sql, Params(params.begin(), params.size()), &sink); !ran) return Fail(ran.error());
        return out;
    }

    /// The integer in the first column of the first row; nullopt for no row or NULL.
    Result<std::optional<std::int64_t>> SelectInt(std::string_view sql,
                                                  std::initializer_list<Param> params = {});

protected:
    ~Session() = default;
};

/// A session inside a write transaction, and what the write asks for beyond its statements.
class Transaction : public Session {
public:
    /// New work is available once this commits: this process's workers are woken after the commit (before
    /// the write returns) and, with PostgreSQL, every other replica's through NOTIFY.
    virtual void RequestWakeup() = 0;
    /// A due time moved to later: other replicas recompute when to wake (this process knows already).
    virtual void AnnounceDueTime() = 0;
    /// Nothing was written: the transaction may be rolled back instead of committed (a claim that found
    /// nothing). A backend whose writes share one transaction ignores it.
    virtual void NothingToCommit() = 0;

protected:
    ~Transaction() = default;
};

}  // namespace spacehook::store
