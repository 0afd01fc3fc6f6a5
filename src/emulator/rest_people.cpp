// People endpoints (docs/docspace-api.md §2.5 "GET /api/2.0/people/{userid}", UserController): read a
// profile, look a user up by e-mail, add a member (user.created) and invite by e-mail (user.invited).

#include <fmt/format.h>

#include <algorithm>

#include "core/text.hpp"
#include "emulator/api_call.hpp"
#include "emulator/portal_actions.hpp"
#include "emulator/portal_state.hpp"

namespace spacehook::emulator {
namespace {

/// EmployeeType as name or number (a JsonStringEnumConverter enum, docs/docspace-api.md §2.4).
std::optional<UserType> ParseUserType(const OJson* value) {
    if (value == nullptr || value->is_null()) return UserType::kUser;
    int n = -1;
    if (value->is_number_integer()) {
        n = value->get<int>();
    } else if (value->is_string()) {
        const auto text = ToLower(value->get<std::string>());
        if (text == "roomadmin") n = 1;
        if (text == "guest") n = 2;
        if (text == "docspaceadmin") n = 3;
        if (text == "user") n = 4;
        if (text == "all") n = 0;
    }
    switch (n) {
        case 0:
        case 4:
            return UserType::kUser;
        case 1:
            return UserType::kRoomAdmin;
        case 2:
            return UserType::kGuest;
        case 3:
            return UserType::kDocSpaceAdmin;
        default:
            return std::nullopt;
    }
}

bool LooksLikeEmail(const std::string& email) {
    const auto at = email.find('@');
    return at != std::string::npos && at > 0 && email.find('.', at) != std::string::npos &&
           email.size() <= 255 && email.find(' ') == std::string::npos;
}

/// Who may add a member of this type: admins anyone, room admins users and guests.
bool MayAdd(const User& actor, UserType type) {
    if (actor.IsAdmin()) return true;
    return actor.type == UserType::kRoomAdmin && (type == UserType::kUser || type == UserType::kGuest);
}

Reply Self(ApiServices& s, ApiCall& call) {
    const User* u = s.state.portal.FindUser(call.user.id);
    return call.Ok(EmployeeFullDto(s.state.Dto(u), *u));
}

Reply ByEmail(ApiServices& s, ApiCall& call) {
    const auto email = call.Query("email").value_or("");
    if (email.empty()) return call.Fail(BadArgument("Value cannot be null. (Parameter 'email')"));
    const User* u = s.state.portal.FindUserByEmail(email);
    if (u == nullptr) return call.Fail(NotFound("User not found"));
    if (call.user.type == UserType::kGuest && u->id != call.user.id) return call.Fail(AccessDenied());
    return call.Ok(EmployeeFullDto(s.state.Dto(&call.user), *u));
}

Reply ById(ApiServices& s, ApiCall& call) {
    // {userid} is a GUID or a user name (docs/docspace-api.md §2.5).
    const User* u = s.state.portal.FindUser(call.params[0]);
    if (u == nullptr) return call.Fail(NotFound("User not found"));
    if (call.user.type == UserType::kGuest && u->id != call.user.id) return call.Fail(AccessDenied());
    return call.Ok(EmployeeFullDto(s.state.Dto(&call.user), *u));
}

/// POST people (MemberRequestDto): an activated member, fires user.created.
Reply AddMember(ApiServices& s, ApiCall& call) {
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    const OJson* email_field = Field(body, "email");
    const std::string email =
        email_field != nullptr && email_field->is_string() ? email_field->get<std::string>() : "";
    if (email.empty()) return call.Invalid({{"Email", {"The Email field is required."}}});
    if (!LooksLikeEmail(email)) return call.Fail(BadArgument("Incorrect email"));
    const auto type = ParseUserType(Field(body, "type"));
    if (!type)
        return call.Invalid(
            {{"$.type", {"The JSON value could not be converted to ASC.Core.Users.EmployeeType."}}});
    if (!MayAdd(call.user, *type)) return call.Fail(AccessDenied());
    auto& portal = s.state.portal;
    if (portal.FindUserByEmail(email) != nullptr)
        return call.Fail(BadArgument("This email address is already in use"));

    User u;
    u.id = NewGuid();
    const OJson* first = Field(body, "firstName");
    const OJson* last = Field(body, "lastName");
    const OJson* user_name = Field(body, "userName");
    const OJson* culture = Field(body, "cultureName");
    u.first_name = first != nullptr && first->is_string() ? first->get<std::string>() : "";
    u.last_name = last != nullptr && last->is_string() ? last->get<std::string>() : "";
    u.email = email;
    u.user_name = user_name != nullptr && user_name->is_string() &&
                          portal.FindUser(user_name->get<std::string>()) == nullptr
                      ? user_name->get<std::string>()
                      : UniqueUserName(portal, email);
    if (culture != nullptr && culture->is_string()) u.culture = culture->get<std::string>();
    u.type = *type;
    u.status = 1;
    u.activation_status = 1;
    u.created_by = call.user.id;
    u.created = u.last_modified = s.state.Now();
    const User& added = portal.AddUser(std::move(u));
    s.state.Count("users_created");
    s.state.FireUser("user.created", added, call.user.id);
    return call.Ok(EmployeeFullDto(s.state.Dto(&call.user), added));
}

/// POST people/invite ({invitations:[{type, email}], culture}): pending users, one user.invited each.
Reply Invite(ApiServices& s, ApiCall& call) {
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    const OJson* invitations = Field(body, "invitations");
    if (invitations == nullptr || !invitations->is_array()) {
        return call.Invalid({{"Invitations", {"The Invitations field is required."}}});
    }
    auto& portal = s.state.portal;
    // Validate everything first so a bad entry changes nothing.
    std::vector<std::pair<std::string, UserType>> wanted;
    for (const auto& inv : *invitations) {
        const OJson* email = Field(inv, "email");
        if (email == nullptr || !email->is_string() || !LooksLikeEmail(email->get<std::string>())) {
            return call.Fail(BadArgument("Incorrect email"));
        }
        const auto type = ParseUserType(Field(inv, "type"));
        if (!type)
            return call.Invalid(
                {{"$.invitations.type",
                  {"The JSON value could not be converted to ASC.Core.Users.EmployeeType."}}});
        // InviteUsers: users and guests invite nobody, nobody invites a guest this way, room admins
        // only users, DocSpace admins all but DocSpace admins (the owner's).
        const bool may = *type != UserType::kGuest &&
                         (call.user.IsAdmin() || call.user.type == UserType::kRoomAdmin) &&
                         (*type != UserType::kRoomAdmin || call.user.IsAdmin()) &&
                         (*type != UserType::kDocSpaceAdmin || call.user.is_owner);
        if (!may) return call.Fail(AccessDenied());
        wanted.emplace_back(email->get<std::string>(), *type);
    }
    OJson result = OJson::array();
    for (const auto& [email, type] : wanted) {
        if (const User* existing = portal.FindUserByEmail(email)) {
            result.push_back(EmployeeFullDto(s.state.Dto(&call.user), *existing));
            continue;
        }
        const User& added = InviteUser(s.state, email, type, call.user.id);
        result.push_back(EmployeeFullDto(s.state.Dto(&call.user), added));
    }
    return call.Ok(std::move(result));
}

}  // namespace

std::vector<ApiRoute> PeopleRoutes() {
    return {
        {"GET", "people/@self", Self, "UserController.Self"},
        {"GET", "people/email", ByEmail, "UserController.GetByEmail"},
        {"POST", "people/invite", Invite, "UserController.InviteUsers"},
        {"GET", "people/{userid}", ById, "UserController.GetById"},
        {"POST", "people", AddMember, "UserController.AddMember"},
    };
}

}  // namespace spacehook::emulator
