#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/entity_id.hpp"
#include "emulator/dto.hpp"

namespace spacehook::emulator {

/// FileOperationType (docs/docspace-api.md §2.4).
enum class OperationType { kMove = 0, kCopy = 1 };
/// DistributedTaskStatus (docs/docspace-api.md §2.4).
inline constexpr int kTaskCreated = 0;
inline constexpr int kTaskRunning = 1;
inline constexpr int kTaskCompleted = 2;
inline constexpr int kTaskFailed = 4;

/// A copy or move started by PUT files/fileops/{copy,move} (docs/docspace-api.md §2.5). It runs after a delay
/// and then fires its webhooks.
struct FileOperation {
    std::string id;  ///< GUID
    OperationType type = OperationType::kCopy;
    std::string owner;  ///< user id: operations are per user
    std::vector<EntityId> folder_ids;
    std::vector<EntityId> file_ids;
    EntityId dest;
    int conflict = 0;  ///< FileConflictResolveType: Skip 0, Overwrite 1, Duplicate 2
    bool hold = true;  ///< !deleteAfter: keep the finished operation for one poll
    bool content = false;
    bool swallow = false;  ///< fault injection: finish with nothing done and no error
    std::chrono::steady_clock::time_point started{};
    std::chrono::milliseconds duration{0};
    // Progress and result.
    int status = kTaskCreated;
    int progress = 0;
    std::string error;
    int processed = 0;
    bool finished = false;
    std::vector<EntityId> result_files;  ///< the new copies (copy) or the moved files (move)
    std::vector<EntityId> result_folders;
};

/// The operations of all users; lives behind the portal state mutex.
class FileOperationStore {
public:
    FileOperation& Add(FileOperation op);
    [[nodiscard]] FileOperation* Find(const std::string& id);
    /// FileOperationsManager.GetOperationResults (docs/docspace-api.md §2.5): this owner's operations,
    /// filtered by type and id; every *finished* one among them is dequeued now and returned this once (if
    /// held).
    std::vector<FileOperation> TakeResults(const std::string& owner, std::optional<OperationType> type,
                                           const std::string& id);
    /// Operations not yet finished.
    [[nodiscard]] std::size_t Running() const;
    [[nodiscard]] const std::vector<FileOperation>& all() const { return ops_; }

private:
    std::vector<FileOperation> ops_;
};

/// FileOperationDto: {"id","Operation" (capital O),"progress","error","processed" (a string),
/// "finished","files","folders","status"} (docs/docspace-api.md §2.5). Progress of a running operation grows
/// with the time elapsed.
OJson FileOperationDto(const DtoContext& ctx, const FileOperation& op);

}  // namespace spacehook::emulator
