#include <algorithm>
#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "http/server.hpp"

namespace spacehook::http {

void Router::Add(std::string method, std::string path, Handler handler) {
    routes_->push_back(Route{std::move(method), std::move(path), false, std::move(handler)});
}

void Router::AddPrefix(std::string method, std::string prefix, Handler handler) {
    routes_->push_back(Route{std::move(method), std::move(prefix), true, std::move(handler)});
}

Handler Router::AsHandler() const {
    // A snapshot: the returned handler runs on I/O threads concurrently with whatever the owner does
    // with this Router, so it must not share the mutable list.
    auto table = std::make_shared<const std::vector<Route>>(*routes_);
    return [table](Request&& request, Responder respond) {
        constexpr std::size_t kExact = std::numeric_limits<std::size_t>::max();
        const Route* best = nullptr;      // route for this method
        const Route* best_get = nullptr;  // GET route, the fallback for an unrouted HEAD
        std::size_t best_rank = 0;
        std::size_t best_get_rank = 0;
        bool path_known = false;
        for (const Route& route : *table) {
            const bool matches =
                route.prefix ? request.path.starts_with(route.path) : request.path == route.path;
            if (!matches) continue;
            path_known = true;
            // Exact beats any prefix; a longer prefix beats a shorter one. +1 so an empty prefix ranks.
            const std::size_t rank = route.prefix ? route.path.size() + 1 : kExact;
            if (route.method == request.method && (best == nullptr || rank > best_rank)) {
                best = &route;
                best_rank = rank;
            }
            if (route.method == "GET" && (best_get == nullptr || rank > best_get_rank)) {
                best_get = &route;
                best_get_rank = rank;
            }
        }
        if (best != nullptr) {
            best->handler(std::move(request), std::move(respond));
            return;
        }
        // The server drops the body of every HEAD answer, so the GET handler can serve HEAD as is.
        if (request.method == "HEAD" && best_get != nullptr) {
            best_get->handler(std::move(request), std::move(respond));
            return;
        }
        if (!path_known) {
            respond(Response::JsonError(404, "not found"));
            return;
        }
        std::vector<std::string> allowed;
        for (const Route& route : *table) {
            const bool matches =
                route.prefix ? request.path.starts_with(route.path) : request.path == route.path;
            if (!matches) continue;
            allowed.push_back(route.method);
            if (route.method == "GET") allowed.emplace_back("HEAD");
        }
        std::sort(allowed.begin(), allowed.end());
        allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
        std::string allow;
        for (const std::string& method : allowed) {
            if (!allow.empty()) allow += ", ";
            allow += method;
        }
        Response response = Response::JsonError(405, "method not allowed");
        response.headers.push_back(Header{"Allow", std::move(allow)});
        respond(std::move(response));
    };
}

}  // namespace spacehook::http
