// ParseDuration, ParseSize, ParseListen (declared in service_config.hpp).
#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "config/service_config.hpp"
#include "core/text.hpp"

namespace spacehook::config {

namespace {

bool IsDigit(char c) {
    return c >= '0' && c <= '9';
}

std::optional<std::uint64_t> ParseDigits(std::string_view text) {
    if (text.empty()) return std::nullopt;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
    text = Trim(text);
    if (text.empty()) return std::nullopt;
    if (auto plain = ParseDigits(text)) {
        if (*plain > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return std::nullopt;
        return std::chrono::milliseconds(static_cast<std::int64_t>(*plain));
    }
    // One or more "<number><unit>" parts: "1h30m", "1.5s", "250ms".
    double total_ms = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t number_start = i;
        while (i < text.size() && (IsDigit(text[i]) || text[i] == '.')) ++i;
        if (i == number_start) return std::nullopt;
        double number = 0;
        auto [end, ec] = std::from_chars(text.data() + number_start, text.data() + i, number);
        if (ec != std::errc() || end != text.data() + i) return std::nullopt;
        const std::size_t unit_start = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
        const std::string_view unit = text.substr(unit_start, i - unit_start);
        double scale = 0;
        if (unit == "ms") {
            scale = 1;
        } else if (unit == "s") {
            scale = 1000;
        } else if (unit == "m") {
            scale = 60'000;
        } else if (unit == "h") {
            scale = 3'600'000;
        } else if (unit == "d") {
            scale = 86'400'000;
        } else {
            return std::nullopt;
        }
        total_ms += number * scale;
    }
    if (!std::isfinite(total_ms) || total_ms > 9.0e15) return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total_ms)));
}

std::optional<std::size_t> ParseSize(std::string_view text) {
    text = Trim(text);
    std::size_t digits_end = 0;
    while (digits_end < text.size() && IsDigit(text[digits_end])) ++digits_end;
    auto number = ParseDigits(text.substr(0, digits_end));
    if (!number) return std::nullopt;
    const std::string_view unit = Trim(text.substr(digits_end));
    struct Unit {
        std::string_view name;
        std::uint64_t factor;
    };
    static constexpr Unit kUnits[] = {
        {"", 1},
        {"b", 1},
        {"kb", 1000},
        {"mb", 1000ull * 1000},
        {"gb", 1000ull * 1000 * 1000},
        {"kib", 1 << 10},
        {"mib", 1 << 20},
        {"gib", 1ull << 30},
    };
    for (const auto& candidate : kUnits) {
        if (!EqualsIgnoreCase(unit, candidate.name)) continue;
        if (*number > std::numeric_limits<std::size_t>::max() / candidate.factor) return std::nullopt;
        return static_cast<std::size_t>(*number * candidate.factor);
    }
    return std::nullopt;
}

Result<std::pair<std::string, std::uint16_t>> ParseListen(std::string_view text) {
    text = Trim(text);
    std::string host;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return Fail(ErrorCode::kConfig,
                        fmt::format("listen '{}': write an IPv6 address as [addr]:port", text));
        }
        host = std::string(text.substr(1, close - 1));
        port_text = text.substr(close + 2);
        if (host.empty())
            return Fail(ErrorCode::kConfig, fmt::format("listen '{}': empty IPv6 address", text));
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            port_text = text;  // "3000": every interface
        } else {
            host = std::string(text.substr(0, colon));
            port_text = text.substr(colon + 1);
            if (host.find(':') != std::string::npos) {
                return Fail(ErrorCode::kConfig,
                            fmt::format("listen '{}': write an IPv6 address as [addr]:port", text));
            }
        }
    }
    auto port = ParseDigits(port_text);
    if (!port || *port > 65535) {
        return Fail(ErrorCode::kConfig,
                    fmt::format("listen '{}': expected HOST:PORT with a port from 0 to 65535", text));
    }
    if (host.empty()) host = "0.0.0.0";
    return std::make_pair(std::move(host), static_cast<std::uint16_t>(*port));
}

}  // namespace spacehook::config
