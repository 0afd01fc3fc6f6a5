#include "store/store.hpp"

#include <fmt/format.h>

#include "core/enum_names.hpp"
#include "core/log.hpp"
#include "store/ledger.hpp"
#include "store/pg_database.hpp"
#include "store/sqlite_database.hpp"

namespace spacehook::store {

namespace {

constexpr EnumNames<EventState, 4> kEventStateNames{{{{EventState::kPending, "pending"},
                                                      {EventState::kDispatched, "dispatched"},
                                                      {EventState::kIgnored, "ignored"},
                                                      {EventState::kFailed, "failed"}}}};

constexpr EnumNames<RunState, 5> kRunStateNames{{{{RunState::kPending, "pending"},
                                                  {RunState::kRunning, "running"},
                                                  {RunState::kDone, "done"},
                                                  {RunState::kDead, "dead"},
                                                  {RunState::kDropped, "dropped"}}}};

}  // namespace

std::string_view ToString(EventState state) {
    return kEventStateNames.Name(state);
}

std::optional<EventState> ParseEventState(std::string_view text) {
    return kEventStateNames.Parse(text);
}

std::string_view ToString(RunState state) {
    return kRunStateNames.Name(state);
}

std::optional<RunState> ParseRunState(std::string_view text) {
    return kRunStateNames.Parse(text);
}

std::vector<Result<int>> WorkQueue::CompleteDispatches(const std::string& owner,
                                                       const std::vector<DispatchCompletion>& completions) {
    std::vector<Result<int>> results;
    results.reserve(completions.size());
    for (const DispatchCompletion& c : completions) {
        results.push_back(CompleteDispatch(c.seq, owner, c.runs, c.final_state, c.note));
    }
    return results;
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
        auto database = sqlite::SqliteDatabase::Open(path, options, clock);
        if (!database) return Fail(database.error());
        return std::unique_ptr<Store>(std::make_unique<Ledger>(std::move(*database), options, clock));
    }
    if (IsSharedStoreUrl(url)) {
        auto database = pg::PgDatabase::Open(std::string(url), options, clock);
        if (!database) return Fail(database.error());
        return std::unique_ptr<Store>(std::make_unique<Ledger>(std::move(*database), options, clock));
    }
    return Fail(
        ErrorCode::kConfig,
        fmt::format("unsupported store URL '{}': use sqlite:PATH or postgres://...", RedactStoreUrl(url)));
}

}  // namespace spacehook::store
