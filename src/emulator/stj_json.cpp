#include "emulator/stj_json.hpp"

#include <cstdint>
#include <string_view>

namespace spacehook::emulator {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

void AppendU(std::string& out, std::uint32_t unit) {
    out += "\\u";
    out += kHex[(unit >> 12) & 0xF];
    out += kHex[(unit >> 8) & 0xF];
    out += kHex[(unit >> 4) & 0xF];
    out += kHex[unit & 0xF];
}

void AppendCodePoint(std::string& out, std::uint32_t cp) {
    if (cp >= 0x10000) {
        cp -= 0x10000;
        AppendU(out, 0xD800 + (cp >> 10));
        AppendU(out, 0xDC00 + (cp & 0x3FF));
    } else {
        AppendU(out, cp);
    }
}

// Decodes one UTF-8 sequence at `i`; returns the code point and advances `i`. Malformed input
// (overlong, surrogates, truncated) yields U+FFFD and skips one byte, as .NET's decoder does.
std::uint32_t DecodeUtf8(std::string_view s, std::size_t& i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    int len = 0;
    std::uint32_t cp = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
        cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        cp = b0 & 0x0F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        cp = b0 & 0x07;
    } else {
        ++i;
        return 0xFFFD;
    }
    if (i + static_cast<std::size_t>(len) > s.size()) {
        ++i;
        return 0xFFFD;
    }
    for (int k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
        if ((b & 0xC0) != 0x80) {
            ++i;
            return 0xFFFD;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++i;
        return 0xFFFD;
    }
    i += static_cast<std::size_t>(len);
    return cp;
}

void AppendString(std::string& out, std::string_view s) {
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            AppendCodePoint(out, DecodeUtf8(s, i));
            continue;
        }
        ++i;
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            // HTML-sensitive characters the default JavaScriptEncoder refuses, the quote included
            // (STJ writes it as \u0022, not \").
            case '"':
            case '<':
            case '>':
            case '&':
            case '\'':
            case '+':
            case '`':
                AppendU(out, c);
                break;
            default:
                if (c < 0x20 || c == 0x7F) {
                    AppendU(out, c);
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

void Write(std::string& out, const OJson& v) {
    switch (v.type()) {
        case OJson::value_t::object: {
            out += '{';
            bool first = true;
            for (auto it = v.begin(); it != v.end(); ++it) {
                if (!first) out += ',';
                first = false;
                AppendString(out, it.key());
                out += ':';
                Write(out, it.value());
            }
            out += '}';
            break;
        }
        case OJson::value_t::array: {
            out += '[';
            bool first = true;
            for (const auto& item : v) {
                if (!first) out += ',';
                first = false;
                Write(out, item);
            }
            out += ']';
            break;
        }
        case OJson::value_t::string:
            AppendString(out, v.get_ref<const std::string&>());
            break;
        case OJson::value_t::null:
        case OJson::value_t::discarded:
            out += "null";
            break;
        default:
            out += v.dump();
            break;  // numbers and booleans print the same in both libraries
    }
}

}  // namespace

std::string WriteStj(const OJson& value) {
    std::string out;
    Write(out, value);
    return out;
}

std::string WriteStjString(std::string_view text) {
    std::string out;
    AppendString(out, text);
    return out;
}

// Through text: the two types differ only in object order. `replace` keeps invalid UTF-8 from throwing.
OJson ToOrdered(const Json& value) {
    return OJson::parse(value.dump(-1, ' ', false, Json::error_handler_t::replace));
}

Json FromOrdered(const OJson& value) {
    return Json::parse(value.dump(-1, ' ', false, OJson::error_handler_t::replace));
}

}  // namespace spacehook::emulator
