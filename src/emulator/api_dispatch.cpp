#include "emulator/api_dispatch.hpp"

#include <fmt/format.h>

#include <mutex>

#include "core/log.hpp"
#include "core/text.hpp"
#include "emulator/portal_state.hpp"

namespace spacehook::emulator {
namespace {

constexpr std::string_view kPrefix = "/api/2.0/";

bool Matches(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
             std::vector<std::string>& params) {
    if (pattern.size() != path.size()) return false;
    params.clear();
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const auto& p = pattern[i];
        if (!p.empty() && p.front() == '{') {
            params.push_back(path[i]);
        } else if (ToLower(p) != ToLower(path[i])) {
            return false;
        }
    }
    return true;
}

/// The credential of a request: the cookie wins over the header (CookieAuthHandler, docs/docspace-api.md
/// §2.1).
std::string Credential(const IncomingRequest& request) {
    if (const auto* cookie = request.Header("cookie")) {
        std::string_view rest(*cookie);
        while (!rest.empty()) {
            const auto semi = rest.find(';');
            auto part = rest.substr(0, semi);
            rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
            while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
            if (part.substr(0, 13) == "asc_auth_key=") return std::string(part.substr(13));
        }
    }
    if (const auto* auth = request.Header("authorization")) {
        std::string_view value(*auth);
        if (value.size() > 7 && ToLower(value.substr(0, 7)) == "bearer ") value.remove_prefix(7);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        return std::string(value);
    }
    return {};
}

}  // namespace

ApiDispatcher::ApiDispatcher(ApiServices services) : services_(std::move(services)) {
    // Specific routes before generic ones: files/{folderId} comes last.
    for (auto table :
         {PeopleRoutes(), RoomRoutes(), FileOperationRoutes(), WebhookRoutes(), FolderFileRoutes()}) {
        routes_.insert(routes_.end(), table.begin(), table.end());
    }
}

Reply ApiDispatcher::Handle(const IncomingRequest& request, const std::string& public_base_url,
                            bool swallow_operation) {
    if (request.path.rfind(kPrefix, 0) != 0) return Reply::Empty(404);
    const auto path = SplitPath(std::string_view(request.path).substr(kPrefix.size()));

    const ApiRoute* route = nullptr;
    bool path_known = false;
    std::vector<std::string> params;
    for (const auto& r : routes_) {
        std::vector<std::string> candidate;
        if (!Matches(SplitPath(r.pattern), path, candidate)) continue;
        path_known = true;
        if (r.method == request.method || (request.method == "HEAD" && r.method == "GET")) {
            route = &r;
            params = std::move(candidate);
            break;
        }
    }
    if (route == nullptr) {
        return Reply::Empty(path_known ? 405 : 404);
    }

    ApiCall call;
    call.method = request.method;
    for (std::size_t i = 0; i < path.size(); ++i) call.path += (i == 0 ? "" : "/") + path[i];
    call.query = ParseQuery(request.query);
    call.body = request.body;
    call.href = public_base_url + request.path + (request.query.empty() ? "" : "?" + request.query);
    call.params = std::move(params);
    call.where = fmt::format("ASC.Api.{}", route->name);
    call.swallow_operation = swallow_operation;

    const auto key = Credential(request);
    {
        std::lock_guard lock(services_.state.mu);
        const User* user = key.empty() ? nullptr : services_.state.UserByKey(key);
        if (user == nullptr) return UnauthorizedEnvelope();
        call.user = *user;
    }
    try {
        if (route->locked) {
            std::lock_guard lock(services_.state.mu);
            return route->handler(services_, call);
        }
        return route->handler(services_, call);
    } catch (const std::exception& e) {
        log::Error("emulator.api", "handler threw", {{"route", route->name}, {"error", e.what()}});
        return call.Fail(Internal("System.Exception", e.what()));
    }
}

}  // namespace spacehook::emulator
