#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spacehook::emulator {

/// An inbound request in the emulator's own terms (converted from http::Request at the edge), so the
/// dispatchers are testable without a server.
struct IncomingRequest {
    std::string method;                                        ///< upper case
    std::string path;                                          ///< raw path, not decoded
    std::string query;                                         ///< raw query, without '?'
    std::vector<std::pair<std::string, std::string>> headers;  ///< names lower case
    std::string body;

    [[nodiscard]] const std::string* Header(std::string_view lower_name) const;
};

/// %XX decoding; `plus_is_space` for query components.
std::string PercentDecode(std::string_view text, bool plus_is_space);
/// name (lower-cased) -> values, in order.
std::map<std::string, std::vector<std::string>> ParseQuery(std::string_view query);
/// Path segments, each percent-decoded; empty segments dropped.
std::vector<std::string> SplitPath(std::string_view path);

}  // namespace spacehook::emulator
