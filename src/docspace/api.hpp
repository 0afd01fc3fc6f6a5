#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/entity_id.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "docspace/names.hpp"
#include "docspace/titles.hpp"

namespace spacehook::docspace {

/// A file, folder or room as the REST API describes it (FileDto / FolderDto, docs/docspace-api.md §2.5). Only
/// what spacehook uses is typed; `raw` keeps the whole DTO for templates (`{{ file.raw.contentLength }}`).
struct Entry {
    EntityId id;
    std::string title;
    EntityId parent_id;            ///< folderId (files) / parentId (folders, rooms)
    int entry_type = 0;            ///< FileEntryType: 1 folder, 2 file
    std::optional<int> room_type;  ///< set for rooms (RoomType)
    int folder_type = 0;
    int root_folder_type = 0;
    std::string web_url;  ///< files: editor/viewer link; rooms/folders: computed link if the API gave none
    int version = 0;
    std::string file_exst;  ///< ".docx"
    std::vector<std::string> tags;
    Json raw;
};

/// One element of `pathParts` or of `folder/{id}/path`.
struct PathPart {
    EntityId id;
    std::string title;
    std::optional<int> room_type;  ///< the room is the part that has one (docs/docspace-api.md §1.7)
    int folder_type = 0;
};

struct FolderContents {
    Entry current;
    std::vector<Entry> folders;
    std::vector<Entry> files;
    std::vector<PathPart> path_parts;
    int total = 0;
};

/// EmployeeFullDto, trimmed.
struct User {
    std::string id;  ///< GUID
    std::string display_name;
    std::string first_name;
    std::string last_name;
    std::string user_name;
    std::string email;
    Json raw;
};

/// One entry of PUT rooms/{id}/share `invitations`: a user or group GUID, or an e-mail.
struct Invitation {
    std::string id;
    std::string email;
    int access = 0;  ///< FileShare number; build it with ParseAccessLevel, never by hand
};

enum class ConflictResolve { kSkip = 0, kOverwrite = 1, kDuplicate = 2 };

/// The end of an awaited copy/move. `verified_by_target` is true when the operation vanished from
/// /fileops before we saw it finish (another poller of the same user dequeued it, docs/docspace-api.md §2.5)
/// and we confirmed the result by listing the destination instead.
struct OperationOutcome {
    std::string operation_id;
    std::vector<Entry> files;  ///< the resulting entries (the new copies / moved items)
    std::vector<Entry> folders;
    bool verified_by_target = false;
};

/// WebhooksConfigDto (docs/docspace-api.md §1.13). The secret is never returned by DocSpace.
struct WebhookConfig {
    std::int64_t id = 0;
    std::string name;
    std::string uri;
    bool enabled = false;
    bool ssl = false;
    std::int64_t triggers = 0;  ///< bitmask; 0 = all
    std::string target_id;
    std::string last_failure_on;
    std::string last_failure_content;
    std::string last_success_on;
    int last_status = 0;  ///< "status" next to "configs" in the list answer
};

struct WebhookSpec {
    std::string name;
    std::string uri;
    std::string secret;  ///< 8..30 printable ASCII; empty on update = keep
    bool enabled = true;
    bool ssl = false;
    std::int64_t triggers = 0;
    std::string target_id;
};

struct WebhookTriggerInfo {
    std::string name;
    std::int64_t id = 0;
    bool available = true;
};

/// A page of GET settings/webhooks/log (docs/docspace-api.md §1.13), newest row first. Only the filters
/// catch-up uses; the portal takes more.
struct WebhookLogQuery {
    std::int64_t config_id = 0;  ///< configId: one webhook's rows; 0 = every webhook the key may see
    std::int64_t start_index = 0;
    int count = 100;  ///< 1..100, the portal's bounds
};

/// One WebhooksLogDto: a delivery as the portal's sender recorded it.
struct WebhookLogRow {
    std::int64_t id = 0;  ///< the event.id every attempt of this delivery carried
    std::string config_name;
    std::int64_t trigger = 0;             ///< the trigger's bit (§1.5)
    std::optional<TimePoint> created_at;  ///< creationTime: when the event was published
    /// The exact body last sent; before the sender took the row, the published body (without event.id).
    std::string request_payload;
    /// The sender is done with the row (it wrote the headers it sent and the answer or the failure's text):
    /// `status` is final. A row not finished yet is queued or being retried, or was never sent (the URL
    /// check at send time failed, §1.9).
    bool finished = false;
    int status = 0;                         ///< last HTTP status; 0 = nothing answered (or not sent yet)
    std::optional<TimePoint> delivered_at;  ///< `delivery`: set on success only
};

struct WebhookLogPage {
    std::vector<WebhookLogRow> rows;
    std::int64_t total = 0;  ///< rows passing the filters, over all pages (the envelope's `total`)
};

/// A query over GET /api/2.0/files/rooms.
struct RoomQuery {
    std::string title_contains;  ///< filterValue
    std::vector<std::string> tags;
    std::size_t limit = 100;
};

/// The DocSpace REST calls spacehook makes. The real implementation (DocSpaceClient) goes through one
/// rate limiter per portal; tests may substitute a fake. Every call returns transient errors
/// (kUnavailable, kTimeout, kRateLimited with retry_after) or permanent ones (kNotFound, kForbidden,
/// kUnauthorized, kPermanent, kInvalidArgument) with the portal's own message kept in Error::message.
class Api {
public:
    virtual ~Api() = default;

