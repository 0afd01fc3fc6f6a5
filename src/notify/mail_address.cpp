#include "notify/mail_address.hpp"

#include <fmt/format.h>

#include "core/text.hpp"

namespace spacehook::notify {

namespace {

constexpr std::size_t kMaxAddress = 254;  // RFC 5321 §4.5.3.1.3 path limit less the brackets
constexpr std::size_t kMaxLocalPart = 64;
constexpr std::size_t kMaxLabel = 63;

bool IsAtext(unsigned char c) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '!':
        case '#':
        case '$':
        case '%':
        case '&':
        case '\'':
        case '*':
        case '+':
        case '-':
        case '/':
        case '=':
        case '?':
        case '^':
        case '_':
        case '`':
        case '{':
        case '|':
        case '}':
        case '~':
            return true;
        default:
            return false;
    }
}

bool IsLabelChar(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

tl::unexpected<Error> Invalid(std::string_view text, std::string_view reason) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("invalid mail address \"{}\": {}", PrintableForMessage(text), reason));
}

// The reason an addr-spec is not acceptable, or empty when it is.
std::string_view AddressProblem(std::string_view address) {
    if (address.empty()) return "empty address";
    if (address.size() > kMaxAddress) return "longer than 254 characters";
    for (const char ch : address) {
        if (static_cast<unsigned char>(ch) >= 0x80)
            return "non-ASCII addresses are not supported (no SMTPUTF8)";
    }
    const auto at = address.rfind('@');
    if (at == std::string_view::npos) return "no '@'";
    const std::string_view local = address.substr(0, at);
    const std::string_view domain = address.substr(at + 1);
    if (local.empty()) return "nothing before '@'";
    if (local.size() > kMaxLocalPart) return "local part longer than 64 characters";
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
        return "misplaced '.' in the local part";
    }
    for (const char ch : local) {
        if (ch != '.' && !IsAtext(static_cast<unsigned char>(ch))) {
            return "the local part may hold only letters, digits, '.' and !#$%&'*+-/=?^_`{|}~";
        }
    }
    if (domain.empty()) return "nothing after '@'";
    std::size_t start = 0;
    while (true) {
        const auto dot = domain.find('.', start);
        const std::string_view label =
            domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty()) return "empty label in the domain";
        if (label.size() > kMaxLabel) return "domain label longer than 63 characters";
        if (label.front() == '-' || label.back() == '-') return "domain label starts or ends with '-'";
        for (const char ch : label) {
            if (!IsLabelChar(static_cast<unsigned char>(ch)))
                return "the domain may hold only letters, digits, '-' and '.'";
        }
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return {};
}

// Unquotes a quoted-string display name; false when the quoting is broken.
bool Unquote(std::string_view quoted, std::string& out) {
    if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"') return false;
    out.clear();
    for (std::size_t i = 1; i + 1 < quoted.size(); ++i) {
        const char c = quoted[i];
        if (c == '\\') {
            if (i + 2 >= quoted.size()) return false;  // a backslash escaping the closing quote
            out += quoted[++i];
        } else if (c == '"') {
            return false;
        } else {
            out += c;
        }
    }
    return true;
}

bool IsAtomPhrase(std::string_view name) {
    for (const char ch : name) {
        if (ch != ' ' && !IsAtext(static_cast<unsigned char>(ch))) return false;
    }
    return true;
}

}  // namespace

std::string PrintableForMessage(std::string_view text, std::size_t max) {
    std::string out;
    for (const char ch : text) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c < 0x20 || c == 0x7F) {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out += ch;
        }
    }
    return out;
}

Status ValidateAddress(std::string_view address) {
    const std::string_view problem = AddressProblem(address);
    if (!problem.empty()) return Invalid(address, problem);
    return Ok();
}

