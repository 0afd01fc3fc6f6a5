#include "docspace/dto.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

#include "core/text.hpp"

namespace spacehook::docspace {

namespace {

std::string StringField(const Json& dto, std::string_view key) {
    return TextOf(FindKey(dto, key));
}

int IntField(const Json& dto, std::string_view key, int fallback = 0) {
    return static_cast<int>(IntegerOf(FindKey(dto, key)).value_or(fallback));
}

EntityId IdField(const Json& dto, std::string_view key) {
    const Json* value = FindKey(dto, key);
    if (value == nullptr) return {};
    return EntityId::FromJson(*value).value_or(EntityId{});
}
}  // namespace

const Json* FindKey(const Json& object, std::string_view key) {
    if (!object.is_object()) return nullptr;
    if (auto it = object.find(std::string(key)); it != object.end()) return &*it;
    for (const auto& [name, value] : object.items()) {
        if (EqualsIgnoreCase(name, key)) return &value;
    }
    return nullptr;
}

std::string TextOf(const Json* value) {
    if (value == nullptr || value->is_null()) return {};
    if (value->is_string()) return value->get<std::string>();
    if (value->is_number_integer()) return std::to_string(value->get<std::int64_t>());
    if (value->is_number()) return fmt::format("{}", value->get<double>());
    if (value->is_boolean()) return value->get<bool>() ? "true" : "false";
    return value->dump();
}

std::optional<std::int64_t> IntegerOf(const Json* value) {
    if (value == nullptr) return std::nullopt;
    if (value->is_number_integer()) return value->get<std::int64_t>();
    if (value->is_number_float()) return static_cast<std::int64_t>(value->get<double>());
    if (value->is_string()) {
        const auto& text = value->get_ref<const std::string&>();
        std::int64_t parsed = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
        if (ec == std::errc() && end == text.data() + text.size()) return parsed;
    }
    return std::nullopt;
}

bool BoolOf(const Json* value) {
    if (value == nullptr) return false;
    if (value->is_boolean()) return value->get<bool>();
    if (value->is_string()) return EqualsIgnoreCase(value->get<std::string>(), "true");
    if (value->is_number_integer()) return value->get<std::int64_t>() != 0;
    return false;
}

std::optional<Entry> ParseEntry(const Json& dto, std::string_view base_url) {
    if (!dto.is_object()) return std::nullopt;
    Entry entry;
    entry.id = IdField(dto, "id");
    if (entry.id.empty()) return std::nullopt;
    entry.title = StringField(dto, "title");
    const bool looks_like_file = FindKey(dto, "fileExst") != nullptr || FindKey(dto, "folderId") != nullptr;
    entry.entry_type = IntField(dto, "fileEntryType", looks_like_file ? 2 : 1);
    // Files name their parent folderId, folders and rooms parentId (docs/docspace-api.md §2.5).
    entry.parent_id = IdField(dto, entry.entry_type == 2 ? "folderId" : "parentId");
    if (entry.parent_id.empty())
        entry.parent_id = IdField(dto, entry.entry_type == 2 ? "parentId" : "folderId");
    if (auto room_type = IntegerOf(FindKey(dto, "roomType")); room_type && *room_type != 0) {
        entry.room_type = static_cast<int>(*room_type);
    }
    entry.folder_type = IntField(dto, "folderType", IntField(dto, "type"));
    entry.root_folder_type = IntField(dto, "rootFolderType");
    entry.version = IntField(dto, "version");
    entry.file_exst = StringField(dto, "fileExst");
    entry.web_url = StringField(dto, "webUrl");
    if (entry.web_url.empty() && entry.entry_type == 1 && !base_url.empty()) {
        // DocSpace's FolderDto carries no link; this is the web client's route to a room or folder.
        std::string base(base_url);
        while (!base.empty() && base.back() == '/') base.pop_back();
        entry.web_url =
            fmt::format("{}/rooms/shared/{}/filter?folder={}", base, entry.id.str(), entry.id.str());
    }
    if (const Json* tags = FindKey(dto, "tags"); tags != nullptr && tags->is_array()) {
        for (const auto& tag : *tags) {
            if (tag.is_string()) entry.tags.push_back(tag.get<std::string>());
        }
    }
    entry.raw = dto;
    return entry;
}

std::optional<PathPart> ParsePathPart(const Json& dto) {
    if (!dto.is_object()) return std::nullopt;
    PathPart part;
    part.id = IdField(dto, "id");
    if (part.id.empty()) return std::nullopt;
    part.title = StringField(dto, "title");
    if (auto room_type = IntegerOf(FindKey(dto, "roomType")); room_type && *room_type != 0) {
        part.room_type = static_cast<int>(*room_type);
    }
    part.folder_type = IntField(dto, "folderType");
    return part;
}

std::optional<User> ParseUser(const Json& dto) {
    if (!dto.is_object()) return std::nullopt;
    User user;
    user.id = StringField(dto, "id");
    if (user.id.empty()) return std::nullopt;
    user.display_name = StringField(dto, "displayName");
    user.first_name = StringField(dto, "firstName");
    user.last_name = StringField(dto, "lastName");
    user.user_name = StringField(dto, "userName");
    user.email = StringField(dto, "email");
    user.raw = dto;
    return user;
}

std::optional<WebhookConfig> ParseWebhookConfig(const Json& dto) {
    if (!dto.is_object()) return std::nullopt;
    const Json* config = FindKey(dto, "configs");
    const bool wrapped = config != nullptr && config->is_object();
    if (!wrapped) config = &dto;
    WebhookConfig out;
    const auto id = IntegerOf(FindKey(*config, "id"));
    if (!id) return std::nullopt;
    out.id = *id;
    out.name = StringField(*config, "name");
    out.uri = StringField(*config, "uri");
    out.enabled = BoolOf(FindKey(*config, "enabled"));
    out.ssl = BoolOf(FindKey(*config, "ssl"));
    out.triggers = IntegerOf(FindKey(*config, "triggers")).value_or(0);
    out.target_id = StringField(*config, "targetId");
    out.last_failure_on = StringField(*config, "lastFailureOn");
    out.last_failure_content = StringField(*config, "lastFailureContent");
    out.last_success_on = StringField(*config, "lastSuccessOn");
    if (wrapped) out.last_status = IntField(dto, "status");
    return out;
}

std::optional<WebhookTriggerInfo> ParseTriggerInfo(const Json& dto) {
    if (!dto.is_object()) return std::nullopt;
    WebhookTriggerInfo info;
    info.name = StringField(dto, "name");
    const auto id = IntegerOf(FindKey(dto, "id"));
    if (info.name.empty() || !id) return std::nullopt;
    info.id = *id;
    const Json* available = FindKey(dto, "available");
    info.available = available == nullptr || BoolOf(available);
    return info;
}

std::optional<WebhookLogRow> ParseWebhookLogRow(const Json& dto) {
    if (!dto.is_object()) return std::nullopt;
    const auto id = IntegerOf(FindKey(dto, "id"));
    if (!id || *id <= 0) return std::nullopt;
    WebhookLogRow row;
    row.id = *id;
    row.config_name = StringField(dto, "configName");
    row.trigger = IntegerOf(FindKey(dto, "trigger")).value_or(0);
    row.created_at = ParseIso8601(StringField(dto, "creationTime"));
    row.request_payload = StringField(dto, "requestPayload");
    row.status = IntField(dto, "status");
    // The sender writes the request headers and the answer (or the failure's message) together with the
    // final status when it is done with the row (WebhookSender, §1.9); a published row has neither.
    row.finished = !StringField(dto, "requestHeaders").empty() ||
                   !StringField(dto, "responsePayload").empty() || row.status != 0;
    const std::string delivery = StringField(dto, "delivery");
    if (!delivery.empty()) row.delivered_at = ParseIso8601(delivery);
    return row;
}

}  // namespace spacehook::docspace
