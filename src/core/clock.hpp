#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace spacehook {

using TimePoint = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

/// Wall-clock time, injected so backoff, leases and ordering are exact in tests (STYLE.md).
class Clock {
public:
    virtual ~Clock() = default;
    [[nodiscard]] virtual TimePoint Now() const = 0;
};

/// The real clock.
class SystemClock final : public Clock {
public:
    [[nodiscard]] TimePoint Now() const override { return std::chrono::system_clock::now(); }
    /// A process-wide instance for code that has no clock injected (CLI tools).
    static const SystemClock& Instance();
};

/// A clock that only moves when told to. Thread-safe.
class ManualClock final : public Clock {
public:
    explicit ManualClock(TimePoint start = TimePoint{} + std::chrono::hours(24 * 365 * 56)) : now_(start) {}
    [[nodiscard]] TimePoint Now() const override;
    void Advance(std::chrono::nanoseconds by);
    void Set(TimePoint to);

private:
    mutable std::mutex mu_;
    TimePoint now_;
};

/// Milliseconds since the Unix epoch; the store keeps times in this form.
std::int64_t ToUnixMillis(TimePoint t);
TimePoint FromUnixMillis(std::int64_t ms);

/// "2026-06-30T10:15:42Z" (seconds) or "2026-06-30T10:15:42.123Z" (with_millis).
std::string FormatIso8601(TimePoint t, bool with_millis = false);
/// Parses ISO-8601 UTC as DocSpace writes it: optional fraction (any digits), `Z`, `+hh:mm` or no
/// suffix (treated as UTC, docs/docspace-api.md §1.4 lastSuccessOn). nullopt for times before the Unix epoch
/// or past 2262-04-11, which a TimePoint cannot hold.
std::optional<TimePoint> ParseIso8601(std::string_view text);
/// RFC 5322 date for mail headers: "Mon, 23 Nov 2026 08:24:47 +0000".
std::string FormatRfc5322(TimePoint t);

}  // namespace spacehook
