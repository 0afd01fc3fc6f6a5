#include "core/log.hpp"

#include <fmt/format.h>

#include <atomic>
#include <mutex>

#include "core/clock.hpp"
#include "core/enum_names.hpp"

namespace spacehook::log {

namespace {
struct State {
    std::mutex mu;
    Level level = Level::kInfo;
    Format format = Format::kText;
    std::FILE* sink = stderr;
    std::vector<std::string> secrets;
};

State& GetState() {
    static State state;
    return state;
}

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

constexpr EnumNames<Level, 4> kLevelNames{{{
    {Level::kDebug, "debug"},
    {Level::kInfo, "info"},
    {Level::kWarn, "warn"},
    {Level::kError, "error"},
}}};
static_assert(kLevelNames.Unique());

std::string_view LevelName(Level level) {
    return kLevelNames.Name(level);
}

void AppendJsonString(std::string& out, std::string_view s) {
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    out += fmt::format("\\u{:04x}", c);
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

std::string RedactLocked(const State& state, std::string_view text) {
    std::string out(text);
    for (const auto& secret : state.secrets) {
        for (size_t pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos)) {
            out.replace(pos, secret.size(), "[redacted]");
            pos += 10;
        }
    }
    return out;
}
}  // namespace

void Configure(Level level, Format format, std::FILE* sink) {
    auto& state = GetState();
    std::lock_guard lock(state.mu);
    state.level = level;
    state.format = format;
    state.sink = sink;
    g_level = static_cast<int>(level);
}

bool ParseLevel(std::string_view text, Level& out) {
    const auto level = kLevelNames.Parse(text == "warning" ? "warn" : text);  // the one alias
    if (!level) return false;
    out = *level;
    return true;
}

Level CurrentLevel() {
    return static_cast<Level>(g_level.load(std::memory_order_relaxed));
}

void RegisterSecret(std::string_view secret) {
    if (secret.size() < 4) return;
    auto& state = GetState();
    std::lock_guard lock(state.mu);
    for (const auto& s : state.secrets) {
        if (s == secret) return;
    }
    state.secrets.emplace_back(secret);
}

std::string Redact(std::string_view text) {
    auto& state = GetState();
    std::lock_guard lock(state.mu);
    return RedactLocked(state, text);
}

void Write(Level level, std::string_view component, std::string_view message,
           const std::vector<Field>& fields) {
    if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
    auto& state = GetState();
    const std::string ts = FormatIso8601(std::chrono::system_clock::now(), true);
    std::lock_guard lock(state.mu);
    std::string line;
    if (state.format == Format::kJson) {
        line = "{\"ts\":\"" + ts + "\",\"level\":\"" + std::string(LevelName(level)) + "\",\"component\":";
        AppendJsonString(line, component);
        line += ",\"msg\":";
        AppendJsonString(line, RedactLocked(state, message));
        for (const auto& f : fields) {
            line += ',';
            AppendJsonString(line, f.key);
            line += ':';
            if (f.raw) {
                line += f.value;
            } else {
                AppendJsonString(line, RedactLocked(state, f.value));
            }
        }
        line += "}\n";
    } else {
        line = fmt::format("{} {:5} [{}] {}", ts, LevelName(level), component, RedactLocked(state, message));
        for (const auto& f : fields) {
            const std::string v = f.raw ? f.value : RedactLocked(state, f.value);
            const bool quote = !f.raw && (v.empty() || v.find_first_of(" \t\"=") != std::string::npos);
            line += quote ? fmt::format(" {}=\"{}\"", f.key, v) : fmt::format(" {}={}", f.key, v);
        }
        line += '\n';
    }
    std::fwrite(line.data(), 1, line.size(), state.sink);
    std::fflush(state.sink);
}

}  // namespace spacehook::log
