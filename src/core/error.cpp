#include "core/error.hpp"

#include "core/enum_names.hpp"

namespace spacehook {

namespace {

// The labels are metric label values and log fields: renaming one breaks dashboards.
constexpr EnumNames<ErrorCode, 12> kErrorCodeNames{{{
    {ErrorCode::kInvalidArgument, "invalid_argument"},
    {ErrorCode::kUnauthorized, "unauthorized"},
    {ErrorCode::kForbidden, "forbidden"},
    {ErrorCode::kNotFound, "not_found"},
    {ErrorCode::kConflict, "conflict"},
    {ErrorCode::kPayloadTooLarge, "payload_too_large"},
    {ErrorCode::kUnavailable, "unavailable"},
    {ErrorCode::kRateLimited, "rate_limited"},
    {ErrorCode::kTimeout, "timeout"},
    {ErrorCode::kPermanent, "permanent"},
    {ErrorCode::kConfig, "config"},
    {ErrorCode::kInternal, "internal"},
}}};
static_assert(kErrorCodeNames.Unique());

}  // namespace

bool Error::IsTransient() const {
    switch (code) {
        case ErrorCode::kUnavailable:
        case ErrorCode::kRateLimited:
        case ErrorCode::kTimeout:
            return true;
        default:
            return false;
    }
}

std::string_view ToString(ErrorCode code) {
    return kErrorCodeNames.Name(code);
}

int HttpStatus(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return 400;
        case ErrorCode::kUnauthorized:
            return 401;
        case ErrorCode::kForbidden:
            return 403;
        case ErrorCode::kNotFound:
            return 404;
        case ErrorCode::kConflict:
            return 409;
        case ErrorCode::kPayloadTooLarge:
            return 413;
        case ErrorCode::kRateLimited:
            return 429;
        case ErrorCode::kPermanent:
            return 400;
        case ErrorCode::kUnavailable:
        case ErrorCode::kTimeout:
            return 503;
        case ErrorCode::kConfig:
        case ErrorCode::kInternal:
            return 500;
    }
    return 500;
}

std::string_view ExternalMessage(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return "bad request";
        case ErrorCode::kUnauthorized:
            return "unauthorized";
        case ErrorCode::kForbidden:
            return "forbidden";
        case ErrorCode::kNotFound:
            return "not found";
        case ErrorCode::kConflict:
            return "conflict";
        case ErrorCode::kPayloadTooLarge:
            return "payload too large";
        case ErrorCode::kRateLimited:
            return "too many requests";
        case ErrorCode::kUnavailable:
        case ErrorCode::kTimeout:
            return "temporarily unavailable";
        default:
            return "internal error";
    }
}

}  // namespace spacehook
