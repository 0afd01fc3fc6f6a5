#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "notify/mime_encoding.hpp"

namespace spacehook::notify {

/// One mail address with its optional display name, as rules write it: "Jane Doe <jane@example.com>",
/// "\"Doe, Jane\" <jane@example.com>", "<jane@example.com>" or "jane@example.com".
struct Mailbox {
    std::string display_name;  ///< UTF-8, unquoted; empty when there is none
    std::string address;       ///< "local@domain", ASCII

    friend bool operator==(const Mailbox&, const Mailbox&) = default;
};

/// Parses one mailbox. The address must be a plain ASCII dot-atom "local@domain" (no quoted local
/// parts, no domain literals, no internationalised addresses: we do not negotiate SMTPUTF8). A CR, LF
/// or other control character anywhere is rejected: in a header it would start a new header line (a
/// template could inject "Bcc:"). Errors are kInvalidArgument naming the offending text.
Result<Mailbox> ParseMailbox(std::string_view text);

/// Parses "a@b, Name <c@d>; e@f": commas (and semicolons, as Outlook users type them) separate mailboxes
/// outside quotes and angle brackets; empty items are skipped. An empty list is an error.
Result<std::vector<Mailbox>> ParseMailboxList(std::string_view text);

/// Checks an addr-spec ("local@domain") as ParseMailbox does; the error names the address.
Status ValidateAddress(std::string_view address);

/// The header tokens for a mailbox: the display name as atoms, a quoted-string or encoded-words when it
/// is not ASCII, then "<address>" (FoldHeader may fold between them). A bare address when there is no
/// display name.
std::vector<HeaderToken> MailboxTokens(const Mailbox& mailbox);

/// Tokens for "a, B <b>, ...", commas glued to the mailbox before them.
std::vector<HeaderToken> MailboxListTokens(const std::vector<Mailbox>& mailboxes);

/// `text` made safe to quote in an error or a log line: control characters escaped ("\r", "\n",
/// "\x01"), cut to `max` bytes with "..." appended.
std::string PrintableForMessage(std::string_view text, std::size_t max = 120);

}  // namespace spacehook::notify
