#include "httpc/client.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

#include "core/log.hpp"
#include "core/text.hpp"
#include "httpc/url_text.hpp"

namespace spacehook::httpc {

namespace {

/// Transport failures: a deadline is kTimeout, a malformed request is our bug (kInvalidArgument),
/// everything else (DNS, refused, reset, TLS) is kUnavailable, worth retrying later.
ErrorCode ClassifyCurlCode(CURLcode code) {
    switch (code) {
        case CURLE_OPERATION_TIMEDOUT:
            return ErrorCode::kTimeout;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_BAD_FUNCTION_ARGUMENT:
            return ErrorCode::kInvalidArgument;
        default:
            return ErrorCode::kUnavailable;
    }
}

std::string CurlErrorText(CURLcode code, const char* errbuf) {
    std::string text =
        (errbuf != nullptr && errbuf[0] != '\0') ? std::string(errbuf) : curl_easy_strerror(code);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

struct Transfer {
    Response response;
    bool in_headers = true;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    transfer->response.body.append(data, size * count);
    return size * count;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::string_view line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {
        // A new status line starts a new header block (after a 100 Continue, say): keep only the last.
        transfer->response.headers.clear();
        return line.size();
    }
    const auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        transfer->response.headers.emplace_back(ToLower(Trim(line.substr(0, colon))),
                                                std::string(Trim(line.substr(colon + 1))));
    }
    return line.size();
}

/// What the socket callback needs to ask the guard, and what it answered.
struct GuardCheck {
    const OutboundGuard* guard = nullptr;
    std::string host;
    std::string refusal;  ///< the last refused address's reason
};

// curl asks for a socket for each address it tries: an address the guard refuses gets none, so nothing
// is ever sent to it (curl then tries the next address, or fails with COULDNT_CONNECT).
curl_socket_t OpenCheckedSocket(void* user, curlsocktype /*purpose*/, curl_sockaddr* address) {
    auto* check = static_cast<GuardCheck*>(user);
    IpAddress ip;
    std::uint16_t port = 0;
    if (address->family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&address->addr);
        std::memcpy(ip.bytes.data(), &in->sin_addr, 4);
        port = ntohs(in->sin_port);
    } else if (address->family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address->addr);
        ip.v6 = true;
        std::memcpy(ip.bytes.data(), &in6->sin6_addr, 16);
        port = ntohs(in6->sin6_port);
        // An IPv4-mapped address is its IPv4 address (IpAddress::Parse reads it so too).
        if (auto mapped = IpAddress::Parse(ip.ToString())) ip = *mapped;
    } else {
        check->refusal = "not an IP address";
        return CURL_SOCKET_BAD;
    }
    if (auto refusal = check->guard->Refusal(ip, port, check->host)) {
        check->refusal = std::move(*refusal);
        return CURL_SOCKET_BAD;
    }
    return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

Slist Append(Slist list, const std::string& item) {
    curl_slist* raw = curl_slist_append(list.get(), item.c_str());
    if (raw == nullptr) return list;  // out of memory: the header is lost, curl reports the rest
    (void)list.release();
    return Slist(raw);
}

}  // namespace

std::optional<std::string> Response::Header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
        if (name == lower_name) return value;
    }
    return std::nullopt;
}

class Client::Impl {
public:
    explicit Impl(ClientOptions options) : options_(std::move(options)) {}

    ~Impl() {
        for (CURL* handle : idle_) curl_easy_cleanup(handle);
    }

    /// An easy handle with its live connections, or a new one. Handles are used by one thread at a time.
    CURL* Take() {
        {
            std::lock_guard lock(mu_);
            if (!idle_.empty()) {
                CURL* handle = idle_.back();
                idle_.pop_back();
                return handle;
            }
        }
        return curl_easy_init();
    }

    /// Back to the pool: curl_easy_reset keeps live connections, so the next request to the same host
    /// reuses the socket (keep-alive). Beyond max_idle_handles the handle and its connections go.
    void Give(CURL* handle) {
        curl_easy_reset(handle);
        {
            std::lock_guard lock(mu_);
            if (idle_.size() < options_.max_idle_handles) {
                idle_.push_back(handle);
                return;
            }
        }
        curl_easy_cleanup(handle);
    }

