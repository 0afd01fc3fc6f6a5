#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "emulator/webhook_book.hpp"
#include "httpc/client.hpp"

namespace spacehook::emulator {

/// Sends one request. `verify_tls` is false for ssl=false configs (DocSpace's
/// webhookHttpClientSslIgnore, docs/docspace-api.md §1.9). Injected so the retry logic is testable without
/// sockets.
using Transport = std::function<Result<httpc::Response>(const httpc::Request&, bool verify_tls)>;

/// A Transport over two httpc::Clients (verifying and not), no User-Agent, redirects not followed.
/// `ca_file`, when set, is the CA bundle the verifying client trusts (a receiver with a test certificate).
Transport MakeHttpTransport(const std::string& ca_file = {});

struct SenderOptions {
    double retry_base_seconds = 1.0;
    int retry_count = 5;
    int threads = 10;
    std::chrono::milliseconds timeout{100000};
    bool ssrf_guard = false;
    /// `webhooks:trustedDaysCount` (3 days): a final failure this long after the last success (or the
    /// creation) disables the config (docs/docspace-api.md §1.9).
    std::chrono::hours trusted_period{72};
};

/// One attempt as the emulator saw it (for tests: schedule, bodies, signatures).
struct AttemptRecord {
    std::int64_t log_id = 0;
    int attempt = 0;  ///< 0 = first try, 1..5 = retries
    std::int64_t webhook_id = 0;
    std::string trigger;
    std::string url;
    std::vector<std::pair<std::string, std::string>> request_headers;
    std::string body;
    int status = 0;     ///< HTTP status, 0 when no answer
    std::string error;  ///< the .NET-style failure text, empty on success
    TimePoint sent_at{};
    std::int64_t monotonic_ms = 0;  ///< steady clock, for measuring the backoff exactly
    /// From sending the request to the answer (or the failure): how long the receiver took to ack.
    std::int64_t duration_ms = 0;
};

/// DocSpace's WebhookSender (docs/docspace-api.md §1.2, §1.3, §1.9): up to `threads` deliveries at once in no
/// particular order; per delivery 1 try + `retry_count` retries inline, waiting base x 1, 2, 4, 8, 16;
/// every retry re-serialized with the `webhook.retry*` fields and re-signed; only 2xx succeeds; a
/// final 410 deletes the config; a final HTTP failure past the trusted period disables it.
class WebhookSender {
public:
    WebhookSender(WebhookBook& book, const Clock& clock, Transport transport, SenderOptions options);
    ~WebhookSender();
    WebhookSender(const WebhookSender&) = delete;
    WebhookSender& operator=(const WebhookSender&) = delete;

    void Start();
    void Stop();
    void Enqueue(std::int64_t log_id);
    /// Drops queued deliveries and makes running ones stop after their current attempt.
    void CancelAll();
    /// True once nothing is queued or running, within `timeout`.
    bool WaitIdle(std::chrono::milliseconds timeout) const;
    /// The next `count` deliveries (of `webhook_id`; 0 = any) never reach the receiver: every attempt
    /// fails as if nothing answered (`status` 0) or the receiver answered `status`, so the sender
    /// retries and gives up exactly as it would. Replaces an earlier rule.
    void GiveUp(int count, int status, std::int64_t webhook_id);
    /// Deliveries still to give up on.
    [[nodiscard]] int GiveUpLeft() const;

    [[nodiscard]] std::vector<AttemptRecord> Attempts() const;
    void ClearAttempts();
    /// deliveries_succeeded, deliveries_failed, delivery_attempts, webhooks_deleted_gone, ...
    [[nodiscard]] std::map<std::string, std::int64_t> Counters() const;

private:
    void Run();
    void Deliver(std::int64_t log_id, std::uint64_t generation);
    /// Sleeps up to `delay`; false when stopped or cancelled meanwhile.
    bool Wait(std::chrono::milliseconds delay, std::uint64_t generation);
    void Count(const std::string& name);
    /// Consumes one use of the give-up rule for a delivery of `webhook_id`.
    bool TakeGiveUp(std::int64_t webhook_id, int& status);

    struct GiveUpRule {
        int count = 0;
        int status = 0;
        std::int64_t webhook_id = 0;
    };

    WebhookBook& book_;
    const Clock& clock_;
    Transport transport_;
    SenderOptions options_;

    mutable std::mutex mu_;
    mutable std::condition_variable cv_;       // queue changes, stop, cancel
    mutable std::condition_variable idle_cv_;  // busy/queue drained
    std::deque<std::int64_t> queue_;
    int busy_ = 0;
    bool stopping_ = false;
    std::uint64_t generation_ = 0;
    std::vector<std::thread> threads_;
    std::vector<AttemptRecord> attempts_;
    std::map<std::string, std::int64_t> counters_;
    GiveUpRule give_up_;
    const std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
};

/// The text .NET's HttpRequestException carries for a non-2xx answer:
/// "Response status code does not indicate success: 503 (Service Unavailable)."
std::string StatusFailureText(int status);

}  // namespace spacehook::emulator
