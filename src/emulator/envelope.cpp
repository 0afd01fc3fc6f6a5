#include "emulator/envelope.hpp"

#include <fmt/format.h>

#include "core/random.hpp"

namespace spacehook::emulator {

ApiFailure NotFound(std::string message) {
    return {404, "ASC.Common.Web.ItemNotFoundException", std::move(message), -2146233088};
}
ApiFailure AccessDenied(std::string message) {
    return {403, "System.Security.SecurityException", std::move(message), -2146233078};
}
ApiFailure InvalidOperation(std::string message) {
    return {403, "System.InvalidOperationException", std::move(message), -2146233079};
}
ApiFailure BadArgument(std::string message) {
    return {400, "System.ArgumentException", std::move(message), -2147024809};
}
ApiFailure Internal(std::string type, std::string message) {
    return {500, std::move(type), std::move(message), -2146233088};
}

Reply SuccessEnvelope(const std::string& href, const std::string& method, OJson response, CountMode mode,
                      std::optional<long long> total) {
    long long count = 1;
    if (mode == CountMode::kDefault) {
        if (response.is_array()) {
            count = static_cast<long long>(response.size());
        } else if (response.is_null()) {
            count = 0;
        }
    }
    OJson env = OJson::object();
    env["response"] = std::move(response);
    env["count"] = count;
    if (total) env["total"] = *total;
    env["links"] = OJson::array({OJson{{"href", href}, {"action", method}}});
    env["status"] = 0;
    env["statusCode"] = 200;
    return Reply::WithJson(200, WriteStj(env));
}

Reply ErrorEnvelope(const ApiFailure& f, const std::string& where) {
    OJson error = OJson::object();
    error["message"] = f.message;
    error["type"] = f.type;
    // The portal sends its stack trace (withStackTrace is on in most branches); ours names the handler.
    error["stack"] =
        fmt::format("   at {}", where.empty() ? "ASC.Api.Core.Middleware.CustomExceptionHandler" : where);
    error["hresult"] = f.hresult;
    OJson env = OJson::object();
    env["error"] = std::move(error);
    env["status"] = 1;
    env["statusCode"] = f.status;
    return Reply::WithJson(f.status, WriteStj(env));
}

Reply UnauthorizedEnvelope() {
    OJson error = OJson::object();
    error["message"] = "Unauthorized";
    error["type"] = nullptr;
    error["stack"] = nullptr;
    error["hresult"] = 0;
    OJson env = OJson::object();
    env["error"] = std::move(error);
    env["status"] = 1;
    env["statusCode"] = 401;
    return Reply::WithJson(401, WriteStj(env));
}

Reply ValidationProblem(const std::string& href, const std::string& method,
                        const std::map<std::string, std::vector<std::string>>& errors) {
    OJson problem = OJson::object();
    problem["type"] = "https://tools.ietf.org/html/rfc9110#section-15.5.1";
    problem["title"] = "One or more validation errors occurred.";
    problem["status"] = 400;
    OJson errs = OJson::object();
    for (const auto& [field, messages] : errors) errs[field] = messages;
    problem["errors"] = std::move(errs);
    problem["traceId"] = fmt::format("00-{}-{}-00", RandomHexToken(16), RandomHexToken(8));
    OJson env = OJson::object();
    env["response"] = std::move(problem);
    env["count"] = 1;
    env["links"] = OJson::array({OJson{{"href", href}, {"action", method}}});
    env["status"] = 1;
    env["statusCode"] = 400;
    return Reply::WithJson(400, WriteStj(env));
}

Reply FaultReply(int status, int retry_after_seconds) {
    ApiFailure f{status, "ASC.Emulator.InjectedFault",
                 fmt::format("Injected fault: {} {}", status, ReasonPhrase(status)), -2146233088};
    Reply r = ErrorEnvelope(f, "ASC.Emulator.FaultInjection");
    if (status == 429) {
        // The rate limiter answers 429 with no body (docs/docspace-api.md §2.3).
        r.body.clear();
    }
    if (retry_after_seconds >= 0) r.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
    return r;
}

std::string ReasonPhrase(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 202:
            return "Accepted";
        case 204:
            return "No Content";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Found";
        case 304:
            return "Not Modified";
        case 307:
            return "Temporary Redirect";
        case 308:
            return "Permanent Redirect";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 410:
            return "Gone";
        case 413:
            return "Request Entity Too Large";
        case 415:
            return "Unsupported Media Type";
        case 422:
            return "Unprocessable Entity";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        default:
            return "Unknown";
    }
}

}  // namespace spacehook::emulator
