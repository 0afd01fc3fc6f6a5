#include "docspace/file_operation.hpp"

#include <fmt/format.h>

#include <set>

#include "core/log.hpp"
#include "core/text.hpp"
#include "docspace/dto.hpp"

namespace spacehook::docspace {

namespace {
std::vector<Entry> ParseEntries(const Json* list, std::string_view base_url) {
    std::vector<Entry> entries;
    if (list == nullptr || !list->is_array()) return entries;
    for (const auto& item : *list) {
        if (auto entry = ParseEntry(item, base_url)) entries.push_back(std::move(*entry));
    }
    return entries;
}

OperationOutcome OutcomeOf(const FileOperation& operation) {
    OperationOutcome outcome;
    outcome.operation_id = operation.id;
    outcome.files = operation.files;
    outcome.folders = operation.folders;
    return outcome;
}
}  // namespace

std::optional<FileOperation> ParseFileOperation(const Json& dto, std::string_view base_url) {
    if (!dto.is_object()) return std::nullopt;
    FileOperation op;
    op.id = TextOf(FindKey(dto, "id"));
    if (op.id.empty()) return std::nullopt;
    op.operation = static_cast<int>(IntegerOf(FindKey(dto, "Operation")).value_or(-1));
    op.progress = static_cast<int>(IntegerOf(FindKey(dto, "progress")).value_or(0));
    op.error = TextOf(FindKey(dto, "error"));
    op.processed = TextOf(FindKey(dto, "processed"));
    op.finished = BoolOf(FindKey(dto, "finished"));
    op.files = ParseEntries(FindKey(dto, "files"), base_url);
    op.folders = ParseEntries(FindKey(dto, "folders"), base_url);
    return op;
}

std::vector<FileOperation> ParseFileOperations(const Json& response, std::string_view base_url) {
    std::vector<FileOperation> operations;
    if (response.is_array()) {
        for (const auto& item : response) {
            if (auto op = ParseFileOperation(item, base_url)) operations.push_back(std::move(*op));
        }
    } else if (auto op = ParseFileOperation(response, base_url)) {
        operations.push_back(std::move(*op));
    }
    return operations;
}

namespace {

const std::vector<Entry>& Pool(const FolderContents& contents, bool is_folder) {
    return is_folder ? contents.folders : contents.files;
}

/// The entry of that title, in any case: how the portal looks for a conflict.
const Entry* SameTitle(const std::vector<Entry>& pool, const std::string& title) {
    for (const auto& entry : pool) {
        if (EqualsIgnoreCase(entry.title, title)) return &entry;
    }
    return nullptr;
}

const Entry* ById(const std::vector<Entry>& pool, const EntityId& id) {
    for (const auto& entry : pool) {
        if (entry.id == id) return &entry;
    }
    return nullptr;
}

std::string Quoted(const std::vector<std::string>& titles) {
    std::string text;
    for (const auto& title : titles) text += (text.empty() ? "'" : ", '") + title + "'";
    return text;
}

}  // namespace

Result<OperationOutcome> CheckArrival(const ArrivalCheck& check, std::string_view what) {
    OperationOutcome outcome;
    std::vector<std::string> missing;
    std::vector<std::string> skipped;
    std::set<std::string> claimed;  // a new copy stands for one item only
    for (const auto& item : check.items) {
        const auto& before = Pool(check.before, item.is_folder);
        const auto& after = Pool(check.after, item.is_folder);
        auto& arrived = item.is_folder ? outcome.folders : outcome.files;
        const Entry* had = SameTitle(before, item.title);
        const Entry* has = SameTitle(after, item.title);
        if (check.move) {
            auto now = check.current(item);
            if (!now) return Fail(now.error());
            if (*now && (*now)->parent_id == check.destination) {
                arrived.push_back(**now);
                continue;
            }
            const bool conflicted = check.conflict != ConflictResolve::kDuplicate && had != nullptr;
            if (!*now && conflicted && has != nullptr) {
                // Overwritten (a file: a newer version) or merged in (a folder); the source is gone.
                const bool newer = item.is_folder || has->version > had->version;
                if (newer) {
                    arrived.push_back(*has);
                    continue;
                }
            }
            if (*now && conflicted && check.conflict == ConflictResolve::kSkip) {
                skipped.push_back(item.title);
                continue;
            }
            missing.push_back(item.title);
            continue;
        }
        const auto kind = item.is_folder ? TitleKind::kFolder : TitleKind::kFile;
        const Entry* copy = nullptr;
        for (const auto& entry : after) {
            if (ById(before, entry.id) != nullptr || claimed.count(entry.id.str()) != 0) continue;
            if (TitleMatches(entry.title, item.title, true, kind)) copy = &entry;
        }
        if (copy != nullptr) {
            claimed.insert(copy->id.str());
            arrived.push_back(*copy);
            continue;
        }
        if (had != nullptr && has != nullptr && check.conflict != ConflictResolve::kDuplicate) {
            // Kept (skip), merged into (a folder) or given the new version (overwrite).
            const Entry* now = ById(after, had->id);
            const bool kept = check.conflict == ConflictResolve::kSkip || item.is_folder;
            if (now != nullptr && (kept || now->version > had->version)) {
                arrived.push_back(*now);
                continue;
            }
        }
        missing.push_back(item.title);
    }
    const std::string_view name = check.move ? "move" : "copy";
    if (!skipped.empty()) {
        return Fail(
            ErrorCode::kConflict,
            fmt::format("DocSpace skipped {} in the {}: folder {} already holds an item of that title and "
                        "the conflict rule is {} (a folder is merged, but what conflicts inside it stays "
                        "behind); use conflict: duplicate or overwrite to move it anyway",
                        Quoted(skipped), name, check.destination.str(),
                        check.conflict == ConflictResolve::kSkip ? "skip" : "overwrite"));
    }
    if (!missing.empty()) {
        return Fail(
            ErrorCode::kUnavailable,
            fmt::format("DocSpace {} operation {} but folder {} does not hold {} (docs/docspace-api.md "
                        "§2.5: the portal also finishes without an error when it failed inside)",
                        name, what, check.destination.str(), Quoted(missing)));
    }
    return outcome;
}

Result<OperationOutcome> AwaitFileOperation(const FileOperation& started, std::string_view what,
                                            const PollOptions& options, const PollHooks& hooks) {
    const auto check_final = [&](const FileOperation& op) -> std::optional<Result<OperationOutcome>> {
        if (!op.error.empty()) {
            return Result<OperationOutcome>(
                Fail(ErrorCode::kPermanent,
                     fmt::format("DocSpace {} operation {} failed: {}", what, op.id, op.error)));
        }
        if (op.Done()) return Result<OperationOutcome>(OutcomeOf(op));
        return std::nullopt;
    };
    if (auto final = check_final(started)) return *final;

    const auto deadline = hooks.now() + options.timeout;
    std::optional<Error> last_transient;
    for (;;) {
        if (hooks.now() >= deadline) {
            std::string message = fmt::format("DocSpace {} operation {} not finished after {} ms", what,
                                              started.id, options.timeout.count());
            if (last_transient) message += " (last poll error: " + last_transient->message + ")";
            return Fail(ErrorCode::kTimeout, std::move(message));
        }
        hooks.sleep(options.interval);
        auto listed = hooks.list(started.id);
        if (!listed) {
            if (!listed.error().IsTransient()) return Fail(listed.error());
            last_transient = listed.error();
            continue;
        }
        const FileOperation* mine = nullptr;
        for (const auto& op : *listed) {
            if (op.id == started.id) mine = &op;
        }
        if (mine == nullptr) {
            // Dequeued by someone else: finished, state unknown (docs/docspace-api.md §2.5). The destination
            // tells.
            log::Info("docspace", "file operation vanished from /fileops; verifying the destination",
                      {{"operation", started.id}, {"kind", what}});
            auto verified = hooks.verify_target();
            if (!verified) return Fail(verified.error());
            verified->operation_id = started.id;
            verified->verified_by_target = true;
            return verified;
        }
        if (auto final = check_final(*mine)) return *final;
    }
}

}  // namespace spacehook::docspace
