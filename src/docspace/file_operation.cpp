#include "docspace/file_operation.hpp"

#include <fmt/format.h>

#include "core/log.hpp"
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
