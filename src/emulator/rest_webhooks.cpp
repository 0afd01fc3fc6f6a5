// Webhook management (WebhooksController, docs/docspace-api.md §1.10, §1.11, §1.13): CRUD with the portal's
// checks (trigger availability by role, secret policy, same name+uri, URL validator, HEAD probe), the
// delivery log and manual retries.

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "core/text.hpp"
#include "docspace/names.hpp"
#include "emulator/api_call.hpp"
#include "emulator/portal_state.hpp"
#include "emulator/url_guard.hpp"

namespace spacehook::emulator {
namespace {

/// Triggers marked [AvailableFor(DocSpaceAdmin, RoomAdmin)] only (docs/docspace-api.md §1.5): plain users may
/// not subscribe to them.
std::int64_t AdminOnlyTriggers() {
    std::int64_t mask = 0;
    for (const char* name : {"user.created", "user.invited", "group.created", "group.updated",
                             "group.deleted", "room.created", "room.copied", "agent.created"}) {
        mask |= docspace::TriggerBit(name).value_or(0);
    }
    return mask;
}

bool TriggerAvailable(const User& user, std::int64_t bit) {
    if (user.IsAdmin() || user.type == UserType::kRoomAdmin) return true;
    return (bit & AdminOnlyTriggers()) == 0;
}

std::int64_t KnownTriggerMask() {
    std::int64_t mask = 0;
    for (const auto& [name, bit] : docspace::AllTriggers()) mask |= bit;
    return mask;
}

/// PasswordSettingsManager.CheckPassword with the default policy (docs/docspace-api.md §1.11): 8-30
/// characters of printable ASCII without spaces.
bool SecretAcceptable(const std::string& secret) {
    if (secret.size() < 8 || secret.size() > 30) return false;
    return std::all_of(secret.begin(), secret.end(), [](unsigned char c) { return c >= 0x21 && c <= 0x7E; });
}

OJson ConfigDto(const DtoContext& ctx, const WebhookConfig& c) {
    OJson o = OJson::object();
    o["id"] = c.id;
    o["name"] = c.name;
    o["uri"] = c.uri;
    o["enabled"] = c.enabled;
    o["ssl"] = c.ssl;
    o["triggers"] = c.triggers;
    if (!c.target_id.empty()) o["targetId"] = c.target_id;
    for (const auto& u : ctx.portal.users()) {
        if (u.id == c.created_by) o["createdBy"] = EmployeeDto(ctx, u);
    }
    o["createdOn"] = ApiDateTime(c.created_on);
    for (const auto& u : ctx.portal.users()) {
        if (u.id == c.modified_by) o["modifiedBy"] = EmployeeDto(ctx, u);
    }
    o["modifiedOn"] = ApiDateTime(c.modified_on);
    if (c.last_failure_on) o["lastFailureOn"] = ApiDateTime(*c.last_failure_on);
    if (!c.last_failure_content.empty()) o["lastFailureContent"] = c.last_failure_content;
    if (c.last_success_on) o["lastSuccessOn"] = ApiDateTime(*c.last_success_on);
    return o;
}

OJson LogDto(const WebhookLogEntry& e) {
    OJson o = OJson::object();
    o["id"] = e.id;
    o["configName"] = e.config_name;
    o["trigger"] = e.trigger;
    o["creationTime"] = ApiDateTime(e.creation_time);
    o["method"] = "POST";
    o["route"] = "";
    if (!e.request_headers.empty()) o["requestHeaders"] = e.request_headers;
    if (!e.request_payload.empty()) o["requestPayload"] = e.request_payload;
    if (!e.response_headers.empty()) o["responseHeaders"] = e.response_headers;
    if (!e.response_payload.empty()) o["responsePayload"] = e.response_payload;
    o["status"] = e.status;
    if (e.delivery) o["delivery"] = ApiDateTime(*e.delivery);
    return o;
}

/// The request fields of WebhooksConfigRequestsDto, with their C# defaults when omitted.
struct ConfigRequest {
    std::optional<std::int64_t> id;
    std::string name;
    std::string uri;
    std::string secret;
    bool enabled = false;
    bool ssl = false;
    std::int64_t triggers = 0;
    std::string target_id;
};

std::optional<Reply> ReadConfigRequest(const ApiCall& call, const OJson& body, ConfigRequest& out,
                                       bool need_id) {
    std::map<std::string, std::vector<std::string>> errors;
    auto text = [&](const char* key) -> std::optional<std::string> {
        const OJson* v = Field(body, key);
        if (v == nullptr || v->is_null()) return std::nullopt;
        if (v->is_string()) return v->get<std::string>();
        if (v->is_number()) return v->dump();
        errors[fmt::format("$.{}", key)].push_back("The JSON value could not be converted to System.String.");
        return std::nullopt;
    };
    if (need_id) {
        const OJson* id = Field(body, "id");
        if (id != nullptr && id->is_number_integer()) {
            out.id = id->get<std::int64_t>();
        } else if (id != nullptr && id->is_string()) {
            try {
                out.id = std::stoll(id->get<std::string>());
            } catch (const std::exception&) {
                errors["$.id"].push_back("The JSON value could not be converted to System.Int32.");
            }
        } else {
            errors["Id"].push_back("The Id field is required.");
        }
    }
    out.name = text("name").value_or("");
    out.uri = text("uri").value_or("");
    out.secret = text("secretKey").value_or("");
    out.target_id = text("targetId").value_or("");
    out.enabled = JsonBool(body, "enabled");
    out.ssl = JsonBool(body, "ssl");
    if (const OJson* t = Field(body, "triggers"); t != nullptr && !t->is_null()) {
        if (t->is_number_integer()) {
            out.triggers = t->get<std::int64_t>();
        } else if (t->is_string()) {
            try {
                out.triggers = std::stoll(t->get<std::string>());  // AllowReadingFromString (§2.2)
            } catch (const std::exception&) {
                errors["$.triggers"].push_back(
                    "The JSON value could not be converted to ASC.Webhooks.Core.WebhookTrigger.");
            }
        } else {
            errors["$.triggers"].push_back(
                "The JSON value could not be converted to ASC.Webhooks.Core.WebhookTrigger.");
        }
    }
    if (out.name.empty()) errors["Name"].push_back("The Name field is required.");
    if (out.name.size() > 50)
        errors["Name"].push_back("The field Name must be a string with a maximum length of 50.");
    if (out.uri.empty()) errors["Uri"].push_back("The Uri field is required.");
    if (out.target_id.size() > 255) {
        errors["TargetId"].push_back("The field TargetId must be a string with a maximum length of 255.");
    }
    if (!errors.empty()) return call.Invalid(errors);
    return std::nullopt;
}

/// CheckWebhook (docs/docspace-api.md §1.10) after the model checks: trigger availability, secret, URL
/// validator, HEAD probe. `check_secret` is false when an update keeps the stored secret.
std::optional<Reply> CheckWebhook(ApiServices& s, const ApiCall& call, const ConfigRequest& req,
                                  bool check_secret, bool probe) {
    if ((req.triggers & ~KnownTriggerMask()) != 0 ||
        !TriggerAvailable(call.user, req.triggers == 0 ? 0 : req.triggers)) {
        return call.Fail(BadArgument("Trigger is not available"));
    }
    if (check_secret && !SecretAcceptable(req.secret)) {
        return call.Fail(BadArgument("Secret key must be 8 to 30 printable ASCII characters without spaces"));
    }
    const auto parsed = ParseHttpUrl(req.uri);
    if (!parsed) return call.Fail(BadArgument("Webhook URL is not a valid http or https URL"));
    if (s.state.options().ssrf_guard) {
        bool blacklisted = false;
        if (auto problem = ValidateWebhookUrl(req.uri, req.ssl, blacklisted))
            return call.Fail(BadArgument(*problem));
    }
    if (probe) {
        // HEAD only, 10 s, no redirects; certificates checked only when ssl=true.
        const auto status = s.probe(req.uri, req.ssl);
        if (!status) {
            return call.Fail(Internal("System.Net.Http.HttpRequestException",
                                      fmt::format("Connection refused ({}:{})", parsed->host, parsed->port)));
        }
        if (*status < 200 || *status > 299) {
            return call.Fail(
                BadArgument("Webhook URL is not available. HEAD request is not response 200 http status."));
        }
    }
    return std::nullopt;
}

bool SameNameAndUri(ApiServices& s, const ConfigRequest& req, std::int64_t except_id) {
    for (const auto& c : s.book.Configs()) {
        if (c.id != except_id && c.name == req.name && c.uri == req.uri) return true;
    }
    return false;
}

bool Visible(const User& user, const WebhookConfig& c) {
    return user.IsAdmin() || c.created_by == user.id;
}

std::optional<Reply> DenyGuests(const ApiCall& call) {
    if (call.user.type == UserType::kGuest) return call.Fail(AccessDenied());
    return std::nullopt;
}

Reply List(ApiServices& s, ApiCall& call) {
    if (auto denied = DenyGuests(call)) return *denied;
    const auto ctx = s.state.Dto(&call.user);
    OJson list = OJson::array();
    for (const auto& c : s.book.Configs()) {
        if (!Visible(call.user, c)) continue;
        OJson item = OJson::object();
        item["configs"] = ConfigDto(ctx, c);
        item["status"] = c.last_status;
        list.push_back(std::move(item));
    }
    return call.Ok(std::move(list), CountMode::kAsyncStream);
}

// Unlocked: the HEAD probe must not hold the portal lock.
Reply Create(ApiServices& s, ApiCall& call) {
    if (auto denied = DenyGuests(call)) return *denied;
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    ConfigRequest req;
    if (auto invalid = ReadConfigRequest(call, body, req, false)) return *invalid;
    if (SameNameAndUri(s, req, 0)) {
        return call.Fail(BadArgument("Webhook with the same name and payload URL already exists"));
    }
    if (auto failed = CheckWebhook(s, call, req, true, true)) return *failed;
    WebhookConfig c;
    c.name = req.name;
    c.uri = req.uri;
    c.secret = req.secret;
    c.enabled = req.enabled;  // a DTO bool: omitted means false, on create too
    c.ssl = req.ssl;
    c.triggers = req.triggers;
    c.target_id = req.target_id;
    c.created_by = c.modified_by = call.user.id;
    std::lock_guard lock(s.state.mu);
    c.created_on = c.modified_on = s.state.Now();
    const auto stored = s.book.Add(c);
    s.state.Count("webhooks_created");
    return call.Ok(ConfigDto(s.state.Dto(&call.user), stored));
}

/// Saves an edited config (stamped with who and when) and answers its DTO.
Reply StoreChanged(ApiServices& s, const ApiCall& call, WebhookConfig& config, const char* counter) {
    config.modified_by = call.user.id;
    std::lock_guard lock(s.state.mu);
    config.modified_on = s.state.Now();
    if (!s.book.Replace(config)) return call.Fail(NotFound("Webhook not found"));
    s.state.Count(counter);
    return call.Ok(ConfigDto(s.state.Dto(&call.user), config));
}

Reply Update(ApiServices& s, ApiCall& call) {
    if (auto denied = DenyGuests(call)) return *denied;
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    ConfigRequest req;
    if (auto invalid = ReadConfigRequest(call, body, req, true)) return *invalid;
    auto current = s.book.Get(*req.id);
    if (!current || !Visible(call.user, *current)) return call.Fail(NotFound("Webhook not found"));
    if (SameNameAndUri(s, req, current->id)) {
        return call.Fail(BadArgument("Webhook with the same name and payload URL already exists"));
    }
    if (auto failed = CheckWebhook(s, call, req, !req.secret.empty(), true)) return *failed;
    // Full replace (docs/docspace-api.md §1.13): omitted enabled -> false, triggers -> 0 (All), targetId ->
    // null; the secret is kept when omitted or empty.
    current->name = req.name;
    current->uri = req.uri;
    if (!req.secret.empty()) current->secret = req.secret;
    current->enabled = req.enabled;
    current->ssl = req.ssl;
    current->triggers = req.triggers;
    current->target_id = req.target_id;
    return StoreChanged(s, call, *current, "webhooks_updated");
}

Reply Enable(ApiServices& s, ApiCall& call) {
    if (auto denied = DenyGuests(call)) return *denied;
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    // The DTO's validation attributes require name and uri here too (docs/docspace-api.md §1.13).
    ConfigRequest req;
    if (auto invalid = ReadConfigRequest(call, body, req, true)) return *invalid;
    auto current = s.book.Get(*req.id);
    if (!current || !Visible(call.user, *current)) return call.Fail(NotFound("Webhook not found"));
    if (req.enabled) {
        ConfigRequest probe_req = req;
        probe_req.uri = current->uri;
        probe_req.ssl = current->ssl;
        probe_req.triggers = current->triggers;
        if (auto failed = CheckWebhook(s, call, probe_req, false, true)) return *failed;
    }
    current->enabled = req.enabled;
    return StoreChanged(s, call, *current, "webhooks_enabled_changes");
}

Reply Remove(ApiServices& s, ApiCall& call) {
    if (auto denied = DenyGuests(call)) return *denied;
    std::int64_t id = 0;
    try {
        id = std::stoll(call.params[0]);
    } catch (const std::exception&) {
        return call.Invalid({{"id", {fmt::format("The value '{}' is not valid.", call.params[0])}}});
    }
    const auto current = s.book.Get(id);
    if (!current || !Visible(call.user, *current)) return call.Fail(NotFound("Webhook not found"));
    s.book.Remove(id);
    s.state.Count("webhooks_deleted");
    return call.Ok(ConfigDto(s.state.Dto(&call.user), *current));
}

Reply Triggers(ApiServices& s, ApiCall& call) {
    (void)s;
    if (auto denied = DenyGuests(call)) return *denied;
    OJson list = OJson::array();
    OJson all = OJson::object();
    all["name"] = "*";
    all["id"] = 0;
    all["available"] = true;
    list.push_back(std::move(all));
    for (const auto& [name, bit] : docspace::AllTriggers()) {
        if (!TriggerAvailable(call.user, bit)) continue;  // filtered for the caller's role
        OJson t = OJson::object();
        t["name"] = std::string(name);
        t["id"] = bit;
        t["available"] = true;
        list.push_back(std::move(t));
    }
    return call.Ok(std::move(list));
}

/// GET settings/webhooks/log: newest first, filtered, paged; `total` set (docs/docspace-api.md §1.13).
Reply Log(ApiServices& s, ApiCall& call) {
    if (auto denied = DenyGuests(call)) return *denied;
    const auto configs = s.book.Configs();
    auto own = [&](std::int64_t config_id) {
        if (call.user.IsAdmin()) return true;
        return std::any_of(configs.begin(), configs.end(), [&](const WebhookConfig& c) {
            return c.id == config_id && c.created_by == call.user.id;
        });
    };
    const auto from = ParseIso8601(call.Query("deliveryFrom").value_or(""));
    const auto to = ParseIso8601(call.Query("deliveryTo").value_or(""));
    const auto hook_uri = call.Query("hookUri");
    const auto config_id = call.Query("configId");
    const auto event_id = call.Query("eventId");
    const auto user_id = call.Query("userId");
    const auto trigger = call.Query("trigger");
    int group_status = 0;
    int start = 0;
    int count = 100;
    try {
        group_status = std::stoi(call.Query("groupStatus").value_or("0"));
        start = std::max(0, std::stoi(call.Query("startIndex").value_or("0")));
        count = std::clamp(std::stoi(call.Query("count").value_or("100")), 1, 100);
    } catch (const std::exception&) {
        return call.Invalid({{"count", {"The value is not valid."}}});
    }
    std::vector<WebhookLogEntry> entries = s.book.Entries();
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.id > b.id; });
    OJson list = OJson::array();
    long long total = 0;
    for (const auto& e : entries) {
        if (!own(e.config_id)) continue;
        if (from && (!e.delivery || *e.delivery < *from)) continue;
        if (to && (!e.delivery || *e.delivery > *to)) continue;
        if (hook_uri) {
            const auto c = std::find_if(configs.begin(), configs.end(),
                                        [&](const auto& x) { return x.id == e.config_id; });
            if (c == configs.end() || c->uri != *hook_uri) continue;
        }
        if (config_id && std::to_string(e.config_id) != *config_id) continue;
        if (event_id && std::to_string(e.id) != *event_id) continue;
        if (user_id && ToLower(*user_id) != e.create_by) continue;
        if (trigger && *trigger != e.trigger_name && *trigger != std::to_string(e.trigger)) continue;
        if (group_status != 0) {
            int bucket = 1;  // NotSent
            if (e.finished && e.status >= 200 && e.status < 300) bucket = 2;
            if (e.finished && e.status >= 300 && e.status < 400) bucket = 4;
            if (e.finished && e.status >= 400 && e.status < 500) bucket = 8;
            if (e.finished && e.status >= 500) bucket = 16;
            if ((group_status & bucket) == 0) continue;
        }
        if (total >= start && static_cast<int>(list.size()) < count) list.push_back(LogDto(e));
        ++total;
    }
    return call.Ok(std::move(list), CountMode::kAsyncStream, total);
}

