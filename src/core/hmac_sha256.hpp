#pragma once

#include <string>
#include <string_view>

namespace spacehook {

/// HMAC-SHA256(key, message) as 64 hex digits. DocSpace keys the HMAC with the UTF-8 bytes of the
/// secret as typed (not hex- or base64-decoded) and sends UPPER-case hex (docs/docspace-api.md §1.3).
std::string HmacSha256Hex(std::string_view key, std::string_view message, bool upper_case = true);

/// Compares two hex strings of equal length, ignoring letter case, in time independent of where
/// they differ. Different lengths compare unequal (length is not secret: it is always 64).
bool HexEqualsConstantTime(std::string_view a, std::string_view b);

/// Lower-case hex of arbitrary bytes.
std::string ToHex(std::string_view bytes);

/// SHA-256 of `data` as lower-case hex (stable keys for payload hashes).
std::string Sha256Hex(std::string_view data);

}  // namespace spacehook