Result<Mailbox> ParseMailbox(std::string_view text) {
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\r' || c == '\n') return Invalid(text, "contains a line break");
        if ((c < 0x20 && c != '\t') || c == 0x7F) return Invalid(text, "contains a control character");
    }
    const std::string_view trimmed = Trim(text);
    if (trimmed.empty()) return Invalid(text, "empty address");

    Mailbox mailbox;
    std::string_view address = trimmed;
    if (trimmed.back() == '>') {
        // The '<' that opens the address is the first one outside a quoted display name.
        bool quoted = false;
        std::size_t open = std::string_view::npos;
        for (std::size_t i = 0; i < trimmed.size(); ++i) {
            const char c = trimmed[i];
            if (quoted && c == '\\') {
                ++i;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (c == '<' && !quoted) {
                open = i;
                break;
            }
        }
        if (open == std::string_view::npos) return Invalid(text, "'>' without '<'");
        address = Trim(trimmed.substr(open + 1, trimmed.size() - open - 2));
        const std::string_view name = Trim(trimmed.substr(0, open));
        if (!name.empty() && name.front() == '"') {
            if (!Unquote(name, mailbox.display_name))
                return Invalid(text, "broken quotes in the display name");
        } else if (name.find_first_of("\"<>") != std::string_view::npos) {
            return Invalid(text, "stray '\"', '<' or '>' in the display name");
        } else {
            mailbox.display_name = std::string(name);
        }
        for (char& c : mailbox.display_name) {
            if (c == '\t') c = ' ';
        }
        mailbox.display_name = std::string(Trim(mailbox.display_name));
    } else if (trimmed.find_first_of("\"<>") != std::string_view::npos) {
        return Invalid(text, "stray '\"', '<' or '>'");
    }
    const std::string_view problem = AddressProblem(address);
    if (!problem.empty()) return Invalid(text, problem);
    mailbox.address = std::string(address);
    return mailbox;
}

Result<std::vector<Mailbox>> ParseMailboxList(std::string_view text) {
    std::vector<Mailbox> mailboxes;
    bool quoted = false;
    bool in_angle = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        const bool end = i == text.size();
        const char c = end ? ',' : text[i];
        if (quoted) {
            if (c == '\\' && !end) {
                ++i;
            } else if (c == '"') {
                quoted = false;
            }
            if (!end) continue;
        }
        if (c == '"') {
            quoted = true;
        } else if (c == '<') {
            in_angle = true;
        } else if (c == '>') {
            in_angle = false;
        } else if ((c == ',' || c == ';') && (!in_angle || end)) {
            const std::string_view item = text.substr(start, i - start);
            start = i + 1;
            if (Trim(item).empty()) continue;
            auto mailbox = ParseMailbox(item);
            if (!mailbox) return Fail(std::move(mailbox.error()));
            mailboxes.push_back(std::move(*mailbox));
        }
    }
    if (mailboxes.empty()) return Invalid(text, "no address");
    return mailboxes;
}

std::vector<HeaderToken> MailboxTokens(const Mailbox& mailbox) {
    std::vector<HeaderToken> tokens;
    const std::string& name = mailbox.display_name;
    if (!name.empty()) {
        if (IsPlainHeaderText(name) && IsAtomPhrase(name)) {
            std::size_t start = 0;
            while (start < name.size()) {
                auto space = name.find(' ', start);
                if (space == std::string::npos) space = name.size();
                if (space > start) tokens.push_back({name.substr(start, space - start), true});
                start = space + 1;
            }
        } else if (IsPlainHeaderText(name) && name.size() + 2 <= kMaxEncodedWord) {
            std::string quoted = "\"";
            for (const char c : name) {
                if (c == '"' || c == '\\') quoted += '\\';
                quoted += c;
            }
            quoted += '"';
            tokens.push_back({std::move(quoted), true});
        } else {
            for (auto& word : EncodeWords(name)) tokens.push_back({std::move(word), true});
        }
        tokens.push_back({"<" + mailbox.address + ">", true});
    } else {
        tokens.push_back({mailbox.address, true});
    }
    return tokens;
}

std::vector<HeaderToken> MailboxListTokens(const std::vector<Mailbox>& mailboxes) {
    std::vector<HeaderToken> tokens;
    for (std::size_t i = 0; i < mailboxes.size(); ++i) {
        auto mailbox_tokens = MailboxTokens(mailboxes[i]);
        if (i + 1 < mailboxes.size()) mailbox_tokens.back().text += ',';
        for (auto& token : mailbox_tokens) tokens.push_back(std::move(token));
    }
    return tokens;
}

}  // namespace spacehook::notify
