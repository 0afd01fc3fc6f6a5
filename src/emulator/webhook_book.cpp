#include "emulator/webhook_book.hpp"

#include "docspace/names.hpp"

namespace spacehook::emulator {

std::string BuildPublishedBody(const WebhookLogEntry& entry, const WebhookConfig& config) {
    // WhenWritingDefault (docs/docspace-api.md §1.4): Guid.Empty createBy, a 0 triggerId and the 0 event
    // id (the row has no id yet when the body is made) are omitted.
    OJson event = OJson::object();
    event["createOn"] = FormatIso8601(entry.creation_time);
    if (!entry.create_by.empty() && entry.create_by != "00000000-0000-0000-0000-000000000000") {
        event["createBy"] = entry.create_by;
    }
    event["trigger"] = entry.trigger_name;
    if (entry.trigger != 0) event["triggerId"] = entry.trigger;

    OJson webhook = OJson::object();
    webhook["id"] = config.id;
    webhook["name"] = config.name;
    webhook["url"] = config.uri;
    OJson triggers = OJson::array();
    for (auto name : docspace::TriggerNames(config.triggers)) triggers.push_back(std::string(name));
    webhook["triggers"] = std::move(triggers);
    if (!entry.target.is_null()) webhook["target"] = entry.target;

    OJson body = OJson::object();
    body["event"] = std::move(event);
    body["payload"] = entry.payload;
    body["webhook"] = std::move(webhook);
    return WriteStj(body);
}

std::string BuildAttemptBody(std::string_view stored, std::int64_t log_id, const RetryFields* retry) {
    OJson body = OJson::parse(stored, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object()) return std::string(stored);
    // WebhookPayloadEventInfo declares Id first: the id leads the event block.
    OJson event = OJson::object();
    event["id"] = log_id;
    if (body.contains("event") && body["event"].is_object()) {
        for (auto it = body["event"].begin(); it != body["event"].end(); ++it) {
            if (it.key() != "id") event[it.key()] = it.value();
        }
    }
    body["event"] = std::move(event);
    if (body.contains("webhook") && body["webhook"].is_object()) {
        OJson& webhook = body["webhook"];
        for (const char* key :
             {"lastFailureOn", "lastFailureContent", "lastSuccessOn", "retryCount", "retryOn"}) {
            webhook.erase(key);
        }
        if (retry != nullptr) {
            webhook["lastFailureOn"] = FormatIso8601(retry->last_failure_on);
            if (!retry->last_failure_content.empty())
                webhook["lastFailureContent"] = retry->last_failure_content;
            if (retry->last_success_on) {
                // Read back from the DB as DateTimeKind.Unspecified: no `Z` (docs/docspace-api.md §1.4).
                auto text = FormatIso8601(*retry->last_success_on);
                if (!text.empty() && text.back() == 'Z') text.pop_back();
                webhook["lastSuccessOn"] = text;
            }
            webhook["retryCount"] = retry->retry_count;
            webhook["retryOn"] = FormatIso8601(retry->retry_on);
        }
    }
    return WriteStj(body);
}

std::string BuildWebhookBody(const WebhookLogEntry& entry, const WebhookConfig& config,
                             const RetryFields* retry) {
    return BuildAttemptBody(BuildPublishedBody(entry, config), entry.id, retry);
}

std::vector<std::int64_t> WebhookBook::Publish(
    const std::string& trigger, const OJson& payload, const std::string& entity_id,
    const OJson& entity_id_json, const std::string& acting_user,
    const std::function<bool(const std::string&)>& creator_can_read) {
    const auto bit = docspace::TriggerBit(trigger).value_or(0);
    std::vector<WebhookConfig> candidates;
    {
        std::lock_guard lock(mu_);
        for (const auto& [id, c] : configs_) {
            if (!c.enabled) continue;
            if (c.triggers != 0 && (c.triggers & bit) == 0) continue;
            // Exact entity match, never a subtree (docs/docspace-api.md §1.8).
            if (!c.target_id.empty() && c.target_id != entity_id) continue;
            candidates.push_back(c);
        }
    }
    // The access question may take the portal's lock: ask it outside ours.
    std::vector<WebhookConfig> chosen;
    for (auto& c : candidates) {
        if (c.created_by == acting_user || creator_can_read(c.created_by)) chosen.push_back(std::move(c));
    }
    std::vector<std::int64_t> ids;
    std::lock_guard lock(mu_);
    const auto now = clock_.Now();
    for (const auto& c : chosen) {
        WebhookLogEntry e;
        e.id = next_log_id_++;
        e.config_id = c.id;
        e.config_name = c.name;
        e.trigger = bit;
        e.trigger_name = trigger;
        e.creation_time = now;
        e.create_by = acting_user;
        e.payload = payload;
        if (!c.target_id.empty()) {
            const auto dot = trigger.find('.');
            e.target = OJson::object();
            e.target["id"] = entity_id_json;
            e.target["type"] = trigger.substr(0, dot);
        }
        e.request_payload = BuildPublishedBody(e, c);
        ids.push_back(e.id);
        log_.emplace(e.id, std::move(e));
    }
    return ids;
}

std::optional<std::int64_t> WebhookBook::Requeue(std::int64_t log_id, const std::string& acting_user) {
    std::lock_guard lock(mu_);
    auto it = log_.find(log_id);
    if (it == log_.end() || configs_.count(it->second.config_id) == 0) return std::nullopt;
    WebhookLogEntry e;
    e.id = next_log_id_++;
    e.config_id = it->second.config_id;
    e.config_name = it->second.config_name;
    e.trigger = it->second.trigger;
    e.trigger_name = it->second.trigger_name;
    e.creation_time = clock_.Now();
    e.create_by = acting_user;
    e.payload = it->second.payload;
    e.target = it->second.target;
    e.request_payload = it->second.request_payload;
    const auto id = e.id;
    log_.emplace(id, std::move(e));
    return id;
}

WebhookConfig& WebhookBook::Add(WebhookConfig config) {
    std::lock_guard lock(mu_);
    config.id = next_config_id_++;
    auto [it, inserted] = configs_.emplace(config.id, std::move(config));
    (void)inserted;
    return it->second;
}

std::optional<WebhookConfig> WebhookBook::Get(std::int64_t id) const {
    std::lock_guard lock(mu_);
    auto it = configs_.find(id);
    if (it == configs_.end()) return std::nullopt;
    return it->second;
}

bool WebhookBook::Replace(const WebhookConfig& config) {
    std::lock_guard lock(mu_);
    auto it = configs_.find(config.id);
    if (it == configs_.end()) return false;
    it->second = config;
    return true;
}

std::optional<WebhookConfig> WebhookBook::Remove(std::int64_t id) {
    std::lock_guard lock(mu_);
    auto it = configs_.find(id);
    if (it == configs_.end()) return std::nullopt;
    auto removed = std::move(it->second);
    configs_.erase(it);
    return removed;
}

std::vector<WebhookConfig> WebhookBook::Configs() const {
    std::lock_guard lock(mu_);
    std::vector<WebhookConfig> out;
    for (const auto& [id, c] : configs_) out.push_back(c);
    return out;
}

void WebhookBook::MarkSuccess(std::int64_t config_id, TimePoint when, int status) {
    std::lock_guard lock(mu_);
    if (auto it = configs_.find(config_id); it != configs_.end()) {
        it->second.last_success_on = when;
        it->second.last_status = status;
        it->second.modified_on = when;
    }
}

void WebhookBook::MarkFailure(std::int64_t config_id, TimePoint when, const std::string& content,
                              int status) {
    std::lock_guard lock(mu_);
    if (auto it = configs_.find(config_id); it != configs_.end()) {
        it->second.last_failure_on = when;
        it->second.last_failure_content = content;
        it->second.last_status = status;
        it->second.modified_on = when;
    }
}

void WebhookBook::SetEnabled(std::int64_t config_id, bool enabled) {
    std::lock_guard lock(mu_);
    if (auto it = configs_.find(config_id); it != configs_.end()) it->second.enabled = enabled;
}

int WebhookBook::ListStatus(std::int64_t config_id) const {
    std::lock_guard lock(mu_);
    const WebhookLogEntry* newest_delivered = nullptr;
    const WebhookLogEntry* oldest = nullptr;
    for (const auto& [id, e] : log_) {
        if (e.config_id != config_id) continue;
        if (oldest == nullptr) oldest = &e;
        if (e.delivery && (newest_delivered == nullptr || *e.delivery >= *newest_delivered->delivery)) {
            newest_delivered = &e;
        }
    }
    if (newest_delivered != nullptr) return newest_delivered->status;
    return oldest != nullptr ? oldest->status : 0;
}

std::optional<WebhookLogEntry> WebhookBook::Entry(std::int64_t log_id) const {
    std::lock_guard lock(mu_);
    auto it = log_.find(log_id);
    if (it == log_.end()) return std::nullopt;
    return it->second;
}

void WebhookBook::UpdateEntry(const WebhookLogEntry& entry) {
    std::lock_guard lock(mu_);
    if (auto it = log_.find(entry.id); it != log_.end()) it->second = entry;
}

std::vector<WebhookLogEntry> WebhookBook::Entries() const {
    std::lock_guard lock(mu_);
    std::vector<WebhookLogEntry> out;
    for (const auto& [id, e] : log_) out.push_back(e);
    return out;
}

void WebhookBook::Clear() {
    std::lock_guard lock(mu_);
    configs_.clear();
    log_.clear();
    // Ids stay monotonic across resets: a receiver that de-duplicates on (webhook id, event id) must
    // never see an old id again, as on a real portal.
}

}  // namespace spacehook::emulator
