// File operations (OperationController, docs/docspace-api.md §2.5): PUT fileops/copy|move check the request
// (404/403 before any operation exists) and start an asynchronous operation; GET fileops polls it and
// dequeues it once finished. The copy/move itself runs when the operation's delay has passed
// (operation_runner.hpp) and fires file.copied/folder.copied (payload = the new copy) or
// file.moved/folder.moved (file.restored/folder.restored out of Trash), one event per item (§1.12).

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "core/text.hpp"
#include "emulator/api_call.hpp"
#include "emulator/operation_runner.hpp"
#include "emulator/portal_state.hpp"

namespace spacehook::emulator {
namespace {

/// FileConflictResolveType by name or number (docs/docspace-api.md §2.4).
std::optional<int> ParseConflict(const OJson* value) {
    if (value == nullptr || value->is_null()) return 0;
    if (value->is_number_integer()) {
        const int n = value->get<int>();
        return n >= 0 && n <= 2 ? std::optional<int>(n) : std::nullopt;
    }
    if (value->is_string()) {
        const auto text = ToLower(value->get<std::string>());
        if (text == "skip" || text == "0") return 0;
        if (text == "overwrite" || text == "1") return 1;
        if (text == "duplicate" || text == "2") return 2;
    }
    return std::nullopt;
}

/// FileOperationType by name or number, for GET fileops/{type}.
std::optional<int> ParseOperationType(const std::string& text) {
    static const char* kNames[] = {"move",       "copy",   "delete",  "download",
                                   "markasread", "import", "convert", "duplicate"};
    const auto lower = ToLower(text);
    for (int i = 0; i < 8; ++i) {
        if (lower == kNames[i] || lower == std::to_string(i)) return i;
    }
    return std::nullopt;
}

bool ParseIdList(const OJson* value, std::vector<EntityId>& out) {
    if (value == nullptr || value->is_null()) return true;
    if (!value->is_array()) return false;
    for (const auto& v : *value) {
        auto id = JsonId(v);
        if (!id) return false;
        out.push_back(*id);
    }
    return true;
}

OJson ResultsJson(ApiServices& s, const ApiCall& call, const std::vector<FileOperation>& ops) {
    const auto ctx = s.state.Dto(&call.user);
    OJson list = OJson::array();
    for (const auto& op : ops) list.push_back(FileOperationDto(ctx, op));
    return list;
}

/// PermissionCheckStarter.CheckCopyDataAsync with check: true, run by the PUT before any operation
/// exists (docs/docspace-api.md §2.5): a bad request is an HTTP error, never a failed operation.
std::optional<Reply> CheckUpFront(ApiServices& s, const ApiCall& call, const FileOperation& op) {
    auto& portal = s.state.portal;
    const bool copy = op.type == OperationType::kCopy;
    const Entry* dest = op.dest.empty() ? nullptr : portal.Folder(op.dest);
    if (dest == nullptr) return call.Fail(NotFound("The required folder was not found"));
    const bool to_rooms = dest->folder_type == kFolderVirtualRooms;
    const bool to_archive = dest->folder_type == kFolderArchive;
    if (!to_rooms && !to_archive && !portal.CanCreateIn(call.user, *dest)) return call.Fail(AccessDenied());
    for (const auto& id : op.folder_ids) {
        if (portal.IsWithin(*dest, id)) {
            return call.Fail(InvalidOperation("You cannot copy the folder to its subfolder"));
        }
    }
    // The first folder and the first file are asked about before the others.
    if (!op.folder_ids.empty()) {
        const Entry* first = portal.Folder(op.folder_ids.front());
        // CheckGeneralPermissionsAsync reads firstFolder.IsRoom of a folder it did not find.
        if (first == nullptr) {
            return call.Fail(Internal("System.NullReferenceException",
                                      "Object reference not set to an instance of an object."));
        }
        if (!portal.CanRead(call.user, *first) || (!copy && !portal.CanRemove(call.user, *first))) {
            return call.Fail(AccessDenied());
        }
    }
    if (!op.file_ids.empty()) {
        const Entry* first = portal.File(op.file_ids.front());
        if (first == nullptr || !portal.CanRead(call.user, *first) ||
            (!copy && !portal.CanRemove(call.user, *first))) {
            return call.Fail(AccessDenied());
        }
    }
    for (const auto& id : op.folder_ids) {
        const Entry* folder = portal.Folder(id);
        if (folder == nullptr) return call.Fail(NotFound("The required folder was not found"));
        const bool may = portal.CanRead(call.user, *folder) && (copy || portal.CanRemove(call.user, *folder));
        if (folder->parent_id.empty() || (!folder->IsRoom() && !may)) return call.Fail(AccessDenied());
        if (!folder->IsRoom() && (to_rooms || portal.RootOf(*dest).folder_type == kFolderArchive)) {
            return call.Fail(AccessDenied());
        }
        if (folder->IsRoom() && !to_rooms && !to_archive) return call.Fail(AccessDenied());
    }
    for (const auto& id : op.file_ids) {
        const Entry* file = portal.File(id);
        if (file == nullptr) return call.Fail(NotFound("The required file was not found"));
        if (to_rooms || portal.RootOf(*dest).folder_type == kFolderArchive) return call.Fail(AccessDenied());
        if (!portal.CanRead(call.user, *file) || (!copy && !portal.CanRemove(call.user, *file))) {
            return call.Fail(AccessDenied());
        }
        if (op.conflict == 1) {
            const Entry* conflict = portal.ChildByTitle(*dest, file->title, false);
            if (conflict != nullptr && !portal.CanEdit(call.user, *conflict)) {
                return call.Fail(
                    InvalidOperation("You don't have enough permission to perform the operation"));
            }
        }
    }
    return std::nullopt;
}

Reply Start(ApiServices& s, ApiCall& call, OperationType type) {
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    FileOperation op;
    if (!ParseIdList(Field(body, "folderIds"), op.folder_ids) ||
        !ParseIdList(Field(body, "fileIds"), op.file_ids)) {
        return call.Invalid(
            {{"$.fileIds", {"The JSON value could not be converted to System.Text.Json.JsonElement[]."}}});
    }
    const auto conflict = ParseConflict(Field(body, "conflictResolveType"));
    if (!conflict) {
        return call.Invalid(
            {{"$.conflictResolveType",
              {"The JSON value could not be converted to ASC.Files.Core.FileConflictResolveType."}}});
    }
    const bool single = JsonBool(body, "returnSingleOperation");
    s.state.Count(type == OperationType::kCopy ? "copy_calls" : "move_calls");
    const OJson* dest_field = Field(body, "destFolderId");
    const auto dest = dest_field != nullptr ? JsonId(*dest_field) : std::nullopt;

    // Both lists empty: Publish returns null and no operation exists (docs/docspace-api.md §2.5).
    if (op.folder_ids.empty() && op.file_ids.empty()) {
        if (single) return call.Ok(OJson::array(), CountMode::kAsyncStream);
        return call.Ok(ResultsJson(s, call, s.state.operations.TakeResults(call.user.id, type, "")),
                       CountMode::kAsyncStream);
    }
    op.id = NewGuid();
    op.type = type;
    op.owner = call.user.id;
    op.dest = dest.value_or(EntityId());
    op.conflict = *conflict;
    // content:true expands the given folders into their contents before anything is checked.
    if (JsonBool(body, "content")) {
        std::vector<EntityId> folders;
        for (const auto& id : op.folder_ids) {
            if (const Entry* f = s.state.portal.Folder(id)) {
                folders.insert(folders.end(), f->folders.begin(), f->folders.end());
                op.file_ids.insert(op.file_ids.end(), f->files.begin(), f->files.end());
            }
        }
        op.folder_ids = std::move(folders);
        op.content = true;
    }
    if (auto refused = CheckUpFront(s, call, op)) return *refused;
    // deleteAfter does NOT delete the source: it only means "do not hold the result" (docs/docspace-api.md
    // §2.5).
    op.hold = !JsonBool(body, "deleteAfter");
    op.swallow = call.swallow_operation;
    op.started = std::chrono::steady_clock::now();
    op.duration = s.state.options().operation_delay;
    op.status = kTaskRunning;
    const auto id = op.id;
    const FileOperation snapshot = op;
    s.state.operations.Add(std::move(op));
    s.state.Count(type == OperationType::kCopy ? "copy_operations" : "move_operations");
    s.schedule_operation(id, s.state.options().operation_delay);
    if (single) {
        OJson list = OJson::array();
        list.push_back(FileOperationDto(s.state.Dto(&call.user), snapshot));
        return call.Ok(std::move(list), CountMode::kAsyncStream);
    }
    return call.Ok(ResultsJson(s, call, s.state.operations.TakeResults(call.user.id, type, "")),
                   CountMode::kAsyncStream);
}

Reply Copy(ApiServices& s, ApiCall& call) {
    return Start(s, call, OperationType::kCopy);
}
Reply Move(ApiServices& s, ApiCall& call) {
    return Start(s, call, OperationType::kMove);
}

/// GET files/fileops[?id=]: there is no fileops/{id} route (docs/docspace-api.md §2.5).
Reply Poll(ApiServices& s, ApiCall& call) {
    const auto id = call.Query("id").value_or("");
    return call.Ok(ResultsJson(s, call, s.state.operations.TakeResults(call.user.id, std::nullopt, id)),
                   CountMode::kAsyncStream);
}

Reply PollByType(ApiServices& s, ApiCall& call) {
    const auto type = ParseOperationType(call.params[0]);
    if (!type) {
        return call.Invalid(
            {{"operationType", {fmt::format("The value '{}' is not valid.", call.params[0])}}});
    }
    if (*type > 1) return call.Ok(OJson::array(), CountMode::kAsyncStream);  // only copy/move are emulated
    return call.Ok(
        ResultsJson(s, call,
                    s.state.operations.TakeResults(call.user.id, static_cast<OperationType>(*type), "")),
        CountMode::kAsyncStream);
}

}  // namespace

std::vector<ApiRoute> FileOperationRoutes() {
    return {
        {"PUT", "files/fileops/copy", Copy, "OperationController.CopyBatchItems"},
        {"PUT", "files/fileops/move", Move, "OperationController.MoveBatchItems"},
        {"GET", "files/fileops", Poll, "OperationController.GetOperationStatuses"},
        {"GET", "files/fileops/{type}", PollByType, "OperationController.GetOperationStatusesByType"},
    };
}

}  // namespace spacehook::emulator
