#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace spacehook::emulator {

/// The parts of an absolute http(s) URL the emulator needs.
struct ParsedUrl {
    std::string scheme;  ///< lower case
    std::string host;    ///< without brackets for IPv6
    std::uint16_t port = 0;
};

std::optional<ParsedUrl> ParseHttpUrl(std::string_view url);

/// True when `ip` (textual IPv4/IPv6) lies in UrlValidator's default blacklist: 0.0.0.0/8, 10/8,
/// 100.64/10, 127/8, 169.254/16, 172.16/12, 192.168/16, ::/128, ::1/128, fc00::/8, fd00::/8,
/// fe80::/10 (docs/docspace-api.md §1.9).
bool IsBlacklistedAddress(std::string_view ip);

/// DocSpace 3.7's UrlValidator as far as the emulator enforces it (docs/docspace-api.md §1.9, §1.10): an
/// http(s) URL, https when `require_https`, and every resolved address outside the blacklist. Returns
/// the validator's message on failure ("URL resolves to a blacklisted IP address"), nullopt when OK.
/// `blacklisted` is set when the failure is the blacklist (the sender deletes such configs).
std::optional<std::string> ValidateWebhookUrl(std::string_view url, bool require_https, bool& blacklisted);

}  // namespace spacehook::emulator
