#pragma once

#include <string_view>

#include "http/server.hpp"

namespace spacehook::admin {

/// Who may use the admin routes. They expose delivery bodies (user.* payloads carry e-mail addresses and
/// phone numbers) and can retry, drop and replay work, so they are never open to the network by default.
enum class AdminAccess {
    kAllowed,
    kUnauthorized,  ///< a token is configured and the request does not carry it: 401
    kForbidden,     ///< no token configured and the request is not local, or a cross-site action: 403
};

/// With a token: `Authorization: Bearer <token>` is required (constant-time compare, from any address).
/// Without one: only local requests, i.e. a loopback peer that is not a proxy relaying someone else (no
/// X-Forwarded-For / Forwarded / X-Real-IP header) and a Host header naming loopback (a DNS-rebinding
/// page reaches 127.0.0.1 under its own host name).
/// Actions (POST) must also not come cross-site: an Origin header, when a browser sends one, must name
/// the Host the request was sent to. That stops another site's page from posting to a local admin.
AdminAccess CheckAdminAccess(const http::Request& request, std::string_view token);

/// 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6.
bool IsLoopbackAddress(std::string_view address);

/// The header a browser action carries its CSRF token in.
inline constexpr std::string_view kCsrfHeader = "x-spacehook-csrf";

/// The request carries `csrf_token` in X-Spacehook-Csrf (compared in constant time). A page on another
/// site can make a browser post to a loopback admin, but it can neither set that header without the
/// service's consent (CORS) nor read the token from GET /admin/api/session.
bool CarriesCsrfToken(const http::Request& request, std::string_view csrf_token);

/// 403 for an action without its CSRF token, saying where to get one.
http::Response CsrfRefusal();

/// The response for a refusal (401 with WWW-Authenticate, or 403).
http::Response RefusalResponse(AdminAccess access);

}  // namespace spacehook::admin
