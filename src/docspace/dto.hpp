#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "docspace/api.hpp"

namespace spacehook::docspace {

// DocSpace DTOs (JSON) -> the typed structs of api.hpp. Lenient by design: a missing or oddly typed
// field reads as its default, because DocSpace omits nulls (docs/docspace-api.md §2.2) and versions differ;
// only a missing id makes an entry unusable.

/// FileDto / FolderDto / room (docs/docspace-api.md §2.5). `base_url` builds the web link of rooms and
/// folders, which DocSpace does not return.
std::optional<Entry> ParseEntry(const Json& dto, std::string_view base_url);
/// One element of `pathParts`: {id, title, roomType?, folderType}.
std::optional<PathPart> ParsePathPart(const Json& dto);
/// EmployeeFullDto.
std::optional<User> ParseUser(const Json& dto);
/// `{configs: WebhooksConfigDto, status}` (the list answer) or a bare WebhooksConfigDto.
std::optional<WebhookConfig> ParseWebhookConfig(const Json& dto);
std::optional<WebhookTriggerInfo> ParseTriggerInfo(const Json& dto);
/// WebhooksLogDto (docs/docspace-api.md §1.13). nullopt without an id.
std::optional<WebhookLogRow> ParseWebhookLogRow(const Json& dto);

/// The value of `key` in an object, compared case-insensitively (FileOperationDto's `Operation` is
/// capitalised while the docs write `operation`, docs/docspace-api.md §2.5). nullptr when absent.
const Json* FindKey(const Json& object, std::string_view key);
/// A string, or a number written as text (`processed` is a string, other versions may send a number).
std::string TextOf(const Json* value);
/// An integer, also from a numeric string (STJ AllowReadingFromString, docs/docspace-api.md §2.2).
std::optional<std::int64_t> IntegerOf(const Json* value);
bool BoolOf(const Json* value);

}  // namespace spacehook::docspace
