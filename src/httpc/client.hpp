#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/outbound_guard.hpp"

namespace spacehook::httpc {

/// One outbound HTTP request.
struct Request {
    std::string method = "GET";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds total_timeout{30000};
};

/// The answer, whatever its status: HTTP errors are not transport errors, the caller classifies them.
struct Response {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
    std::string body;

    [[nodiscard]] std::optional<std::string> Header(std::string_view lower_name) const;
};

struct ClientOptions {
    bool verify_tls = true;             ///< never turned off silently: the option is named in config
    std::string ca_file;                ///< extra CA bundle (tests with a self-signed portal)
    std::size_t max_idle_handles = 16;  ///< keep-alive connections kept per Client
    std::string user_agent = "spacehook/0.1";
    /// Checks every address before connecting to it (after DNS): a refused one fails the request with
    /// kPermanent and the guard's reason. nullptr: no checks (the portal, whose address is configured).
    std::shared_ptr<const OutboundGuard> guard;
};

/// A thread-safe HTTP client over libcurl with connection reuse (a pool of easy handles; each keeps its
/// connections alive). libcurl stays inside src/httpc. Transport failures map to kUnavailable
/// (connect/reset/DNS/TLS) or kTimeout; the message never contains request headers (they carry keys).
class Client {
public:
    explicit Client(ClientOptions options = {});
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    Result<Response> Send(const Request& request);

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

/// One message to hand to an SMTP server. `message` is the complete RFC 5322 text (headers + body,
/// CRLF line ends); building it is src/notify's job.
struct MailSubmission {
    std::string smtp_url;  ///< smtp://host:port or smtps://host:port
    std::string username;  ///< empty: no AUTH
    std::string password;
    bool require_starttls = false;  ///< smtp:// + STARTTLS required (CURLUSESSL_ALL); otherwise opportunistic
    /// smtp:// with a username: without it, STARTTLS is required whatever require_starttls says, so the
    /// password never goes out in clear text; with it, a server without STARTTLS gets it in clear.
    bool allow_plaintext_auth = false;
    bool verify_tls = true;
    std::string from;                     ///< envelope sender (address only)
    std::vector<std::string> recipients;  ///< envelope recipients (addresses only)
    std::string message;
    std::chrono::milliseconds timeout{30000};
};

/// Sends a mail through libcurl's SMTP. Transient (kUnavailable/kTimeout) for connection problems and
/// 4xx SMTP replies, kPermanent for 5xx replies (rejected recipient, auth failure).
Status SendMail(const MailSubmission& submission);
/// Connects to `submission`'s server and logs in as SendMail would (STARTTLS, AUTH), then says QUIT:
/// nothing is sent. For `spacehook doctor`. The same error classes as SendMail; a refused login is
/// kPermanent with the server's reply.
Status CheckSmtpLogin(const MailSubmission& submission);

/// curl_global_init; call once from main before threads start. Safe to call twice.
void GlobalInit();

/// Percent-encodes a URL component (query value, path segment).
std::string UrlEncode(std::string_view text);

}  // namespace spacehook::httpc
