#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace spacehook {

/// The project's one error vocabulary. Every failure anywhere in spacehook is one of these codes; the
/// code decides the HTTP status we answer, the metric label, and whether a runner retries.
enum class ErrorCode {
    kInvalidArgument,  ///< the caller's input is wrong (bad JSON, bad config value): 400, permanent
    kUnauthorized,     ///< missing or wrong credentials/signature: 401, permanent
    kForbidden,        ///< upstream refused the action: 403, permanent
    kNotFound,         ///< the thing does not exist: 404, permanent
    kConflict,         ///< the thing exists already / state does not allow it: 409, permanent
    kPayloadTooLarge,  ///< body over the limit: 413, permanent
    kUnavailable,      ///< network error, upstream 5xx, store busy or unwritable: 503, transient
    kRateLimited,      ///< upstream 429; Error::retry_after says how long to wait: transient
    kTimeout,          ///< a deadline passed (connect, total, operation poll): transient
    kPermanent,        ///< any other upstream 4xx: permanent
    kConfig,           ///< configuration or rule file is invalid: refuse to start
    kInternal,         ///< a broken invariant in our own code
};

/// A failure with the reason an operator can read. `message` is internal: it is logged and shown by the
/// CLI, never sent in a response body to a webhook caller (see ExternalMessage()).
struct Error {
    ErrorCode code = ErrorCode::kInternal;
    std::string message;
    /// HTTP status the upstream answered with, 0 when the failure was not an HTTP answer.
    int upstream_status = 0;
    /// Set for kRateLimited (and 503s) when the upstream sent Retry-After.
    std::optional<std::chrono::milliseconds> retry_after;

    /// Transient errors are worth retrying later; permanent ones go to the dead-letter list.
    [[nodiscard]] bool IsTransient() const;
};

/// Stable lower-case label, used in metrics and log fields ("unavailable", "rate_limited", ...).
std::string_view ToString(ErrorCode code);

/// The status spacehook answers with when this error ends an inbound request.
int HttpStatus(ErrorCode code);

/// A short body-safe text for a caller: no internals, only the class of the failure.
std::string_view ExternalMessage(ErrorCode code);

template <class T>
using Result = tl::expected<T, Error>;

/// Result of an operation with no value.
using Status = tl::expected<void, Error>;

/// `return Fail(ErrorCode::kNotFound, "room 12 not found");`
inline tl::unexpected<Error> Fail(ErrorCode code, std::string message) {
    return tl::unexpected<Error>(Error{code, std::move(message), 0, std::nullopt});
}

inline tl::unexpected<Error> Fail(Error error) {
    return tl::unexpected<Error>(std::move(error));
}

inline Status Ok() {
    return {};
}

}  // namespace spacehook
