#include "emulator/file_operations.hpp"

#include <algorithm>

namespace spacehook::emulator {

FileOperation& FileOperationStore::Add(FileOperation op) {
    ops_.push_back(std::move(op));
    return ops_.back();
}

FileOperation* FileOperationStore::Find(const std::string& id) {
    for (auto& op : ops_) {
        if (op.id == id) return &op;
    }
    return nullptr;
}

std::vector<FileOperation> FileOperationStore::TakeResults(const std::string& owner,
                                                           std::optional<OperationType> type,
                                                           const std::string& id) {
    std::vector<FileOperation> out;
    for (auto it = ops_.begin(); it != ops_.end();) {
        const bool selected =
            it->owner == owner && (!type || it->type == *type) && (id.empty() || it->id == id);
        if (!selected) {
            ++it;
            continue;
        }
        if (it->finished) {
            // Dequeued the first time it is seen finished, progress forced to 100; returned once if held.
            FileOperation done = std::move(*it);
            it = ops_.erase(it);
            done.progress = 100;
            if (done.hold) out.push_back(std::move(done));
            continue;
        }
        out.push_back(*it);
        ++it;
    }
    return out;
}

std::size_t FileOperationStore::Running() const {
    return static_cast<std::size_t>(
        std::count_if(ops_.begin(), ops_.end(), [](const auto& op) { return !op.finished; }));
}

OJson FileOperationDto(const DtoContext& ctx, const FileOperation& op) {
    int progress = op.progress;
    if (!op.finished && op.duration.count() > 0) {
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - op.started);
        progress =
            static_cast<int>(std::clamp<std::int64_t>(elapsed.count() * 100 / op.duration.count(), 0, 99));
    }
    OJson o = OJson::object();
    o["id"] = op.id;
    o["Operation"] = static_cast<int>(op.type);  // [JsonPropertyName("Operation")]: capital O
    o["progress"] = progress;
    o["error"] = op.error;
    o["processed"] = std::to_string(op.processed);  // a string on the wire
    o["finished"] = op.finished;
    OJson files = OJson::array();
    OJson folders = OJson::array();
    if (op.finished) {
        for (const auto& id : op.result_files) {
            if (const Entry* f = ctx.portal.File(id)) files.push_back(FileDto(ctx, *f));
        }
        // The lists are read back from the job's result string, which starts with the destination and
        // is overwritten by the files' part when there were files (docs/docspace-api.md §2.5): with
        // files no folder is listed, without them the destination comes first.
        if (op.file_ids.empty() && !op.swallow) {
            if (const Entry* d = ctx.portal.Folder(op.dest)) folders.push_back(FolderDto(ctx, *d));
            for (const auto& id : op.result_folders) {
                if (const Entry* f = ctx.portal.Folder(id)) folders.push_back(FolderDto(ctx, *f));
            }
        }
    }
    o["files"] = std::move(files);
    o["folders"] = std::move(folders);
    o["status"] = op.finished ? op.status : (progress > 0 ? kTaskRunning : op.status);
    return o;
}

}  // namespace spacehook::emulator
