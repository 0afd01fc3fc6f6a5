#include "store/store.hpp"

#include <fmt/format.h>

#include "core/log.hpp"
#include "store/pg_store.hpp"
#include "store/sqlite_store.hpp"

namespace spacehook::store {

std::string_view ToString(EventState state) {
    switch (state) {
        case EventState::kPending:
            return "pending";
        case EventState::kDispatched:
            return "dispatched";
        case EventState::kIgnored:
            return "ignored";
        case EventState::kFailed:
            return "failed";
    }
    return "pending";
}

std::optional<EventState> ParseEventState(std::string_view text) {
    for (EventState state :
         {EventState::kPending, EventState::kDispatched, EventState::kIgnored, EventState::kFailed}) {
        if (ToString(state) == text) return state;
    }
    return std::nullopt;
}

std::vector<Result<int>> Store::CompleteDispatches(const std::string& owner,
                                                   const std::vector<DispatchCompletion>& completions) {
    std::vector<Result<int>> results;
    results.reserve(completions.size());
    for (const DispatchCompletion& c : completions) {
        results.push_back(CompleteDispatch(c.seq, owner, c.runs, c.final_state, c.note));
    }
    return results;
}

std::string_view ToString(RunState state) {
    switch (state) {
        case RunState::kPending:
            return "pending";
        case RunState::kRunning:
            return "running";
        case RunState::kDone:
            return "done";
        case RunState::kDead:
            return "dead";
        case RunState::kDropped:
            return "dropped";
    }
    return "pending";
}

std::optional<RunState> ParseRunState(std::string_view text) {
    for (RunState state :
         {RunState::kPending, RunState::kRunning, RunState::kDone, RunState::kDead, RunState::kDropped}) {
        if (ToString(state) == text) return state;
    }
    return std::nullopt;
}

namespace {

constexpr std::string_view kSqlitePrefix = "sqlite:";

/// Replaces the value of every `password=` parameter in a URL query ("...?sslmode=require&password=x").
std::string RedactPasswordParameters(std::string text) {
    constexpr std::string_view kKey = "password=";
    std::size_t from = text.find('?');
    while (from != std::string::npos) {
        const std::size_t at = text.find(kKey, from);
        if (at == std::string::npos) break;
        const bool at_parameter_start = text[at - 1] == '?' || text[at - 1] == '&';
        const std::size_t value = at + kKey.size();
        const std::size_t end = std::min(text.find('&', value), text.size());
        if (at_parameter_start) text.replace(value, end - value, "***");
        from = at_parameter_start ? value + 3 : value;
    }
    return text;
}

}  // namespace

bool IsSharedStoreUrl(std::string_view url) {
    return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

Result<std::chrono::milliseconds> Store::AcquireRateToken(const std::string& key, double, int, TimePoint) {
    return Fail(ErrorCode::kUnavailable, fmt::format("this store keeps no shared rate limit for '{}'", key));
}

Status Store::PauseRateLimit(const std::string& key, TimePoint, TimePoint) {
    return Fail(ErrorCode::kUnavailable, fmt::format("this store keeps no shared rate limit for '{}'", key));
}

std::string RedactStoreUrl(std::string_view url) {
    std::string text(url);
    const std::size_t scheme_end = text.find("://");
    if (scheme_end != std::string::npos) {
        const std::size_t authority = scheme_end + 3;
        const std::size_t authority_end = std::min(text.find_first_of("/?#", authority), text.size());
        const std::size_t at = text.rfind('@', authority_end - 1);
        if (at != std::string::npos && at >= authority) {
            const std::size_t colon = text.find(':', authority);
            if (colon != std::string::npos && colon < at) text.replace(colon + 1, at - colon - 1, "***");
        }
    }
    // Registered secrets too, in case one is part of a path or host.
    return log::Redact(RedactPasswordParameters(std::move(text)));
}

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const StoreOptions& options,
                                         const Clock& clock) {
    if (url.starts_with(kSqlitePrefix)) {
        const std::string path(url.substr(kSqlitePrefix.size()));
        if (path.empty())
            return Fail(ErrorCode::kConfig,
                        "store URL 'sqlite:' needs a path: sqlite:/var/lib/spacehook/store.db");
        if (path == ":memory:") {
            return Fail(ErrorCode::kConfig,
                        "store URL 'sqlite::memory:' is refused: an in-memory store would lose acknowledged "
                        "deliveries");
        }
        auto store = sqlite::SqliteStore::Open(path, options, clock);
        if (!store) return Fail(store.error());
        return std::unique_ptr<Store>(std::move(*store));
    }
    if (IsSharedStoreUrl(url)) {
        auto store = pg::PgStore::Open(std::string(url), options, clock);
        if (!store) return Fail(store.error());
        return std::unique_ptr<Store>(std::move(*store));
    }
    return Fail(
        ErrorCode::kConfig,
        fmt::format("unsupported store URL '{}': use sqlite:PATH or postgres://...", RedactStoreUrl(url)));
}

}  // namespace spacehook::store
