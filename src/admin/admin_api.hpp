#pragma once

#include <atomic>
#include <functional>
#include <limits>
#include <memory>
#include <string>

#include "admin/blocking_call_queue.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "http/server.hpp"
#include "store/store.hpp"

namespace spacehook::admin {

struct AdminOptions {
    /// Bearer token for /admin and /admin/api/*; empty = those routes answer local requests only.
    std::string token;
    /// What GET /admin/api/status answers (serve: watch::StatusJson); unset, the route is 404.
    std::function<Result<Json>()> status{};
    /// The loaded rules as GET /admin/api/rules shows them (serve: rules::RuleSummariesJson of the live set);
    /// unset, the route is 404.
    std::function<Json()> rules{};
    /// How the loaded rules judge a stored delivery, as `spacehook test-rule` explains it without facts
    /// (serve: rules::ExplainEvent over the live set); unset, GET /admin/api/events/{seq}/explain is 404.
    std::function<Result<std::string>(std::string_view body)> explain{};
};

/// The operator's surface over HTTP, served on its own listener (`admin.listen`, loopback by default) so
/// none of it faces the portal; the webhook listener carries only the webhook path and /healthz
/// (RegisterHealthz):
///  - GET /healthz   the process is up (always 200);
///  - GET /readyz    Store::Ping succeeds (200) or not (503): a load balancer stops sending deliveries;
///  - GET /metrics   Prometheus text: everything in the registry, plus store gauges refreshed per scrape;
///  - /admin/api/... JSON over the journal, runs and dead letters, with retry/drop/replay actions;
///  - GET /admin     the web view over that API (web/, embedded at build time; its files under
///                   /admin/assets/).
/// /healthz, /readyz and /metrics are open (metrics carry no secrets and no ids); the rest needs
/// CheckAdminAccess. Store calls run on a BlockingCallQueue, never on the I/O threads. A POST that only
/// the loopback rule lets in (no token configured) must also carry the process's CSRF token in
/// X-Spacehook-Csrf (GET /admin/api/session): a page elsewhere can neither read that nor guess it. Every
/// POST is logged (component "audit") with who made it, from where, what, and the answer's status.
///
/// API:
///   GET  /admin/api/session                                    {"csrf_token", "access": token|local}
///   GET  /admin/api/events[?state=&trigger=&since=&until=&q=&limit=&before=]
///                                                              {"events":[...], "next_before": seq|null}
///   GET  /admin/api/events/{seq}                               the event with its body
///   GET  /admin/api/events/{seq}/explain                       {"explanation": text}: why rules match or not
///   POST /admin/api/events/{seq}/replay                        dispatch again (fresh run keys)
///   GET  /admin/api/runs[?state=&rule=&event=&since=&until=&limit=&before=]
///                                                              {"runs":[...], "next_before": id|null}
///   GET  /admin/api/runs/{id}                                  the run with context and "steps"
///   GET  /admin/api/dlq[?limit=]                               {"dead_letters":[...]}
///   POST /admin/api/dlq/{run|event}/{id}/retry                 back in the queue
///   POST /admin/api/dlq/{run|event}/{id}/drop                  off the list for good
///   POST /admin/api/dlq/retry|drop[?kind=&rule=&since=]        every dead letter the filter takes, at once
///   GET  /admin/api/status                                     portal, subscription, catch-up, backlog
///   GET  /admin/api/rules                                      {"rules":[... with "runs" counts]}
/// since/until: ISO-8601 times (until excluded); q: an entity id, or text anywhere in the delivery.
/// Errors: {"error": <external message>} plus "detail" for the caller's own mistakes (4xx).
class AdminApi {
public:
    AdminApi(AdminOptions options, store::Admin& store, MetricsRegistry& metrics, const Clock& clock);
    AdminApi(const AdminApi&) = delete;
    AdminApi& operator=(const AdminApi&) = delete;

    /// Adds every route above. The AdminApi must outlive the router's handlers and the server's
    /// in-flight requests.
    void Register(http::Router& router);
    /// Adds only GET /healthz (the webhook listener's liveness probe).
    static void RegisterHealthz(http::Router& router);
    /// Replaces the bearer token (a reload); requests already checked keep their verdict.
    void SetToken(std::string token);

private:
    void Readyz(http::Responder respond);
    void Metrics(http::Responder respond);
    void Events(const http::Request& request, http::Responder respond);
    void EventItem(const http::Request& request, http::Responder respond);
    void Runs(const http::Request& request, http::Responder respond);
    void RunItem(const http::Request& request, http::Responder respond);
    void DeadLetters(const http::Request& request, http::Responder respond);
    void DeadLetterAction(const http::Request& request, http::Responder respond);
    void BulkDeadLetterAction(bool retry, const http::Request& request, http::Responder respond);
    void StatusReport(const http::Request& request, http::Responder respond);
    void Session(const http::Request& request, http::Responder respond);
    void Rules(const http::Request& request, http::Responder respond);
    /// GET /admin and /admin/assets/{name}: the web view's files.
    void RegisterPage(http::Router& router);
    void RefreshStoreGauges();

    /// Checks access, then runs `call` on the blocking queue (503 when it is full).
    http::Handler Protected(void (AdminApi::*call)(const http::Request&, http::Responder));

    std::atomic<std::shared_ptr<const std::string>> token_;
    std::function<Result<Json>()> status_;
    /// What a loopback-only POST must echo back (X-Spacehook-Csrf); new with each process.
    const std::string csrf_token_;
    std::function<Json()> rules_;
    std::function<Result<std::string>(std::string_view)> explain_;
    store::Admin& store_;
    MetricsRegistry& metrics_;
    const Clock& clock_;
    BlockingCallQueue calls_;
    /// The store's commit count as of the last scrape; shared with the registry's callback, which may
    /// outlive this object.
    std::shared_ptr<std::atomic<double>> store_commits_ptr_ =
        std::make_shared<std::atomic<double>>(std::numeric_limits<double>::quiet_NaN());
};

}  // namespace spacehook::admin
