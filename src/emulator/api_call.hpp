#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/entity_id.hpp"
#include "core/error.hpp"
#include "emulator/envelope.hpp"
#include "emulator/model.hpp"
#include "emulator/stj_json.hpp"

namespace spacehook::emulator {

class PortalState;
class WebhookBook;

/// One authenticated REST call, decoded: what a thin handler needs and nothing from the server.
struct ApiCall {
    std::string method;  ///< upper case
    std::string path;    ///< percent-decoded, after "/api/2.0/" ("files/rooms/12/share")
    std::map<std::string, std::vector<std::string>> query;  ///< names lower-cased, values decoded
    std::string body;
    std::string href;                 ///< full request URL for `links[0].href`
    std::vector<std::string> params;  ///< route parameters in order
    User user;                        ///< the acting user (a copy: the key's owner)
    /// A "swallow" fault matched this call: a file operation it starts ends with nothing done.
    bool swallow_operation = false;

    /// First value of a query parameter (case-insensitive name).
    [[nodiscard]] std::optional<std::string> Query(std::string_view name) const;
    [[nodiscard]] std::vector<std::string> QueryAll(std::string_view name) const;

    [[nodiscard]] Reply Ok(OJson response, CountMode mode = CountMode::kDefault,
                           std::optional<long long> total = std::nullopt) const {
        return SuccessEnvelope(href, method, std::move(response), mode, total);
    }
    [[nodiscard]] Reply Fail(const ApiFailure& failure) const { return ErrorEnvelope(failure, where); }
    [[nodiscard]] Reply Invalid(const std::map<std::string, std::vector<std::string>>& errors) const {
        return ValidationProblem(href, method, errors);
    }
    std::string where;  ///< handler name, shown in the error `stack`
};

/// What a route runs. Most handlers run with PortalState::mu held by the dispatcher; handlers that
/// make outbound calls (the webhook HEAD probe) lock for themselves.
struct ApiServices {
    PortalState& state;
    WebhookBook& book;
    /// HEAD probe of a webhook URL (docs/docspace-api.md §1.10): the HTTP status, or an error for a transport
    /// failure.
    std::function<Result<int>(const std::string& url, bool verify_tls)> probe;
    /// Schedules a file operation's completion.
    std::function<void(const std::string& op_id, std::chrono::milliseconds delay)> schedule_operation;
    /// Hands a webhook log row to the sender.
    std::function<void(std::int64_t log_id)> deliver;
};

using ApiHandler = std::function<Reply(ApiServices&, ApiCall&)>;

struct ApiRoute {
    std::string method;
    std::string pattern;  ///< "files/rooms/{id}/share": literal segments match case-insensitively
    ApiHandler handler;
    std::string name;    ///< "VirtualRoomsController.SetRoomSecurity", for error stacks
    bool locked = true;  ///< the dispatcher holds PortalState::mu around the handler
};

/// Route tables per area, registered by the dispatcher in this order (specific before generic).
std::vector<ApiRoute> PeopleRoutes();
std::vector<ApiRoute> RoomRoutes();
std::vector<ApiRoute> FolderFileRoutes();
std::vector<ApiRoute> FileOperationRoutes();
std::vector<ApiRoute> WebhookRoutes();

/// Parses a JSON request body. Empty or invalid JSON gives the model-binding ValidationProblem.
std::optional<Reply> ParseBody(const ApiCall& call, OJson& out);
/// A route id: digits -> a number id, anything else -> a string id (third-party storage, §1.7).
EntityId RouteId(const std::string& text);
/// A JSON id (number or string) as an EntityId, or nullopt for any other kind.
std::optional<EntityId> JsonId(const OJson& value);
/// A JSON boolean, or a string "true"/"false" (AllowReadingFromString); `fallback` when absent.
bool JsonBool(const OJson& body, const char* key, bool fallback = false);
/// Case-insensitive lookup of a body property (ASP.NET binds bodies case-insensitively, §2.5).
const OJson* Field(const OJson& body, std::string_view key);

}  // namespace spacehook::emulator
