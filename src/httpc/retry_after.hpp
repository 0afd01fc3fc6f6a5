#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "core/clock.hpp"

namespace spacehook::httpc {

/// An HTTP `Retry-After` value (RFC 9110 §10.2.3): delta-seconds ("120") or an IMF-fixdate ("Wed, 21 Oct
/// 2026 07:28:00 GMT", relative to `now`; a date in the past is 0). nullopt when unreadable (negative,
/// fractional, other date forms, over ~31 years). Used for the portal's and the chat webhooks' answers.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value, TimePoint now);

}  // namespace spacehook::httpc
