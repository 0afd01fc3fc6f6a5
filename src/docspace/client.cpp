#include "docspace/client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "core/log.hpp"
#include "docspace/dto.hpp"

namespace spacehook::docspace {

namespace {

using std::chrono::milliseconds;

/// DocSpace pages listings by at most 100 (docs/docspace-api.md §2.5 `count` 1-100).
constexpr int kPageSize = 100;
/// A bound on paging loops: 1000 pages of 100 entries is far beyond any folder we act on.
constexpr int kMaxPages = 1000;
/// The pause a 429 without Retry-After or X-RateLimit-Reset imposes on the bucket.
constexpr milliseconds kDefaultRateLimitPause{1000};

std::string Segment(const EntityId& id) {
    return httpc::UrlEncode(id.str());
}

std::string Snippet(const Json& value) {
    std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (text.size() > 200) text = text.substr(0, 200) + "...";
    return text;
}

/// A 2xx whose body is not the shape the call answers with ({"response":null} to a create, a proxy's
/// JSON, a portal version we do not know). Transient: the portal may well have done the work (a folder
/// made, then the answer lost), so the retry's step looks before it acts again and finds it, where a
/// dead letter would leave the work half known.
Error Unexpected(std::string_view what, const Json& response) {
    return Error{
        ErrorCode::kUnavailable,
        fmt::format("DocSpace {}: unexpected answer (retried; the step looks before acting again): {}", what,
                    Snippet(response)),
        0, std::nullopt};
}

Json IdArray(const std::vector<EntityId>& ids) {
    Json array = Json::array();
    for (const auto& id : ids) array.push_back(id.ToJson());
    return array;
}

Json WebhookBody(const WebhookSpec& spec) {
    // PUT is a full replace (docs/docspace-api.md §1.13): an omitted `enabled` becomes false, omitted
    // `triggers` becomes 0 = All, omitted `targetId` becomes null. So every one of them is always sent. An
    // empty target goes out as null, never "": a "" target would match no entity and silence the webhook.
    Json body = {{"name", spec.name}, {"uri", spec.uri},           {"enabled", spec.enabled},
                 {"ssl", spec.ssl},   {"triggers", spec.triggers}, {"targetId", nullptr}};
    if (!spec.target_id.empty()) body["targetId"] = spec.target_id;
    // Required on create; on update empty means "keep the current secret" (docs/docspace-api.md §1.11).
    if (!spec.secret.empty()) body["secretKey"] = spec.secret;
    return body;
}

}  // namespace

DocSpaceClient::DocSpaceClient(ClientOptions options, std::shared_ptr<CallLimiter> limiter,
                               std::shared_ptr<httpc::Client> http)
    : options_(std::move(options)), limiter_(std::move(limiter)), http_(std::move(http)) {
    while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
    log::RegisterSecret(options_.api_key);
    if (!limiter_) {
        RateLimitOptions rate;
        rate.rate_per_second = options_.rate_per_second;
        rate.burst = options_.burst;
        limiter_ = PortalRateLimiter(options_.base_url, rate);
    }
    if (!http_) {
        httpc::ClientOptions http_options;
        http_options.verify_tls = options_.verify_tls;
        http_options.ca_file = options_.ca_file;
        http_ = std::make_shared<httpc::Client>(http_options);
    }
}

Result<Envelope> DocSpaceClient::Call(std::string_view method, std::string_view path, std::string_view query,
                                      const Json& body) {
    const std::string what = fmt::format("{} {}", method, path);
    httpc::Request request;
    request.method = std::string(method);
    request.url = options_.base_url + std::string(path);
    if (!query.empty()) request.url += "?" + std::string(query);
    request.headers = {{"Authorization", "Bearer " + options_.api_key}, {"Accept", "application/json"}};
    if (!body.is_null()) {
        request.headers.emplace_back("Content-Type", "application/json");
        request.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    request.connect_timeout = options_.connect_timeout;
    request.total_timeout = options_.total_timeout;

    limiter_->Acquire();
    const auto start = std::chrono::steady_clock::now();
    auto response = http_->Send(request);
    const auto elapsed_ms =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start).count();
    if (!response) {
        Error error = response.error();
        error.message = "DocSpace " + error.message;  // httpc's text names the method and URL already
        log::Debug("docspace", "call failed",
                   {{"method", method}, {"path", path}, {"error", ToString(error.code)}, {"ms", elapsed_ms}});
        return Fail(std::move(error));
    }
    log::Debug("docspace", "call",
               {{"method", method}, {"path", path}, {"status", response->status}, {"ms", elapsed_ms}});
    auto envelope = ParseEnvelope(*response, what, SystemClock::Instance().Now());
    if (!envelope && (envelope.error().code == ErrorCode::kRateLimited || envelope.error().retry_after)) {
        // The portal asked everyone using this key to wait (docs/docspace-api.md §2.3): pause the shared
        // bucket.
        const milliseconds pause = envelope.error().retry_after.value_or(kDefaultRateLimitPause);
        limiter_->PauseFor(pause);
        log::Warn("docspace", "portal asked to slow down; pausing every call",
                  {{"status", response->status}, {"pause_ms", pause.count()}});
    }
    return envelope;
}

Result<Entry> DocSpaceClient::EntryFrom(const Envelope& envelope, std::string_view what) const {
    auto entry = ParseEntry(envelope.response, options_.base_url);
    if (!entry) return Fail(Unexpected(what, envelope.response));
    return std::move(*entry);
}

Result<WebhookConfig> DocSpaceClient::WebhookFrom(const Envelope& envelope, std::string_view what) const {
    auto config = ParseWebhookConfig(envelope.response);
    if (!config) return Fail(Unexpected(what, envelope.response));
    return std::move(*config);
}

// --- people -----------------------------------------------------------------------------------------

namespace {
Result<User> UserFrom(const Result<Envelope>& envelope, const std::string& path) {
    if (!envelope) return Fail(envelope.error());
    auto user = ParseUser(envelope->response);
    if (!user) return Fail(Unexpected("GET " + path, envelope->response));
    return std::move(*user);
}
}  // namespace

Result<User> DocSpaceClient::GetSelf() {
    // "@self" as written: '@' is a legal path character and the route is spelled that way.
    const std::string path = "/api/2.0/people/@self";
    return UserFrom(Call("GET", path), path);
}

Result<User> DocSpaceClient::GetUser(const std::string& id_or_user_name) {
    // {userid} accepts a GUID or a user name (docs/docspace-api.md §2.5).
    const std::string path = "/api/2.0/people/" + httpc::UrlEncode(id_or_user_name);
    return UserFrom(Call("GET", path), path);
}

Result<User> DocSpaceClient::GetUserByEmail(const std::string& email) {
    if (email.empty()) return Fail(ErrorCode::kInvalidArgument, "GetUserByEmail: empty e-mail");
    return UserFrom(Call("GET", "/api/2.0/people/email", "email=" + httpc::UrlEncode(email)),
                    "/api/2.0/people/email");
}

// --- rooms ------------------------------------------------------------------------------------------

Result<Entry> DocSpaceClient::CreateRoom(const std::string& title, int room_type,
                                         const std::vector<std::string>& tags) {
    // roomType goes out as a number: the request DTO takes the name or the number (docs/docspace-api.md
    // §2.4).
    Json body = {{"title", title}, {"roomType", room_type}};
    if (!tags.empty()) body["tags"] = tags;
    auto envelope = Call("POST", "/api/2.0/files/rooms", {}, body);
    if (!envelope) return Fail(envelope.error());
    return EntryFrom(*envelope, "POST /api/2.0/files/rooms");
}

Result<Entry> DocSpaceClient::GetRoom(const EntityId& room_id) {
    const std::string path = "/api/2.0/files/rooms/" + Segment(room_id);
    auto envelope = Call("GET", path);
    if (!envelope) return Fail(envelope.error());
    return EntryFrom(*envelope, "GET " + path);
}

Result<std::vector<Entry>> DocSpaceClient::FindRooms(const RoomQuery& query) {
    // GET /api/2.0/files/rooms (DocSpace-server products/ASC.Files/Server/Api/VirtualRoomsController.cs,
    // GetRoomsFolderAsync): `filterValue`, `count` and `startIndex` are the common ApiContext query
    // parameters, and `tags` is ONE parameter holding a JSON array of names, read with
    // JsonSerializer.Deserialize<IEnumerable<string>>(tags) — not a repeated or comma-separated value.
    // The api.onlyoffice.com reference for getRoomsFolder describes it as "tags in the serialized format".
    std::vector<Entry> rooms;
    const std::size_t limit = query.limit == 0 ? SIZE_MAX : query.limit;
    std::string filters;
    if (!query.title_contains.empty()) filters += "&filterValue=" + httpc::UrlEncode(query.title_contains);
    if (!query.tags.empty()) filters += "&tags=" + httpc::UrlEncode(Json(query.tags).dump());
    std::size_t start = 0;
    for (int page = 0; page < kMaxPages && rooms.size() < limit; ++page) {
        const auto count = static_cast<std::size_t>(std::min<std::size_t>(kPageSize, limit - rooms.size()));
        auto envelope = Call("GET", "/api/2.0/files/rooms",
                             fmt::format("count={}&startIndex={}{}", count, start, filters));
        if (!envelope) return Fail(envelope.error());
        const Json& content = envelope->response;
        const Json* folders = FindKey(content, "folders");
        if (folders == nullptr || !folders->is_array())
            return Fail(Unexpected("GET /api/2.0/files/rooms", content));
        for (const auto& item : *folders) {
            auto room = ParseEntry(item, options_.base_url);
            if (!room) continue;
            // Every asked tag must be on the room, whatever the portal's own matching does.
            const bool has_all =
                std::all_of(query.tags.begin(), query.tags.end(), [&](const std::string& tag) {
                    return std::find(room->tags.begin(), room->tags.end(), tag) != room->tags.end();
                });
            if (has_all && rooms.size() < limit) rooms.push_back(std::move(*room));
        }
        start += folders->size();
        const auto total = IntegerOf(FindKey(content, "total"));
        if (folders->empty() || (total && static_cast<std::int64_t>(start) >= *total) ||
            folders->size() < count)
            break;
    }
    return rooms;
}

Result<Json> DocSpaceClient::SetRoomAccess(const EntityId& room_id,
                                           const std::vector<Invitation>& invitations, bool notify,
                                           const std::string& message) {
    Json list = Json::array();
    for (const auto& invitation : invitations) {
        Json item = {{"access", invitation.access}};
        if (!invitation.id.empty()) {
            item["id"] = invitation.id;
        } else if (!invitation.email.empty()) {
            item["email"] = invitation.email;
        } else {
            return Fail(ErrorCode::kInvalidArgument, "room invitation without a user id or e-mail");
        }
        list.push_back(std::move(item));
    }
    Json body = {{"invitations", std::move(list)}, {"notify", notify}};
    if (!message.empty()) body["message"] = message;
    const std::string path = "/api/2.0/files/rooms/" + Segment(room_id) + "/share";
    auto envelope = Call("PUT", path, {}, body);
    if (!envelope) return Fail(envelope.error());
    // RoomSecurityDto {members, warning, error}; error 1 = FormRoleBlockingDeletion (docs/docspace-api.md
    // §2.5).
    const Json& security = envelope->response;
    if (auto code = IntegerOf(FindKey(security, "error")); code && *code != 0) {
        return Fail(
            ErrorCode::kPermanent,
            fmt::format("DocSpace PUT {}: the portal refused the change (error {}: a member holds a form "
                        "role and cannot be removed) {}",
                        path, *code, TextOf(FindKey(security, "warning"))));
    }
    const Json* members = FindKey(security, "members");
    return members != nullptr && members->is_array() ? *members : Json::array();
}

// --- folders and files ------------------------------------------------------------------------------

Result<Entry> DocSpaceClient::CreateFolder(const EntityId& parent_id, const std::string& title) {
    const std::string path = "/api/2.0/files/folder/" + Segment(parent_id);
    auto envelope = Call("POST", path, {}, Json{{"title", title}});
    if (!envelope) return Fail(envelope.error());
    return EntryFrom(*envelope, "POST " + path);
}

Result<FolderContents> DocSpaceClient::GetFolder(const EntityId& folder_id) {
    const std::string path = "/api/2.0/files/" + Segment(folder_id);
    FolderContents contents;
    std::size_t start = 0;
    for (int page = 0; page < kMaxPages; ++page) {
        auto envelope = Call("GET", path, fmt::format("count={}&startIndex={}", kPageSize, start));
        if (!envelope) return Fail(envelope.error());
        const Json& content = envelope->response;
        const Json* files = FindKey(content, "files");
        const Json* folders = FindKey(content, "folders");
        if ((files == nullptr || !files->is_array()) && (folders == nullptr || !folders->is_array())) {
            return Fail(Unexpected("GET " + path, content));
        }
        if (page == 0) {
            if (const Json* current = FindKey(content, "current")) {
                if (auto entry = ParseEntry(*current, options_.base_url))
                    contents.current = std::move(*entry);
            }
            if (const Json* parts = FindKey(content, "pathParts"); parts != nullptr && parts->is_array()) {
                for (const auto& part : *parts) {
                    if (auto parsed = ParsePathPart(part)) contents.path_parts.push_back(std::move(*parsed));
                }
            }
        }
        std::size_t got = 0;
        for (const auto* list : {folders, files}) {
            if (list == nullptr || !list->is_array()) continue;
            for (const auto& item : *list) {
                ++got;
                if (auto entry = ParseEntry(item, options_.base_url)) {
                    (list == files ? contents.files : contents.folders).push_back(std::move(*entry));
                }
            }
        }
        start += got;
        const auto total = IntegerOf(FindKey(content, "total"));
        contents.total = static_cast<int>(total.value_or(static_cast<std::int64_t>(start)));
        if (got == 0 || !total || static_cast<std::int64_t>(start) >= *total) break;
    }
    return contents;
}

Result<std::vector<Entry>> DocSpaceClient::GetFolderPath(const EntityId& folder_id) {
    const std::string path = "/api/2.0/files/folder/" + Segment(folder_id) + "/path";
    auto envelope = Call("GET", path);
    if (!envelope) return Fail(envelope.error());
    if (!envelope->response.is_array()) return Fail(Unexpected("GET " + path, envelope->response));
    std::vector<Entry> entries;
    for (const auto& item : envelope->response) {
        if (auto entry = ParseEntry(item, options_.base_url)) entries.push_back(std::move(*entry));
    }
    return entries;
}

Result<Entry> DocSpaceClient::GetFile(const EntityId& file_id) {
    const std::string path = "/api/2.0/files/file/" + Segment(file_id);
    auto envelope = Call("GET", path);
    if (!envelope) return Fail(envelope.error());
    return EntryFrom(*envelope, "GET " + path);
}

Result<Entry> DocSpaceClient::CopyFileAs(const EntityId& file_id, const EntityId& dest_folder_id,
                                         const std::string& dest_title) {
    // destFolderId must be a JSON number or string of the id's own kind; anything else yields
    // `response: null` (docs/docspace-api.md §2.5).
    const std::string path = "/api/2.0/files/file/" + Segment(file_id) + "/copyas";
    Json body = {{"destTitle", dest_title}, {"destFolderId", dest_folder_id.ToJson()}};
    auto envelope = Call("POST", path, {}, body);
    if (!envelope) return Fail(envelope.error());
    return EntryFrom(*envelope, "POST " + path);
}

// --- file operations --------------------------------------------------------------------------------

Result<OperationOutcome> DocSpaceClient::CopyItems(const std::vector<EntityId>& file_ids,
                                                   const std::vector<EntityId>& folder_ids,
                                                   const EntityId& dest_folder_id, ConflictResolve conflict) {
    return RunOperation(OperationKind::kCopy, file_ids, folder_ids, dest_folder_id, conflict);
}

Result<OperationOutcome> DocSpaceClient::MoveItems(const std::vector<EntityId>& file_ids,
                                                   const std::vector<EntityId>& folder_ids,
                                                   const EntityId& dest_folder_id, ConflictResolve conflict) {
    return RunOperation(OperationKind::kMove, file_ids, folder_ids, dest_folder_id, conflict);
}

Result<OperationOutcome> DocSpaceClient::RunOperation(OperationKind kind,
                                                      const std::vector<EntityId>& file_ids,
                                                      const std::vector<EntityId>& folder_ids,
                                                      const EntityId& dest_folder_id,
                                                      ConflictResolve conflict) {
    const std::string_view name = kind == OperationKind::kCopy ? "copy" : "move";
    if (file_ids.empty() && folder_ids.empty()) {
        // DocSpace would create no operation and answer with the user's other operations
        // (docs/docspace-api.md §2.5).
        return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: nothing to {}", name, name));
    }
    // What each item is and what the destination holds now: a finished operation proves nothing by
    // itself (docs/docspace-api.md §2.5), so the destination is compared afterwards.
    auto check = SurveyOperation(kind, file_ids, folder_ids, dest_folder_id, conflict);
    if (!check) return Fail(check.error());

    const std::string path = fmt::format("/api/2.0/files/fileops/{}", name);
    // deleteAfter:false keeps the finished operation pollable (it is passed as holdResult = !deleteAfter
    // and does NOT delete the source); returnSingleOperation limits the answer to this operation
    // (docs/docspace-api.md §2.5). conflictResolveType goes as a number, which the enum converter also
    // accepts.
    Json body = {{"fileIds", IdArray(file_ids)},
                 {"folderIds", IdArray(folder_ids)},
                 {"destFolderId", dest_folder_id.ToJson()},
                 {"conflictResolveType", static_cast<int>(conflict)},
                 {"deleteAfter", false},
                 {"content", false},
                 {"returnSingleOperation", true}};
    auto envelope = Call("PUT", path, {}, body);
    if (!envelope) return Fail(envelope.error());
    const auto started = ParseFileOperations(envelope->response, options_.base_url);
    if (started.empty()) {
        // An answer without an operation is one we do not understand (see Unexpected): the retry's step
        // looks at the destination before it copies or moves again.
        return Fail(ErrorCode::kUnavailable, fmt::format("DocSpace PUT {}: no operation was started: {}",
                                                         path, Snippet(envelope->response)));
    }
    log::Debug("docspace", "file operation started", {{"operation", started.front().id}, {"kind", name}});

    PollOptions poll{options_.poll_interval, options_.poll_timeout};
    PollHooks hooks;
    hooks.list = [this](const std::string& id) -> Result<std::vector<FileOperation>> {
        // There is no /fileops/{id} route; the id is a query parameter (docs/docspace-api.md §2.5).
        auto listed = Call("GET", "/api/2.0/files/fileops", "id=" + httpc::UrlEncode(id));
        if (!listed) return Fail(listed.error());
        return ParseFileOperations(listed->response, options_.base_url);
    };
    hooks.verify_target = [&, this] {
        return CheckDestination(
            *check,
            "vanished from /fileops before it was seen finished (another poller of the same user "
            "dequeued it, docs/docspace-api.md §2.5)");
    };
    hooks.sleep = [](milliseconds d) { std::this_thread::sleep_for(d); };
    hooks.now = [] { return std::chrono::steady_clock::now(); };
    auto awaited = AwaitFileOperation(started.front(), name, poll, hooks);
    if (!awaited || awaited->verified_by_target) return awaited;
    auto arrived = CheckDestination(*check, fmt::format("{} finished without an error", started.front().id));
    if (!arrived) return Fail(arrived.error());
    arrived->operation_id = started.front().id;
    return arrived;
}

Result<ArrivalCheck> DocSpaceClient::SurveyOperation(OperationKind kind,
                                                     const std::vector<EntityId>& file_ids,
                                                     const std::vector<EntityId>& folder_ids,
                                                     const EntityId& dest_folder_id,
                                                     ConflictResolve conflict) {
    ArrivalCheck check;
    check.move = kind == OperationKind::kMove;
    check.conflict = conflict;
    check.destination = dest_folder_id;
    for (const auto& id : folder_ids) {
        // The last entry of its path is the folder's own FolderDto, whatever the folder holds.
        auto path = GetFolderPath(id);
        if (!path) return Fail(path.error());
        if (path->empty()) return Fail(Unexpected("GET files/folder/" + id.str() + "/path", Json::array()));
        check.items.push_back({id, true, path->back().title});
    }
    for (const auto& id : file_ids) {
        auto file = GetFile(id);
        if (!file) return Fail(file.error());
        check.items.push_back({id, false, file->title});
    }
    // A move with duplicate looks for no conflict and renames nothing: where the items are is enough.
    if (!check.move || conflict != ConflictResolve::kDuplicate) {
        auto before = GetFolder(dest_folder_id);
        if (!before) return Fail(before.error());
        check.before = std::move(*before);
    }
    return check;
}

Result<OperationOutcome> DocSpaceClient::CheckDestination(ArrivalCheck& check, std::string_view what) {
    if (!check.move || check.conflict != ConflictResolve::kDuplicate) {
        auto after = GetFolder(check.destination);
        if (!after) return Fail(after.error());
        check.after = std::move(*after);
    }
    check.current = [this](const OperationItem& item) -> Result<std::optional<Entry>> {
        Result<Entry> now = Fail(ErrorCode::kInternal, "unset");
        if (item.is_folder) {
            auto path = GetFolderPath(item.id);
            if (path && !path->empty()) {
                now = std::move(path->back());
            } else if (path) {
                now = Fail(ErrorCode::kNotFound, "no path");
            } else {
                now = Fail(path.error());
            }
        } else {
            now = GetFile(item.id);
        }
        if (!now && now.error().code == ErrorCode::kNotFound) return std::optional<Entry>();
        if (!now) return Fail(now.error());
        return std::optional<Entry>(std::move(*now));
    };
    return CheckArrival(check, what);
}

// --- webhook settings -------------------------------------------------------------------------------

Result<std::vector<WebhookConfig>> DocSpaceClient::ListWebhooks() {
    auto envelope = Call("GET", "/api/2.0/settings/webhook");
    if (!envelope) return Fail(envelope.error());
    if (envelope->response.is_null()) return std::vector<WebhookConfig>{};
    if (!envelope->response.is_array())
        return Fail(Unexpected("GET /api/2.0/settings/webhook", envelope->response));
    std::vector<WebhookConfig> configs;
    for (const auto& item : envelope->response) {
        if (auto config = ParseWebhookConfig(item)) configs.push_back(std::move(*config));
    }
    return configs;
}

Result<WebhookConfig> DocSpaceClient::CreateWebhook(const WebhookSpec& spec) {
    auto envelope = Call("POST", "/api/2.0/settings/webhook", {}, WebhookBody(spec));
    if (!envelope) return Fail(envelope.error());
    return WebhookFrom(*envelope, "POST /api/2.0/settings/webhook");
}

Result<WebhookConfig> DocSpaceClient::UpdateWebhook(std::int64_t id, const WebhookSpec& spec) {
    Json body = WebhookBody(spec);
    body["id"] = id;
    auto envelope = Call("PUT", "/api/2.0/settings/webhook", {}, body);
    if (!envelope) return Fail(envelope.error());
    return WebhookFrom(*envelope, "PUT /api/2.0/settings/webhook");
}

Result<WebhookConfig> DocSpaceClient::EnableWebhook(std::int64_t id, const WebhookSpec& spec, bool enabled) {
    // The DTO's validation requires name and uri even here (docs/docspace-api.md §1.13).
    Json body = {{"id", id}, {"name", spec.name}, {"uri", spec.uri}, {"enabled", enabled}};
    auto envelope = Call("PUT", "/api/2.0/settings/webhook/enable", {}, body);
    if (!envelope) return Fail(envelope.error());
    return WebhookFrom(*envelope, "PUT /api/2.0/settings/webhook/enable");
}

Result<WebhookConfig> DocSpaceClient::DeleteWebhook(std::int64_t id) {
    const std::string path = fmt::format("/api/2.0/settings/webhook/{}", id);
    auto envelope = Call("DELETE", path);
    if (!envelope) return Fail(envelope.error());
    if (envelope->response.is_null()) {
        WebhookConfig gone;
        gone.id = id;
        return gone;
    }
    return WebhookFrom(*envelope, "DELETE " + path);
}

Result<std::vector<WebhookTriggerInfo>> DocSpaceClient::ListTriggers() {
    auto envelope = Call("GET", "/api/2.0/settings/webhook/triggers");
    if (!envelope) return Fail(envelope.error());
    if (!envelope->response.is_array()) {
        return Fail(Unexpected("GET /api/2.0/settings/webhook/triggers", envelope->response));
    }
    std::vector<WebhookTriggerInfo> triggers;
    for (const auto& item : envelope->response) {
        if (auto info = ParseTriggerInfo(item)) triggers.push_back(std::move(*info));
    }
    return triggers;
}

Result<WebhookLogPage> DocSpaceClient::ReadWebhookLog(const WebhookLogQuery& query) {
    std::string params = fmt::format("count={}&startIndex={}", query.count, query.start_index);
    if (query.config_id != 0) params += fmt::format("&configId={}", query.config_id);
    auto envelope = Call("GET", "/api/2.0/settings/webhooks/log", params);
    if (!envelope) return Fail(envelope.error());
    WebhookLogPage page;
    if (envelope->response.is_null()) return page;
    if (!envelope->response.is_array())
        return Fail(Unexpected("GET /api/2.0/settings/webhooks/log", envelope->response));
    for (const auto& item : envelope->response) {
        auto row = ParseWebhookLogRow(item);
        if (!row) return Fail(Unexpected("GET /api/2.0/settings/webhooks/log (a row)", item));
        page.rows.push_back(std::move(*row));
    }
    // `total` counts every row past the filters (§1.13); an older portal without it says no more than
    // what this page holds.
    page.total = envelope->total.value_or(query.start_index + static_cast<std::int64_t>(page.rows.size()));
    return page;
}

}  // namespace spacehook::docspace