std::optional<std::int64_t> RequeueOne(ApiServices& s, const ApiCall& call, std::int64_t log_id) {
    const auto entry = s.book.Entry(log_id);
    if (!entry) return std::nullopt;
    const auto config = s.book.Get(entry->config_id);
    if (!config || !Visible(call.user, *config)) return std::nullopt;
    return s.book.Requeue(log_id, call.user.id);
}

/// PUT settings/webhook/{id}/retry: {id} is the log id; a manual retry is a new log row with a new id
/// (docs/docspace-api.md §1.4, §1.13). Not rate-limited here (the portal's limiter is off by default, §2.3).
Reply Retry(ApiServices& s, ApiCall& call) {
    if (auto denied = DenyGuests(call)) return *denied;
    std::int64_t id = 0;
    try {
        id = std::stoll(call.params[0]);
    } catch (const std::exception&) {
        return call.Invalid({{"id", {fmt::format("The value '{}' is not valid.", call.params[0])}}});
    }
    const auto fresh = RequeueOne(s, call, id);
    if (!fresh) return call.Fail(NotFound("Webhook log entry not found"));
    s.state.Count("webhook_retries");
    s.deliver(*fresh);
    return call.Ok(LogDto(*s.book.Entry(*fresh)));
}

Reply RetryMany(ApiServices& s, ApiCall& call) {
    if (auto denied = DenyGuests(call)) return *denied;
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    const OJson* ids = Field(body, "ids");
    if (ids == nullptr || !ids->is_array()) return call.Invalid({{"Ids", {"The Ids field is required."}}});
    OJson list = OJson::array();
    for (const auto& v : *ids) {
        if (!v.is_number_integer()) continue;
        if (const auto fresh = RequeueOne(s, call, v.get<std::int64_t>())) {
            s.state.Count("webhook_retries");
            s.deliver(*fresh);
            list.push_back(LogDto(*s.book.Entry(*fresh)));
        }
    }
    return call.Ok(std::move(list), CountMode::kAsyncStream);
}

}  // namespace

std::vector<ApiRoute> WebhookRoutes() {
    return {
        {"GET", "settings/webhook", List, "WebhooksController.GetTenantWebhooks"},
        {"POST", "settings/webhook", Create, "WebhooksController.CreateWebhook", false},
        {"PUT", "settings/webhook", Update, "WebhooksController.UpdateWebhook", false},
        {"PUT", "settings/webhook/enable", Enable, "WebhooksController.EnableWebhook", false},
        {"GET", "settings/webhook/triggers", Triggers, "WebhooksController.GetWebhookTriggers"},
        {"PUT", "settings/webhook/retry", RetryMany, "WebhooksController.RetryWebhooks"},
        {"PUT", "settings/webhook/{id}/retry", Retry, "WebhooksController.RetryWebhook"},
        {"DELETE", "settings/webhook/{id}", Remove, "WebhooksController.RemoveWebhook"},
        {"GET", "settings/webhooks/log", Log, "WebhooksController.GetJournal"},
    };
}

}  // namespace spacehook::emulator
