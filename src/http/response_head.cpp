#include "http/response_head.hpp"

#include <array>
#include <cstdio>
#include <ctime>

#include "core/text.hpp"

namespace spacehook::http {

std::string_view CurrentHttpDate() {
    static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    thread_local std::time_t cached_second = -1;
    thread_local std::array<char, 40> text{};
    thread_local std::size_t length = 0;
    const std::time_t now = std::time(nullptr);
    if (now != cached_second) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        const int written = std::snprintf(text.data(), text.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                                          kDays.at(static_cast<std::size_t>(tm.tm_wday) % 7), tm.tm_mday,
                                          kMonths.at(static_cast<std::size_t>(tm.tm_mon) % 12),
                                          tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        length = written > 0 ? static_cast<std::size_t>(written) : 0;
        cached_second = now;
    }
    return {text.data(), length};
}

bool IsSafeHeader(const Header& header) {
    if (header.name.empty()) return false;
    for (char c : header.name) {
        if (c <= ' ' || c == ':' || c == 0x7f) return false;
    }
    return header.value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

bool WantsClose(const Response& response) {
    for (const Header& header : response.headers) {
        if (EqualsIgnoreCase(header.name, "connection") &&
            ToLower(header.value).find("close") != std::string::npos) {
            return true;
        }
    }
    return false;
}

}  // namespace spacehook::http
