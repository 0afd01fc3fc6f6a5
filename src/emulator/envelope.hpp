#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "emulator/stj_json.hpp"

namespace spacehook::emulator {

/// What the emulator answers, before it becomes an http::Response. Pure data so handlers and their
/// tests need no server.
struct Reply {
    int status = 200;
    std::string body;
    std::string content_type = "application/json; charset=utf-8";
    std::vector<std::pair<std::string, std::string>> headers;
    /// Close the connection without answering (fault injection).
    bool drop = false;

    static Reply WithJson(int status, std::string body) {
        Reply r;
        r.status = status;
        r.body = std::move(body);
        return r;
    }
    /// No body (ASP.NET's answer to an unknown route or method).
    static Reply Empty(int status) {
        Reply r;
        r.status = status;
        r.content_type = "text/plain";
        return r;
    }
};

/// A DocSpace exception as CustomExceptionHandler maps it (docs/docspace-api.md §2.2).
struct ApiFailure {
    int status = 500;
    std::string type;  ///< .NET exception type name
    std::string message;
    long long hresult = -2146233088;
};

ApiFailure NotFound(std::string message);                        ///< ItemNotFoundException -> 404
ApiFailure AccessDenied(std::string message = "Access denied");  ///< SecurityException -> 403
ApiFailure InvalidOperation(std::string message);                ///< InvalidOperationException -> 403
ApiFailure BadArgument(std::string message);                     ///< ArgumentException -> 400
ApiFailure Internal(std::string type, std::string message);      ///< anything else -> 500

/// How the success envelope's `count` is computed (docs/docspace-api.md §2.2).
enum class CountMode {
    kDefault,      ///< list length for arrays, 0 for null, 1 otherwise
    kAsyncStream,  ///< IAsyncEnumerable endpoints: 1 whatever the length (inferred, §2.2)
};

/// `{"response":..., "count":N, ["total":T,] "links":[{"href","action"}], "status":0, "statusCode":200}`.
Reply SuccessEnvelope(const std::string& href, const std::string& method, OJson response,
                      CountMode mode = CountMode::kDefault, std::optional<long long> total = std::nullopt);
/// `{"error":{"message","type","stack","hresult"},"status":1,"statusCode":N}` written with web
/// defaults (nulls kept).
Reply ErrorEnvelope(const ApiFailure& failure, const std::string& where = {});
/// 401: `{"error":{"message":"Unauthorized","type":null,"stack":null,"hresult":0},...}` (§2.1).
Reply UnauthorizedEnvelope();
/// Model validation failure: HTTP 400 with the *success* envelope, status 1 / statusCode 400 and
/// an ASP.NET ValidationProblemDetails as `response` (docs/docspace-api.md §2.2).
Reply ValidationProblem(const std::string& href, const std::string& method,
                        const std::map<std::string, std::vector<std::string>>& errors);
/// A fault-injected status: the error envelope with a generic message, and `Retry-After` when >= 0.
Reply FaultReply(int status, int retry_after_seconds);
/// .NET reason phrase ("Service Unavailable") for messages that quote it.
std::string ReasonPhrase(int status);

}  // namespace spacehook::emulator
