#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "emulator/stj_json.hpp"

namespace spacehook::emulator {

/// One webhook subscription (DbWebhooksConfig, docs/docspace-api.md §1.13). The secret is never returned by
/// the API.
struct WebhookConfig {
    std::int64_t id = 0;
    std::string name;
    std::string uri;
    std::string secret;
    bool enabled = false;
    bool ssl = false;
    std::int64_t triggers = 0;  ///< bitmask, 0 = All (docs/docspace-api.md §1.5)
    std::string target_id;      ///< exact entity id as text; empty = no target (§1.8)
    std::string created_by;
    std::string modified_by;
    TimePoint created_on{};
    TimePoint modified_on{};
    std::optional<TimePoint> last_failure_on;
    std::string last_failure_content;
    std::optional<TimePoint> last_success_on;
    int last_status = 0;  ///< status of the last finished delivery, for GET settings/webhook
};

/// One webhook journal row: one event for one config. Its id is `event.id` and survives automatic
/// retries; a manual retry makes a new row (docs/docspace-api.md §1.4, §1.13).
struct WebhookLogEntry {
    std::int64_t id = 0;
    std::int64_t config_id = 0;
    std::string config_name;
    std::int64_t trigger = 0;  ///< bit; 0 only for legacy sends
    std::string trigger_name;
    TimePoint creation_time{};  ///< `event.createOn`: publish time, kept by retries
    std::string create_by;      ///< acting user GUID
    OJson payload;
    OJson target;  ///< `webhook.target` ({id, type}) or null
    // Outcome, filled by the sender.
    std::string request_headers;  ///< JSON text, as the portal's log stores it
    std::string request_payload;  ///< the exact last body sent
    std::string response_headers;
    std::string response_payload;
    int status = 0;
    std::optional<TimePoint> delivery;  ///< set on success only
    bool finished = false;
};

/// What changed on the retry fields of the `webhook` block (docs/docspace-api.md §1.9); absent on the first
/// try.
struct RetryFields {
    TimePoint last_failure_on{};
    std::string last_failure_content;
    std::optional<TimePoint> last_success_on;
    int retry_count = 0;
    TimePoint retry_on{};
};

/// The exact body: `{"event":{...},"payload":...,"webhook":{...}}` in that order, compact STJ JSON
/// with defaults omitted (docs/docspace-api.md §1.3, §1.4).
std::string BuildWebhookBody(const WebhookLogEntry& entry, const WebhookConfig& config,
                             const RetryFields* retry);

/// Webhook configs and their journal. Thread-safe: REST handlers and sender threads share it.
class WebhookBook {
public:
    explicit WebhookBook(const Clock& clock) : clock_(clock) {}

    /// Decides who gets an event (§1.8): every enabled config whose bitmask has the trigger (or is 0)
    /// and whose target, when set, equals `entity_id`; `creator_can_read(creator)` is asked only when
    /// the acting user is not the config's creator. Writes one log row per config and returns their ids.
    std::vector<std::int64_t> Publish(
        const std::string& trigger, const OJson& payload, const std::string& entity_id,
        const OJson& entity_id_json, const std::string& acting_user,
        const std::function<bool(const std::string& creator)>& creator_can_read);
    /// A manual retry: a new row (new id, new createOn) copying the old row's event. nullopt when the
    /// old row or its config is gone.
    std::optional<std::int64_t> Requeue(std::int64_t log_id, const std::string& acting_user);

    // Configs.
    WebhookConfig& Add(WebhookConfig config);
    [[nodiscard]] std::optional<WebhookConfig> Get(std::int64_t id) const;
    bool Replace(const WebhookConfig& config);
    std::optional<WebhookConfig> Remove(std::int64_t id);
    [[nodiscard]] std::vector<WebhookConfig> Configs() const;
    /// Success bookkeeping: lastSuccessOn, last status.
    void MarkSuccess(std::int64_t config_id, TimePoint when, int status);
    /// Final failure bookkeeping: lastFailureOn/Content, last status.
    void MarkFailure(std::int64_t config_id, TimePoint when, const std::string& content, int status);
    void SetEnabled(std::int64_t config_id, bool enabled);

    // Journal.
    [[nodiscard]] std::optional<WebhookLogEntry> Entry(std::int64_t log_id) const;
    void UpdateEntry(const WebhookLogEntry& entry);
    [[nodiscard]] std::vector<WebhookLogEntry> Entries() const;

    void Clear();

private:
    const Clock& clock_;
    mutable std::mutex mu_;
    std::map<std::int64_t, WebhookConfig> configs_;
    std::map<std::int64_t, WebhookLogEntry> log_;
    std::int64_t next_config_id_ = 1;
    std::int64_t next_log_id_ = 1;
};

}  // namespace spacehook::emulator
