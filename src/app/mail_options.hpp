#pragma once

// The one mapping from the `mail` config section to the SMTP mailer's options, shared by `serve` and
// `doctor`. Header-only like docspace_options.hpp: src/notify does not depend on src/config.

#include "config/service_config.hpp"
#include "notify/smtp_mailer.hpp"

namespace spacehook::app {

inline notify::SmtpOptions SmtpOptionsFrom(const config::ServiceConfig::Mail& mail) {
    notify::SmtpOptions options;
    options.url = mail.smtp_url;
    options.username = mail.username;
    options.password = mail.password;
    options.require_starttls = mail.require_starttls;
    options.allow_plaintext_auth = mail.allow_plaintext_auth;
    options.verify_tls = mail.verify_tls;
    options.from = mail.from;
    return options;
}

}  // namespace spacehook::app
