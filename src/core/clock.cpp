#include "core/clock.hpp"

#include <fmt/format.h>

#include <cctype>
#include <ctime>

namespace spacehook {

const SystemClock& SystemClock::Instance() {
    static const SystemClock clock;
    return clock;
}

TimePoint ManualClock::Now() const {
    std::lock_guard lock(mu_);
    return now_;
}

void ManualClock::Advance(std::chrono::nanoseconds by) {
    std::lock_guard lock(mu_);
    now_ += std::chrono::duration_cast<TimePoint::duration>(by);
}

void ManualClock::Set(TimePoint to) {
    std::lock_guard lock(mu_);
    now_ = to;
}

std::int64_t ToUnixMillis(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint FromUnixMillis(std::int64_t ms) {
    return TimePoint{std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms))};
}

namespace {
std::tm ToUtc(TimePoint t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return tm;
}
}  // namespace

std::string FormatIso8601(TimePoint t, bool with_millis) {
    const std::tm tm = ToUtc(t);
    std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (with_millis) {
        const auto ms = ToUnixMillis(t) % 1000;
        out += fmt::format(".{:03}", ms < 0 ? ms + 1000 : ms);
    }
    out += 'Z';
    return out;
}

std::optional<TimePoint> ParseIso8601(std::string_view s) {
    auto digits = [&](size_t pos, size_t n) -> std::optional<int> {
        if (pos + n > s.size()) return std::nullopt;
        int v = 0;
        for (size_t i = pos; i < pos + n; ++i) {
            if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
            v = v * 10 + (s[i] - '0');
        }
        return v;
    };
    auto year = digits(0, 4), mon = digits(5, 2), day = digits(8, 2);
    auto hour = digits(11, 2), min = digits(14, 2), sec = digits(17, 2);
    if (!year || !mon || !day || !hour || !min || !sec || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':') {
        return std::nullopt;
    }
    if (*mon < 1 || *mon > 12 || *day < 1 || *day > 31 || *hour > 23 || *min > 59 || *sec > 60)
        return std::nullopt;
    size_t pos = 19;
    std::int64_t nanos = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        std::int64_t scale = 100000000;
        const size_t start = pos;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
            nanos += (s[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
        if (pos == start) return std::nullopt;
    }
    int offset_minutes = 0;
    if (pos < s.size()) {
        if (s[pos] == 'Z' || s[pos] == 'z') {
            ++pos;
        } else if (s[pos] == '+' || s[pos] == '-') {
            auto oh = digits(pos + 1, 2), om = digits(pos + 4, 2);
            if (!oh || !om || s[pos + 3] != ':') return std::nullopt;
            offset_minutes = (*oh * 60 + *om) * (s[pos] == '-' ? -1 : 1);
            pos += 6;
        }
    }
    if (pos != s.size()) return std::nullopt;
    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = *mon - 1;
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *min;
    tm.tm_sec = *sec;
    // TimePoint counts nanoseconds in 64 bits, up to 2262-04-11. A later year (or one before the epoch,
    // like .NET's 0001-01-01) overflowed the conversion, undefined behaviour on text any sender controls
    // (found by fuzz_delivery). No DocSpace time lies outside, and keeping parsed times at or after the
    // epoch means the difference of any two of them (freshness, header checks) fits too.
    using std::chrono::seconds;
    constexpr std::int64_t kLastSecond =
        std::chrono::duration_cast<seconds>(TimePoint::duration::max()).count() - 1;
    const std::int64_t utc_seconds =
        static_cast<std::int64_t>(timegm(&tm)) - std::int64_t{offset_minutes} * 60;
    if (utc_seconds < 0 || utc_seconds > kLastSecond) return std::nullopt;
    return TimePoint{} + std::chrono::duration_cast<TimePoint::duration>(seconds(utc_seconds) +
                                                                         std::chrono::nanoseconds(nanos));
}

std::string FormatRfc5322(TimePoint t) {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::tm tm = ToUtc(t);
    return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000", kDays[tm.tm_wday], tm.tm_mday,
                       kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace spacehook
