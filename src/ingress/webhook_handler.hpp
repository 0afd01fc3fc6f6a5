#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "http/server.hpp"
#include "store/store.hpp"

namespace spacehook::ingress {

/// What the webhook endpoint enforces; filled from the `webhook` and `server` config sections.
struct WebhookOptions {
    /// Every secret that may sign a delivery (rotation: old and new at once).
    std::vector<std::string> secrets;
    /// Accept deliveries that carry no signature header. A delivery that does carry one is still
    /// verified when secrets are configured: a wrong signature is never accepted.
    bool allow_unsigned = false;
    /// Freshness limit on the signed event.createOn; zero = off (docs/docspace-api.md §5).
    std::chrono::milliseconds max_age{0};
    /// Refuse plain-HTTP requests (403) unless they arrived over in-process TLS or through a trusted proxy
    /// that says X-Forwarded-Proto: https.
    bool require_https = false;
    /// Peer addresses whose X-Forwarded-Proto is believed; from anyone else the header is ignored.
    std::vector<std::string> trusted_proxies;
};

/// The webhook endpoint. POST: verify (401, nothing stored) -> parse (400) -> Journal::Append -> 2xx only
/// once the journal commit holding the delivery is durable (202 stored, 200 duplicate), 503 when the
/// store cannot take it (DocSpace retries, docs/docspace-api.md §1.9). Never 410: DocSpace deletes the
/// subscription on 410. HEAD and GET answer 200 because DocSpace probes the URL with HEAD before saving a
/// subscription (docs/docspace-api.md §1.10). Bodies over the server's body limit never reach this handler:
/// the server answers 413.
///
/// Metrics: spacehook_deliveries_total{outcome} and spacehook_ack_latency_seconds (first byte of the
/// request to the 2xx). Error bodies carry only ExternalMessage(code).
///
/// Thread-safety: handlers run on the server's I/O threads and never block; the append completes on the
/// store's writer thread and answers through the Responder. The store callback touches only the Responder
/// and metric series owned by `metrics`, so `metrics` must outlive the store's Close().
class WebhookHandler {
public:
    WebhookHandler(WebhookOptions options, store::Journal& store, MetricsRegistry& metrics,
                   const Clock& clock);
    WebhookHandler(const WebhookHandler&) = delete;
    WebhookHandler& operator=(const WebhookHandler&) = delete;

    /// Routes POST, GET (and through it HEAD) of `path` to this handler. The handler must outlive the
    /// router's handlers.
    void Register(http::Router& router, const std::string& path);

    void HandleDelivery(http::Request&& request, http::Responder respond);
    void HandleProbe(http::Request&& request, http::Responder respond);

    /// Graceful shutdown: deliveries that arrive from now on get 503 and DocSpace retries them later.
    /// Deliveries already handed to the store still get their answer.
    void StopAccepting();

    /// Replaces the options (a reload: new secrets for a rotation, allow_unsigned, max_age). Requests
    /// already being verified finish with the options they started with; none is refused for it.
    void SetOptions(WebhookOptions options);

    /// Labels of spacehook_deliveries_total; every series exists from the start (at 0).
    enum class Outcome {
        kStored,
        kDuplicate,
        kBadSignature,
        kBadRequest,
        kStale,
        kInsecureTransport,
        kStoreUnavailable,
        kShuttingDown,
        kInternalError,
    };
    static std::string_view ToString(Outcome outcome);

private:
    void Answer(const http::Responder& respond, Outcome outcome, ErrorCode code);

    [[nodiscard]] std::shared_ptr<const WebhookOptions> Options() const { return options_.load(); }

    std::atomic<std::shared_ptr<const WebhookOptions>> options_;
    store::Journal& store_;
    const Clock& clock_;
    std::vector<Counter*> outcomes_;  // indexed by Outcome
    Histogram* ack_latency_;
    std::atomic<bool> accepting_{true};
};

/// True when the request reached us over HTTPS: in-process TLS, or a trusted proxy's
/// X-Forwarded-Proto: https (the last entry of a list is the one that proxy set). X-Forwarded-* from any
/// other peer is ignored: anyone can send the header.
bool ArrivedOverHttps(const http::Request& request, const std::vector<std::string>& trusted_proxies);

/// "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) -> "10.0.0.1"; anything else unchanged.
std::string NormalizeAddress(std::string_view address);

}  // namespace spacehook::ingress
