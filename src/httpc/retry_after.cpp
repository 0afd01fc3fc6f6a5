#include "httpc/retry_after.hpp"

#include <algorithm>
#include <cctype>

namespace spacehook::httpc {

namespace {

int MonthIndex(std::string_view name) {
    static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; ++i) {
        if (kMonths[i] == name) return i + 1;
    }
    return 0;
}

bool ReadNumber(std::string_view text, std::size_t pos, std::size_t digits, int& out) {
    if (pos + digits > text.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + digits; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
        out = out * 10 + (text[i] - '0');
    }
    return true;
}

}  // namespace

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value, TimePoint now) {
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    if (std::all_of(value.begin(), value.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        if (value.size() > 9) return std::nullopt;  // over 31 years: not a real answer
        long long seconds = 0;
        for (const char c : value) seconds = seconds * 10 + (c - '0');
        return std::chrono::milliseconds(seconds * 1000);
    }
    // IMF-fixdate, the form RFC 9110 §5.6.7 requires senders to use: "Sun, 06 Nov 1994 08:49:37 GMT".
    if (value.size() != 29 || value[3] != ',' || value.substr(25) != " GMT") return std::nullopt;
    int day = 0, year = 0, hour = 0, minute = 0, second = 0;
    const int month = MonthIndex(value.substr(8, 3));
    if (month == 0 || !ReadNumber(value, 5, 2, day) || !ReadNumber(value, 12, 4, year) ||
        !ReadNumber(value, 17, 2, hour) || !ReadNumber(value, 20, 2, minute) ||
        !ReadNumber(value, 23, 2, second) || value[19] != ':' || value[22] != ':') {
        return std::nullopt;
    }
    const std::chrono::year_month_day date{std::chrono::year(year),
                                           std::chrono::month(static_cast<unsigned>(month)),
                                           std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    const TimePoint at = std::chrono::sys_days(date) + std::chrono::hours(hour) +
                         std::chrono::minutes(minute) + std::chrono::seconds(second);
    if (at <= now) return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
}

}  // namespace spacehook::httpc