    // people
    virtual Result<User> GetSelf() = 0;
    virtual Result<User> GetUser(const std::string& id_or_user_name) = 0;
    virtual Result<User> GetUserByEmail(const std::string& email) = 0;

    // rooms
    virtual Result<Entry> CreateRoom(const std::string& title, int room_type,
                                     const std::vector<std::string>& tags) = 0;
    virtual Result<Entry> GetRoom(const EntityId& room_id) = 0;
    virtual Result<std::vector<Entry>> FindRooms(const RoomQuery& query) = 0;
    /// PUT rooms/{id}/share. Returns the `members` array the portal answered with.
    virtual Result<Json> SetRoomAccess(const EntityId& room_id, const std::vector<Invitation>& invitations,
                                       bool notify, const std::string& message) = 0;

    // folders and files
    virtual Result<Entry> CreateFolder(const EntityId& parent_id, const std::string& title) = 0;
    /// All pages of GET files/{id}.
    virtual Result<FolderContents> GetFolder(const EntityId& folder_id) = 0;
    /// GET files/folder/{id}/path: from the section root down to the folder itself.
    virtual Result<std::vector<Entry>> GetFolderPath(const EntityId& folder_id) = 0;
    virtual Result<Entry> GetFile(const EntityId& file_id) = 0;
    virtual Result<Entry> CopyFileAs(const EntityId& file_id, const EntityId& dest_folder_id,
                                     const std::string& dest_title) = 0;

    // file operations, awaited to completion
    virtual Result<OperationOutcome> CopyItems(const std::vector<EntityId>& file_ids,
                                               const std::vector<EntityId>& folder_ids,
                                               const EntityId& dest_folder_id, ConflictResolve conflict) = 0;
    virtual Result<OperationOutcome> MoveItems(const std::vector<EntityId>& file_ids,
                                               const std::vector<EntityId>& folder_ids,
                                               const EntityId& dest_folder_id, ConflictResolve conflict) = 0;

    // webhook settings
    virtual Result<std::vector<WebhookConfig>> ListWebhooks() = 0;
    virtual Result<WebhookConfig> CreateWebhook(const WebhookSpec& spec) = 0;
    virtual Result<WebhookConfig> UpdateWebhook(std::int64_t id, const WebhookSpec& spec) = 0;
    virtual Result<WebhookConfig> EnableWebhook(std::int64_t id, const WebhookSpec& spec, bool enabled) = 0;
    virtual Result<WebhookConfig> DeleteWebhook(std::int64_t id) = 0;
    virtual Result<std::vector<WebhookTriggerInfo>> ListTriggers() = 0;
    /// One page of the webhook log (GET settings/webhooks/log).
    virtual Result<WebhookLogPage> ReadWebhookLog(const WebhookLogQuery& query) = 0;
};

}  // namespace spacehook::docspace
