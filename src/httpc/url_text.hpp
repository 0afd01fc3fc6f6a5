#pragma once

#include <string>
#include <string_view>

namespace spacehook::httpc {

/// A URL as it may appear in an error or a log line: scheme, host and path. The query and fragment
/// are dropped (a caller might put a token there) and so is `user:password@`.
inline std::string UrlForMessage(std::string_view url) {
    std::string shown(url.substr(0, url.find_first_of("?#")));
    const auto scheme_end = shown.find("://");
    if (scheme_end != std::string::npos) {
        const auto host_start = scheme_end + 3;
        const auto at = shown.find('@', host_start);
        const auto slash = shown.find('/', host_start);
        if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
            shown.erase(host_start, at + 1 - host_start);
        }
    }
    return shown;
}

}  // namespace spacehook::httpc
