#include <string>
#include <string_view>

#include "core/json.hpp"
#include "http/server.hpp"

namespace spacehook::http {

Response Response::JsonError(int status, std::string_view message) {
    // Through the JSON library rather than string pasting so any message is escaped correctly.
    return Json(status, spacehook::Json{{"error", message}}.dump());
}

}  // namespace spacehook::http
