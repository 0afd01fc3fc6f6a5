#include "emulator/portal_state.hpp"

#include <fmt/format.h>

#include "core/random.hpp"

namespace spacehook::emulator {

std::string NewGuid() {
    const auto hex = RandomHexToken(16);
    return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                       hex.substr(16, 4), hex.substr(20, 12));
}

PortalState::PortalState(const Options& options, const Clock& clock, WebhookBook& book,
                         std::function<void(std::int64_t)> deliver)
    : options_(options), clock_(clock), book_(book), deliver_(std::move(deliver)) {}

User* PortalState::UserByKey(std::string_view key) {
    auto it = api_keys.find(std::string(key));
    if (it == api_keys.end()) return nullptr;
    return portal.FindUser(it->second);
}

User* PortalState::FindAnyUser(std::string_view text) {
    if (User* u = portal.FindUser(text)) return u;
    if (User* u = portal.FindUserByEmail(text)) return u;
    return UserByKey(text);
}

std::string PortalState::KeyOf(const std::string& user_id) const {
    for (const auto& [key, id] : api_keys) {
        if (id == user_id) return key;
    }
    return {};
}

void PortalState::Fire(const std::string& trigger, const OJson& payload, const EntityId& id,
                       const std::string& actor, const std::function<bool(const User&)>& readable) {
    Count("events." + trigger);
    // Called with `mu` held, so the access check reads the portal directly.
    auto creator_can_read = [&](const std::string& creator) {
        const User* u = portal.FindUser(creator);
        return u != nullptr && readable(*u);
    };
    for (const auto log_id :
         book_.Publish(trigger, payload, id.str(), id.ToJson(), actor, creator_can_read)) {
        deliver_(log_id);
    }
}

void PortalState::FireEntry(const std::string& trigger, const Entry& entry, const std::string& actor) {
    Fire(trigger, FileEntryPayload(portal, entry), entry.id, actor,
         [&](const User& u) { return portal.CanRead(u, entry); });
}

void PortalState::FireUser(const std::string& trigger, const User& user, const std::string& actor) {
    // CanUserViewAnotherUser: every non-guest sees the people list; guests see only themselves.
    Fire(trigger, UserInfoPayload(user), EntityId::String(user.id), actor,
         [&](const User& u) { return u.type != UserType::kGuest || u.id == user.id; });
}

void PortalState::FireGroup(const std::string& trigger, const Group& group, const std::string& actor) {
    // "admin or Action_ReadGroups": non-guests may read groups.
    Fire(trigger, GroupInfoPayload(group), EntityId::String(group.id), actor,
         [](const User& u) { return u.type != UserType::kGuest; });
}

void PortalState::FireSubmittedForm(const Entry& original, const Entry& submitted, const std::string& actor) {
    OJson payload = OJson::object();
    payload["originalForm"] = FileEntryPayload(portal, original);
    payload["submittedForm"] = FileEntryPayload(portal, submitted);
    Fire("form.submit", payload, original.id, actor,
         [&](const User& u) { return portal.CanRead(u, submitted); });
}

std::string PortalState::RoomTrigger(const Entry& room, std::string_view room_trigger) {
    if (!room.is_agent) return std::string(room_trigger);
    return "agent" + std::string(room_trigger.substr(room_trigger.find('.')));
}

void PortalState::Clear() {
    portal = Portal();
    operations = FileOperationStore();
    api_keys.clear();
    counters.clear();
}

}  // namespace spacehook::emulator
