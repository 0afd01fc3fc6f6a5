#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace spacehook::notify {

/// A mail as a runner step describes it, before composition. Address fields take what rules write:
/// "Name <a@b>" or "a@b", and each entry may itself be a comma-separated list.
struct MailMessage {
    std::string from;             ///< one mailbox; empty: the mailer's MAIL_FROM
    std::vector<std::string> to;  ///< at least one recipient in to + cc
    std::vector<std::string> cc;
    std::string reply_to;                  ///< empty: no Reply-To
    std::string subject;                   ///< UTF-8; line breaks and control characters become spaces
    std::string text_body;                 ///< UTF-8 plain text, any line ends
    std::optional<std::string> html_body;  ///< when set, the mail is multipart/alternative (text + HTML)
    /// Makes the Message-ID deterministic: the runner passes "<run key>/<step index>", so a mail sent
    /// again after a crash carries the same Message-ID and receivers can drop the duplicate. Empty: a
    /// random Message-ID.
    std::string message_id_seed;
    std::optional<TimePoint> date;  ///< empty: the time of composition
};

/// A composed message and its SMTP envelope.
struct ComposedMail {
    std::string message_id;               ///< "<...@domain>", as in the header
    std::string envelope_from;            ///< the From address (MAIL FROM)
    std::vector<std::string> recipients;  ///< To and Cc addresses, each once (RCPT TO)
    /// The RFC 5322 message: CRLF line ends, headers folded to 76 columns, not dot-stuffed (libcurl
    /// dot-stuffs what it uploads, so stuffing here would double the dots the reader sees).
    std::string data;
};

/// Builds the message: Date, From, To, Cc, Reply-To, Subject (RFC 2047 encoded when not plain ASCII),
/// Message-ID, MIME-Version, and a text/plain part (or multipart/alternative with text/html), UTF-8,
/// quoted-printable or base64, whichever is smaller. Pure but for the random Message-ID when no seed is
/// given. A CR or LF inside an address or display name is rejected (kInvalidArgument), never passed
/// into a header; the subject's line breaks become spaces, so no field can add a header line.
Result<ComposedMail> ComposeMail(const MailMessage& message, TimePoint now);

/// "<sh.HEX@domain>" with HEX derived from the seed (SHA-256, 128 bits): the same seed always gives the
/// same id, and the seed (a run key) is not readable from it.
std::string MessageIdFromSeed(std::string_view seed, std::string_view domain);

}  // namespace spacehook::notify
