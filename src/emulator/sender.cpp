#include "emulator/sender.hpp"

#include <fmt/format.h>

#include <cmath>
#include <memory>

#include "core/hmac_sha256.hpp"
#include "core/log.hpp"
#include "emulator/envelope.hpp"
#include "emulator/url_guard.hpp"

namespace spacehook::emulator {
namespace {

constexpr std::string_view kLog = "emulator.sender";

std::string HeadersJson(const std::vector<std::pair<std::string, std::string>>& headers) {
    // The portal's log stores HttpHeaders as {"Name":["value"]} (docs/docspace-api.md §1.2).
    OJson o = OJson::object();
    for (const auto& [name, value] : headers) {
        if (!o.contains(name)) o[name] = OJson::array();
        o[name].push_back(value);
    }
    return WriteStj(o);
}

bool Is2xx(int status) {
    return status >= 200 && status <= 299;
}

}  // namespace

std::string StatusFailureText(int status) {
    return fmt::format("Response status code does not indicate success: {} ({}).", status,
                       ReasonPhrase(status));
}

Transport MakeHttpTransport(const std::string& ca_file) {
    httpc::ClientOptions verifying;
    verifying.user_agent.clear();  // DocSpace sends no User-Agent (docs/docspace-api.md §1.2)
    httpc::ClientOptions lenient = verifying;
    lenient.verify_tls = false;
    verifying.ca_file = ca_file;
    auto strict_client = std::make_shared<httpc::Client>(verifying);
    auto lenient_client = std::make_shared<httpc::Client>(lenient);
    return [strict_client, lenient_client](const httpc::Request& request, bool verify_tls) {
        return verify_tls ? strict_client->Send(request) : lenient_client->Send(request);
    };
}

WebhookSender::WebhookSender(WebhookBook& book, const Clock& clock, Transport transport,
                             SenderOptions options)
    : book_(book), clock_(clock), transport_(std::move(transport)), options_(options) {}

WebhookSender::~WebhookSender() {
    Stop();
}

void WebhookSender::Start() {
    std::lock_guard lock(mu_);
    if (!threads_.empty()) return;
    stopping_ = false;
    const int n = std::max(1, options_.threads);
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Run(); });
}

void WebhookSender::Stop() {
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        ++generation_;
        queue_.clear();
        threads.swap(threads_);
    }
    cv_.notify_all();
    for (auto& t : threads) t.join();
    idle_cv_.notify_all();
}

void WebhookSender::Enqueue(std::int64_t log_id) {
    {
        std::lock_guard lock(mu_);
        queue_.push_back(log_id);
    }
    cv_.notify_one();
}

void WebhookSender::CancelAll() {
    {
        std::lock_guard lock(mu_);
        ++generation_;
        queue_.clear();
    }
    cv_.notify_all();
}

bool WebhookSender::WaitIdle(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mu_);
    return idle_cv_.wait_for(lock, timeout, [&] { return queue_.empty() && busy_ == 0; });
}

std::vector<AttemptRecord> WebhookSender::Attempts() const {
    std::lock_guard lock(mu_);
    return attempts_;
}

void WebhookSender::ClearAttempts() {
    std::lock_guard lock(mu_);
    attempts_.clear();
    counters_.clear();
    give_up_ = GiveUpRule{};
}

std::map<std::string, std::int64_t> WebhookSender::Counters() const {
    std::lock_guard lock(mu_);
    return counters_;
}

void WebhookSender::Count(const std::string& name) {
    std::lock_guard lock(mu_);
    ++counters_[name];
}

void WebhookSender::Run() {
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        const auto log_id = queue_.front();
        queue_.pop_front();
        const auto generation = generation_;
        ++busy_;
        lock.unlock();
        try {
            Deliver(log_id, generation);
        } catch (const std::exception& e) {
            log::Error(kLog, "delivery failed unexpectedly", {{"log_id", log_id}, {"error", e.what()}});
        }
        lock.lock();
        --busy_;
        if (queue_.empty() && busy_ == 0) idle_cv_.notify_all();
    }
}

