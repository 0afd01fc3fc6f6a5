#include "notify/mime_encoding.hpp"

#include <cstdint>

namespace spacehook::notify {

namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";
constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// "=?UTF-8?B?" + "?=": what every encoded-word costs besides its payload.
constexpr std::size_t kEncodedWordOverhead = 12;
// The widest single character: four UTF-8 bytes in Q form. A first word with less room than this starts
// on its own line instead.
constexpr std::size_t kWidestEncodedChar = kEncodedWordOverhead + 12;

void AppendHexByte(std::string& out, unsigned char byte) {
    out += '=';
    out += kHexDigits[byte >> 4];
    out += kHexDigits[byte & 0xfU];
}

std::size_t Base64Length(std::size_t bytes) {
    return (bytes + 2) / 3 * 4;
}

// Q form (RFC 2047 §4.2) restricted to the characters allowed in a phrase (§5(3)); space becomes "_".
bool IsQLiteral(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '!' ||
           c == '*' || c == '+' || c == '-' || c == '/';
}

std::size_t QCost(std::string_view bytes) {
    std::size_t cost = 0;
    for (const char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        cost += (IsQLiteral(c) || c == ' ') ? 1 : 3;
    }
    return cost;
}

void AppendQ(std::string& out, std::string_view bytes) {
    for (const char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == ' ') {
            out += '_';
        } else if (IsQLiteral(c)) {
            out += ch;
        } else {
            AppendHexByte(out, c);
        }
    }
}

// Length of the UTF-8 character starting at `pos`; a malformed sequence counts as one byte so that the
// split never stalls (and never cuts a well-formed character).
std::size_t CharLength(std::string_view text, std::size_t pos) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    std::size_t len = 1;
    if ((lead & 0xE0U) == 0xC0U) {
        len = 2;
    } else if ((lead & 0xF0U) == 0xE0U) {
        len = 3;
    } else if ((lead & 0xF8U) == 0xF0U) {
        len = 4;
    }
    if (pos + len > text.size()) return 1;
    for (std::size_t i = 1; i < len; ++i) {
        if ((static_cast<unsigned char>(text[pos + i]) & 0xC0U) != 0x80U) return 1;
    }
    return len;
}

}  // namespace

std::string NormalizeLineEndings(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32);
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\r') {
            out += "\r\n";
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else if (c == '\n') {
            out += "\r\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string EncodeBase64(std::string_view bytes) {
    std::string out;
    out.reserve(Base64Length(bytes.size()));
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16U) |
                                (static_cast<unsigned char>(bytes[i + 1]) << 8U) |
                                static_cast<unsigned char>(bytes[i + 2]);
        out += kBase64Alphabet[(v >> 18U) & 0x3fU];
        out += kBase64Alphabet[(v >> 12U) & 0x3fU];
        out += kBase64Alphabet[(v >> 6U) & 0x3fU];
        out += kBase64Alphabet[v & 0x3fU];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16U;
        if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8U;
        out += kBase64Alphabet[(v >> 18U) & 0x3fU];
        out += kBase64Alphabet[(v >> 12U) & 0x3fU];
        out += rest == 2 ? kBase64Alphabet[(v >> 6U) & 0x3fU] : '=';
        out += '=';
    }
    return out;
}

std::string EncodeBase64Lines(std::string_view bytes) {
    static constexpr std::size_t kLine = 76;
    const std::string flat = EncodeBase64(bytes);
    std::string out;
    out.reserve(flat.size() + flat.size() / kLine * 2 + 2);
    for (std::size_t i = 0; i < flat.size(); i += kLine) {
        out.append(flat, i, kLine);
        out += "\r\n";
    }
    return out;
}

