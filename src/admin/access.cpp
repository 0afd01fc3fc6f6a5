#include "admin/access.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "core/error.hpp"
#include "core/hmac_sha256.hpp"
#include "core/json.hpp"
#include "core/text.hpp"

namespace spacehook::admin {

namespace {

// Hashing both sides first makes the comparison independent of the token's length and of where the
// texts differ; HexEqualsConstantTime then compares two 64-digit strings in constant time.
bool TokenEquals(std::string_view presented, std::string_view token) {
    return HexEqualsConstantTime(Sha256Hex(presented), Sha256Hex(token));
}

bool CarriesBearer(const http::Request& request, std::string_view token) {
    const std::string* header = request.FindHeader("authorization");
    if (header == nullptr) return false;
    std::string_view value = Trim(*header, kHttpWhitespace);
    constexpr std::string_view kScheme = "bearer ";
    if (value.size() <= kScheme.size() || ToLower(value.substr(0, kScheme.size())) != kScheme) return false;
    return TokenEquals(Trim(value.substr(kScheme.size())), token);
}

// "localhost:3000", "127.0.0.1", "[::1]:8080" -> the host part.
std::string_view HostName(std::string_view host) {
    if (!host.empty() && host.front() == '[') {
        const auto close = host.find(']');
        return close == std::string_view::npos ? host : host.substr(1, close - 1);
    }
    const auto colon = host.rfind(':');
    return colon == std::string_view::npos ? host : host.substr(0, colon);
}

bool IsLoopbackHost(std::string_view host) {
    const std::string name = ToLower(HostName(Trim(host)));
    return name == "localhost" || name.ends_with(".localhost") || IsLoopbackAddress(name);
}

bool IsProxied(const http::Request& request) {
    return request.FindHeader("x-forwarded-for") != nullptr || request.FindHeader("forwarded") != nullptr ||
           request.FindHeader("x-real-ip") != nullptr;
}

bool IsLocal(const http::Request& request) {
    if (!IsLoopbackAddress(request.remote_address) || IsProxied(request)) return false;
    const std::string* host = request.FindHeader("host");
    return host == nullptr || IsLoopbackHost(*host);
}

// Browsers send Origin on every cross-origin POST; "scheme://host[:port]" must match the Host header.
bool IsCrossSite(const http::Request& request) {
    const std::string* origin = request.FindHeader("origin");
    if (origin == nullptr) return false;
    const std::string* host = request.FindHeader("host");
    if (host == nullptr) return true;
    std::string_view authority = Trim(*origin);
    const auto scheme_end = authority.find("://");
    if (scheme_end == std::string_view::npos) return true;  // "null" and other opaque origins
    authority.remove_prefix(scheme_end + 3);
    return ToLower(authority) != ToLower(Trim(*host));
}

}  // namespace

bool IsLoopbackAddress(std::string_view address) {
    if (address.starts_with("::ffff:")) address.remove_prefix(7);
    if (address == "::1") return true;
    if (!address.starts_with("127.")) return false;
    return std::all_of(address.begin(), address.end(),
                       [](unsigned char c) { return c == '.' || std::isdigit(c); });
}

AdminAccess CheckAdminAccess(const http::Request& request, std::string_view token) {
    if (request.method == "POST" && IsCrossSite(request)) return AdminAccess::kForbidden;
    if (!token.empty())
        return CarriesBearer(request, token) ? AdminAccess::kAllowed : AdminAccess::kUnauthorized;
    return IsLocal(request) ? AdminAccess::kAllowed : AdminAccess::kForbidden;
}

bool CarriesCsrfToken(const http::Request& request, std::string_view csrf_token) {
    const std::string* header = request.FindHeader(kCsrfHeader);
    return header != nullptr && !csrf_token.empty() && TokenEquals(Trim(*header), csrf_token);
}

http::Response CsrfRefusal() {
    Json body = {{"error", ExternalMessage(ErrorCode::kForbidden)},
                 {"detail",
                  "an action without an admin token needs the X-Spacehook-Csrf header: its value is "
                  "csrf_token of GET /admin/api/session"}};
    return http::Response::Json(HttpStatus(ErrorCode::kForbidden), body.dump());
}

http::Response RefusalResponse(AdminAccess access) {
    if (access == AdminAccess::kUnauthorized) {
        http::Response response = http::Response::JsonError(HttpStatus(ErrorCode::kUnauthorized),
                                                            ExternalMessage(ErrorCode::kUnauthorized));
        response.headers.push_back({"WWW-Authenticate", "Bearer realm=\"spacehook-admin\""});
        return response;
    }
    return http::Response::JsonError(HttpStatus(ErrorCode::kForbidden),
                                     ExternalMessage(ErrorCode::kForbidden));
}

}  // namespace spacehook::admin
