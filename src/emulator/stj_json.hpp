#pragma once

#include <string>

#include "core/json.hpp"

namespace spacehook::emulator {

/// JSON whose objects keep insertion order: DocSpace writes properties in declaration order and the
/// webhook envelope is `event`, `payload`, `webhook` in that order (docs/docspace-api.md §1.4).
using OJson = nlohmann::ordered_json;

/// Serializes like System.Text.Json with its default JavaScriptEncoder (docs/docspace-api.md §1.3): compact,
/// no whitespace; every non-ASCII character and each of `"<>&'+` and the backtick written as `\uXXXX` with
/// upper-case hex (UTF-16 code units, surrogate pairs above U+FFFF); `\\`, `\b`, `\f`, `\n`,
/// `\r`, `\t` in their short forms; other controls and DEL as `\u00XX`. Invalid UTF-8 becomes U+FFFD.
/// The result is pure ASCII, byte-for-byte what DocSpace signs.
std::string WriteStj(const OJson& value);

/// Same escaping for one string value, quotes included.
std::string WriteStjString(std::string_view text);

/// An ordered copy of a project Json value (keys in nlohmann's sorted order).
OJson ToOrdered(const Json& value);
/// A project Json copy of an ordered value (for state dumps and tests).
Json FromOrdered(const OJson& value);

}  // namespace spacehook::emulator
