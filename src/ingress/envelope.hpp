#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/entity_id.hpp"
#include "core/error.hpp"
#include "store/store.hpp"

namespace spacehook::ingress {

/// The few envelope fields ingress needs to journal a delivery (docs/docspace-api.md §1.4). Everything else
/// stays in the stored body for the dispatcher. DocSpace omits defaults (null, 0, false, Guid.Empty), so
/// every field but `trigger` may be absent.
struct Envelope {
    std::optional<EntityId> event_id;     ///< event.id; absent when omitted or 0 (DocSpace omits 0)
    std::string created_on;               ///< event.createOn as sent, "" when absent
    std::optional<TimePoint> created_at;  ///< event.createOn parsed, nullopt when absent or unreadable
    std::string actor;                    ///< event.createBy, "" when absent (Guid.Empty)
    std::string trigger;                  ///< event.trigger, never empty
    std::int64_t trigger_id = 0;          ///< event.triggerId, 0 when absent
    std::optional<EntityId> entity_id;    ///< payload.id (payload.originalForm.id for form.submit >= 3.7.1)
    std::optional<EntityId> webhook_id;   ///< webhook.id
    int retry_count = 0;                  ///< webhook.retryCount, 0 on the first attempt
    /// What the journal deduplicates on together with webhook_id: event.id as text, or when DocSpace
    /// sent none, a content key (see DedupeKey in envelope.cpp and ParseEnvelope below).
    std::string dedupe_id;
};

/// Parses the envelope leniently: the only hard requirements are valid JSON, an object at the root and
/// a non-empty string `event.trigger` (else kInvalidArgument -> 400). Ids may be JSON numbers or strings
/// (docs/docspace-api.md §1.7). A field with an unexpected type is treated as absent rather than refused: a
/// 400 makes DocSpace give up after ~31 s of retries and the delivery is lost, while a stored body can still
/// be examined and replayed.
///
/// Dedupe key. `event.id` is DocSpace's webhook-log id: automatic retries keep it (docs/docspace-api.md §1.4,
/// §1.9), so (webhook.id, event.id) is the key. When event.id is absent, the key is "sha256:" + SHA-256 of
/// trigger, createOn, createBy and the payload (re-serialized canonically). Those are exactly the parts
/// a retry does not change: each retry re-serializes and re-signs the body with new `webhook.retry*`
/// fields (§1.9), so hashing the whole body would store every retry as a new event, while the payload is
/// the entity published once and createOn is the publish time, kept across retries.
Result<Envelope> ParseEnvelope(std::string_view body);

/// The journal row for a verified delivery.
store::NewDelivery ToNewDelivery(const Envelope& envelope, std::string body, TimePoint received_at);

/// Optional transport headers `x-docspace-event-id` / `x-docspace-event-timestamp` (docs/docspace-api.md §5)
/// are unsigned copies of event.id and event.createOn. They can only reject: a header that contradicts the
/// signed body is kInvalidArgument; an absent or unreadable header changes nothing. An absent event.id
/// in the body stands for 0 (DocSpace omits 0), so only an id header of "0" agrees with it.
inline constexpr std::string_view kEventIdHeader = "x-docspace-event-id";
inline constexpr std::string_view kEventTimestampHeader = "x-docspace-event-timestamp";
Status CheckTransportHeaders(const Envelope& envelope, const std::string* event_id_header,
                             const std::string* timestamp_header);

/// The optional freshness limit on the signed event.createOn (`webhook.max_age`; zero = off). With a
/// limit, a delivery older than it, or with no readable createOn, is kInvalidArgument. Off by default:
/// automatic retries keep the original createOn and an admin's manual retry can come days later (§5).
Status CheckFreshness(const Envelope& envelope, std::chrono::milliseconds max_age, TimePoint now);

}  // namespace spacehook::ingress
