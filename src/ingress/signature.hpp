#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace spacehook::ingress {

/// The header DocSpace signs every delivery with (docs/docspace-api.md §1.2, §1.3). Header names reach
/// handlers lower-cased.
inline constexpr std::string_view kSignatureHeader = "x-docspace-signature-256";

/// Why a delivery's signature was accepted or not. Only kValid lets a delivery through; the other values
/// exist so the log line and the tests can tell the failures apart (the caller always gets a plain 401).
enum class SignatureVerdict {
    kValid,
    kMissing,    ///< no x-docspace-signature-256 header
    kMalformed,  ///< not `sha256=` followed by exactly 64 hex digits
    kMismatch,   ///< well-formed, but no configured secret produces it
};

/// Stable lower-case label for logs ("missing", "malformed", "mismatch", "valid").
std::string_view ToString(SignatureVerdict verdict);

/// Checks `header` (the raw x-docspace-signature-256 value, nullptr when the header is absent) against
/// HMAC-SHA256 of the exact body bytes under every secret in `secrets` (several during a rotation).
///
/// DocSpace sends `sha256=` + UPPER-case hex (docs/docspace-api.md §1.3); either case is accepted, compared
/// in constant time. Optional whitespace around the whole value is HTTP framing (RFC 9110 OWS) and is
/// ignored; any other deviation (a space after `=`, a `SHA256=` prefix, 63 or 65 digits) is kMalformed. Every
/// secret is tried even after a match, so timing does not reveal which secret signed. An empty `secrets` list
/// verifies nothing: the result is never kValid.
///
/// Never log `header` or the secrets: a leaked signature of a known body is a known-plaintext oracle.
SignatureVerdict VerifySignature(const std::string* header, std::string_view body,
                                 const std::vector<std::string>& secrets);

/// The header value DocSpace would send for `body`: "sha256=" + hex (UPPER-case unless asked otherwise).
/// Used by `spacehook send`, the emulator and tests.
std::string SignatureHeaderValue(std::string_view secret, std::string_view body, bool upper_case = true);

}  // namespace spacehook::ingress
