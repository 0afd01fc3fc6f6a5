#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "httpc/client.hpp"

namespace spacehook::docspace {

/// The success envelope `{response, count, total?, links, status, statusCode}` (docs/docspace-api.md §2.2).
struct Envelope {
    Json response;                      ///< null when the portal sent none (or an empty 2xx body)
    std::optional<std::int64_t> total;  ///< only when the endpoint sets it (listings)
};

/// Turns one HTTP answer from DocSpace into its envelope or an Error:
/// - the error envelope `{error:{message,...}, status, statusCode}` is an error even on a 2xx, and a
///   success envelope with `status: 1` too (a validation 400 comes that way, docs/docspace-api.md §2.2);
/// - transient: 5xx (kUnavailable), 429 (kRateLimited with retry_after from Retry-After, else
///   X-RateLimit-Reset, docs/docspace-api.md §2.3), 408 (kTimeout);
/// - permanent: 401 kUnauthorized, 403 kForbidden, 404 kNotFound, any other 4xx and 3xx kPermanent;
/// - a 2xx whose body is not JSON (a proxy's page) is kUnavailable.
/// The portal's own message is kept in Error::message after `what` ("GET /api/2.0/files/file/12").
/// `now` resolves an absolute X-RateLimit-Reset.
Result<Envelope> ParseEnvelope(const httpc::Response& response, std::string_view what, TimePoint now);

/// How long the answer asks us to wait: `Retry-After` (delta-seconds or HTTP-date), else
/// `X-RateLimit-Reset` (seconds from now, or a Unix time when it is that large). nullopt when neither.
std::optional<std::chrono::milliseconds> RetryAfter(const httpc::Response& response, TimePoint now);

/// The error class for an HTTP status (2xx is not an error: kInternal is returned for it).
ErrorCode ClassifyStatus(int status);

}  // namespace spacehook::docspace
