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
    int last_status = 0;  ///< status of the last finished delivery (state dump)
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
    /// The body as published (event.id omitted, no retry fields) until the sender replaces it with the
    /// exact last body it sent. A manual retry copies it, so its event keeps the first createOn and
    /// createBy (docs/docspace-api.md §1.13).
    std::string request_payload;
    // Outcome, filled by the sender.
    std::string request_headers;        ///< JSON text, as the portal's log stores it
    std::string response_headers;       ///< success only; empty (null) after a failure
    std::string response_payload;       ///< the answer's body, or the failure's message
    int status = 0;                     ///< 0 until something answered (and when nothing ever did)
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

/// The body WebhookPublisher stores in the log row: `{"event":{...},"payload":...,"webhook":{...}}` in
/// that order, compact STJ JSON with defaults omitted, so event.id (0 until the row exists) is absent
/// (docs/docspace-api.md §1.3, §1.4).
std::string BuildPublishedBody(const WebhookLogEntry& entry, const WebhookConfig& config);
/// What the sender puts on the wire: the stored body read back, event.id set to the row's id, the retry
/// fields of attempt `retry` (none on the first try) in place of any stored ones, written again
/// (docs/docspace-api.md §1.9). The stored body's event and webhook blocks are kept as they were.
std::string BuildAttemptBody(std::string_view stored, std::int64_t log_id, const RetryFields* retry);
/// BuildAttemptBody over BuildPublishedBody: the body of a row that was never sent.
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
    /// A manual retry: a new row (new id and creation time, `acting_user` as its user) holding the old
    /// row's last body, whose event keeps its createOn and createBy. nullopt when the old row or its
    /// config is gone.
    std::optional<std::int64_t> Requeue(std::int64_t log_id, const std::string& acting_user);

    // Configs.
    WebhookConfig& Add(WebhookConfig config);
    [[nodiscard]] std::optional<WebhookConfig> Get(std::int64_t id) const;
    bool Replace(const WebhookConfig& config);
    std::optional<WebhookConfig> Remove(std::int64_t id);
    [[nodiscard]] std::vector<WebhookConfig> Configs() const;
    /// Success bookkeeping: lastSuccessOn, last status, modifiedOn (the sender saves the config).
    void MarkSuccess(std::int64_t config_id, TimePoint when, int status);
    /// Final failure bookkeeping: lastFailureOn/Content, last status, modifiedOn.
    void MarkFailure(std::int64_t config_id, TimePoint when, const std::string& content, int status);
    void SetEnabled(std::int64_t config_id, bool enabled);
    /// The `status` GET settings/webhook shows next to a config: the status of its most recently
    /// delivered row (so a 2xx once anything was delivered), else of its oldest row, else 0
    /// (WebhooksConfigWithStatusAsync orders the rows by `delivery` descending, nulls last).
    [[nodiscard]] int ListStatus(std::int64_t config_id) const;

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
