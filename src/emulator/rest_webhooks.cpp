// Webhook management (WebhooksController, docs/docspace-api.md §1.10, §1.11, §1.13): CRUD with the portal's
// checks in the portal's order (trigger availability by role, secret policy, URL validator, HEAD probe,
// then the same name+uri on create), the delivery log with its filters, manual retries and the trigger
// list.

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

/// WebhookTriggerExtensions.IsAvailableFor(the caller's EmployeeType); 0 is "*" (All). Guests have none.
bool TriggerAvailable(const User& user, std::int64_t bit) {
    if (user.type == UserType::kGuest) return false;
    if (user.IsAdmin() || user.type == UserType::kRoomAdmin) return true;
    return (bit & AdminOnlyTriggers()) == 0;
}

/// The enum in its [Order]: "*", user, group, file (file.downloaded after file.moved), folder
/// (folder.downloaded after folder.moved), room, form, agent.
std::vector<std::string_view> TriggersInDisplayOrder() {
    std::vector<std::string_view> names = {"*"};
    for (const auto& [name, bit] : docspace::AllTriggers()) {
        if (name == "file.downloaded" || name == "folder.downloaded") continue;
        names.push_back(name);
        if (name == "file.moved") names.push_back("file.downloaded");
        if (name == "folder.moved") names.push_back("folder.downloaded");
    }
    return names;
}

/// PasswordSettingsManager.CheckPassword with the default policy (docs/docspace-api.md §1.11): 8-30
/// characters of printable ASCII without spaces.
bool SecretAcceptable(const std::string& secret) {
    if (secret.size() < 8 || secret.size() > 30) return false;
    return std::all_of(secret.begin(), secret.end(), [](unsigned char c) { return c >= 0x21 && c <= 0x7E; });
}

/// GetPasswordHelpMessage for the default policy.
constexpr char kSecretPolicyMessage[] =
    "Password must contain from 8 to 30 characters, only latin letters, no spaces";

/// A plain DateTime as System.Text.Json writes it. The log's times are UTC (`Z`); the config's are
/// tenant-local DateTimeKind.Local values, written with the server's offset (a UTC server here).
std::string UtcDateTime(TimePoint t) {
    return FormatIso8601(t);
}
std::string LocalDateTime(TimePoint t) {
    auto text = FormatIso8601(t);
    if (!text.empty() && text.back() == 'Z') text.pop_back();
    return text + "+00:00";
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
    o["createdOn"] = LocalDateTime(c.created_on);
    for (const auto& u : ctx.portal.users()) {
        if (u.id == c.modified_by) o["modifiedBy"] = EmployeeDto(ctx, u);
    }
    o["modifiedOn"] = LocalDateTime(c.modified_on);
    if (c.last_failure_on) o["lastFailureOn"] = LocalDateTime(*c.last_failure_on);
    if (!c.last_failure_content.empty()) o["lastFailureContent"] = c.last_failure_content;
    if (c.last_success_on) o["lastSuccessOn"] = LocalDateTime(*c.last_success_on);
    return o;
}

