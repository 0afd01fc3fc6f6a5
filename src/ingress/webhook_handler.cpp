#include "ingress/webhook_handler.hpp"

#include <algorithm>
#include <cctype>
#include <exception>

#include "core/enum_names.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "ingress/envelope.hpp"
#include "ingress/signature.hpp"

namespace spacehook::ingress {

namespace {

constexpr std::string_view kComponent = "ingress";
using Outcome = WebhookHandler::Outcome;
// Every outcome, in declaration order: outcomes_ is indexed by the value.
constexpr EnumNames<Outcome, 9> kOutcomeNames{{{
    {Outcome::kStored, "stored"},
    {Outcome::kDuplicate, "duplicate"},
    {Outcome::kBadSignature, "bad_signature"},
    {Outcome::kBadRequest, "bad_request"},
    {Outcome::kStale, "stale"},
    {Outcome::kInsecureTransport, "insecure_transport"},
    {Outcome::kStoreUnavailable, "store_unavailable"},
    {Outcome::kShuttingDown, "shutting_down"},
    {Outcome::kInternalError, "internal_error"},
}}};
static_assert(kOutcomeNames.Unique() && kOutcomeNames.Dense());

// Rejections are attacker-controlled: log the first of a burst and then at most one line per interval,
// so a flood of forged deliveries cannot flood the log. The counters carry the full numbers.
class LogThrottle {
public:
    bool Allow() {
        const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
        auto last = last_.load(std::memory_order_relaxed);
        if (last != 0 && now - last < kInterval) return false;
        return last_.compare_exchange_strong(last, now, std::memory_order_relaxed);
    }

private:
    static constexpr auto kInterval =
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::seconds(10)).count();
    std::atomic<std::chrono::steady_clock::rep> last_{0};
};

LogThrottle g_rejection_log;
LogThrottle g_store_log;

http::Response JsonStatus(int status, std::string_view text) {
    return http::Response::Json(status, "{\"status\":\"" + std::string(text) + "\"}");
}

}  // namespace

std::string_view WebhookHandler::ToString(Outcome outcome) {
    return kOutcomeNames.Name(outcome);
}

WebhookHandler::WebhookHandler(WebhookOptions options, store::Journal& store, MetricsRegistry& metrics,
                               const Clock& clock)
    : options_(std::make_shared<const WebhookOptions>(std::move(options))), store_(store), clock_(clock) {
    for (const auto& [outcome, name] : kOutcomeNames.entries) {
        outcomes_.push_back(&metrics.GetCounter("spacehook_deliveries_total",
                                                "Webhook deliveries received, by what became of them",
                                                {{"outcome", std::string(name)}}));
    }
    ack_latency_ = &metrics.GetHistogram(
        "spacehook_ack_latency_seconds",
        "From the first byte of a delivery to its 2xx answer (after the commit)", LatencyBucketsSeconds());
}

void WebhookHandler::Register(http::Router& router, const std::string& path) {
    router.Add("POST", path,
               [this](http::Request&& r, http::Responder done) { HandleDelivery(std::move(r), done); });
    // HEAD falls back to GET with the body dropped (http::Router): DocSpace's HEAD probe lands here.
    router.Add("GET", path,
               [this](http::Request&& r, http::Responder done) { HandleProbe(std::move(r), done); });
}

void WebhookHandler::StopAccepting() {
    accepting_.store(false, std::memory_order_relaxed);
}

void WebhookHandler::SetOptions(WebhookOptions options) {
    options_.store(std::make_shared<const WebhookOptions>(std::move(options)));
}

void WebhookHandler::Answer(const http::Responder& respond, Outcome outcome, ErrorCode code) {
    outcomes_[static_cast<std::size_t>(outcome)]->Inc();
    respond(http::Response::JsonError(HttpStatus(code), ExternalMessage(code)));
}

void WebhookHandler::HandleProbe(http::Request&& request, http::Responder respond) {
    const auto options = Options();
    if (options->require_https && !ArrivedOverHttps(request, options->trusted_proxies)) {
        respond(http::Response::JsonError(HttpStatus(ErrorCode::kForbidden),
                                          ExternalMessage(ErrorCode::kForbidden)));
        return;
    }
    respond(JsonStatus(200, "ok"));
}

