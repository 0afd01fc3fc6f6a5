#include "ingress/envelope.hpp"

#include <cctype>

#include "core/content_digest.hpp"
#include "core/json.hpp"
#include "core/json_depth.hpp"
#include "core/text.hpp"

namespace spacehook::ingress {

namespace {

const Json* Member(const Json& object, const char* key) {
    if (!object.is_object()) return nullptr;
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

std::string StringMember(const Json& object, const char* key) {
    const Json* value = Member(object, key);
    return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

std::optional<EntityId> IdMember(const Json& object, const char* key) {
    const Json* value = Member(object, key);
    if (value == nullptr) return std::nullopt;
    return EntityId::FromJson(*value);
}

std::optional<std::int64_t> IntegerMember(const Json& object, const char* key) {
    const Json* value = Member(object, key);
    if (value == nullptr) return std::nullopt;
    if (value->is_number_integer()) return value->get<std::int64_t>();
    if (value->is_number_unsigned()) return static_cast<std::int64_t>(value->get<std::uint64_t>());
    return std::nullopt;
}

// The entity the delivery is about. form.submit (>= 3.7.1) wraps two entries and is targeted by the
// original form's id (docs/docspace-api.md §1.6, §1.8); every other family carries the entity itself.
std::optional<EntityId> EntityOf(const Json& payload) {
    if (auto id = IdMember(payload, "id")) return id;
    if (const Json* original = Member(payload, "originalForm")) return IdMember(*original, "id");
    return std::nullopt;
}

// See ParseEnvelope's comment for why these fields and not the whole body.
std::string ContentKey(const Envelope& envelope, const Json& payload) {
    return "sha256:" + DeliveryContentDigest(envelope.trigger, envelope.created_on, envelope.actor, payload);
}

// The timestamp header repeats event.createOn (ISO-8601); Unix seconds or milliseconds are read too, since
// the SDK's exact format is not pinned down by a server source (docs/docspace-api.md §5).
std::optional<TimePoint> ParseTimestampHeader(std::string_view text) {
    text = Trim(text);
    if (text.empty()) return std::nullopt;
    bool digits = text.size() <= 16;
    for (const char c : text) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (digits) {
        const std::int64_t n = std::stoll(std::string(text));
        const std::int64_t millis = n >= 100'000'000'000 ? n : n * 1000;
        // Sixteen digits of milliseconds reach past 2262, where a TimePoint ends: converting them overflowed
        // (undefined behaviour on an unsigned header; found by fuzz_delivery). Unreadable, like ParseIso8601.
        if (millis > ToUnixMillis(TimePoint::max())) return std::nullopt;
        return FromUnixMillis(millis);
    }
    return ParseIso8601(text);
}

}  // namespace

Result<Envelope> ParseEnvelope(std::string_view body) {
    // Depth-bounded: the content key below dump()s the payload and the dispatcher copies it, both
    // recursively; a deep body must be a 400 here, not a crash now or on every restart later.
    auto parsed = ParseBoundedJson(body);
    if (!parsed) return Fail(ErrorCode::kInvalidArgument, "body: " + parsed.error().message);
    const Json root = std::move(*parsed);
    if (!root.is_object()) return Fail(ErrorCode::kInvalidArgument, "envelope root is not a JSON object");
    const Json* event = Member(root, "event");
    if (event == nullptr || !event->is_object()) {
        return Fail(ErrorCode::kInvalidArgument, "envelope has no event object");
    }

    Envelope envelope;
    envelope.trigger = StringMember(*event, "trigger");
    if (envelope.trigger.empty()) return Fail(ErrorCode::kInvalidArgument, "envelope has no event.trigger");

    envelope.event_id = IdMember(*event, "id");
    // 0 is DocSpace's "no id" (it is the default the serializer omits, docs/docspace-api.md §1.4); an
    // explicit 0 means the same and must not make every id-less delivery a duplicate of the first.
    if (envelope.event_id && envelope.event_id->str() == "0") envelope.event_id.reset();
    envelope.created_on = StringMember(*event, "createOn");
    if (!envelope.created_on.empty()) envelope.created_at = ParseIso8601(envelope.created_on);
    envelope.actor = StringMember(*event, "createBy");
    envelope.trigger_id = IntegerMember(*event, "triggerId").value_or(0);

    static const Json kNoPayload;
    const Json* payload = Member(root, "payload");
    if (payload == nullptr) payload = &kNoPayload;
    envelope.entity_id = EntityOf(*payload);

    if (const Json* webhook = Member(root, "webhook")) {
        envelope.webhook_id = IdMember(*webhook, "id");
        envelope.retry_count = static_cast<int>(IntegerMember(*webhook, "retryCount").value_or(0));
    }

    envelope.dedupe_id = envelope.event_id ? envelope.event_id->str() : ContentKey(envelope, *payload);
    return envelope;
}

store::NewDelivery ToNewDelivery(const Envelope& envelope, std::string body, TimePoint received_at) {
    store::NewDelivery delivery;
    delivery.webhook_id = envelope.webhook_id ? envelope.webhook_id->str() : std::string();
    delivery.event_id = envelope.dedupe_id;
    delivery.trigger = envelope.trigger;
    delivery.actor = envelope.actor;
    delivery.entity_id = envelope.entity_id ? envelope.entity_id->str() : std::string();
    delivery.created_on = envelope.created_on;
    delivery.body = std::move(body);
    delivery.received_at = received_at;
    return delivery;
}

Status CheckTransportHeaders(const Envelope& envelope, const std::string* event_id_header,
                             const std::string* timestamp_header) {
    if (event_id_header != nullptr) {
        const std::string_view claimed = Trim(*event_id_header);
        const std::string_view signed_id =
            envelope.event_id ? std::string_view(envelope.event_id->str()) : "0";
        if (!claimed.empty() && claimed != signed_id) {
            return Fail(ErrorCode::kInvalidArgument,
                        "x-docspace-event-id header contradicts the signed event.id");
        }
    }
    if (timestamp_header != nullptr && envelope.created_at) {
        if (const auto claimed = ParseTimestampHeader(*timestamp_header)) {
            // createOn has second precision (docs/docspace-api.md §1.4): a header carrying milliseconds still
            // agrees.
            const auto diff = *claimed > *envelope.created_at ? *claimed - *envelope.created_at
                                                              : *envelope.created_at - *claimed;
            if (diff >= std::chrono::seconds(1)) {
                return Fail(ErrorCode::kInvalidArgument,
                            "x-docspace-event-timestamp header contradicts the signed event.createOn");
            }
        }
    }
    return Ok();
}

Status CheckFreshness(const Envelope& envelope, std::chrono::milliseconds max_age, TimePoint now) {
    if (max_age.count() <= 0) return Ok();
    if (!envelope.created_at) {
        return Fail(ErrorCode::kInvalidArgument,
                    "freshness limit set but event.createOn is missing or unreadable");
    }
    if (now - *envelope.created_at > max_age) {
        return Fail(ErrorCode::kInvalidArgument, "event.createOn is older than webhook.max_age");
    }
    return Ok();
}

}  // namespace spacehook::ingress
