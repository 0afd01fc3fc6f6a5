#include "emulator/control_api.hpp"

#include <fmt/format.h>

#include <mutex>

#include "core/random.hpp"
#include "emulator/api_call.hpp"
#include "emulator/portal_actions.hpp"

namespace spacehook::emulator {
namespace {

Reply JsonReply(int status, const Json& body) {
    return Reply::WithJson(status, body.dump(-1, ' ', false, Json::error_handler_t::replace));
}

Reply Problem(int status, const std::string& message) {
    return JsonReply(status, Json{{"error", message}});
}

Reply FromFailure(const ApiFailure& f) {
    return JsonReply(f.status, Json{{"error", f.message}, {"type", f.type}});
}

std::optional<Json> Body(const IncomingRequest& request) {
    if (request.body.empty()) return Json::object();
    auto parsed = Json::parse(request.body, nullptr, false);
    if (parsed.is_discarded()) return std::nullopt;
    return parsed;
}

std::string TextField(const Json& body, const char* key) {
    if (!body.contains(key)) return {};
    const auto& v = body[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
    return {};
}

Reply Upload(ControlTarget& t, const Json& body) {
    auto& state = t.State();
    std::lock_guard lock(state.mu);
    const User* user = state.FindAnyUser(TextField(body, "user"));
    if (user == nullptr) return Problem(400, "unknown user");
    const auto folder = TextField(body, "folderId");
    if (folder.empty()) return Problem(400, "folderId is required");
    const std::int64_t size = body.value("size", static_cast<std::int64_t>(1024));
    const User actor = *user;
    auto file = UploadFile(state, actor, EntityId::Parse(folder), TextField(body, "title"), size,
                           body.value("chunked", false));
    if (!file) return FromFailure(file.error());
    return JsonReply(200, FromOrdered(FileDto(state.Dto(&actor), **file)));
}

Reply Edit(ControlTarget& t, const Json& body) {
    auto& state = t.State();
    std::lock_guard lock(state.mu);
    const User* user = state.FindAnyUser(TextField(body, "user"));
    if (user == nullptr) return Problem(400, "unknown user");
    const User actor = *user;
    auto file = SaveFileVersion(state, actor, EntityId::Parse(TextField(body, "fileId")));
    if (!file) return FromFailure(file.error());
    return JsonReply(200, FromOrdered(FileDto(state.Dto(&actor), **file)));
}

Reply ApiKey(ControlTarget& t, const Json& body) {
    auto& state = t.State();
    std::lock_guard lock(state.mu);
    const User* user = state.FindAnyUser(TextField(body, "user"));
    if (user == nullptr) return Problem(400, "unknown user");
    std::string key = TextField(body, "key");
    if (key.empty()) key = "sk-" + RandomHexToken(16);
    if (state.api_keys.count(key) != 0 && state.api_keys[key] != user->id) return Problem(409, "key in use");
    state.api_keys[key] = user->id;
    state.Count("api_keys_created");
    return JsonReply(200, Json{{"user", user->id}, {"apiKey", key}});
}

/// A person's action that fires a trigger no emulated REST call fires: {action, user, id?, title?,
/// firstName?, lastName?} (portal_actions.hpp PersonAction).
Reply Act(ControlTarget& t, const Json& body) {
    auto& state = t.State();
    std::lock_guard lock(state.mu);
    const auto action = ParsePersonAction(TextField(body, "action"));
    if (!action) {
        return Problem(
            400,
            "action must be trash, delete, download, submit-form, fill-form, stop-form, update-user, "
            "delete-user, update-group, delete-group or create-agent");
    }
    const User* user =
        body.contains("user") ? state.FindAnyUser(TextField(body, "user")) : state.portal.owner();
    if (user == nullptr) return Problem(400, "unknown user");
    const User actor = *user;
    ActionInput input{TextField(body, "id"), TextField(body, "title"), TextField(body, "firstName"),
                      TextField(body, "lastName")};
    auto entity = ActAsPerson(state, actor, *action, input);
    if (!entity) return FromFailure(entity.error());
    return JsonReply(200, FromOrdered(*entity));
}

/// The invited person accepts: {email, firstName?, lastName?}; user.created fires.
Reply Accept(ControlTarget& t, const Json& body) {
    auto& state = t.State();
    std::lock_guard lock(state.mu);
    const auto email = TextField(body, "email");
    if (email.empty()) return Problem(400, "email is required");
    auto user = AcceptInvitation(state, email, TextField(body, "firstName"), TextField(body, "lastName"));
    if (!user) return FromFailure(user.error());
    return JsonReply(200, FromOrdered(EmployeeFullDto(state.Dto(*user), **user)));
}

/// A group made in the portal's UI (GroupsController is not emulated): fires group.created.
Reply CreateGroup(ControlTarget& t, const Json& body) {
    auto& state = t.State();
    std::lock_guard lock(state.mu);
    const auto name = TextField(body, "name");
    if (name.empty()) return Problem(400, "name is required");
    const User* actor =
        body.contains("actor") ? state.FindAnyUser(TextField(body, "actor")) : state.portal.owner();
    if (actor == nullptr) return Problem(400, "unknown actor");
    Group g;
    g.id = NewGuid();
    g.name = name;
    if (body.contains("members") && body["members"].is_array()) {
        for (const auto& m : body["members"]) {
            const User* u = m.is_string() ? state.FindAnyUser(m.get<std::string>()) : nullptr;
            if (u == nullptr) return Problem(400, fmt::format("unknown member {}", m.dump()));
            g.members.push_back(u->id);
        }
    }
    if (const auto manager = TextField(body, "manager"); !manager.empty()) {
        const User* u = state.FindAnyUser(manager);
        if (u == nullptr) return Problem(400, "unknown manager");
        g.manager = u->id;
    }
    const Group& added = state.portal.AddGroup(std::move(g));
    state.Count("groups_created");
    state.FireGroup("group.created", added, actor->id);
    return JsonReply(200, Json{{"id", added.id}, {"name", added.name}, {"members", added.members}});
}

}  // namespace

Reply HandleControl(ControlTarget& t, const IncomingRequest& request, const std::string& token) {
    if (!token.empty()) {
        const auto* given = request.Header("x-emulator-token");
        if (given == nullptr || *given != token) return Problem(401, "control token required");
    }
    const auto segments = SplitPath(request.path);
    const std::string what = segments.size() >= 2 ? segments[1] : "";
    const auto& m = request.method;
    const auto body = Body(request);
    if (!body) return Problem(400, "body is not valid JSON");

    if (what == "state" && m == "GET") return JsonReply(200, t.StateJson());
    if (what == "counters" && m == "GET") return JsonReply(200, Json(t.CounterMap()));
    if (what == "deliveries" && m == "GET") return JsonReply(200, t.DeliveriesList());
    if (what == "reset" && m == "POST") {
        if (auto ok = t.ResetToSeed(); !ok) return Problem(400, ok.error().message);
        return JsonReply(200, Json{{"reset", true}});
    }
    if (what == "seed" && (m == "POST" || m == "PUT")) {
        if (auto ok = t.ReplaceSeed(*body); !ok) return Problem(400, ok.error().message);
        return JsonReply(200, Json{{"seeded", true}});
    }
    if (what == "faults") {
        if (m == "GET") return JsonReply(200, FromOrdered(t.Faults().ToJson()));
        if (m == "DELETE") {
            t.Faults().Clear();
            return JsonReply(200, FromOrdered(t.Faults().ToJson()));
        }
        if (m == "POST") {
            // One fault object, or {"faults":[...]} for several.
            std::vector<Json> items;
            if (body->contains("faults") && (*body)["faults"].is_array()) {
                for (const auto& f : (*body)["faults"]) items.push_back(f);
            } else {
                items.push_back(*body);
            }
            std::vector<FaultSpec> specs;
            for (const auto& item : items) {
                FaultSpec spec;
                if (auto error = ParseFault(ToOrdered(item), spec)) return Problem(400, *error);
                specs.push_back(spec);
            }
            for (auto& spec : specs) t.Faults().Add(spec);
            return JsonReply(200, FromOrdered(t.Faults().ToJson()));
        }
    }
    if (what == "latency" && (m == "PUT" || m == "POST")) {
        if (!body->contains("ms") || !(*body)["ms"].is_number_integer() ||
            (*body)["ms"].get<std::int64_t>() < 0) {
            return Problem(400, "ms must be a non-negative integer");
        }
        t.Faults().SetLatency(std::chrono::milliseconds((*body)["ms"].get<std::int64_t>()));
        return JsonReply(200, FromOrdered(t.Faults().ToJson()));
    }
    if (what == "upload" && m == "POST") return Upload(t, *body);
    if (what == "accept-invitation" && m == "POST") return Accept(t, *body);
    if (what == "act" && m == "POST") return Act(t, *body);
    if (what == "edit" && m == "POST") return Edit(t, *body);
    if (what == "api-keys" && m == "POST") return ApiKey(t, *body);
    if (what == "groups" && m == "POST") return CreateGroup(t, *body);
    if (what == "sender" && segments.size() == 3 && segments[2] == "give-up" && m == "POST") {
        const auto count = body->value("count", 0);
        const auto status = body->value("status", 0);
        const std::int64_t webhook = body->value("webhookId", static_cast<std::int64_t>(0));
        if (count < 0 || (status != 0 && (status < 100 || status > 599))) {
            return Problem(400, "count must not be negative; status is 0 (no answer) or 100..599");
        }
        t.GiveUpDeliveries(count, status, webhook);
        return JsonReply(200, Json{{"count", count}, {"status", status}, {"webhookId", webhook}});
    }
    if (what == "webhooks" && segments.size() == 4 && segments[3] == "disable" && m == "POST") {
        std::int64_t id = 0;
        try {
            id = std::stoll(segments[2]);
        } catch (const std::exception&) {
            return Problem(400, "webhook id must be a number");
        }
        if (!t.DisableWebhook(id)) return Problem(404, fmt::format("no webhook {}", id));
        return JsonReply(200, Json{{"id", id}, {"enabled", false}});
    }
    if (what == "wait-idle" && m == "POST") {
        const auto query = ParseQuery(request.query);
        std::int64_t timeout_ms = 5000;
        if (auto it = query.find("timeoutms"); it != query.end() && !it->second.empty()) {
            try {
                timeout_ms = std::clamp<std::int64_t>(std::stoll(it->second.front()), 0, 120000);
            } catch (const std::exception&) {
                return Problem(400, "timeoutMs must be an integer");
            }
        }
        return JsonReply(200, Json{{"idle", t.Idle(std::chrono::milliseconds(timeout_ms))}});
    }
    return Problem(404, fmt::format("no control endpoint {} {}", m, request.path));
}

}  // namespace spacehook::emulator
