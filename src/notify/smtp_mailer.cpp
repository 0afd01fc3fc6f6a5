#include "notify/smtp_mailer.hpp"

#include <fmt/format.h>

#include "core/log.hpp"
#include "httpc/client.hpp"
#include "notify/mail_address.hpp"

namespace spacehook::notify {

namespace {

constexpr std::string_view kLogComponent = "notify.smtp";

int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Userinfo in a URL is percent-encoded (a password with '@' or ':' must be); false on a broken escape.
bool PercentDecode(std::string_view text, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size()) return false;
        const int hi = HexValue(text[i + 1]);
        const int lo = HexValue(text[i + 2]);
        if (hi < 0 || lo < 0) return false;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return true;
}

/// The server part of the options made ready: scheme and host checked, credentials moved out of the URL
/// (explicit username/password win), the password registered as a secret. Errors are kConfig.
Status PrepareServer(SmtpOptions& options) {
    std::size_t scheme_end = 0;
    if (options.url.rfind("smtp://", 0) == 0) {
        scheme_end = 7;
    } else if (options.url.rfind("smtps://", 0) == 0) {
        scheme_end = 8;
    } else {
        return Fail(ErrorCode::kConfig, "SMTP_URL must start with smtp:// or smtps://");
    }
    const std::size_t authority_end =
        std::min(options.url.find_first_of("/?#", scheme_end), options.url.size());
    const std::string_view authority =
        std::string_view(options.url).substr(scheme_end, authority_end - scheme_end);
    const std::size_t at = authority.rfind('@');
    if (at != std::string_view::npos) {
        const std::string_view userinfo = authority.substr(0, at);
        const std::size_t colon = userinfo.find(':');
        std::string user;
        std::string password;
        if (!PercentDecode(userinfo.substr(0, colon), user) ||
            (colon != std::string_view::npos && !PercentDecode(userinfo.substr(colon + 1), password))) {
            // The text may be the password itself: the message does not quote it.
            return Fail(ErrorCode::kConfig, "SMTP_URL has a broken percent-escape in its user:password part");
        }
        if (options.username.empty()) options.username = std::move(user);
        if (options.password.empty()) options.password = std::move(password);
        options.url.erase(scheme_end, at + 1);
    }
    const std::string_view host = std::string_view(options.url).substr(scheme_end);
    if (host.empty() || host.front() == ':' || host.front() == '/') {
        return Fail(ErrorCode::kConfig, "SMTP_URL has no host");
    }
    if (!options.password.empty()) log::RegisterSecret(options.password);
    return Ok();
}

/// The connection part of a submission (server, login, TLS, timeout), the same for a mail and a login check.
httpc::MailSubmission ConnectionOf(const SmtpOptions& options) {
    httpc::MailSubmission submission;
    submission.smtp_url = options.url;
    submission.username = options.username;
    submission.password = options.password;
    submission.require_starttls = options.require_starttls;
    submission.allow_plaintext_auth = options.allow_plaintext_auth;
    submission.verify_tls = options.verify_tls;
    submission.timeout = options.timeout;
    return submission;
}

}  // namespace

Result<std::unique_ptr<SmtpMailer>> SmtpMailer::Create(SmtpOptions options, const Clock& clock) {
    if (auto prepared = PrepareServer(options); !prepared) return Fail(prepared.error());
    if (options.from.empty())
        return Fail(ErrorCode::kConfig, "MAIL_FROM is not set: mail needs a sender address");
    auto from = ParseMailboxList(options.from);
    if (!from || from->size() != 1) {
        // Quoted through fmt, not `"\"" + std::string&&`: g++ 12 at -O3 reports a false -Wrestrict
        // inside that operator+ (GCC PR 105329), which fails the Release build (warnings are errors).
        return Fail(ErrorCode::kConfig,
                    fmt::format("MAIL_FROM must be one address: {}",
                                from ? fmt::format("\"{}\"", PrintableForMessage(options.from))
                                     : from.error().message));
    }
    return std::unique_ptr<SmtpMailer>(new SmtpMailer(std::move(options), clock));
}

Status SmtpMailer::CheckLogin(SmtpOptions options) {
    if (auto prepared = PrepareServer(options); !prepared) return prepared;
    return httpc::CheckSmtpLogin(ConnectionOf(options));
}

Result<MailReceipt> SmtpMailer::Send(const MailMessage& message) {
    MailMessage filled = message;
    if (filled.from.empty()) filled.from = options_.from;
    auto mail = ComposeMail(filled, clock_.Now());
    if (!mail) return Fail(std::move(mail.error()));

    httpc::MailSubmission submission = ConnectionOf(options_);
    submission.from = mail->envelope_from;
    submission.recipients = mail->recipients;
    submission.message = std::move(mail->data);

    const Status sent = httpc::SendMail(submission);
    if (!sent) {
        Error error = sent.error();
        error.message = log::Redact(fmt::format("mail {}: {}", mail->message_id, error.message));
        log::Warn(kLogComponent, "mail not sent",
                  {{"message_id", mail->message_id},
                   {"recipients", mail->recipients.size()},
                   {"error", ToString(error.code)},
                   {"reason", error.message}});
        return Fail(std::move(error));
    }
    log::Info(kLogComponent, "mail sent",
              {{"message_id", mail->message_id}, {"recipients", mail->recipients.size()}});
    return MailReceipt{mail->message_id, mail->recipients.size()};
}

}  // namespace spacehook::notify
