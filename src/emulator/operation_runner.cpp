#include "emulator/operation_runner.hpp"

#include <fmt/format.h>

namespace spacehook::emulator {
namespace {

constexpr int kSkip = 0;
constexpr int kOverwrite = 1;

std::string FreeTitle(Portal& portal, const Entry& dest, const std::string& title, bool is_folder) {
    std::string candidate = title;
    for (int n = 1; portal.ChildByTitle(dest, candidate, is_folder) != nullptr; ++n) {
        candidate = DuplicateTitle(title, n);
    }
    return candidate;
}

/// Copies a folder's subtree under `dest` as `title`; nested items fire no events (docs/docspace-api.md
/// §4.11).
Entry& CopyTree(PortalState& state, const Entry& source, const EntityId& dest, const std::string& title,
                const std::string& actor) {
    auto& portal = state.portal;
    const EntityId source_id = source.id;
    Entry& copy = portal.CreateFolder(dest, title, actor, state.Now());
    const EntityId copy_id = copy.id;
    const Entry* src = portal.Folder(source_id);
    const auto child_files = src->files;
    const auto child_folders = src->folders;
    for (const auto& id : child_files) {
        if (const Entry* f = portal.File(id)) {
            const auto f_title = f->title;
            const auto f_size = f->size;
            portal.CreateFile(copy_id, f_title, f_size, actor, state.Now());
        }
    }
    for (const auto& id : child_folders) {
        if (const Entry* f = portal.Folder(id)) {
            const auto f_title = f->title;
            CopyTree(state, *f, copy_id, f_title, actor);
        }
    }
    return *portal.Folder(copy_id);
}

void Finish(FileOperation& op, const std::string& error) {
    if (op.error.empty()) op.error = error;
}

}  // namespace

void RunOperation(PortalState& state, const std::string& op_id) {
    FileOperation* op = state.operations.Find(op_id);
    if (op == nullptr || op->finished) return;
    auto& portal = state.portal;
    const bool copy = op->type == OperationType::kCopy;
    const User* user = portal.FindUser(op->owner);
    Entry* dest = op->dest.empty() ? nullptr : portal.Folder(op->dest);

    auto done = [&] {
        op->finished = true;
        op->progress = 100;
        op->status = !op->error.empty() && op->processed == 0 ? kTaskFailed : kTaskCompleted;
    };
    if (user == nullptr || dest == nullptr) {
        Finish(*op, "The required folder was not found");
        return done();
    }
    if (!portal.CanCreateIn(*user, *dest)) {
        Finish(*op, copy ? "You don't have enough permission to copy to this folder"
                         : "You don't have enough permission to move to this folder");
        return done();
    }
    const std::string actor = user->id;
    const EntityId dest_id = dest->id;

    // content:true expands the given folders into their contents.
    std::vector<EntityId> file_ids = op->file_ids;
    std::vector<EntityId> folder_ids;
    for (const auto& id : op->folder_ids) {
        const Entry* f = portal.Folder(id);
        if (op->content && f != nullptr) {
            file_ids.insert(file_ids.end(), f->files.begin(), f->files.end());
            folder_ids.insert(folder_ids.end(), f->folders.begin(), f->folders.end());
        } else {
            folder_ids.push_back(id);
        }
    }

    for (const auto& id : file_ids) {
        Entry* src = portal.File(id);
        if (src == nullptr) {
            Finish(*op, "The required file was not found");
            continue;
        }
        if (!portal.CanRead(*user, *src) || (!copy && !portal.CanRemove(*user, *src))) {
            Finish(*op, copy ? "You don't have enough permission to copy the file"
                             : "You don't have enough permission to move the file");
            continue;
        }
        ++op->processed;
        if (!copy && src->parent_id == dest_id) {
            op->result_files.push_back(src->id);  // already there: nothing to do, nothing fired
            continue;
        }
        std::string title = src->title;
        Entry* existing = portal.ChildByTitle(*portal.Folder(dest_id), title, false);
        // Copying into the source's own folder conflicts with the source itself.
        if (existing != nullptr && (copy || existing != src)) {
            if (op->conflict == kSkip) continue;
            if (op->conflict == kOverwrite) {
                if (copy) {
                    ++existing->version;
                    ++existing->version_group;
                    existing->size = src->size;
                    existing->modified_by = actor;
                    existing->modified_on = state.Now();
                    op->result_files.push_back(existing->id);
                    state.Count("files_copied");
                    state.FireEntry("file.copied", *existing, actor);
                    continue;
                }
                portal.RemoveFile(existing->id);
            } else {
                title = FreeTitle(portal, *portal.Folder(dest_id), title, false);
            }
        }
        if (copy) {
            const auto size = src->size;
            const Entry& created = portal.CreateFile(dest_id, title, size, actor, state.Now());
            op->result_files.push_back(created.id);
            state.Count("files_copied");
            state.FireEntry("file.copied", created, actor);  // payload = the new copy
        } else {
            const bool from_trash = portal.RootOf(*src).folder_type == kFolderTrash;
            portal.Move(*src, dest_id);
            src->title = title;
            src->modified_by = actor;
            src->modified_on = state.Now();
            op->result_files.push_back(src->id);
            state.Count("files_moved");
            state.FireEntry(from_trash ? "file.restored" : "file.moved", *src, actor);
        }
    }

    for (const auto& id : folder_ids) {
        Entry* src = portal.Folder(id);
        if (src == nullptr) {
            Finish(*op, "The required folder was not found");
            continue;
        }
        if (src->parent_id.empty() || src->IsRoom()) {
            // Rooms move through the archive endpoints; sections never move.
            Finish(*op, "You cannot copy or move this folder");
            continue;
        }
        if (!portal.CanRead(*user, *src) || (!copy && !portal.CanRemove(*user, *src))) {
            Finish(*op, copy ? "You don't have enough permission to copy the folder"
                             : "You don't have enough permission to move the folder");
            continue;
        }
        if (portal.IsWithin(*portal.Folder(dest_id), src->id)) {
            Finish(*op, "The folder cannot be copied or moved into itself");
            continue;
        }
        ++op->processed;
        if (!copy && src->parent_id == dest_id) {
            op->result_folders.push_back(src->id);
            continue;
        }
        std::string title = src->title;
        if (portal.ChildByTitle(*portal.Folder(dest_id), title, true) != nullptr) {
            if (op->conflict == kSkip) continue;
            title = FreeTitle(portal, *portal.Folder(dest_id), title, true);
        }
        if (copy) {
            Entry& created = CopyTree(state, *src, dest_id, title, actor);
            op->result_folders.push_back(created.id);
            state.Count("folders_copied");
            state.FireEntry("folder.copied", created, actor);
        } else {
            const bool from_trash = portal.RootOf(*src).folder_type == kFolderTrash;
            portal.Move(*src, dest_id);
            src->title = title;
            src->modified_by = actor;
            src->modified_on = state.Now();
            op->result_folders.push_back(src->id);
            state.Count("folders_moved");
            state.FireEntry(from_trash ? "folder.restored" : "folder.moved", *src, actor);
        }
    }
    done();
}

}  // namespace spacehook::emulator
