#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "docspace/api.hpp"

namespace spacehook::runner::testing {

/// An in-memory docspace::Api for the runner's unit tests: a tree of rooms, folders and files with the
/// DTO shapes the real client returns, people, per-call counters, and scripted failures, including a
/// failure *after* the effect (the portal did the work, the answer was lost: a timeout after the POST
/// went through), which is what the steps' look-before-act must survive. Thread-safe.
class FakeDocSpace final : public docspace::Api {
public:
    /// Id of the Rooms section (VirtualRooms, folderType 14), the parent of every room.
    static constexpr std::int64_t kRoomsRoot = 1;
    static constexpr char kSelfId[] = "2f1b7c3a-5d4e-4c1b-9a8f-000000000002";
    static constexpr char kBaseUrl[] = "https://portal.test";

    FakeDocSpace();

    // --- the portal -------------------------------------------------------------------------------
    EntityId AddRoom(const std::string& title, int room_type = 2, std::vector<std::string> tags = {});
    EntityId AddFolder(const EntityId& parent, const std::string& title);
    EntityId AddFile(const EntityId& parent, const std::string& title);
    void AddUser(const std::string& id, const std::string& display_name, const std::string& email);
    /// The entry is gone: every call naming it answers 404.
    void Remove(const EntityId& id);

    // --- faults -----------------------------------------------------------------------------------
    /// The next `times` calls of `call` ("CreateRoom", "GetFolderPath", ...) fail with `error`; with
    /// `after_effect` the call first does its work (the answer is lost on the way back).
    void FailNext(const std::string& call, Error error, int times = 1, bool after_effect = false);
    /// Every later call of `call` takes `delay` before it starts (a slow portal; 0 = none).
    void SetDelay(const std::string& call, std::chrono::milliseconds delay);

    // --- what happened ----------------------------------------------------------------------------
    [[nodiscard]] int Calls(std::string_view call) const;
    [[nodiscard]] int TotalCalls() const;
    /// Effects: "rooms_created", "folders_created", "copyas", "copied", "moved", "shares".
    [[nodiscard]] int Effects(std::string_view name) const;
    /// Titles of the folders (or files) directly in `parent`, in creation order.
    [[nodiscard]] std::vector<std::string> FolderTitles(const EntityId& parent) const;
    [[nodiscard]] std::vector<std::string> FileTitles(const EntityId& parent) const;
    /// Rooms carrying `tag`.
    [[nodiscard]] std::vector<EntityId> RoomsTagged(const std::string& tag) const;
    [[nodiscard]] std::optional<EntityId> ParentOf(const EntityId& id) const;
    /// The invitations of every SetRoomAccess call, in order.
    [[nodiscard]] std::vector<std::vector<docspace::Invitation>> Shares() const;

    // --- docspace::Api ----------------------------------------------------------------------------
    Result<docspace::User> GetSelf() override;
    Result<docspace::User> GetUser(const std::string& id_or_user_name) override;
    Result<docspace::User> GetUserByEmail(const std::string& email) override;
    Result<docspace::Entry> CreateRoom(const std::string& title, int room_type,
                                       const std::vector<std::string>& tags) override;
    Result<docspace::Entry> GetRoom(const EntityId& room_id) override;
    Result<std::vector<docspace::Entry>> FindRooms(const docspace::RoomQuery& query) override;
    Result<Json> SetRoomAccess(const EntityId& room_id, const std::vector<docspace::Invitation>& invitations,
                               bool notify, const std::string& message) override;
    Result<docspace::Entry> CreateFolder(const EntityId& parent_id, const std::string& title) override;
    Result<docspace::FolderContents> GetFolder(const EntityId& folder_id) override;
    Result<std::vector<docspace::Entry>> GetFolderPath(const EntityId& folder_id) override;
    Result<docspace::Entry> GetFile(const EntityId& file_id) override;
    Result<docspace::Entry> CopyFileAs(const EntityId& file_id, const EntityId& dest_folder_id,
                                       const std::string& dest_title) override;
    Result<docspace::OperationOutcome> CopyItems(const std::vector<EntityId>& file_ids,
                                                 const std::vector<EntityId>& folder_ids,
                                                 const EntityId& dest_folder_id,
                                                 docspace::ConflictResolve conflict) override;
    Result<docspace::OperationOutcome> MoveItems(const std::vector<EntityId>& file_ids,
                                                 const std::vector<EntityId>& folder_ids,
                                                 const EntityId& dest_folder_id,
                                                 docspace::ConflictResolve conflict) override;
    Result<std::vector<docspace::WebhookConfig>> ListWebhooks() override;
    Result<docspace::WebhookConfig> CreateWebhook(const docspace::WebhookSpec& spec) override;
    Result<docspace::WebhookConfig> UpdateWebhook(std::int64_t id,
                                                  const docspace::WebhookSpec& spec) override;
    Result<docspace::WebhookConfig> EnableWebhook(std::int64_t id, const docspace::WebhookSpec& spec,
                                                  bool enabled) override;
    Result<docspace::WebhookConfig> DeleteWebhook(std::int64_t id) override;
    Result<std::vector<docspace::WebhookTriggerInfo>> ListTriggers() override;
    Result<docspace::WebhookLogPage> ReadWebhookLog(const docspace::WebhookLogQuery& query) override;

private:
    struct Node {
        EntityId id;
        std::string title;
        EntityId parent;
        bool folder = true;
        std::optional<int> room_type;
        int folder_type = 0;
        std::vector<std::string> tags;
        bool removed = false;
    };
    struct Fault {
        Error error;
        bool after_effect = false;
    };

    /// Sleeps the delay set for `call` (without holding the lock).
    void Pause(const std::string& call) const;
    /// Counts the call and takes its next scripted fault, if any.
    std::optional<Fault> Enter(const std::string& call);
    EntityId AddLocked(Node node);
    Node* FindLocked(const EntityId& id);
    const Node* FindLocked(const EntityId& id) const;
    docspace::Entry EntryOf(const Node& node) const;
    Result<Node*> Existing(const EntityId& id, bool want_folder, std::string_view what);
    std::vector<const Node*> ChildrenLocked(const EntityId& parent, bool folders) const;

    mutable std::mutex mu_;
    std::int64_t next_id_ = 100;
    std::map<std::string, Node> nodes_;
    std::vector<std::string> order_;  ///< node ids in creation order
    std::map<std::string, docspace::User> users_;
    std::map<std::string, std::deque<Fault>, std::less<>> faults_;
    std::map<std::string, int, std::less<>> calls_;
    std::map<std::string, int, std::less<>> effects_;
    std::map<std::string, std::chrono::milliseconds, std::less<>> delays_;
    std::vector<std::vector<docspace::Invitation>> shares_;
};

}  // namespace spacehook::runner::testing
