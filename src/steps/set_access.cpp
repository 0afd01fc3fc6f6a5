// set_access: who may use a room, and how (PUT files/rooms/{id}/share; docs/docspace-api.md §2.5).
#include "steps/kind.hpp"

namespace spacehook::steps {
namespace {

/// One rendered entry: a user or group by id, or someone by e-mail, with a DocSpace access number.
struct Grant {
    std::string id;
    std::string email;
    std::string kind;  ///< "user" or "group" with an id; empty with an e-mail
    int access = 0;
};

struct SetAccessInput {
    EntityId room;
    std::vector<Grant> invitations;  ///< may be empty: every entry was an unset optional variable
    bool notify = false;
    std::string message;
};

codec::Problem ReadGrants(const Json& value, std::vector<Grant>& out) {
    if (!value.is_array()) return "expected a list, got " + value.dump();
    for (const auto& item : value) {
        if (!item.is_object() || !item.contains("access") || !item["access"].is_number_integer())
            return "an entry without access: " + item.dump();
        Grant grant;
        grant.id = item.value("id", "");
        grant.email = item.value("email", "");
        grant.kind = item.value("kind", "");
        grant.access = item["access"].get<int>();
        out.push_back(std::move(grant));
    }
    return std::nullopt;
}

Json ShowGrants(const std::vector<Grant>& grants) {
    Json out = Json::array();
    for (const auto& grant : grants) {
        if (grant.id.empty()) {
            out.push_back({{"email", grant.email}, {"access", grant.access}});
        } else {
            out.push_back({{"id", grant.id}, {"access", grant.access}, {"kind", grant.kind}});
        }
    }
    return out;
}

/// `entries` as written ([{user: ..., access: editor}]) render to DocSpace's invitations.
Field<SetAccessInput> Entries() {
    Field<SetAccessInput> field;
    field.spec.key = "entries";
    field.spec.type = rules::InputType::kEntries;
    field.spec.required = true;
    field.shown = "invitations";
    field.read = [](SetAccessInput& in, const Json& value) { return ReadGrants(value, in.invitations); };
    field.show = [](const SetAccessInput& in) -> std::optional<Json> { return ShowGrants(in.invitations); };
    return field;
}

class SetAccess final : public Kind<SetAccessInput> {
public:
    SetAccess()
        : Kind("set_access",
               {.what = "PUT files/rooms/{id}/share",
                .looks = "nothing: `PUT share` sets the same members to the same access"},
               {Bind("room", rules::InputType::kId, &SetAccessInput::room).Required(), Entries(),
                Bind("notify", rules::InputType::kBool, &SetAccessInput::notify).Default(false),
                Bind("message", rules::InputType::kText, &SetAccessInput::message)}) {}

private:
    Result<Json> Execute(const SetAccessInput& in, const StepDeps& deps,
                         const StepCall& /*call*/) const override {
        auto api = deps.RequireApi();
        if (!api) return Fail(api.error());
        std::vector<docspace::Invitation> invitations;
        for (const auto& grant : in.invitations) {
            docspace::Invitation invitation;
            invitation.id = grant.id;
            invitation.email = grant.email;
            invitation.access = grant.access;
            invitations.push_back(std::move(invitation));
        }
        // Every entry may come from an unset optional variable: nothing to share is not an error, and an
        // empty list would only make DocSpace answer {"error":0} (docs/docspace-api.md §2.5).
        if (invitations.empty()) return Json{{"members", Json::array()}};
        auto members = (*api)->SetRoomAccess(in.room, invitations, in.notify, in.message);
        if (!members) return Fail(members.error());
        return Json{{"members", *members}};
    }
};

}  // namespace

const StepDescriptor& SetAccessStep() {
    static const SetAccess kind;
    return kind;
}

}  // namespace spacehook::steps