void WebhookHandler::HandleDelivery(http::Request&& request, http::Responder respond) {
    bool handed_to_store = false;
    const auto options = Options();
    try {
        if (!accepting_.load(std::memory_order_relaxed)) {
            Answer(respond, Outcome::kShuttingDown, ErrorCode::kUnavailable);
            return;
        }
        if (options->require_https && !ArrivedOverHttps(request, options->trusted_proxies)) {
            if (g_rejection_log.Allow()) {
                log::Warn(kComponent, "plain-HTTP delivery refused (server.require_https)",
                          {{"remote", request.remote_address}});
            }
            Answer(respond, Outcome::kInsecureTransport, ErrorCode::kForbidden);
            return;
        }

        const std::string* signature = request.FindHeader(kSignatureHeader);
        const bool skip_verification =
            options->allow_unsigned && (signature == nullptr || options->secrets.empty());
        if (!skip_verification) {
            const SignatureVerdict verdict = VerifySignature(signature, request.body, options->secrets);
            if (verdict != SignatureVerdict::kValid) {
                // The header value is never logged: with the body it is an oracle for the secret.
                if (g_rejection_log.Allow()) {
                    log::Warn(kComponent, "delivery with a bad signature refused",
                              {{"reason", ingress::ToString(verdict)}, {"remote", request.remote_address}});
                }
                Answer(respond, Outcome::kBadSignature, ErrorCode::kUnauthorized);
                return;
            }
        }

        auto envelope = ParseEnvelope(request.body);
        if (!envelope) {
            if (g_rejection_log.Allow()) {
                log::Warn(kComponent, "signed delivery refused",
                          {{"reason", envelope.error().message}, {"remote", request.remote_address}});
            }
            Answer(respond, Outcome::kBadRequest, ErrorCode::kInvalidArgument);
            return;
        }
        if (auto headers = CheckTransportHeaders(*envelope, request.FindHeader(kEventIdHeader),
                                                 request.FindHeader(kEventTimestampHeader));
            !headers) {
            if (g_rejection_log.Allow())
                log::Warn(kComponent, "delivery refused", {{"reason", headers.error().message}});
            Answer(respond, Outcome::kBadRequest, ErrorCode::kInvalidArgument);
            return;
        }
        if (auto fresh = CheckFreshness(*envelope, options->max_age, clock_.Now()); !fresh) {
            if (g_rejection_log.Allow()) {
                log::Warn(kComponent, "stale delivery refused",
                          {{"reason", fresh.error().message}, {"event_id", envelope->dedupe_id}});
            }
            Answer(respond, Outcome::kStale, ErrorCode::kInvalidArgument);
            return;
        }

        if (log::CurrentLevel() <= log::Level::kDebug) {
            log::Debug(kComponent, "delivery verified",
                       {{"trigger", envelope->trigger},
                        {"event_id", envelope->dedupe_id},
                        {"retry", envelope->retry_count}});
        }
        // Only metric series (owned by the registry) and the Responder go into the callback, never `this`:
        // it runs on the store's writer thread, possibly while the service is shutting down.
        Counter* stored = outcomes_[static_cast<std::size_t>(Outcome::kStored)];
        Counter* duplicate = outcomes_[static_cast<std::size_t>(Outcome::kDuplicate)];
        Counter* unavailable = outcomes_[static_cast<std::size_t>(Outcome::kStoreUnavailable)];
        Histogram* latency = ack_latency_;
        const auto started = request.started;
        handed_to_store = true;
        store_.Append(
            ToNewDelivery(*envelope, std::move(request.body), clock_.Now()),
            [respond, started, stored, duplicate, unavailable, latency](Result<store::AppendOutcome> r) {
                if (!r) {
                    unavailable->Inc();
                    if (g_store_log.Allow()) {
                        log::Warn(kComponent, "journal append failed; answering 503 so DocSpace retries",
                                  {{"error", r.error().message}});
                    }
                    // Whatever the store's code, the caller learns only "try again later".
                    respond(http::Response::JsonError(HttpStatus(ErrorCode::kUnavailable),
                                                      ExternalMessage(ErrorCode::kUnavailable)));
                    return;
                }
                const bool is_new = *r == store::AppendOutcome::kStored;
                (is_new ? stored : duplicate)->Inc();
                latency->Observe(
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
                respond(is_new ? JsonStatus(202, "stored") : JsonStatus(200, "duplicate"));
            });
    } catch (const std::exception& e) {
        log::Error(kComponent, "delivery handler failed", {{"error", e.what()}});
        if (!handed_to_store) Answer(respond, Outcome::kInternalError, ErrorCode::kInternal);
    }
}

std::string NormalizeAddress(std::string_view address) {
    constexpr std::string_view kMapped = "::ffff:";
    if (address.size() > kMapped.size() && address.substr(0, kMapped.size()) == kMapped &&
        address.find('.') != std::string_view::npos) {
        address.remove_prefix(kMapped.size());
    }
    return std::string(address);
}

bool ArrivedOverHttps(const http::Request& request, const std::vector<std::string>& trusted_proxies) {
    if (request.secure) return true;
    const std::string peer = NormalizeAddress(request.remote_address);
    const bool trusted =
        std::any_of(trusted_proxies.begin(), trusted_proxies.end(),
                    [&](const std::string& proxy) { return NormalizeAddress(proxy) == peer; });
    if (!trusted) return false;
    const std::string* proto = request.FindHeader("x-forwarded-proto");
    if (proto == nullptr) return false;
    std::string_view last = *proto;
    if (const auto comma = last.rfind(','); comma != std::string_view::npos) last.remove_prefix(comma + 1);
    return EqualsIgnoreCase(Trim(last, kHttpWhitespace), "https");
}

}  // namespace spacehook::ingress
