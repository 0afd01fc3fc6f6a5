#include "docspace/envelope.hpp"

#include <fmt/format.h>

#include <charconv>

#include "core/json_depth.hpp"
#include "core/log.hpp"
#include "httpc/retry_after.hpp"

namespace spacehook::docspace {

namespace {

constexpr std::size_t kMaxQuotedBody = 300;

std::optional<long long> ParseInteger(std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::string ReasonPhrase(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 402:
            return "Payment Required";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 413:
            return "Payload Too Large";
        case 415:
            return "Unsupported Media Type";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        default:
            return "";
    }
}

std::string Quote(std::string_view body) {
    std::string text(body.substr(0, kMaxQuotedBody));
    for (char& c : text) {
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    }
    if (body.size() > kMaxQuotedBody) text += "...";
    return text;
}

/// The portal's words: error.message, or a validation problem's title and per-field errors.
std::string PortalMessage(const Json& body) {
    if (!body.is_object()) return {};
    if (auto it = body.find("error"); it != body.end()) {
        if (it->is_object()) {
            if (auto m = it->find("message"); m != it->end() && m->is_string()) return m->get<std::string>();
        } else if (it->is_string()) {
            return it->get<std::string>();
        }
    }
    // ValidationProblemDetails inside the success envelope (docs/docspace-api.md §2.2).
    const Json* problem = &body;
    if (auto it = body.find("response"); it != body.end() && it->is_object()) problem = &*it;
    std::string text;
    if (auto t = problem->find("title"); t != problem->end() && t->is_string()) text = t->get<std::string>();
    if (auto e = problem->find("errors"); e != problem->end() && e->is_object()) {
        for (const auto& [field, messages] : e->items()) {
            std::string joined;
            if (messages.is_array()) {
                for (const auto& m : messages) {
                    if (m.is_string()) joined += (joined.empty() ? "" : "; ") + m.get<std::string>();
                }
            } else if (messages.is_string()) {
                joined = messages.get<std::string>();
            }
            text += fmt::format("{}{}: {}", text.empty() ? "" : " ", field, joined);
        }
    }
    if (text.empty()) {
        if (auto r = problem->find("response"); r != problem->end() && r->is_string())
            text = r->get<std::string>();
    }
    return text;
}

int EnvelopeStatusCode(const Json& body) {
    if (!body.is_object()) return 0;
    auto it = body.find("statusCode");
    if (it == body.end()) return 0;
    if (it->is_number_integer()) return it->get<int>();
    if (it->is_string()) return static_cast<int>(ParseInteger(it->get<std::string>()).value_or(0));
    return 0;
}

bool EnvelopeSaysError(const Json& body) {
    if (!body.is_object()) return false;
    if (auto it = body.find("error"); it != body.end() && !it->is_null()) return true;
    if (auto it = body.find("status"); it != body.end() && it->is_number_integer() && it->get<int>() != 0)
        return true;
    return false;
}

}  // namespace

ErrorCode ClassifyStatus(int status) {
    if (status >= 200 && status < 300) return ErrorCode::kInternal;
    if (status == 401) return ErrorCode::kUnauthorized;
    if (status == 403) return ErrorCode::kForbidden;
    if (status == 404) return ErrorCode::kNotFound;
    if (status == 408) return ErrorCode::kTimeout;
    if (status == 429) return ErrorCode::kRateLimited;
    if (status >= 500) return ErrorCode::kUnavailable;
    return ErrorCode::kPermanent;
}

std::optional<std::chrono::milliseconds> RetryAfter(const httpc::Response& response, TimePoint now) {
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    if (auto value = response.Header("retry-after")) {
        if (auto wait = httpc::ParseRetryAfter(*value, now)) return wait;
    }
    if (auto value = response.Header("x-ratelimit-reset")) {
        if (auto reset = ParseInteger(*value)) {
            // Seconds until the window resets, or (some proxies) the Unix time at which it does.
            if (*reset > 1'000'000'000LL) {
                const auto when = std::chrono::system_clock::time_point(seconds(*reset));
                return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(when - now));
            }
            return milliseconds(seconds(std::max(0LL, *reset)));
        }
    }
    return std::nullopt;
}

Result<Envelope> ParseEnvelope(const httpc::Response& response, std::string_view what, TimePoint now) {
    const int http_status = response.status;
    Json body;
    bool is_json = false;
    std::string unreadable;  // why a non-empty body is not taken as JSON
    if (!response.body.empty()) {
        // Bounded: the response becomes step outputs and facts that are copied, stored and dumped again,
        // and each of those recurses once per level (core/json_depth.hpp). No portal nests this deep.
        auto parsed = ParseBoundedJson(response.body);
        if (parsed) {
            body = std::move(*parsed);
            is_json = true;
        } else {
            unreadable = parsed.error().message;
        }
    }
    const bool http_ok = http_status >= 200 && http_status < 300;

    if (http_ok && (response.body.empty() || (is_json && !EnvelopeSaysError(body)))) {
        Envelope envelope;
        if (is_json && body.is_object() && body.contains("response")) {
            envelope.response = body["response"];
            if (auto t = body.find("total"); t != body.end() && t->is_number_integer()) {
                envelope.total = t->get<std::int64_t>();
            }
        } else if (is_json) {
            envelope.response = body;  // not wrapped (should not happen; keep what came)
        }
        return envelope;
    }

    // An error. The HTTP status decides, unless the portal answered 2xx and put the real status in the
    // envelope (docs/docspace-api.md §2.2: DocSpace does not always respect status codes).
    int status = http_status;
    if (http_ok) {
        status = is_json ? EnvelopeStatusCode(body) : 0;
        if (status < 400) status = 0;
    }
    std::string portal = is_json ? PortalMessage(body) : std::string();
    ErrorCode code = status == 0 ? ErrorCode::kPermanent : ClassifyStatus(status);
    std::string message;
    if (http_ok && !is_json) {
        code = ErrorCode::kUnavailable;
        message = fmt::format("DocSpace {}: HTTP {} with a body that is not JSON ({}): {}", what, http_status,
                              unreadable, Quote(response.body));
    } else {
        const int shown = status != 0 ? status : http_status;
        message = fmt::format("DocSpace {}: HTTP {}", what, shown);
        if (const auto reason = ReasonPhrase(shown); !reason.empty()) message += " " + reason;
        if (http_ok) message += fmt::format(" (in a {} envelope)", http_status);
        if (!portal.empty()) {
            message += ": " + portal;
        } else if (!is_json && !response.body.empty()) {
            message += ": " + Quote(response.body);
        }
        if (http_status >= 300 && http_status < 400) {
            message +=
                fmt::format(" (redirect to '{}' not followed: check DOCSPACE_API_HOST, e.g. http vs https)",
                            response.Header("location").value_or(""));
        }
        if (code == ErrorCode::kUnauthorized && portal.empty()) message += ": the API key was refused";
    }
    Error error{code, log::Redact(message), status != 0 ? status : http_status, std::nullopt};
    if (code == ErrorCode::kRateLimited || code == ErrorCode::kUnavailable)
        error.retry_after = RetryAfter(response, now);
    return Fail(std::move(error));
}

}  // namespace spacehook::docspace
