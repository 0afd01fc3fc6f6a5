// SendMail: one message handed to an SMTP server through libcurl's smtp:// and smtps:// support.
#include <curl/curl.h>
#include <fmt/format.h>

#include <cstring>
#include <memory>

#include "core/log.hpp"
#include "httpc/client.hpp"
#include "httpc/url_text.hpp"

namespace spacehook::httpc {

namespace {

/// The server's refusal when it answered one (5xx for good, 4xx for now), else what curl ran into.
ErrorCode SubmissionErrorCode(long reply, CURLcode code) {
    if (reply >= 500 && reply < 600) return ErrorCode::kPermanent;    // rejected recipient, auth or message
    if (reply >= 400 && reply < 500) return ErrorCode::kUnavailable;  // greylisting, mailbox busy: later
    switch (code) {
        case CURLE_OPERATION_TIMEDOUT:
            return ErrorCode::kTimeout;
        // STARTTLS required and not offered, or the login refused: a retry meets the same server (SendMail
        // makes it kConfig when only a password to protect required STARTTLS).
        case CURLE_USE_SSL_FAILED:
        case CURLE_LOGIN_DENIED:
            return ErrorCode::kPermanent;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
            return ErrorCode::kConfig;
        default:
            return ErrorCode::kUnavailable;
    }
}

struct Upload {
    std::string_view data;
    size_t offset = 0;
};

size_t ReadMessage(char* buffer, size_t size, size_t count, void* user) {
    auto* upload = static_cast<Upload*>(user);
    const size_t n = std::min(size * count, upload->data.size() - upload->offset);
    std::memcpy(buffer, upload->data.data() + upload->offset, n);
    upload->offset += n;
    return n;
}

/// The server's own reply lines, kept so an operator reads "550 5.1.1 no such user" rather than
/// curl's "RCPT failed: 550". Only CURLINFO_HEADER_IN (what the server said) is kept: what we sent
/// (HEADER_OUT) includes the AUTH exchange, i.e. the password.
struct Dialogue {
    std::string last_refusal;
};

int OnDebug(CURL* /*handle*/, curl_infotype type, char* data, size_t size, void* user) {
    if (type != CURLINFO_HEADER_IN) return 0;
    auto* dialogue = static_cast<Dialogue*>(user);
    std::string line(data, size);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    // Only refusals (4xx/5xx) are kept: after one, curl still says QUIT and the server's "221 Bye" must
    // not hide the reason.
    if (!line.empty() && (line[0] == '4' || line[0] == '5')) dialogue->last_refusal = line;
    return 0;
}

struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct EasyDeleter {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};

std::string BracketAddress(const std::string& address) {
    if (!address.empty() && address.front() == '<') return address;
    return "<" + address + ">";
}

/// The connection part of a submission: server, TLS, login, timeouts, and the server's refusals
/// collected in `dialogue`.
void SetConnectionOptions(CURL* h, const MailSubmission& submission, char* errbuf, Dialogue& dialogue) {
    curl_easy_setopt(h, CURLOPT_URL, submission.smtp_url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(submission.timeout.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<long long>(submission.timeout.count(), 10000)));
    if (!submission.username.empty()) {
        curl_easy_setopt(h, CURLOPT_USERNAME, submission.username.c_str());
        curl_easy_setopt(h, CURLOPT_PASSWORD, submission.password.c_str());
    }
    // smtps:// is TLS from the first byte. For smtp:// STARTTLS is either required (a server that does not
    // offer it fails the send) or used when offered; but credentials never go out in clear text unless
    // the configuration allows it by name: opportunistic STARTTLS would AUTH in the open when a server (or
    // someone between) leaves STARTTLS out of its EHLO answer.
    const bool credentials_need_tls = !submission.username.empty() && !submission.allow_plaintext_auth;
    const bool tls_required = submission.require_starttls || credentials_need_tls;
    curl_easy_setopt(h, CURLOPT_USE_SSL,
                     tls_required ? static_cast<long>(CURLUSESSL_ALL) : static_cast<long>(CURLUSESSL_TRY));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, submission.verify_tls ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, submission.verify_tls ? 2L : 0L);
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, &OnDebug);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, &dialogue);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);  // needed for the debug callback; nothing goes to stderr
}