/// WebhooksLogDto as the mapper fills it from the row: `configName` flattened from the config, no
/// `method` or `route` (the row has neither, and nulls are omitted).
OJson LogDto(const WebhookLogEntry& e, const std::string& config_name) {
    OJson o = OJson::object();
    o["id"] = e.id;
    o["configName"] = config_name;
    o["trigger"] = e.trigger;
    o["creationTime"] = UtcDateTime(e.creation_time);
    if (!e.request_headers.empty()) o["requestHeaders"] = e.request_headers;
    if (!e.request_payload.empty()) o["requestPayload"] = e.request_payload;
    if (!e.response_headers.empty()) o["responseHeaders"] = e.response_headers;
    if (!e.response_payload.empty()) o["responsePayload"] = e.response_payload;
    o["status"] = e.status;
    if (e.delivery) o["delivery"] = UtcDateTime(*e.delivery);
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
                                  bool check_secret) {
    // Only the flags the enum knows are checked; 0 (All) is not checked at all.
    if (req.triggers != 0) {
        for (const auto& [name, bit] : docspace::AllTriggers()) {
            if ((req.triggers & bit) != 0 && !TriggerAvailable(call.user, bit)) {
                return call.Fail(BadArgument("Trigger is not available"));
            }
        }
    }
    if (check_secret && !SecretAcceptable(req.secret)) return call.Fail(BadArgument(kSecretPolicyMessage));
    bool blacklisted = false;
    if (auto problem = ValidateWebhookUrl(req.uri, req.ssl, s.state.options().ssrf_guard, blacklisted)) {
        return call.Fail(BadArgument(*problem));
    }
    // HEAD only, 10 s, no redirects; certificates checked only when ssl=true.
    const auto status = s.probe(req.uri, req.ssl);
    if (!status) {
        const auto parsed = ParseHttpUrl(req.uri);
        return call.Fail(Internal("System.Net.Http.HttpRequestException",
                                  fmt::format("Connection refused ({}:{})", parsed ? parsed->host : req.uri,
                                              parsed ? parsed->port : 0)));
    }
    if (*status < 200 || *status > 299) {
        return call.Fail(
            BadArgument("Webhook URL is not available. HEAD request is not response 200 http status."));
    }
    return std::nullopt;
}

bool SameNameAndUri(ApiServices& s, const ConfigRequest& req) {
    for (const auto& c : s.book.Configs()) {
        if (c.name == req.name && c.uri == req.uri) return true;
    }
    return false;
}

/// CheckAdminPermissionsAsync: DocSpace admins manage every webhook; guests get 403; other users only
/// their own (the portal may refuse them all with TenantDevToolsAccessSettings, not emulated).
std::optional<Reply> RefuseGuests(const ApiCall& call) {
    if (!call.user.IsAdmin() && call.user.type == UserType::kGuest) return call.Fail(AccessDenied());
    return std::nullopt;
}

/// For an existing config: a guest, or a non-admin who did not create it, gets 403.
std::optional<Reply> RefuseOthers(const ApiCall& call, const WebhookConfig& c) {
    if (auto denied = RefuseGuests(call)) return denied;
    if (!call.user.IsAdmin() && c.created_by != call.user.id) return call.Fail(AccessDenied());
    return std::nullopt;
}