bool WebhookSender::Wait(std::chrono::milliseconds delay, std::uint64_t generation) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, delay, [&] { return stopping_ || generation_ != generation; });
}

void WebhookSender::GiveUp(int count, int status, std::int64_t webhook_id) {
    std::lock_guard lock(mu_);
    give_up_ = GiveUpRule{count, status, webhook_id};
}

int WebhookSender::GiveUpLeft() const {
    std::lock_guard lock(mu_);
    return give_up_.count;
}

bool WebhookSender::TakeGiveUp(std::int64_t webhook_id, int& status) {
    std::lock_guard lock(mu_);
    if (give_up_.count <= 0) return false;
    if (give_up_.webhook_id != 0 && give_up_.webhook_id != webhook_id) return false;
    --give_up_.count;
    status = give_up_.status;
    return true;
}

void WebhookSender::Deliver(std::int64_t log_id, std::uint64_t generation) {
    auto entry = book_.Entry(log_id);
    if (!entry) return;
    // The config is read once per Send, as DocSpace does; later edits do not change this delivery.
    const auto config = book_.Get(entry->config_id);
    if (!config) return;  // the row is not listed any more either: the log joins its config

    {
        // UrlValidator runs before every send; the blacklist only with the SSRF guard on.
        bool blacklisted = false;
        if (auto problem = ValidateWebhookUrl(config->uri, config->ssl, options_.ssrf_guard, blacklisted)) {
            // Blacklisted -> the config is deleted; any other validation failure disables it (§1.9). The
            // row is left as published: status 0, the published body.
            if (blacklisted) {
                book_.Remove(config->id);
                Count("webhooks_deleted_blacklist");
            } else {
                book_.SetEnabled(config->id, false);
                Count("webhooks_disabled");
            }
            log::Warn(kLog, "webhook URL refused at send time",
                      {{"webhook", config->id}, {"reason", *problem}});
            return;
        }
    }

    // Tests make the sender give up as if the receiver never answered (or answered `status`).
    int forced_status = 0;
    const bool forced = TakeGiveUp(config->id, forced_status);
    // DocSpace reads the stored body once, then re-serializes it for every attempt (§1.9).
    const std::string stored = entry->request_payload;
    const auto verify_tls = config->ssl;
    RetryFields retry;
    TimePoint previous_retry_on = clock_.Now();  // the first request time, for retry 1's lastFailureOn
    std::string last_error;
    int last_status = 0;
    bool http_failure = false;  // HttpRequestException (status or transport), not a timeout
    bool succeeded = false;
    std::string response_payload;
    std::string response_headers;

    for (int attempt = 0; attempt <= options_.retry_count; ++attempt) {
        if (attempt > 0) {
            const auto delay = std::chrono::milliseconds(static_cast<std::int64_t>(
                std::llround(options_.retry_base_seconds * 1000.0 * std::pow(2.0, attempt - 1))));
            if (!Wait(delay, generation)) return;  // stopped or reset: abandoned, as on a portal restart
            retry.last_failure_on = previous_retry_on;
            retry.last_failure_content = last_error;
            if (auto fresh = book_.Get(config->id)) {
                retry.last_success_on = fresh->last_success_on;
            } else {
                retry.last_success_on = config->last_success_on;
            }
            retry.retry_count = attempt;
            retry.retry_on = clock_.Now();
            previous_retry_on = retry.retry_on;
        } else {
            previous_retry_on = clock_.Now();
        }
        // Re-serialized and re-signed on every attempt (docs/docspace-api.md §1.3).
        const std::string body = BuildAttemptBody(stored, entry->id, attempt > 0 ? &retry : nullptr);
        const std::string signature = "sha256=" + HmacSha256Hex(config->secret, body, true);

        httpc::Request request;
        request.method = "POST";
        request.url = config->uri;
        request.headers = {{"Accept", "*/*"},
                           {"Content-Type", "application/json; charset=utf-8"},
                           {"x-docspace-signature-256", signature}};
        request.body = body;
        request.total_timeout = options_.timeout;
        request.connect_timeout = std::min(options_.timeout, std::chrono::milliseconds(10000));

        AttemptRecord record;
        record.log_id = entry->id;
        record.attempt = attempt;
        record.webhook_id = config->id;
        record.trigger = entry->trigger_name;
        record.url = config->uri;
        record.request_headers = request.headers;
        record.body = body;
        record.sent_at = clock_.Now();
        record.monotonic_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - epoch_)
                .count();

        const auto request_start = std::chrono::steady_clock::now();
        Result<httpc::Response> response = Fail(ErrorCode::kUnavailable, "given up by the control API");
        if (!forced) {
            response = transport_(request, verify_tls);
        } else if (forced_status != 0) {
            httpc::Response answer;
            answer.status = forced_status;
            response = answer;
        }
        record.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - request_start)
                                 .count();
        entry->request_headers = HeadersJson({{"Accept", "*/*"}, {"x-docspace-signature-256", signature}});
        entry->request_payload = body;
        if (response) {
            last_status = response->status;
            record.status = response->status;
            if (Is2xx(response->status)) {
                succeeded = true;
                response_payload = response->body;
                response_headers = HeadersJson(response->headers);
            } else {
                last_error = StatusFailureText(response->status);
                http_failure = true;
            }
        } else if (response.error().code == ErrorCode::kTimeout) {
            last_status = 500;  // a TaskCanceledException is logged as 500 (docs/docspace-api.md §1.9)
            last_error = fmt::format(
                "The request was canceled due to the configured HttpClient.Timeout of {} seconds elapsing.",
                options_.timeout.count() / 1000);
            http_failure = false;
        } else {
            last_status = 0;  // never answered
            const auto parsed = ParseHttpUrl(config->uri);
            last_error = parsed ? fmt::format("Connection refused ({}:{})", parsed->host, parsed->port)
                                : "An error occurred while sending the request.";
            http_failure = true;
        }
        record.error = succeeded ? std::string() : last_error;
        {
            std::lock_guard lock(mu_);
            attempts_.push_back(record);
            ++counters_["delivery_attempts"];
        }
        if (succeeded) break;
    }

    const auto now = clock_.Now();
    if (!succeeded && last_status == 410) {
        // After the retries, a final 410 Gone deletes the subscription (docs/docspace-api.md §1.9) before
        // the row is updated: the row keeps its published body and status 0, and goes with its config.
        book_.Remove(config->id);
        Count("deliveries_failed");
        Count("webhooks_deleted_gone");
        log::Info(kLog, "webhook deleted after 410 Gone", {{"webhook", config->id}});
        return;
    }
    entry->status = last_status;
    entry->finished = true;
    if (succeeded) {
        entry->delivery = now;
        entry->response_payload = response_payload;
        entry->response_headers = response_headers;
        book_.UpdateEntry(*entry);
        book_.MarkSuccess(config->id, now, last_status);
        Count("deliveries_succeeded");
        return;
    }
    // The log keeps the failure's message as the response and no response headers.
    entry->response_payload = last_error;
    entry->response_headers.clear();
    book_.UpdateEntry(*entry);
    book_.MarkFailure(config->id, now, last_error, last_status);
    Count("deliveries_failed");
    if (http_failure) {
        const auto fresh = book_.Get(config->id);
        const WebhookConfig& current = fresh ? *fresh : *config;
        const TimePoint since = current.last_success_on.value_or(current.created_on);
        if (now - since > options_.trusted_period) {
            book_.SetEnabled(config->id, false);
            Count("webhooks_disabled");
            log::Info(kLog, "webhook disabled: no success within the trusted period",
                      {{"webhook", config->id}});
        }
    }
}

}  // namespace spacehook::emulator