/// The error of a failed perform, classified (see SendMail) and with the server's own words.
Error MailError(CURL* h, CURLcode code, const MailSubmission& submission, const char* errbuf,
                const Dialogue& dialogue) {
    long reply = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
    std::string detail = errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(code);
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r')) detail.pop_back();
    std::string message = fmt::format("SMTP {}: {}", UrlForMessage(submission.smtp_url), detail);
    if (!dialogue.last_refusal.empty()) message += fmt::format(" (server said: {})", dialogue.last_refusal);
    if (!submission.password.empty()) log::RegisterSecret(submission.password);
    message = log::Redact(message);

    const bool answered = reply >= 400 && reply < 600;
    ErrorCode error_code = SubmissionErrorCode(reply, code);
    if (!answered && code == CURLE_USE_SSL_FAILED) {
        if (submission.require_starttls) {
            message += " (the server does not offer STARTTLS, which the configuration requires)";
        } else {
            // STARTTLS was required only because there is a password to send: the configuration must change.
            error_code = ErrorCode::kConfig;
            message +=
                " (the server does not offer STARTTLS, so the SMTP password was not sent; use smtps://, a "
                "server with STARTTLS, or set mail.allow_plaintext_auth: true to send it in clear text)";
        }
    }
    return Error{error_code, std::move(message), 0, std::nullopt};
}

}  // namespace

Status SendMail(const MailSubmission& submission) {
    GlobalInit();
    if (submission.smtp_url.rfind("smtp://", 0) != 0 && submission.smtp_url.rfind("smtps://", 0) != 0) {
        return Fail(ErrorCode::kConfig, "SMTP URL must start with smtp:// or smtps://");
    }
    if (submission.recipients.empty()) return Fail(ErrorCode::kInvalidArgument, "mail has no recipients");

    std::unique_ptr<CURL, EasyDeleter> handle(curl_easy_init());
    if (!handle) return Fail(ErrorCode::kInternal, "curl_easy_init failed");
    CURL* h = handle.get();

    char errbuf[CURL_ERROR_SIZE] = {0};
    Upload upload{submission.message, 0};
    Dialogue dialogue;
    std::unique_ptr<curl_slist, SlistDeleter> rcpt;
    for (const auto& recipient : submission.recipients) {
        curl_slist* appended = curl_slist_append(rcpt.get(), BracketAddress(recipient).c_str());
        if (appended == nullptr)
            return Fail(ErrorCode::kInternal, "out of memory building the recipient list");
        (void)rcpt.release();
        rcpt.reset(appended);
    }
    const std::string from = BracketAddress(submission.from);

    SetConnectionOptions(h, submission, errbuf, dialogue);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get());
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(submission.message.size()));
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &ReadMessage);
    curl_easy_setopt(h, CURLOPT_READDATA, &upload);

    const CURLcode code = curl_easy_perform(h);
    if (code == CURLE_OK) return Ok();
    return Fail(MailError(h, code, submission, errbuf, dialogue));
}

Status CheckSmtpLogin(const MailSubmission& submission) {
    GlobalInit();
    if (submission.smtp_url.rfind("smtp://", 0) != 0 && submission.smtp_url.rfind("smtps://", 0) != 0) {
        return Fail(ErrorCode::kConfig, "SMTP URL must start with smtp:// or smtps://");
    }
    std::unique_ptr<CURL, EasyDeleter> handle(curl_easy_init());
    if (!handle) return Fail(ErrorCode::kInternal, "curl_easy_init failed");
    CURL* h = handle.get();
    char errbuf[CURL_ERROR_SIZE] = {0};
    Dialogue dialogue;
    SetConnectionOptions(h, submission, errbuf, dialogue);
    // For SMTP, curl's connect phase is the whole session set-up (greeting, EHLO, STARTTLS, AUTH):
    // stopping there checks the login without sending anything. The cleanup says QUIT.
    curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
    const CURLcode code = curl_easy_perform(h);
    if (code == CURLE_OK) return Ok();
    return Fail(MailError(h, code, submission, errbuf, dialogue));
}

}  // namespace spacehook::httpc
