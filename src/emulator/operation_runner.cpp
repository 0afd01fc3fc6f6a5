#include "emulator/operation_runner.hpp"

#include <fmt/format.h>

namespace spacehook::emulator {
namespace {

// FileConflictResolveType: 0 Skip, 1 Overwrite (the default branch below), 2 Duplicate.
constexpr int kSkip = 0;
constexpr int kDuplicate = 2;

/// Global.GetAvailableTitleAsync: the title itself when free, else the first free numbered one.
std::string AvailableTitle(Portal& portal, const Entry& dest, const std::string& title, bool is_folder) {
    std::string candidate = title;
    for (int n = 1; portal.ChildByTitle(dest, candidate, is_folder) != nullptr; ++n) {
        candidate = DuplicateTitle(title, n, is_folder);
    }
    return candidate;
}

/// FileMoveCopyOperation<T> for one operation: MoveOrCopyFoldersAsync then MoveOrCopyFilesAsync, the
/// folders' content recursively (docs/docspace-api.md §2.5 "File operations").
class Job {
public:
    Job(PortalState& state, FileOperation& op, const User& user)
        : state_(state),
          portal_(state.portal),
          op_(op),
          user_(user),
          copy_(op.type == OperationType::kCopy) {}

    void Run(const EntityId& dest) {
        for (const auto& id : op_.folder_ids) Folder(id, dest, true);
        for (const auto& id : op_.file_ids) File(id, dest, true);
    }

private:
    /// The first error sticks: ComposeFileOperation publishes it at the item's progress step.
    void Error(const std::string& message) {
        if (op_.error.empty()) op_.error = message;
    }
    void Processed(const EntityId& result, bool is_folder, bool top_level) {
        ++op_.processed;
        if (top_level) (is_folder ? op_.result_folders : op_.result_files).push_back(result);
    }
    void Fire(const std::string& trigger, const Entry& entry) { state_.FireEntry(trigger, entry, user_.id); }
    bool FromTrash(const Entry& entry) const {
        const Entry* parent = portal_.Folder(entry.parent_id);
        return parent != nullptr && parent->folder_type == kFolderTrash;
    }
    void Touch(Entry& entry) {
        entry.modified_by = user_.id;
        entry.modified_on = state_.Now();
    }

    void File(const EntityId& id, const EntityId& dest_id, bool top_level) {
        Entry* src = portal_.File(id);
        if (src == nullptr) return Error("The required file was not found");
        if (!portal_.CanRead(user_, *src) || (!copy_ && !portal_.CanRemove(user_, *src))) {
            return Error(copy_ ? "You don't have enough permission to copy the file"
                               : "You don't have enough permission to move the file");
        }
        Entry* dest = portal_.Folder(dest_id);
        // Duplicate never looks for a conflict; the others look for a file of that title (any case).
        Entry* conflict =
            op_.conflict == kDuplicate ? nullptr : portal_.ChildByTitle(*dest, src->title, false);
        if (conflict == nullptr) {
            if (copy_) {
                const auto title = AvailableTitle(portal_, *dest, src->title, false);
                const auto size = src->size;
                const Entry& created = portal_.CreateFile(dest_id, title, size, user_.id, state_.Now());
                state_.Count("files_copied");
                Fire("file.copied", created);  // the payload is the new copy
                return Processed(created.id, false, top_level);
            }
            // A move never renames: with Duplicate the destination may hold two files of one title.
            const bool restored = FromTrash(*src);
            portal_.Move(*src, dest_id);
            Touch(*src);
            state_.Count("files_moved");
            Fire(restored ? "file.restored" : "file.moved", *src);
            return Processed(src->id, false, top_level);
        }
        if (op_.conflict == kSkip) return;  // silently: no error, not processed
        // Overwrite: the existing file gets a new version with the source's content.
        if (!portal_.CanEdit(user_, *conflict)) {
            return Error("You don't have enough permission to perform the operation");
        }
        ++conflict->version;
        ++conflict->version_group;
        conflict->size = src->size;
        Touch(*conflict);
        if (copy_) {
            state_.Count("files_copied");
            Fire("file.copied", *conflict);
            return Processed(conflict->id, false, top_level);
        }
        if (conflict == src) return Processed(conflict->id, false, top_level);  // its own folder
        // The source is deleted: what arrives is the destination's file, under its own id.
        const bool restored = FromTrash(*src);
        portal_.RemoveFile(src->id);
        state_.Count("files_moved");
        Fire(restored ? "file.restored" : "file.moved", *conflict);
        Processed(conflict->id, false, top_level);
    }

