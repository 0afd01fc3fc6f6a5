#pragma once

#include "core/json.hpp"
#include "docspace/api.hpp"

namespace spacehook::steps {

// What templates and step outputs see of a DocSpace entry: the DTO exactly as the portal answered
// (`{{ file.contentLength }}`, `{{ steps.room.roomType }}`), plus a `webUrl` where DocSpace gives none
// (FolderDto has no link; the client computes the web client's route, docspace::Entry::web_url).

Json EntryJson(const docspace::Entry& entry);
Json UserJson(const docspace::User& user);

}  // namespace spacehook::steps
