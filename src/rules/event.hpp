#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/entity_id.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

namespace spacehook::rules {

/// What an event is about, from its trigger family (docs/docspace-api.md §1.5): file.* and form.* are files,
/// room.* and agent.* (AI agents are rooms) are rooms.
enum class EntityKind { kUnknown, kFile, kFolder, kRoom, kUser, kGroup };

std::string_view ToString(EntityKind kind);
std::optional<EntityKind> ParseEntityKind(std::string_view name);
/// The kind a trigger's events are about; kUnknown for "*" and triggers newer than docs/docspace-api.md §1.5
/// lists.
EntityKind KindOfTrigger(std::string_view trigger);

/// A delivery as the rules see it, parsed from the stored envelope (docs/docspace-api.md §1.4). ingress has
/// its own minimal ingress::Envelope for journaling; rules need the whole payload and webhook blocks and the
/// entity the event is about, so they parse the body themselves. DocSpace omits null, 0, false and
/// Guid.Empty, so every field but `trigger` may be absent.
struct Event {
    std::string trigger;         ///< event.trigger, never empty
    std::optional<EntityId> id;  ///< event.id (the webhook-log id)
    std::string create_on;       ///< event.createOn as sent; "" when absent
    std::string create_by;       ///< event.createBy (the acting user's GUID); "" when omitted
    EntityKind kind = EntityKind::kUnknown;
    /// The entity: payload.id; for form.submit (>= 3.7.1) the *submitted* form, which is the new file
    /// each submission creates (payload.submittedForm.id). ingress journals the original form id
    /// instead, which is what a subscription target matches (docs/docspace-api.md §1.8).
    std::optional<EntityId> entity_id;
    std::optional<EntityId> parent_id;         ///< parentId of the same entry (the direct parent folder)
    std::optional<std::string> title;          ///< title of the same entry (files, folders, rooms)
    std::optional<std::string> modified_on;    ///< modifiedOn of the same entry
    std::optional<EntityId> original_form_id;  ///< form.submit: payload.originalForm.id
    Json event = Json::object();               ///< the raw `event` block
    Json payload = Json::object();             ///< the raw `payload` block
    Json webhook = Json::object();             ///< the raw `webhook` block

    /// True when event.createBy is `user_id` (GUIDs compare case-insensitively). The dispatcher's loop
    /// guard drops events the service's own account caused (docs/docspace-api.md §1.12).
    [[nodiscard]] bool IsBy(std::string_view user_id) const;
    /// The payload entry the event is about (payload, or payload.submittedForm for form.submit).
    [[nodiscard]] const Json& Entry() const;
};

/// Parses an envelope. Only a non-empty string event.trigger is required (kInvalidArgument otherwise);
/// a field of an unexpected type counts as absent, like ingress does, so a stored event can always be
/// examined.
Result<Event> ParseEvent(const Json& envelope);
Result<Event> ParseEventBody(std::string_view body);

}  // namespace spacehook::rules
