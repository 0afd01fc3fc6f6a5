#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "docspace/api.hpp"
#include "docspace/envelope.hpp"
#include "docspace/file_operation.hpp"
#include "docspace/rate_limiter.hpp"
#include "httpc/client.hpp"

namespace spacehook::docspace {

/// Everything a DocSpaceClient needs to reach one portal (ServiceConfig::DocSpace in config).
struct ClientOptions {
    std::string base_url;  ///< DOCSPACE_API_HOST, "https://portal.example.com" (no /api/2.0)
    std::string api_key;   ///< DOCSPACE_API_KEY, sent as `Authorization: Bearer <key>`; never logged
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds total_timeout{30000};
    double rate_per_second = 20;
    int burst = 40;
    std::chrono::milliseconds poll_interval{200};  ///< file-operation polling
    std::chrono::milliseconds poll_timeout{120000};
    bool verify_tls = true;
    std::string ca_file;
};

/// The DocSpace REST client over httpc: typed calls per docs/docspace-api.md §2.5 and §1.13, the envelope and
/// error classification of envelope.hpp, one rate limiter per portal, and copy/move awaited to completion
/// and then checked at the destination, item by item (a finished operation proves nothing). It
/// never retries a failed call itself: the runner owns retries (backoff with jitter, dead letters); the one
/// exception is polling, which rides out transient errors until the poll deadline. Thread-safe.
class DocSpaceClient final : public Api {
public:
    /// `limiter` = nullptr shares the process-wide limiter of this portal (PortalRateLimiter); replicas
    /// on a shared store pass a SharedRateLimiter. `http` = nullptr creates a client of its own.
    explicit DocSpaceClient(ClientOptions options, std::shared_ptr<CallLimiter> limiter = nullptr,
                            std::shared_ptr<httpc::Client> http = nullptr);

    Result<User> GetSelf() override;
    Result<User> GetUser(const std::string& id_or_user_name) override;
    Result<User> GetUserByEmail(const std::string& email) override;

    Result<Entry> CreateRoom(const std::string& title, int room_type,
                             const std::vector<std::string>& tags) override;
    Result<Entry> GetRoom(const EntityId& room_id) override;
    Result<std::vector<Entry>> FindRooms(const RoomQuery& query) override;
    Result<Json> SetRoomAccess(const EntityId& room_id, const std::vector<Invitation>& invitations,
                               bool notify, const std::string& message) override;

    Result<Entry> CreateFolder(const EntityId& parent_id, const std::string& title) override;
    Result<FolderContents> GetFolder(const EntityId& folder_id) override;
    Result<std::vector<Entry>> GetFolderPath(const EntityId& folder_id) override;
    Result<Entry> GetFile(const EntityId& file_id) override;
    Result<Entry> CopyFileAs(const EntityId& file_id, const EntityId& dest_folder_id,
                             const std::string& dest_title) override;

    Result<OperationOutcome> CopyItems(const std::vector<EntityId>& file_ids,
                                       const std::vector<EntityId>& folder_ids,
                                       const EntityId& dest_folder_id, ConflictResolve conflict) override;
    Result<OperationOutcome> MoveItems(const std::vector<EntityId>& file_ids,
                                       const std::vector<EntityId>& folder_ids,
                                       const EntityId& dest_folder_id, ConflictResolve conflict) override;

    Result<std::vector<WebhookConfig>> ListWebhooks() override;
    Result<WebhookConfig> CreateWebhook(const WebhookSpec& spec) override;
    Result<WebhookConfig> UpdateWebhook(std::int64_t id, const WebhookSpec& spec) override;
    Result<WebhookConfig> EnableWebhook(std::int64_t id, const WebhookSpec& spec, bool enabled) override;
    Result<WebhookConfig> DeleteWebhook(std::int64_t id) override;
    Result<std::vector<WebhookTriggerInfo>> ListTriggers() override;
    Result<WebhookLogPage> ReadWebhookLog(const WebhookLogQuery& query) override;

    /// One call through the limiter and the envelope: `path` starts with "/api/2.0/", `query` is
    /// already encoded ("a=1&b=2"), `body` null sends none. For endpoints without a typed wrapper.
    Result<Envelope> Call(std::string_view method, std::string_view path, std::string_view query = {},
                          const Json& body = nullptr);

    [[nodiscard]] CallLimiter& rate_limiter() { return *limiter_; }
    [[nodiscard]] const ClientOptions& options() const { return options_; }

private:
    enum class OperationKind { kCopy, kMove };
    Result<OperationOutcome> RunOperation(OperationKind kind, const std::vector<EntityId>& file_ids,
                                          const std::vector<EntityId>& folder_ids,
                                          const EntityId& dest_folder_id, ConflictResolve conflict);
    /// The items' titles and, unless a move with duplicate, the destination's entries, before starting.
    Result<ArrivalCheck> SurveyOperation(OperationKind kind, const std::vector<EntityId>& file_ids,
                                         const std::vector<EntityId>& folder_ids,
                                         const EntityId& dest_folder_id, ConflictResolve conflict);
    /// Reads the destination (and, for moves, each item) again and judges each item (CheckArrival).
    Result<OperationOutcome> CheckDestination(ArrivalCheck& check, std::string_view what);
    Result<Entry> EntryFrom(const Envelope& envelope, std::string_view what) const;
    Result<WebhookConfig> WebhookFrom(const Envelope& envelope, std::string_view what) const;

    ClientOptions options_;
    std::shared_ptr<CallLimiter> limiter_;
    std::shared_ptr<httpc::Client> http_;
};

}  // namespace spacehook::docspace
