#pragma once

#include "docspace/api.hpp"
#include "runner/runner_metrics.hpp"

namespace spacehook::runner {

/// A docspace::Api that counts every failed call by error class (spacehook_docspace_errors_total) and
/// otherwise forwards to `inner`. The dispatcher and the workers talk to the portal through it, so the
/// metric covers lookups and steps alike. Thread-safe when `inner` is.
class MeteredApi final : public docspace::Api {
public:
    MeteredApi(docspace::Api& inner, RunnerMetrics& metrics) : inner_(inner), metrics_(metrics) {}

    Result<docspace::User> GetSelf() override { return Count(inner_.GetSelf()); }
    Result<docspace::User> GetUser(const std::string& id) override { return Count(inner_.GetUser(id)); }
    Result<docspace::User> GetUserByEmail(const std::string& email) override {
        return Count(inner_.GetUserByEmail(email));
    }
    Result<docspace::Entry> CreateRoom(const std::string& title, int room_type,
                                       const std::vector<std::string>& tags) override {
        return Count(inner_.CreateRoom(title, room_type, tags));
    }
    Result<docspace::Entry> GetRoom(const EntityId& id) override { return Count(inner_.GetRoom(id)); }
    Result<std::vector<docspace::Entry>> FindRooms(const docspace::RoomQuery& query) override {
        return Count(inner_.FindRooms(query));
    }
    Result<Json> SetRoomAccess(const EntityId& room, const std::vector<docspace::Invitation>& invitations,
                               bool notify, const std::string& message) override {
        return Count(inner_.SetRoomAccess(room, invitations, notify, message));
    }
    Result<docspace::Entry> CreateFolder(const EntityId& parent, const std::string& title) override {
        return Count(inner_.CreateFolder(parent, title));
    }
    Result<docspace::FolderContents> GetFolder(const EntityId& id) override {
        return Count(inner_.GetFolder(id));
    }
    Result<std::vector<docspace::Entry>> GetFolderPath(const EntityId& id) override {
        return Count(inner_.GetFolderPath(id));
    }
    Result<docspace::Entry> GetFile(const EntityId& id) override { return Count(inner_.GetFile(id)); }
    Result<docspace::Entry> CopyFileAs(const EntityId& file, const EntityId& dest,
                                       const std::string& title) override {
        return Count(inner_.CopyFileAs(file, dest, title));
    }
    Result<docspace::OperationOutcome> CopyItems(const std::vector<EntityId>& files,
                                                 const std::vector<EntityId>& folders, const EntityId& dest,
                                                 docspace::ConflictResolve conflict) override {
        return Count(inner_.CopyItems(files, folders, dest, conflict));
    }
    Result<docspace::OperationOutcome> MoveItems(const std::vector<EntityId>& files,
                                                 const std::vector<EntityId>& folders, const EntityId& dest,
                                                 docspace::ConflictResolve conflict) override {
        return Count(inner_.MoveItems(files, folders, dest, conflict));
    }
    Result<std::vector<docspace::WebhookConfig>> ListWebhooks() override {
        return Count(inner_.ListWebhooks());
    }
    Result<docspace::WebhookConfig> CreateWebhook(const docspace::WebhookSpec& spec) override {
        return Count(inner_.CreateWebhook(spec));
    }
    Result<docspace::WebhookConfig> UpdateWebhook(std::int64_t id,
                                                  const docspace::WebhookSpec& spec) override {
        return Count(inner_.UpdateWebhook(id, spec));
    }
    Result<docspace::WebhookConfig> EnableWebhook(std::int64_t id, const docspace::WebhookSpec& spec,
                                                  bool enabled) override {
        return Count(inner_.EnableWebhook(id, spec, enabled));
    }
    Result<docspace::WebhookConfig> DeleteWebhook(std::int64_t id) override {
        return Count(inner_.DeleteWebhook(id));
    }
    Result<std::vector<docspace::WebhookTriggerInfo>> ListTriggers() override {
        return Count(inner_.ListTriggers());
    }
    Result<docspace::WebhookLogPage> ReadWebhookLog(const docspace::WebhookLogQuery& query) override {
        return Count(inner_.ReadWebhookLog(query));
    }

private:
    template <class T>
    Result<T> Count(Result<T> result) {
        if (!result) metrics_.ApiError(result.error().code);
        return result;
    }

    docspace::Api& inner_;
    RunnerMetrics& metrics_;
};

}  // namespace spacehook::runner
