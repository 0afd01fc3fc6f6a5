#pragma once

#include <cstddef>
#include <string_view>

#include "core/error.hpp"
#include "core/json.hpp"

namespace spacehook {

/// How deep JSON from outside spacehook (webhook bodies, and what is read back from the journal) may
/// nest, counting objects and arrays. DocSpace's envelopes nest about five levels (docs/docspace-api.md
/// §1.6).
///
/// Why a limit at all: nlohmann parses and destroys without recursion, but copying, comparing and
/// dump() recurse once per level. A 1 MiB body of `[[[[...` is half a million levels: one copy of its
/// payload or one dump() of it overflows any thread's stack and kills the process, and a stored body
/// would kill it again on every restart.
inline constexpr std::size_t kMaxJsonDepth = 64;

/// The nesting depth of `text` read as JSON (0 for a scalar, 1 for `[]`), counting no further than
/// `limit + 1`. Exact for valid JSON; for invalid text it is whatever the brackets outside strings say,
/// which does not matter because the parse refuses that text anyway.
std::size_t JsonNestingDepth(std::string_view text, std::size_t limit = kMaxJsonDepth);

/// Json::parse without exceptions for text from outside: kInvalidArgument when it is not JSON, or when
/// it nests deeper than `max_depth` (checked before anything is built, so nothing deep ever exists).
Result<Json> ParseBoundedJson(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

}  // namespace spacehook
