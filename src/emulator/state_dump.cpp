#include "emulator/state_dump.hpp"

#include "core/enum_names.hpp"
#include "docspace/names.hpp"

namespace spacehook::emulator {
namespace {

constexpr EnumNames<UserType, 4> kUserTypeNames{{{
    {UserType::kDocSpaceAdmin, "docspace_admin"},
    {UserType::kRoomAdmin, "room_admin"},
    {UserType::kGuest, "guest"},
    {UserType::kUser, "user"},
}}};
static_assert(kUserTypeNames.Unique());

std::string UserTypeName(const User& u) {
    if (u.is_owner) return "owner";
    return std::string(kUserTypeNames.Name(u.type));
}

Json IdJson(const EntityId& id) {
    return id.ToJson();
}

Json FileJson(const Entry& f) {
    Json o;
    o["id"] = IdJson(f.id);
    o["title"] = f.title;
    o["version"] = f.version;
    o["size"] = f.size;
    o["createdBy"] = f.create_by;
    o["modifiedBy"] = f.modified_by;
    o["createOn"] = FormatIso8601(f.create_on, true);
    o["modifiedOn"] = FormatIso8601(f.modified_on, true);
    return o;
}

Json FolderJson(const Portal& portal, const Entry& f) {
    Json o;
    o["id"] = IdJson(f.id);
    o["title"] = f.title;
    o["kind"] = f.parent_id.empty() ? "section" : f.IsRoom() ? "room" : "folder";
    o["folderType"] = f.folder_type;
    if (f.IsRoom()) {
        o["roomType"] = f.room_type;
        o["roomTypeName"] = std::string(docspace::RoomTypeName(f.room_type));
        o["tags"] = f.tags;
        Json members = Json::array();
        for (const auto& m : f.members) {
            members.push_back({{"subject", m.subject},
                               {"isGroup", m.is_group},
                               {"access", m.access},
                               {"accessName", docspace::AccessLevelName(m.access)}});
        }
        o["members"] = std::move(members);
        if (!f.provider_key.empty()) o["provider"] = f.provider_key;
        if (f.is_agent) o["agent"] = true;
    }
    o["createdBy"] = f.create_by;
    Json folders = Json::array();
    for (const auto& id : f.folders) {
        if (const Entry* child = portal.Folder(id)) folders.push_back(FolderJson(portal, *child));
    }
    Json files = Json::array();
    for (const auto& id : f.files) {
        if (const Entry* child = portal.File(id)) files.push_back(FileJson(*child));
    }
    o["folders"] = std::move(folders);
    o["files"] = std::move(files);
    return o;
}

}  // namespace

Json DeliveriesJson(const WebhookSender& sender) {
    Json list = Json::array();
    for (const auto& a : sender.Attempts()) {
        Json headers = Json::object();
        for (const auto& [name, value] : a.request_headers) headers[name] = value;
        list.push_back({{"logId", a.log_id},
                        {"attempt", a.attempt},
                        {"webhookId", a.webhook_id},
                        {"trigger", a.trigger},
                        {"url", a.url},
                        {"requestHeaders", std::move(headers)},
                        {"requestPayload", a.body},
                        {"status", a.status},
                        {"error", a.error},
                        {"sentAt", FormatIso8601(a.sent_at, true)},
                        {"monotonicMs", a.monotonic_ms},
                        {"durationMs", a.duration_ms}});
    }
    return list;
}

std::map<std::string, std::int64_t> AllCounters(const PortalState& state, const WebhookSender& sender) {
    auto counters = state.counters;
    for (const auto& [name, value] : sender.Counters()) counters[name] += value;
    return counters;
}

Json StateDump(const PortalState& state, const WebhookBook& book, const WebhookSender& sender,
               const FaultSet& faults) {
    const auto& portal = state.portal;
    Json out;
    out["portal"] = {{"baseUrl", state.base_url},
                     {"roomsRootId", IdJson(portal.rooms_root())},
                     {"archiveRootId", IdJson(portal.archive_root())},
                     {"trashRootId", IdJson(portal.trash_root())}};
    Json users = Json::array();
    for (const auto& u : portal.users()) {
        Json keys = Json::array();
        for (const auto& [key, id] : state.api_keys) {
            if (id == u.id) keys.push_back(key);
        }
        users.push_back({{"id", u.id},
                         {"userName", u.user_name},
                         {"firstName", u.first_name},
                         {"lastName", u.last_name},
                         {"email", u.email},
                         {"type", UserTypeName(u)},
                         {"activationStatus", u.activation_status},
                         {"apiKeys", std::move(keys)}});
    }
    out["users"] = std::move(users);
    Json groups = Json::array();
    for (const auto& g : portal.groups()) {
        groups.push_back({{"id", g.id}, {"name", g.name}, {"manager", g.manager}, {"members", g.members}});
    }
    out["groups"] = std::move(groups);
    Json tree = Json::array();
    for (const auto* id : {&portal.rooms_root(), &portal.archive_root(), &portal.trash_root()}) {
        if (const Entry* section = portal.Folder(*id)) tree.push_back(FolderJson(portal, *section));
    }
    out["tree"] = std::move(tree);
    Json hooks = Json::array();
    for (const auto& c : book.Configs()) {
        Json names = Json::array();
        for (auto n : docspace::TriggerNames(c.triggers)) names.push_back(std::string(n));
        Json h = {{"id", c.id},
                  {"name", c.name},
                  {"uri", c.uri},
                  {"enabled", c.enabled},
                  {"ssl", c.ssl},
                  {"triggers", c.triggers},
                  {"triggerNames", names},
                  {"targetId", c.target_id},
                  {"createdBy", c.created_by},
                  {"lastStatus", c.last_status}};
        if (c.last_success_on) h["lastSuccessOn"] = FormatIso8601(*c.last_success_on, true);
        if (c.last_failure_on) h["lastFailureOn"] = FormatIso8601(*c.last_failure_on, true);
        if (!c.last_failure_content.empty()) h["lastFailureContent"] = c.last_failure_content;
        hooks.push_back(std::move(h));
    }
    out["webhooks"] = std::move(hooks);
    Json log = Json::array();
    for (const auto& e : book.Entries()) {
        Json entry = {{"id", e.id},
                      {"configId", e.config_id},
                      {"trigger", e.trigger_name},
                      {"createBy", e.create_by},
                      {"status", e.status},
                      {"finished", e.finished}};
        if (e.delivery) entry["delivery"] = FormatIso8601(*e.delivery, true);
        log.push_back(std::move(entry));
    }
    out["webhookLog"] = std::move(log);
    out["deliveries"] = DeliveriesJson(sender);
    Json ops = Json::array();
    for (const auto& op : state.operations.all()) {
        ops.push_back({{"id", op.id},
                       {"type", op.type == OperationType::kCopy ? "copy" : "move"},
                       {"owner", op.owner},
                       {"finished", op.finished},
                       {"status", op.status},
                       {"error", op.error},
                       {"processed", op.processed}});
    }
    out["operations"] = std::move(ops);
    out["counters"] = AllCounters(state, sender);
    out["faults"] = FromOrdered(faults.ToJson());
    return out;
}

}  // namespace spacehook::emulator
