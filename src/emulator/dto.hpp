#pragma once

#include <string>
#include <vector>

#include "core/clock.hpp"
#include "emulator/model.hpp"
#include "emulator/stj_json.hpp"

namespace spacehook::emulator {

// REST response DTOs as DocSpace's ASP.NET layer writes them (docs/docspace-api.md §2.2, §2.5): camelCase,
// nulls omitted (WhenWritingNull) so false/0 stay, enums as numbers, dates as ApiDateTime. Property order
// follows STJ: the derived DTO's properties first, then FileEntryDto's.

struct DtoContext {
    const Portal& portal;
    std::string base_url;  ///< "https://portal.example", no trailing slash
    const User* viewer;    ///< the acting user (access, security flags); may be null
};

/// ApiDateTime: "2026-06-30T10:15:41.0000000Z" (7-digit fraction, UTC tenant).
std::string ApiDateTime(TimePoint t);
/// FileSizeComment.FilesSizeToString: "512 bytes", "1 KB", "12.06 KB", "3.5 MB".
std::string ContentLengthText(std::int64_t bytes);
/// FileType by extension: Document 7, Spreadsheet 5, Presentation 6, Pdf 10, Image 4, ...
int FileTypeOf(const std::string& extension);

OJson EmployeeDto(const DtoContext& ctx, const User& user);
OJson EmployeeFullDto(const DtoContext& ctx, const User& user);
OJson GroupSummaryDto(const DtoContext& ctx, const Group& group);
OJson FileDto(const DtoContext& ctx, const Entry& file);
OJson FolderDto(const DtoContext& ctx, const Entry& folder);
/// One element of FolderContentDto.pathParts: {id, title, roomType?, folderType}.
OJson PathPartDto(const Entry& folder);
/// FolderContentDto for `current` with one page of its (already filtered) children.
OJson FolderContentDto(const DtoContext& ctx, const Entry& current, const std::vector<const Entry*>& files,
                       const std::vector<const Entry*>& folders, int start_index, int total);
/// FileShareDto of one room member (a user or a group).
OJson FileShareDto(const DtoContext& ctx, const Entry& room, const Member& member);

// Webhook payloads (docs/docspace-api.md §1.6): the thin core objects, defaults omitted (WhenWritingDefault).

/// FileEntry<T> only: no webUrl/version/roomType; `rootId` = the section root, not the room;
/// `securityByUsers: {}` present.
OJson FileEntryPayload(const Portal& portal, const Entry& entry);
/// Core UserInfo (not anonymized: email included).
OJson UserInfoPayload(const User& user);
/// Core GroupInfo.
OJson GroupInfoPayload(const Group& group);

}  // namespace spacehook::emulator
