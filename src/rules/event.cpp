#include "rules/event.hpp"

#include <cctype>

#include "core/enum_names.hpp"
#include "core/json_depth.hpp"
#include "core/text.hpp"
#include "docspace/names.hpp"

namespace spacehook::rules {

namespace {

// kUnknown's name is what a message says about an entity of no known kind; rules cannot name it.
constexpr EnumNames<EntityKind, 6> kEntityKindNames{{{
    {EntityKind::kUnknown, "entity"},
    {EntityKind::kFile, "file"},
    {EntityKind::kFolder, "folder"},
    {EntityKind::kRoom, "room"},
    {EntityKind::kUser, "user"},
    {EntityKind::kGroup, "group"},
}}};
static_assert(kEntityKindNames.Unique());

}  // namespace

std::string_view ToString(EntityKind kind) {
    return kEntityKindNames.Name(kind);
}

std::optional<EntityKind> ParseEntityKind(std::string_view name) {
    const auto kind = kEntityKindNames.Parse(name);
    if (kind == EntityKind::kUnknown) return std::nullopt;
    return kind;
}

EntityKind KindOfTrigger(std::string_view trigger) {
    const auto family = docspace::TriggerFamily(trigger);
    if (family == "file" || family == "form") return EntityKind::kFile;
    if (family == "folder") return EntityKind::kFolder;
    if (family == "room" || family == "agent") return EntityKind::kRoom;
    if (family == "user") return EntityKind::kUser;
    if (family == "group") return EntityKind::kGroup;
    return EntityKind::kUnknown;
}

bool Event::IsBy(std::string_view user_id) const {
    return !create_by.empty() && EqualsIgnoreCase(create_by, user_id);
}

const Json& Event::Entry() const {
    if (trigger == "form.submit" && payload.contains("submittedForm") &&
        payload["submittedForm"].is_object()) {
        return payload["submittedForm"];
    }
    return payload;
}

namespace {

std::string TextField(const Json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_string()) return "";
    return it->get<std::string>();
}

std::optional<EntityId> IdField(const Json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end()) return std::nullopt;
    return EntityId::FromJson(*it);
}

}  // namespace

Result<Event> ParseEvent(const Json& envelope) {
    if (!envelope.is_object()) return Fail(ErrorCode::kInvalidArgument, "the event is not a JSON object");
    Event out;
    if (envelope.contains("event") && envelope["event"].is_object()) out.event = envelope["event"];
    if (envelope.contains("payload") && envelope["payload"].is_object()) out.payload = envelope["payload"];
    if (envelope.contains("webhook") && envelope["webhook"].is_object()) out.webhook = envelope["webhook"];
    out.trigger = TextField(out.event, "trigger");
    if (out.trigger.empty()) return Fail(ErrorCode::kInvalidArgument, "the event has no event.trigger");
    out.id = IdField(out.event, "id");
    out.create_on = TextField(out.event, "createOn");
    out.create_by = TextField(out.event, "createBy");
    out.kind = KindOfTrigger(out.trigger);

    const Json& entry = out.Entry();
    if (out.kind == EntityKind::kUnknown) {
        // A trigger newer than our table: the payload still says file (2) or folder (1).
        auto type = entry.find("fileEntryType");
        if (type != entry.end() && type->is_number_integer()) {
            if (type->get<int>() == 2) out.kind = EntityKind::kFile;
            if (type->get<int>() == 1) out.kind = EntityKind::kFolder;
        }
    }
    out.entity_id = IdField(entry, "id");
    out.parent_id = IdField(entry, "parentId");
    if (auto title = entry.find("title"); title != entry.end() && title->is_string())
        out.title = title->get<std::string>();
    if (auto modified = entry.find("modifiedOn"); modified != entry.end() && modified->is_string()) {
        out.modified_on = modified->get<std::string>();
    }
    if (out.trigger == "form.submit" && out.payload.contains("originalForm") &&
        out.payload["originalForm"].is_object()) {
        out.original_form_id = IdField(out.payload["originalForm"], "id");
    }
    return out;
}

Result<Event> ParseEventBody(std::string_view body) {
    // ParseEvent copies the blocks, and copies recurse: a journal row stored before ingress bounded the
    // depth must fail here rather than overflow the dispatcher's stack.
    auto envelope = ParseBoundedJson(body);
    if (!envelope) return Fail(ErrorCode::kInvalidArgument, "the event: " + envelope.error().message);
    return ParseEvent(*envelope);
}

}  // namespace spacehook::rules