    Result<Response> Send(const Request& request) {
        CURL* handle = Take();
        if (handle == nullptr) return Fail(ErrorCode::kInternal, "curl_easy_init failed");
        auto result = Perform(handle, request);
        Give(handle);
        return result;
    }

private:
    Result<Response> Perform(CURL* handle, const Request& request) {
        Transfer transfer;
        char errbuf[CURL_ERROR_SIZE] = {0};

        curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
        curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
        curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                         static_cast<long>(request.connect_timeout.count()));
        curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(request.total_timeout.count()));
        // Redirects are answers, not something to chase: a 3xx from the portal means a wrong base URL.
        curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
        curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
        if (!options_.ca_file.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, options_.ca_file.c_str());
        if (!options_.user_agent.empty())
            curl_easy_setopt(handle, CURLOPT_USERAGENT, options_.user_agent.c_str());
        curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &WriteBody);
        curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
        curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &WriteHeader);
        curl_easy_setopt(handle, CURLOPT_HEADERDATA, &transfer);
        GuardCheck guard_check{options_.guard.get(), std::string(UrlHost(request.url)), {}};
        if (options_.guard) {
            curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, &OpenCheckedSocket);
            curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, &guard_check);
            // A proxy would be the address checked, not the target: guarded requests go direct.
            curl_easy_setopt(handle, CURLOPT_PROXY, "");
            // A connection kept alive from before was checked when it was opened, to the same host and
            // port; it is reused as it is.
        }

        const std::string method = request.method.empty() ? "GET" : request.method;
        if (method == "HEAD") {
            curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
        } else if (request.body.empty() && method != "POST" && method != "PUT" && method != "PATCH") {
            // GET, DELETE, ... without a body: no Content-Length or form Content-Type either.
            curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
            if (method != "GET") curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, method.c_str());
        } else {
            // POSTFIELDS gives curl the body and its length; CUSTOMREQUEST turns POST into PUT/DELETE/...
            curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                             static_cast<curl_off_t>(request.body.size()));
            curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
            if (method != "POST") curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, method.c_str());
        }

        Slist headers;
        for (const auto& [name, value] : request.headers)
            headers = Append(std::move(headers), fmt::format("{}: {}", name, value));
        // No "Expect: 100-continue" round trip for larger bodies; DocSpace answers in one go.
        headers = Append(std::move(headers), "Expect:");
        curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());

        const CURLcode code = curl_easy_perform(handle);
        // The header list and error buffer live on this stack frame; the pooled handle must not keep them.
        curl_easy_setopt(handle, CURLOPT_HTTPHEADER, nullptr);
        curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, nullptr);
        if (code != CURLE_OK && !guard_check.refusal.empty()) {
            // Nothing was sent. Where the request goes came from the rule or the event, and a retry goes
            // to the same place: permanent.
            return Fail(ErrorCode::kPermanent,
                        log::Redact(fmt::format("{} {}: refused: {}", method, UrlForMessage(request.url),
                                                guard_check.refusal)));
        }
        if (code != CURLE_OK) {
            Error error{
                ClassifyCurlCode(code),
                fmt::format("{} {}: {}", method, UrlForMessage(request.url), CurlErrorText(code, errbuf)), 0,
                std::nullopt};
            error.message = log::Redact(error.message);
            return Fail(std::move(error));
        }
        long status = 0;
        curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
        transfer.response.status = static_cast<int>(status);
        return std::move(transfer.response);
    }

    ClientOptions options_;
    std::mutex mu_;
    std::vector<CURL*> idle_;
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
    GlobalInit();
}

Client::~Client() = default;

Result<Response> Client::Send(const Request& request) {
    return impl_->Send(request);
}

void GlobalInit() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string UrlEncode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() * 3);
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0x0F];
        }
    }
    return out;
}

}  // namespace spacehook::httpc
