#include "notify/mail_message.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/hmac_sha256.hpp"
#include "core/random.hpp"
#include "notify/mail_address.hpp"
#include "notify/mime_encoding.hpp"

namespace spacehook::notify {

namespace {

constexpr std::string_view kSubjectHeader = "Subject";

Result<std::vector<Mailbox>> ParseAll(const std::vector<std::string>& entries) {
    std::vector<Mailbox> all;
    for (const auto& entry : entries) {
        auto list = ParseMailboxList(entry);
        if (!list) return Fail(std::move(list.error()));
        for (auto& mailbox : *list) all.push_back(std::move(mailbox));
    }
    return all;
}

// A subject comes from a template filled with user data (file titles, names): a line break there is
// data, not structure, so it is kept as a space rather than failing the whole mail.
std::string CleanSubject(std::string_view subject) {
    std::string clean;
    clean.reserve(subject.size());
    for (const char ch : subject) {
        const auto c = static_cast<unsigned char>(ch);
        clean += (c < 0x20 || c == 0x7F) ? ' ' : ch;
    }
    const auto first = clean.find_first_not_of(' ');
    if (first == std::string::npos) return {};
    return clean.substr(first, clean.find_last_not_of(' ') - first + 1);
}

std::vector<HeaderToken> SubjectTokens(const std::string& subject) {
    std::vector<HeaderToken> tokens;
    if (subject.empty()) return tokens;
    const std::size_t first_room = kMaxHeaderLine - kSubjectHeader.size() - 2;  // after "Subject: "
    if (IsPlainHeaderText(subject)) {
        std::size_t start = 0;
        bool fits = true;
        while (start <= subject.size()) {
            auto space = subject.find(' ', start);
            if (space == std::string::npos) space = subject.size();
            // Every word must fit on its line (the first after "Subject: ", the others after the fold's
            // space); a longer run (a URL) can only be split as encoded-words.
            fits = fits && space - start <= (start == 0 ? first_room : kMaxHeaderLine - 1);
            tokens.push_back({subject.substr(start, space - start), true});
            start = space + 1;
        }
        if (fits) return tokens;
        tokens.clear();
    }
    for (auto& word : EncodeWords(subject, first_room)) tokens.push_back({std::move(word), true});
    return tokens;
}

std::string Header(std::string_view name, std::string_view value) {
    return FoldHeader(name, {{std::string(value), true}});
}

// A part's headers, the blank line and the encoded body, as it is: whatever line break ends the body is
// content (in a multipart the delimiter brings its own CRLF, RFC 2046 §5.1.1).
std::string Part(std::string_view content_type, const EncodedBody& body) {
    std::string part = Header("Content-Type", content_type);
    part += Header("Content-Transfer-Encoding", body.transfer_encoding);
    part += "\r\n";
    part += body.text;
    return part;
}

// A message must end with a line break for SMTP's DATA; a body without one gets it here.
void EndWithLineBreak(std::string& data) {
    if (data.size() < 2 || data.compare(data.size() - 2, 2, "\r\n") != 0) data += "\r\n";
}

}  // namespace

std::string MessageIdFromSeed(std::string_view seed, std::string_view domain) {
    return fmt::format("<sh.{}@{}>", Sha256Hex(seed).substr(0, 32), domain);
}

Result<ComposedMail> ComposeMail(const MailMessage& message, TimePoint now) {
    if (message.from.empty()) return Fail(ErrorCode::kInvalidArgument, "mail has no From address");
    auto from = ParseMailboxList(message.from);
    if (!from) return Fail(std::move(from.error()));
    if (from->size() != 1) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("From must be one mailbox, got {}: \"{}\"", from->size(),
                                PrintableForMessage(message.from)));
    }
    auto to = ParseAll(message.to);
    if (!to) return Fail(std::move(to.error()));
    auto cc = ParseAll(message.cc);
    if (!cc) return Fail(std::move(cc.error()));
    std::vector<Mailbox> reply_to;
    if (!message.reply_to.empty()) {
        auto parsed = ParseMailboxList(message.reply_to);
        if (!parsed) return Fail(std::move(parsed.error()));
        reply_to = std::move(*parsed);
    }

    ComposedMail mail;
    mail.envelope_from = from->front().address;
    for (const auto* list : {&*to, &*cc}) {
        for (const auto& mailbox : *list) {
            if (std::find(mail.recipients.begin(), mail.recipients.end(), mailbox.address) ==
                mail.recipients.end()) {
                mail.recipients.push_back(mailbox.address);
            }
        }
    }
    if (mail.recipients.empty())
        return Fail(ErrorCode::kInvalidArgument, "mail has no recipients (To and Cc are empty)");

    const std::string& from_address = from->front().address;
    const std::string domain = from_address.substr(from_address.rfind('@') + 1);
    mail.message_id = message.message_id_seed.empty() ? fmt::format("<sh.{}@{}>", RandomHexToken(16), domain)
                                                      : MessageIdFromSeed(message.message_id_seed, domain);

    std::string& data = mail.data;
    data += Header("Date", FormatRfc5322(message.date.value_or(now)));
    data += FoldHeader("From", MailboxListTokens(*from));
    if (!to->empty()) data += FoldHeader("To", MailboxListTokens(*to));
    if (!cc->empty()) data += FoldHeader("Cc", MailboxListTokens(*cc));
    if (!reply_to.empty()) data += FoldHeader("Reply-To", MailboxListTokens(reply_to));
    data += FoldHeader(kSubjectHeader, SubjectTokens(CleanSubject(message.subject)));
    data += Header("Message-ID", mail.message_id);
    data += Header("MIME-Version", "1.0");

    const EncodedBody text = EncodeTextBody(message.text_body);
    if (!message.html_body) {
        data += Part("text/plain; charset=UTF-8", text);
        EndWithLineBreak(data);
        return mail;
    }
    const EncodedBody html = EncodeTextBody(*message.html_body);
    if (message.text_body.empty()) {
        data += Part("text/html; charset=UTF-8", html);
        EndWithLineBreak(data);
        return mail;
    }
    // "=_" cannot occur in quoted-printable (every literal "=" is written "=3D") nor in base64, so this
    // boundary never appears inside a part. Derived from the Message-ID, a re-sent mail is byte-identical.
    const std::string boundary = "=_sh_" + Sha256Hex(mail.message_id).substr(0, 24);
    data += FoldHeader("Content-Type",
                       {{"multipart/alternative;", true}, {"boundary=\"" + boundary + "\"", true}});
    data += "\r\n--" + boundary + "\r\n";
    data += Part("text/plain; charset=UTF-8", text);
    data += "\r\n--" + boundary + "\r\n";
    data += Part("text/html; charset=UTF-8", html);
    data += "\r\n--" + boundary + "--\r\n";
    return mail;
}

}  // namespace spacehook::notify