std::string EncodeQuotedPrintable(std::string_view crlf_text) {
    // Physical lines hold at most 76 characters; a line continued by a soft break ("=") holds at most 75
    // before it.
    static constexpr std::size_t kLine = 76;
    std::string out;
    out.reserve(crlf_text.size() + crlf_text.size() / 8);
    std::size_t start = 0;
    while (start <= crlf_text.size()) {
        const std::size_t end = crlf_text.find("\r\n", start);
        const bool has_break = end != std::string_view::npos;
        const std::string_view line =
            crlf_text.substr(start, has_break ? end - start : std::string_view::npos);
        if (!has_break && line.empty()) break;  // the text ended with a line break: nothing after it

        std::size_t column = 0;
        for (std::size_t i = 0; i < line.size(); ++i) {
            const auto c = static_cast<unsigned char>(line[i]);
            const bool last = i + 1 == line.size();
            // Printable ASCII but '=' stands for itself, and so does white space unless it ends the line
            // (§6.7(3)).
            const bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
            std::string unit;
            if (literal) {
                unit = static_cast<char>(c);
            } else {
                AppendHexByte(unit, c);
            }
            const std::size_t room = last ? kLine : kLine - 1;
            if (column + unit.size() > room) {
                out += "=\r\n";
                column = 0;
            }
            if (column == 0 && unit == ".") unit = "=2E";
            out += unit;
            column += unit.size();
        }
        if (!has_break) break;
        out += "\r\n";
        start = end + 2;
    }
    return out;
}

EncodedBody EncodeTextBody(std::string_view utf8_text) {
    const std::string crlf = NormalizeLineEndings(utf8_text);
    std::string qp = EncodeQuotedPrintable(crlf);
    std::string b64 = EncodeBase64Lines(crlf);
    if (b64.size() < qp.size()) return EncodedBody{"base64", std::move(b64)};
    return EncodedBody{"quoted-printable", std::move(qp)};
}

bool IsPlainHeaderText(std::string_view text) {
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c > 0x7E) return false;
    }
    return text.find("=?") == std::string_view::npos;
}

std::vector<std::string> EncodeWords(std::string_view utf8_text, std::size_t first_word_max) {
    std::vector<std::string> words;
    if (utf8_text.empty()) return words;
    const bool base64 = Base64Length(utf8_text.size()) < QCost(utf8_text);
    std::size_t max = first_word_max < kWidestEncodedChar ? kMaxEncodedWord : first_word_max;
    if (max > kMaxEncodedWord) max = kMaxEncodedWord;

    std::size_t pos = 0;
    while (pos < utf8_text.size()) {
        const std::size_t begin = pos;
        std::size_t payload = 0;  // encoded length of utf8_text[begin, pos)
        while (pos < utf8_text.size()) {
            const std::size_t len = CharLength(utf8_text, pos);
            const std::size_t next =
                base64 ? Base64Length(pos + len - begin) : payload + QCost(utf8_text.substr(pos, len));
            if (kEncodedWordOverhead + next > max) break;
            payload = next;
            pos += len;
        }
        const std::string_view chunk = utf8_text.substr(begin, pos - begin);
        std::string word = base64 ? "=?UTF-8?B?" : "=?UTF-8?Q?";
        if (base64) {
            word += EncodeBase64(chunk);
        } else {
            AppendQ(word, chunk);
        }
        word += "?=";
        words.push_back(std::move(word));
        max = kMaxEncodedWord;
    }
    return words;
}

std::string FoldHeader(std::string_view name, const std::vector<HeaderToken>& tokens) {
    std::string out(name);
    out += ':';
    std::size_t column = out.size();
    bool line_has_token = false;
    for (const auto& token : tokens) {
        if (token.space_before) {
            // Never fold in front of an empty token: the continuation line would hold only whitespace,
            // which RFC 5322 §3.2.2 forbids.
            if (line_has_token && !token.text.empty() && column + 1 + token.text.size() > kMaxHeaderLine) {
                out += "\r\n";
                column = 0;
            }
            out += ' ';
            ++column;
        }
        out += token.text;
        column += token.text.size();
        line_has_token = line_has_token || !token.text.empty();
    }
    out += "\r\n";
    return out;
}

}  // namespace spacehook::notify
