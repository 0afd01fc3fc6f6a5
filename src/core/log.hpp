#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace spacehook::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kText, kJson };

/// One structured field of a log line. Values are kept as text; numbers and booleans stay unquoted
/// in JSON lines.
struct Field {
    template <class T>
    Field(std::string_view k, const T& v) : key(k) {
        if constexpr (std::is_same_v<T, bool>) {
            value = v ? "true" : "false";
            raw = true;
        } else if constexpr (std::is_arithmetic_v<T>) {
            value = std::to_string(v);
            raw = true;
        } else {
            value = std::string(std::string_view(v));
        }
    }
    std::string key;
    std::string value;
    bool raw = false;  ///< emit without quotes in JSON
};

/// Sets level, format and sink for the whole process. Call before threads start.
void Configure(Level level, Format format, std::FILE* sink = stderr);
/// Parses "debug"|"info"|"warn"|"error"; false when unknown.
bool ParseLevel(std::string_view text, Level& out);
Level CurrentLevel();

/// Registers a secret (API key, webhook secret, SMTP password). Any occurrence in any log line,
/// message or field, is replaced by "[redacted]". This is defence in depth: code must not log
/// secrets in the first place. Secrets shorter than 4 characters are ignored.
void RegisterSecret(std::string_view secret);
/// Replaces every registered secret in `text`; used for error texts shown outside logs too.
std::string Redact(std::string_view text);

void Write(Level level, std::string_view component, std::string_view message,
           const std::vector<Field>& fields = {});

inline void Debug(std::string_view c, std::string_view m, const std::vector<Field>& f = {}) {
    if (CurrentLevel() <= Level::kDebug) Write(Level::kDebug, c, m, f);
}
inline void Info(std::string_view c, std::string_view m, const std::vector<Field>& f = {}) {
    Write(Level::kInfo, c, m, f);
}
inline void Warn(std::string_view c, std::string_view m, const std::vector<Field>& f = {}) {
    Write(Level::kWarn, c, m, f);
}
inline void Error(std::string_view c, std::string_view m, const std::vector<Field>& f = {}) {
    Write(Level::kError, c, m, f);
}

}  // namespace spacehook::log
