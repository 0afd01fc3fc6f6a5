#include <optional>
#include <string>
#include <string_view>

#include "http/server.hpp"

namespace spacehook::http {
namespace {

int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// application/x-www-form-urlencoded decoding. A malformed escape ("%zz", a trailing "%") is kept as
// written: a lenient decode cannot be turned into a rejection that loses a DocSpace delivery.
std::string DecodeComponent(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
                   HexValue(text[i + 2]) >= 0) {
            out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace

const std::string* Request::FindHeader(std::string_view lower_name) const {
    for (const Header& header : headers) {
        if (header.name == lower_name) return &header.value;
    }
    return nullptr;
}

std::optional<std::string> Request::QueryParam(std::string_view key) const {
    std::string_view rest = query;
    while (!rest.empty()) {
        const std::size_t amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (pair.empty()) continue;
        const std::size_t eq = pair.find('=');
        const std::string_view raw_key = pair.substr(0, eq);
        if (DecodeComponent(raw_key) != key) continue;
        return eq == std::string_view::npos ? std::string{} : DecodeComponent(pair.substr(eq + 1));
    }
    return std::nullopt;
}

}  // namespace spacehook::http
