// Folder and file endpoints (FoldersController, FilesController; docs/docspace-api.md §2.5): create a folder,
// list a folder, its path, file info, rename, and copyas.

#include <fmt/format.h>

#include <algorithm>

#include "core/text.hpp"
#include "docspace/titles.hpp"
#include "emulator/api_call.hpp"
#include "emulator/portal_state.hpp"

namespace spacehook::emulator {
namespace {

Reply CreateFolder(ApiServices& s, ApiCall& call) {
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    const OJson* title = Field(body, "title");
    if (title == nullptr || !title->is_string() || title->get<std::string>().empty()) {
        return call.Invalid({{"Title", {"The Title field is required."}}});
    }
    if (docspace::Utf16Length(title->get<std::string>()) > 165) {
        return call.Invalid({{"Title", {"The field Title must be a string with a maximum length of 165."}}});
    }
    // InternalCreateFolderAsync trims, then refuses an empty title; FolderDao stores the portal's form.
    if (StoredTitle(title->get<std::string>(), true).empty()) {
        return call.Fail(BadArgument("The value cannot be an empty string. (Parameter 'title')"));
    }
    auto& portal = s.state.portal;
    const Entry* parent = portal.Folder(RouteId(call.params[0]));
    if (parent == nullptr) return call.Fail(NotFound("The required folder was not found"));
    if (!portal.CanCreateIn(call.user, *parent)) return call.Fail(AccessDenied());
    const Entry& folder =
        portal.CreateFolder(parent->id, title->get<std::string>(), call.user.id, s.state.Now());
    s.state.Count("folders_created");
    s.state.FireEntry("folder.created", folder, call.user.id);
    return call.Ok(FolderDto(s.state.Dto(&call.user), folder));
}

const Entry* ReadableFolder(ApiServices& s, const ApiCall& call, Reply& error) {
    const Entry* folder = s.state.portal.Folder(RouteId(call.params[0]));
    if (folder == nullptr) {
        error = call.Fail(NotFound("The required folder was not found"));
        return nullptr;
    }
    if (!s.state.portal.CanRead(call.user, *folder)) {
        error = call.Fail(AccessDenied("You don't have enough permission to view the folder content"));
        return nullptr;
    }
    return folder;
}

const Entry* ReadableFile(ApiServices& s, const ApiCall& call, Reply& error) {
    const Entry* file = s.state.portal.File(RouteId(call.params[0]));
    if (file == nullptr) {
        error = call.Fail(NotFound("The required file was not found"));
        return nullptr;
    }
    if (!s.state.portal.CanRead(call.user, *file)) {
        error = call.Fail(AccessDenied("You don't have enough permission to read the file"));
        return nullptr;
    }
    return file;
}

Reply GetFolderInfo(ApiServices& s, ApiCall& call) {
    Reply error;
    const Entry* folder = ReadableFolder(s, call, error);
    if (folder == nullptr) return error;
    return call.Ok(FolderDto(s.state.Dto(&call.user), *folder));
}

Reply GetFolderPath(ApiServices& s, ApiCall& call) {
    Reply error;
    const Entry* folder = ReadableFolder(s, call, error);
    if (folder == nullptr) return error;
    const auto ctx = s.state.Dto(&call.user);
    OJson list = OJson::array();
    for (const Entry* p : s.state.portal.PathTo(*folder)) list.push_back(FolderDto(ctx, *p));
    return call.Ok(std::move(list));
}

/// GET files/{folderId}: FolderContentDto with folders first, then files; `filterValue` searches
/// titles, `extension` filters files, `startIndex`/`count` (1-100, default 100) page the whole list.
Reply ListFolder(ApiServices& s, ApiCall& call) {
    Reply error;
    const Entry* folder = ReadableFolder(s, call, error);
    if (folder == nullptr) return error;
    auto& portal = s.state.portal;
    const auto text = ToLower(call.Query("filterValue").value_or(""));
    const auto ext = ToLower(call.Query("extension").value_or(""));
    std::vector<const Entry*> folders;
    std::vector<const Entry*> files;
    for (const auto& id : folder->folders) {
        const Entry* f = portal.Folder(id);
        if (f == nullptr || !portal.CanRead(call.user, *f)) continue;
        if (!text.empty() && ToLower(f->title).find(text) == std::string::npos) continue;
        if (!ext.empty()) continue;
        folders.push_back(f);
    }
    for (const auto& id : folder->files) {
        const Entry* f = portal.File(id);
        if (f == nullptr || !portal.CanRead(call.user, *f)) continue;
        if (!text.empty() && ToLower(f->title).find(text) == std::string::npos) continue;
        if (!ext.empty() && f->Extension() != (ext.front() == '.' ? ext : "." + ext)) continue;
        files.push_back(f);
    }
    int start = 0;
    int count = 100;
    try {
        start = std::max(0, std::stoi(call.Query("startIndex").value_or("0")));
        count = std::clamp(std::stoi(call.Query("count").value_or("100")), 1, 100);
    } catch (const std::exception&) {
        return call.Invalid({{"count", {"The value is not valid."}}});
    }
    const int total = static_cast<int>(folders.size() + files.size());
    std::vector<const Entry*> page_folders;
    std::vector<const Entry*> page_files;
    for (int i = start; i < total && static_cast<int>(page_folders.size() + page_files.size()) < count; ++i) {
        const auto index = static_cast<std::size_t>(i);
        if (index < folders.size()) {
            page_folders.push_back(folders[index]);
        } else {
            page_files.push_back(files[index - folders.size()]);
        }
    }
    return call.Ok(
        FolderContentDto(s.state.Dto(&call.user), *folder, page_files, page_folders, start, total));
}

Reply RenameFolder(ApiServices& s, ApiCall& call) {
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    Reply error;
    const Entry* found = ReadableFolder(s, call, error);
    if (found == nullptr) return error;
    Entry* folder = s.state.portal.Folder(found->id);
    if (folder->parent_id.empty() || !s.state.portal.CanRemove(call.user, *folder))
        return call.Fail(AccessDenied());
    const OJson* title = Field(body, "title");
    if (title == nullptr || !title->is_string() || title->get<std::string>().empty()) {
        return call.Invalid({{"Title", {"The Title field is required."}}});
    }
    const std::string next = StoredTitle(title->get<std::string>(), true);
    if (next.empty())
        return call.Fail(BadArgument("The value cannot be an empty string. (Parameter 'title')"));
    if (next != folder->title) {
        folder->title = next;
        folder->modified_by = call.user.id;
        folder->modified_on = s.state.Now();
        s.state.Count(folder->IsRoom() ? "rooms_updated" : "folders_updated");
        s.state.FireEntry(
            folder->IsRoom() ? PortalState::RoomTrigger(*folder, "room.updated") : "folder.updated", *folder,
            call.user.id);
    }
    return call.Ok(FolderDto(s.state.Dto(&call.user), *folder));
}

Reply GetFile(ApiServices& s, ApiCall& call) {
    Reply error;
    const Entry* file = ReadableFile(s, call, error);
    if (file == nullptr) return error;
    if (const auto version = call.Query("version")) {
        // Only the current version is kept; older numbers exist but carry the current content.
        int n = 0;
        try {
            n = std::stoi(*version);
        } catch (const std::exception&) {
            return call.Invalid({{"version", {"The value is not valid."}}});
        }
        if (n < 1 || n > file->version) return call.Fail(NotFound("The required file was not found"));
    }
    return call.Ok(FileDto(s.state.Dto(&call.user), *file));
}

/// PUT files/file/{id} {title}: a rename fires file.updated (docs/docspace-api.md §1.5, §1.12). A title
/// without the extension keeps the old one, as the portal does.
Reply RenameFile(ApiServices& s, ApiCall& call) {
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    Reply error;
    const Entry* found = ReadableFile(s, call, error);
    if (found == nullptr) return error;
    Entry* file = s.state.portal.File(found->id);
    if (!s.state.portal.CanEdit(call.user, *file)) return call.Fail(AccessDenied());
    const OJson* title = Field(body, "title");
    if (title != nullptr && title->is_string() && !title->get<std::string>().empty()) {
        std::string next = title->get<std::string>();
        if (ExtensionOf(next) != file->Extension()) next += file->Extension();
        next = StoredTitle(next, false);
        if (next != file->title) {
            file->title = next;
            file->modified_by = call.user.id;
            file->modified_on = s.state.Now();
            s.state.Count("files_renamed");
            s.state.FireEntry("file.updated", *file, call.user.id);
        }
    }
    return call.Ok(FileDto(s.state.Dto(&call.user), *file));
}

/// POST files/file/{id}/copyas (docs/docspace-api.md §2.5, §1.12): same extension -> file.created; another
/// extension (a conversion) -> file.created + file.uploaded. destFolderId must be a number or a
/// string, otherwise the answer is `response: null`.
Reply CopyAs(ApiServices& s, ApiCall& call) {
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    const OJson* dest_title = Field(body, "destTitle");
    if (dest_title == nullptr || !dest_title->is_string() || dest_title->get<std::string>().empty()) {
        return call.Invalid({{"DestTitle", {"The DestTitle field is required."}}});
    }
    const OJson* dest_field = Field(body, "destFolderId");
    const auto dest_id = dest_field != nullptr ? JsonId(*dest_field) : std::nullopt;
    s.state.Count("copyas_calls");
    if (!dest_id) return call.Ok(OJson(nullptr));

    Reply error;
    const Entry* source = ReadableFile(s, call, error);
    if (source == nullptr) return error;
    auto& portal = s.state.portal;
    const Entry* dest = portal.Folder(*dest_id);
    if (dest == nullptr) return call.Fail(NotFound("The required folder was not found"));
    if (!portal.CanCreateIn(call.user, *dest)) return call.Fail(AccessDenied());

    std::string title = dest_title->get<std::string>();
    if (ExtensionOf(title).empty()) title += source->Extension();
    const bool converted = ExtensionOf(title) != source->Extension();
    const auto size = source->size;
    const Entry& copy = portal.CreateFile(dest->id, title, size, call.user.id, s.state.Now());
    s.state.Count("copyas");
    s.state.FireEntry("file.created", copy, call.user.id);
    if (converted) s.state.FireEntry("file.uploaded", copy, call.user.id);
    return call.Ok(FileDto(s.state.Dto(&call.user), copy));
}

}  // namespace

std::vector<ApiRoute> FolderFileRoutes() {
    return {
        {"POST", "files/folder/{parentId}", CreateFolder, "FoldersController.CreateFolder"},
        {"GET", "files/folder/{id}/path", GetFolderPath, "FoldersController.GetFolderPath"},
        {"GET", "files/folder/{id}", GetFolderInfo, "FoldersController.GetFolderInfo"},
        {"PUT", "files/folder/{id}", RenameFolder, "FoldersController.RenameFolder"},
        {"GET", "files/file/{id}", GetFile, "FilesController.GetFileInfo"},
        {"PUT", "files/file/{id}", RenameFile, "FilesController.UpdateFile"},
        {"POST", "files/file/{id}/copyas", CopyAs, "FilesController.CopyFileAs"},
        // Last: "files/{folderId}" would otherwise shadow files/rooms, files/fileops, ...
        {"GET", "files/{folderId}", ListFolder, "FoldersController.GetFolder"},
    };
}

}  // namespace spacehook::emulator
