#pragma once

#include <string>
#include <string_view>

// The few text helpers every part needs (ASCII only: DocSpace's keys, HTTP headers, config words).
// C++20's string_view::starts_with / ends_with cover prefixes and suffixes.
namespace spacehook {

/// Characters Trim removes by default: ASCII white space.
inline constexpr std::string_view kWhitespace = " \t\r\n\f\v";
/// HTTP's optional white space (RFC 9110 OWS) around header values.
inline constexpr std::string_view kHttpWhitespace = " \t";

/// `text` without leading and trailing characters of `chars`.
std::string_view Trim(std::string_view text, std::string_view chars = kWhitespace);

/// ASCII lower / upper case; other bytes (UTF-8 included) unchanged.
std::string ToLower(std::string_view text);
std::string ToUpper(std::string_view text);

/// ASCII case-insensitive equality.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

/// http(s)://host[:port][/path...]: the scheme, a non-empty host, no white space. What a URL a user
/// configured must at least be before curl sees it; not a full RFC 3986 check.
bool IsHttpUrl(std::string_view url);

/// The host of a URL: "h.example.com" of "https://user@h.example.com:8443/x", "::1" of "http://[::1]/";
/// empty when there is no "://".
std::string_view UrlHost(std::string_view url);

/// RFC 3986 percent-encoding of everything but the unreserved characters (letters, digits, "-._~"): the
/// text is data in a URL's path segment or query, never structure ("/" becomes %2F, "&" %26).
std::string PercentEncode(std::string_view text);

}  // namespace spacehook
