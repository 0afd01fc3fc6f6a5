#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "notify/mailer.hpp"

namespace spacehook::notify {

/// Where and how to submit mail; config fills it from SMTP_URL, SMTP_USERNAME, SMTP_PASSWORD and
/// MAIL_FROM (ServiceConfig::Mail), tests by hand.
struct SmtpOptions {
    /// smtp://host[:port] (STARTTLS as below) or smtps://host[:port] (TLS from the first byte). May carry
    /// "user:password@" (percent-encoded); explicit `username`/`password` take precedence.
    std::string url;
    std::string username;  ///< empty: no AUTH
    std::string password;  ///< never logged; registered with log::RegisterSecret
    /// smtp:// only: fail when the server does not offer STARTTLS, instead of sending in clear text.
    bool require_starttls = false;
    /// smtp:// with a username only: send the password even when the server offers no STARTTLS. Off
    /// (the default), STARTTLS is required whenever there is a password to send, and a server without it
    /// fails the mail with a kConfig error saying so.
    bool allow_plaintext_auth = false;
    bool verify_tls = true;
    std::string from;  ///< MAIL_FROM, "Name <a@b>" or "a@b": the From of messages that give none
    std::chrono::milliseconds timeout{30000};  ///< the whole submission
};

/// A Mailer that submits over SMTP (libcurl, through httpc::SendMail). Thread-safe: each Send is one
/// SMTP session. Logs the Message-ID and the number of recipients, never bodies or the password.
class SmtpMailer final : public Mailer {
public:
    /// Validates the options (URL scheme and host, MAIL_FROM) and moves credentials out of the URL.
    /// Errors are kConfig.
    static Result<std::unique_ptr<SmtpMailer>> Create(SmtpOptions options,
                                                      const Clock& clock = SystemClock::Instance());

    Result<MailReceipt> Send(const MailMessage& message) override;

    /// Connects and logs in as a Send would (the same URL handling, TLS and credentials rules), sends
    /// nothing. MAIL_FROM is not needed. Errors are classified as Send's.
    static Status CheckLogin(SmtpOptions options);

    /// The URL as used: without credentials.
    [[nodiscard]] const std::string& url() const { return options_.url; }

private:
    SmtpMailer(SmtpOptions options, const Clock& clock) : options_(std::move(options)), clock_(clock) {}

    SmtpOptions options_;
    const Clock& clock_;
};

}  // namespace spacehook::notify
