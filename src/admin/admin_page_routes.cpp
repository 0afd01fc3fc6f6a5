// The web view's routes: GET /admin (and /admin/) answers index.html, GET /admin/assets/{name} the
// script and style sheet. See web_page.hpp.

#include "admin/access.hpp"
#include "admin/admin_api.hpp"
#include "admin/web_page.hpp"

namespace spacehook::admin {

namespace {

constexpr std::string_view kAssetsPrefix = "/admin/assets/";

http::Response PageFileResponse(const EmbeddedFile& file) {
    http::Response response{200, std::string(PageContentType(file.name)), {}, std::string(file.bytes)};
    // Only our own files run and style it, nothing is framed, nothing is sent anywhere but this service.
    response.headers.push_back({"Content-Security-Policy",
                                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                "connect-src 'self'; base-uri 'none'; form-action 'none'; "
                                "frame-ancestors 'none'"});
    response.headers.push_back({"X-Content-Type-Options", "nosniff"});
    response.headers.push_back({"Referrer-Policy", "no-referrer"});
    // A new build's page must not meet an old build's script.
    response.headers.push_back({"Cache-Control", "no-store"});
    return response;
}

}  // namespace

void AdminApi::RegisterPage(http::Router& router) {
    // Answers one page file, or nothing when `name` is not one. The page holds no data, only the code that
    // asks the API (with the token the operator types in), so with a token configured it is served to
    // anyone; without one it is as local as the API.
    auto serve = [this](std::string_view name, const http::Request& request, const http::Responder& respond) {
        if (token_.load()->empty()) {
            if (const auto access = CheckAdminAccess(request, ""); access != AdminAccess::kAllowed) {
                respond(RefusalResponse(access));
                return;
            }
        }
        const EmbeddedFile* file = FindAdminPageFile(name);
        if (file == nullptr) {
            respond(http::Response::JsonError(404, ExternalMessage(ErrorCode::kNotFound)));
            return;
        }
        respond(PageFileResponse(*file));
    };
    auto page = [serve](http::Request&& request, http::Responder respond) {
        serve("index.html", request, respond);
    };
    router.Add("GET", "/admin", page);
    router.Add("GET", "/admin/", page);
    router.AddPrefix("GET", std::string(kAssetsPrefix),
                     [serve](http::Request&& request, http::Responder respond) {
                         std::string_view name = request.path;
                         name.remove_prefix(kAssetsPrefix.size());
                         // index.html is the page itself, at /admin, never one of its assets.
                         if (name == "index.html") name = "";
                         serve(name, request, respond);
                     });
}

}  // namespace spacehook::admin