    void Folder(const EntityId& id, const EntityId& dest_id, bool top_level) {
        Entry* src = portal_.Folder(id);
        if (src == nullptr) return Error("The required folder was not found");
        if (src->parent_id.empty()) return Error("You don't have enough permission to perform the operation");
        if (!portal_.CanRead(user_, *src) || (!copy_ && !portal_.CanRemove(user_, *src))) {
            return Error(copy_ ? "You don't have enough permission to copy the folder"
                               : "You don't have enough permission to move the folder");
        }
        if (portal_.IsWithin(*portal_.Folder(dest_id), src->id)) {
            return Error("You cannot copy the folder to its subfolder");
        }
        if (src->IsRoom()) return Room(*src, dest_id, top_level);
        const bool same_parent = src->parent_id == dest_id;
        if (same_parent && op_.conflict != kDuplicate) return;  // nothing to do, nothing counted
        // Outside Duplicate into another folder, a folder of that title is merged into.
        Entry* conflict = !same_parent && op_.conflict == kDuplicate
                              ? nullptr
                              : portal_.ChildByTitle(*portal_.Folder(dest_id), src->title, true);
        if (!copy_ && conflict == nullptr) {
            const bool restored = FromTrash(*src);
            portal_.Move(*src, dest_id);  // a move never renames
            Touch(*src);
            state_.Count("folders_moved");
            Fire(restored ? "folder.restored" : "folder.moved", *src);
            return Processed(src->id, true, top_level);
        }
        EntityId target;
        if (conflict != nullptr) {
            if (op_.conflict == kDuplicate) {
                // Into its own parent: a new, numbered folder takes the content.
                const auto title = AvailableTitle(portal_, *portal_.Folder(dest_id), conflict->title, true);
                target = portal_.CreateFolder(dest_id, title, user_.id, state_.Now()).id;
            } else {
                target = conflict->id;
            }
            state_.Count("folders_copied");
            Fire("folder.copied", *portal_.Folder(target));  // a merge publishes folder.copied, move or not
        } else {
            const auto title = AvailableTitle(portal_, *portal_.Folder(dest_id), src->title, true);
            target = portal_.CreateFolder(dest_id, title, user_.id, state_.Now()).id;
            state_.Count("folders_copied");
            Fire("folder.copied", *portal_.Folder(target));
            Processed(target, true, top_level);  // counted here and again after the content
        }
        Content(id, target);
        if (copy_) {
            ++op_.processed;
        } else {
            // A move merged into another folder deletes the source once it is empty, and only then counts.
            Entry* left = portal_.Folder(id);
            if (left == nullptr || !left->files.empty() || !left->folders.empty()) return;
            portal_.RemoveFolder(id);
            ++op_.processed;
        }
        if (top_level && conflict != nullptr) op_.result_folders.push_back(target);
    }

    /// A folder's files, then its folders, into `target`, with the same conflict rule (the portal
    /// recurses through MoveOrCopyFilesAsync and MoveOrCopyFoldersAsync, each item firing its event).
    void Content(const EntityId& folder_id, const EntityId& target) {
        const auto files = portal_.Folder(folder_id)->files;
        const auto folders = portal_.Folder(folder_id)->folders;
        for (const auto& file : files) File(file, target, false);
        for (const auto& folder : folders) Folder(folder, target, false);
    }

    /// Rooms move between the Rooms section and the Archive; a copy in the Rooms section duplicates one.
    void Room(Entry& room, const EntityId& dest_id, bool top_level) {
        const Entry* dest = portal_.Folder(dest_id);
        const bool to_archive = dest->folder_type == kFolderArchive;
        const bool to_rooms = dest->folder_type == kFolderVirtualRooms;
        if (!to_archive && !to_rooms) {
            return Error("You don't have enough permission to unarchive the room");
        }
        if (copy_) {
            if (!to_rooms || room.parent_id != dest_id)
                return Error("You don't have enough permission to copy the folder");
            const auto title = AvailableTitle(portal_, *dest, room.title, true);
            Entry& copy = portal_.CreateRoom(title, room.room_type, user_.id, state_.Now());
            copy.tags = room.tags;
            const EntityId copy_id = copy.id;
            state_.Count("rooms_copied");
            Fire("room.copied", copy);
            Processed(copy_id, true, top_level);
            Content(room.id, copy_id);
            ++op_.processed;
            return;
        }
        if (room.parent_id == dest_id) return;
        portal_.Move(room, dest_id);
        Touch(room);
        state_.Count(to_archive ? "rooms_archived" : "rooms_unarchived");
        Fire(to_archive ? "room.archived" : "room.restored", room);
        Processed(room.id, true, top_level);
    }

    PortalState& state_;
    Portal& portal_;
    FileOperation& op_;
    const User& user_;
    const bool copy_;
};

}  // namespace

void RunOperation(PortalState& state, const std::string& op_id) {
    FileOperation* op = state.operations.Find(op_id);
    if (op == nullptr || op->finished) return;
    auto& portal = state.portal;
    auto done = [&] {
        op->finished = true;
        op->progress = 100;
        op->status = !op->error.empty() && op->processed == 0 ? kTaskFailed : kTaskCompleted;
    };
    if (op->swallow) {
        // FileOperation.RunJob logs an exception it did not expect and finishes all the same: progress
        // 100, no error, nothing done.
        state.Count("operations_swallowed");
        return done();
    }
    const User* user = portal.FindUser(op->owner);
    const Entry* dest = op->dest.empty() ? nullptr : portal.Folder(op->dest);
    // What the PUT checked may have changed since: the job's own checks report it as the error.
    if (user == nullptr || dest == nullptr) {
        op->error = "The required folder was not found";
        return done();
    }
    const bool sections = dest->folder_type == kFolderVirtualRooms || dest->folder_type == kFolderArchive;
    if (!sections && !portal.CanCreateIn(*user, *dest)) {
        op->error = "You don't have enough permission to create";
        return done();
    }
    const User actor = *user;
    Job(state, *op, actor).Run(dest->id);
    done();
}

}  // namespace spacehook::emulator
