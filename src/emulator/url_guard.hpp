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

/// DocSpace 3.7's UrlValidator.ValidateAsync (docs/docspace-api.md §1.10), in its order and with its
/// messages: "URL is null or empty", "Invalid URL format", "Invalid URL scheme: ftp. Only http and https
/// are allowed", "HTTPS is required" (when `require_https`), "URL host is in the blacklist" (a literal
/// IP), "DNS resolution failed for <host>", "URL resolves to a blacklisted IP address". `use_blacklist`
/// false skips the two blacklist checks, as on a portal whose admin set `webhooks:blacklist` to a dummy
/// entry (§4.12). nullopt when valid; `blacklisted` is set when the blacklist refused it (the sender
/// deletes such configs).
std::optional<std::string> ValidateWebhookUrl(std::string_view url, bool require_https, bool use_blacklist,
                                              bool& blacklisted);

}  // namespace spacehook::emulator