/// An {id:int} route value; nullopt when it is not an int (the route does not match: 404, no body).
std::optional<std::int64_t> IntRouteValue(const std::string& text) {
    if (text.empty() || text.size() > 10) return std::nullopt;
    if (!std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || c == '-'; }))
        return std::nullopt;
    try {
        const auto value = std::stoll(text);
        if (value < INT32_MIN || value > INT32_MAX) return std::nullopt;
        return value;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

Reply List(ApiServices& s, ApiCall& call) {
    if (auto denied = RefuseGuests(call)) return *denied;
    const auto ctx = s.state.Dto(&call.user);
    OJson list = OJson::array();
    for (const auto& c : s.book.Configs()) {
        if (!call.user.IsAdmin() && c.created_by != call.user.id) continue;
        OJson item = OJson::object();
        item["configs"] = ConfigDto(ctx, c);
        item["status"] = s.book.ListStatus(c.id);
        list.push_back(std::move(item));
    }
    return call.Ok(std::move(list), CountMode::kAsyncStream);
}

// Unlocked: the HEAD probe must not hold the portal lock.
Reply Create(ApiServices& s, ApiCall& call) {
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    ConfigRequest req;
    if (auto invalid = ReadConfigRequest(call, body, req, false)) return *invalid;
    if (auto denied = RefuseGuests(call)) return *denied;
    if (auto failed = CheckWebhook(s, call, req, true)) return *failed;
    // DbWorker.AddWebhookConfig: only after every check, the HEAD probe included.
    if (SameNameAndUri(s, req)) {
        return call.Fail(BadArgument("Webhook with the same name and payload URL already exists"));
    }
    WebhookConfig c;
    c.name = req.name;
    c.uri = req.uri;
    c.secret = req.secret;
    c.enabled = req.enabled;  // a DTO bool: omitted means false, on create too
    c.ssl = req.ssl;
    c.triggers = req.triggers;
    c.target_id = req.target_id;
    c.created_by = call.user.id;
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
    if (!s.book.Replace(config)) return call.Fail(NotFound("The record could not be found"));
    s.state.Count(counter);
    return call.Ok(ConfigDto(s.state.Dto(&call.user), config));
}

/// UpdateWebhook: the checks (the HEAD probe included) come before the lookup, so a wrong id still
/// probes; then 404, then 403. No name+uri check on update.
Reply Update(ApiServices& s, ApiCall& call) {
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    ConfigRequest req;
    if (auto invalid = ReadConfigRequest(call, body, req, true)) return *invalid;
    if (auto failed = CheckWebhook(s, call, req, !req.secret.empty())) return *failed;
    auto current = s.book.Get(*req.id);
    if (!current) return call.Fail(NotFound("The record could not be found"));
    if (auto denied = RefuseOthers(call, *current)) return *denied;
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

/// EnableWebhook: 404, 403, then, when enabling, the whole CheckWebhook again on the stored config (the
/// HEAD probe included); only `enabled` changes.
Reply Enable(ApiServices& s, ApiCall& call) {
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    // The DTO's validation attributes require name and uri here too (docs/docspace-api.md §1.13).
    ConfigRequest req;
    if (auto invalid = ReadConfigRequest(call, body, req, true)) return *invalid;
    auto current = s.book.Get(*req.id);
    if (!current) return call.Fail(NotFound("The record could not be found"));
    if (auto denied = RefuseOthers(call, *current)) return *denied;
    if (req.enabled) {
        ConfigRequest stored;
        stored.name = current->name;
        stored.uri = current->uri;
        stored.secret = current->secret;
        stored.ssl = current->ssl;
        stored.triggers = current->triggers;
        if (auto failed = CheckWebhook(s, call, stored, !stored.secret.empty())) return *failed;
    }
    current->enabled = req.enabled;
    return StoreChanged(s, call, *current, "webhooks_enabled_changes");
}

Reply Remove(ApiServices& s, ApiCall& call) {
    const auto id = IntRouteValue(call.params[0]);
    if (!id) return Reply::Empty(404);
    const auto current = s.book.Get(*id);
    if (!current) return call.Fail(NotFound("The record could not be found"));
    if (auto denied = RefuseOthers(call, *current)) return *denied;
    s.book.Remove(*id);
    s.state.Count("webhooks_deleted");
    return call.Ok(ConfigDto(s.state.Dto(&call.user), *current));
}

/// GetWebhookTriggers: every entry in [Order], `available` for the caller's type; guests are not
/// refused (they see every entry unavailable).
Reply Triggers(ApiServices& s, ApiCall& call) {
    (void)s;
    OJson list = OJson::array();
    for (const auto name : TriggersInDisplayOrder()) {
        const auto bit = docspace::TriggerBit(name).value_or(0);
        OJson t = OJson::object();
        t["name"] = std::string(name);
        t["id"] = bit;
        t["available"] = TriggerAvailable(call.user, bit);
        list.push_back(std::move(t));
    }
    return call.Ok(std::move(list));
}

/// Query values of WebhookLogsRequestDto that failed to bind, as ASP.NET reports them.
void BindError(std::map<std::string, std::vector<std::string>>& errors, const char* name,
               const std::string& value) {
    errors[name].push_back(fmt::format("The value '{}' is not valid.", value));
}

/// A WebhookTrigger query value: the number, or the C# member name in any case ("FileCreated"), never
/// the dotted name.
std::optional<std::int64_t> ParseTriggerQuery(const std::string& text) {
    if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        try {
            return std::stoll(text);
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
    const auto wanted = ToLower(text);
    if (wanted == "all") return 0;
    for (const auto& [name, bit] : docspace::AllTriggers()) {
        std::string member;  // "form.filled.out" -> "formfilledout" (FormFilledOut)
        for (char c : name) {
            if (c != '.') member.push_back(c);
        }
        if (member == wanted) return bit;
    }
    return std::nullopt;
}

/// The WebhookGroupStatus a status falls in: 1 NotSent (0), 2 2xx, 4 3xx, 8 4xx, 16 5xx. DbWorker
/// excludes the range of every flag not asked for, so a status below 200 other than 0 always passes.
bool GroupStatusAdmits(int group_status, int status) {
    if ((group_status & 1) == 0 && status == 0) return false;
    if ((group_status & 2) == 0 && status >= 200 && status < 300) return false;
    if ((group_status & 4) == 0 && status >= 300 && status < 400) return false;
    if ((group_status & 8) == 0 && status >= 400 && status < 500) return false;
    if ((group_status & 16) == 0 && status >= 500) return false;
    return true;
}

/// GET settings/webhooks/log (GetWebhooksLogs + DbWorker.ReadJournal, docs/docspace-api.md §1.13): rows
/// joined with their config (rows of a deleted config are gone), newest id first, filtered, then
/// startIndex/count; `total` counts every row that passed the filters.
Reply Log(ApiServices& s, ApiCall& call) {
    if (auto denied = RefuseGuests(call)) return *denied;
    std::map<std::string, std::vector<std::string>> errors;
    auto integer = [&](const char* name, std::optional<std::int64_t>& out) {
        const auto text = call.Query(name);
        if (!text || text->empty()) return;
        try {
            std::size_t used = 0;
            const auto value = std::stoll(*text, &used);
            if (used != text->size() || value < INT32_MIN || value > INT32_MAX)
                throw std::out_of_range(*text);
            out = value;
        } catch (const std::exception&) {
            BindError(errors, name, *text);
        }
    };
    auto date = [&](const char* name, std::optional<TimePoint>& out) {
        const auto text = call.Query(name);
        if (!text || text->empty()) return;
        out = ParseIso8601(*text);
        if (!out) BindError(errors, name, *text);
    };
    std::optional<std::int64_t> config_id, event_id, group_status, count_value, start_value;
    std::optional<TimePoint> from, to;
    integer("configId", config_id);
    integer("eventId", event_id);
    integer("count", count_value);
    integer("startIndex", start_value);
    date("deliveryFrom", from);
    date("deliveryTo", to);
    if (const auto text = call.Query("groupStatus"); text && !text->empty()) {
        try {
            group_status = std::stoll(*text);
        } catch (const std::exception&) {
            BindError(errors, "groupStatus", *text);
        }
    }
    std::optional<std::int64_t> trigger;
    if (const auto text = call.Query("trigger"); text && !text->empty()) {
        trigger = ParseTriggerQuery(*text);
        if (!trigger) BindError(errors, "trigger", *text);
    }
    std::optional<std::string> user_id = call.Query("userId");
    if (user_id && user_id->empty()) user_id.reset();
    const auto count = count_value.value_or(100);
    if (count_value && (count < 1 || count > 100)) {
        errors["Count"].push_back("The field Count must be between 1 and 100.");
    }
    if (!errors.empty()) return call.Invalid(errors);
    const auto start = start_value.value_or(0);
    // EF's Skip with a negative offset fails in the database: an unhandled 500.
    if (start < 0) return call.Fail(Internal("System.ArgumentException", "The OFFSET must not be negative."));
    // Non-admins see only the rows of their own webhooks, whatever userId they ask for.
    if (!call.user.IsAdmin()) user_id = call.user.id;
    const auto hook_uri = call.Query("hookUri").value_or("");

    std::map<std::int64_t, WebhookConfig> configs;
    for (auto& c : s.book.Configs()) configs.emplace(c.id, std::move(c));
    std::vector<WebhookLogEntry> entries = s.book.Entries();
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.id > b.id; });
    OJson list = OJson::array();
    long long total = 0;
    for (const auto& e : entries) {
        const auto config = configs.find(e.config_id);
        if (config == configs.end()) continue;
        const WebhookConfig& c = config->second;
        if (user_id && !EqualsIgnoreCase(c.created_by, *user_id)) continue;
        if (trigger && *trigger != 0 && e.trigger != *trigger) continue;
        // Delivery is set on success only: a date filter keeps delivered rows alone.
        if (from && (!e.delivery || *e.delivery < *from)) continue;
        if (to && (!e.delivery || *e.delivery > *to)) continue;
        if (!hook_uri.empty() && c.uri != hook_uri) continue;
        if (config_id && e.config_id != *config_id) continue;
        if (event_id && e.id != *event_id) continue;
        if (group_status && *group_status != 0 &&
            !GroupStatusAdmits(static_cast<int>(*group_status), e.status))
            continue;
        if (total >= start && static_cast<std::int64_t>(list.size()) < count)
            list.push_back(LogDto(e, c.name));
        ++total;
    }
    return call.Ok(std::move(list), CountMode::kAsyncStream, total);
}

/// The log row of a retry, if the caller may retry it: kNotFound / kForbidden otherwise.
std::optional<Reply> CheckRetry(ApiServices& s, const ApiCall& call, std::int64_t log_id, bool& skip) {
    skip = false;
    const auto entry = s.book.Entry(log_id);
    const auto config = entry ? s.book.Get(entry->config_id) : std::nullopt;
    if (!entry || !config) {
        skip = true;
        return call.Fail(NotFound("The record could not be found"));
    }
    if (auto denied = RefuseOthers(call, *config)) {
        skip = true;
        return denied;
    }
    return std::nullopt;
}

/// A manual retry as a new row, handed to the sender; its DTO.
OJson RetryRow(ApiServices& s, const ApiCall& call, std::int64_t log_id) {
    const auto fresh = s.book.Requeue(log_id, call.user.id);
    s.state.Count("webhook_retries");
    s.deliver(*fresh);
    const auto entry = s.book.Entry(*fresh);
    const auto config = s.book.Get(entry->config_id);
    return LogDto(*entry, config ? config->name : std::string());
}

/// PUT settings/webhook/{id}/retry: {id} is the log id; a manual retry is a new log row with a new id
/// (docs/docspace-api.md §1.4, §1.13). Not rate-limited here (the portal's limiter is off by default, §2.3).
Reply Retry(ApiServices& s, ApiCall& call) {
    const auto id = IntRouteValue(call.params[0]);
    if (!id) return Reply::Empty(404);
    if (*id == 0) return call.Fail(BadArgument("Id"));
    bool skip = false;
    if (auto refused = CheckRetry(s, call, *id, skip)) return *refused;
    return call.Ok(RetryRow(s, call, *id));
}

/// PUT settings/webhook/retry {ids}: rows that are missing or not the caller's are skipped.
Reply RetryMany(ApiServices& s, ApiCall& call) {
    OJson body;
    if (auto invalid = ParseBody(call, body)) return *invalid;
    const OJson* ids = Field(body, "ids");
    std::vector<std::int64_t> wanted;
    if (ids != nullptr && !ids->is_null()) {
        if (!ids->is_array()) {
            return call.Invalid({{"$.ids",
                                  {"The JSON value could not be converted to "
                                   "System.Collections.Generic.List`1[System.Int32]."}}});
        }
        for (const auto& v : *ids) {
            if (!v.is_number_integer()) {
                return call.Invalid({{"$.ids", {"The JSON value could not be converted to System.Int32."}}});
            }
            wanted.push_back(v.get<std::int64_t>());
        }
    }
    if (auto denied = RefuseGuests(call)) return *denied;
    OJson list = OJson::array();
    for (const auto id : wanted) {
        bool skip = false;
        (void)CheckRetry(s, call, id, skip);
        if (!skip) list.push_back(RetryRow(s, call, id));
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
