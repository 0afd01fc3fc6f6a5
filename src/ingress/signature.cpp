#include "ingress/signature.hpp"

#include "core/enum_names.hpp"
#include "core/hmac_sha256.hpp"
#include "core/text.hpp"

namespace spacehook::ingress {

namespace {
constexpr std::string_view kPrefix = "sha256=";
constexpr std::size_t kHexDigits = 64;  // SHA-256 = 32 bytes

bool IsHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

constexpr EnumNames<SignatureVerdict, 4> kVerdictNames{{{
    {SignatureVerdict::kValid, "valid"},
    {SignatureVerdict::kMissing, "missing"},
    {SignatureVerdict::kMalformed, "malformed"},
    {SignatureVerdict::kMismatch, "mismatch"},
}}};
static_assert(kVerdictNames.Unique());
}  // namespace

std::string_view ToString(SignatureVerdict verdict) {
    return kVerdictNames.Name(verdict);
}

SignatureVerdict VerifySignature(const std::string* header, std::string_view body,
                                 const std::vector<std::string>& secrets) {
    if (header == nullptr) return SignatureVerdict::kMissing;
    std::string_view value = Trim(*header, kHttpWhitespace);
    if (value.empty()) return SignatureVerdict::kMissing;
    if (value.substr(0, kPrefix.size()) != kPrefix) return SignatureVerdict::kMalformed;
    value.remove_prefix(kPrefix.size());
    if (value.size() != kHexDigits) return SignatureVerdict::kMalformed;
    // The shape check looks only at what the caller sent, never at the expected MAC, so returning early
    // here leaks nothing.
    for (const char c : value) {
        if (!IsHex(c)) return SignatureVerdict::kMalformed;
    }
    bool matched = false;
    for (const auto& secret : secrets) {
        const std::string expected = HmacSha256Hex(secret, body, /*upper_case=*/true);
        // `|` rather than `||`: keep comparing against every secret whatever the outcome.
        matched = HexEqualsConstantTime(expected, value) | matched;
    }
    return matched ? SignatureVerdict::kValid : SignatureVerdict::kMismatch;
}

std::string SignatureHeaderValue(std::string_view secret, std::string_view body, bool upper_case) {
    return std::string(kPrefix) + HmacSha256Hex(secret, body, upper_case);
}

}  // namespace spacehook::ingress
