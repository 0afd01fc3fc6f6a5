#include "admin/admin_api.hpp"

#include <cctype>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "admin/access.hpp"
#include "admin/record_json.hpp"
#include "admin/status_page.hpp"
#include "core/log.hpp"

namespace spacehook::admin {

namespace {

constexpr std::string_view kComponent = "admin";
constexpr std::size_t kDefaultLimit = 50;
constexpr std::size_t kMaxLimit = 1000;

http::Response JsonOk(const Json& body) {
    return http::Response::Json(200, body.dump());
}

// A failure of the caller's own making (bad parameter, unknown id) says what was wrong; anything else
// says only its class, and the detail goes to the log.
http::Response ErrorResponse(const Error& error) {
    const int status = HttpStatus(error.code);
    Json body = {{"error", ExternalMessage(error.code)}};
    if (status >= 400 && status < 500) {
        body["detail"] = log::Redact(error.message);
    } else {
        log::Warn(kComponent, "admin request failed", {{"error", error.message}});
    }
    return http::Response::Json(status, body.dump());
}

std::optional<std::int64_t> ParseId(std::string_view text) {
    if (text.empty() || text.size() > 18) return std::nullopt;
    std::int64_t value = 0;
    for (const char c : text) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return value;
}

// "/admin/api/dlq/run/5/retry" after "/admin/api/dlq/" -> {"run", "5", "retry"}.
std::vector<std::string_view> Segments(std::string_view path, std::string_view prefix) {
    path.remove_prefix(std::min(prefix.size(), path.size()));
    std::vector<std::string_view> out;
    while (!path.empty()) {
        const auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

struct Paging {
    std::size_t limit = kDefaultLimit;
    std::int64_t before = 0;
};

Result<Paging> ParsePaging(const http::Request& request) {
    Paging paging;
    if (auto limit = request.QueryParam("limit")) {
        const auto n = ParseId(*limit);
        if (!n || *n < 1 || *n > static_cast<std::int64_t>(kMaxLimit)) {
            return Fail(ErrorCode::kInvalidArgument, "limit must be a number from 1 to 1000");
        }
        paging.limit = static_cast<std::size_t>(*n);
    }
    if (auto before = request.QueryParam("before")) {
        const auto n = ParseId(*before);
        if (!n) return Fail(ErrorCode::kInvalidArgument, "before must be a non-negative number");
        paging.before = *n;
    }
    return paging;
}

Error NotFound(std::string message) {
    return Error{ErrorCode::kNotFound, std::move(message), 0, std::nullopt};
}

}  // namespace

AdminApi::AdminApi(AdminOptions options, store::Admin& store, MetricsRegistry& metrics, const Clock& clock)
    : token_(std::make_shared<const std::string>(std::move(options.token))),
      status_(std::move(options.status)),
      store_(store),
      metrics_(metrics),
      clock_(clock) {
    metrics_.AddCounterCallback("spacehook_store_commits_total",
                                "Write transactions committed since start (group commits)",
                                [commits = store_commits_ptr_] { return commits->load(); });
}

http::Handler AdminApi::Protected(void (AdminApi::*call)(const http::Request&, http::Responder)) {
    return [this, call](http::Request&& request, http::Responder respond) {
        if (const auto access = CheckAdminAccess(request, *token_.load()); access != AdminAccess::kAllowed) {
            respond(RefusalResponse(access));
            return;
        }
        auto shared = std::make_shared<http::Request>(std::move(request));
        if (!calls_.Post([this, call, shared, respond] { (this->*call)(*shared, respond); })) {
            respond(http::Response::JsonError(503, ExternalMessage(ErrorCode::kUnavailable)));
        }
    };
}

void AdminApi::SetToken(std::string token) {
    token_.store(std::make_shared<const std::string>(std::move(token)));
}

void AdminApi::RegisterHealthz(http::Router& router) {
    router.Add("GET", "/healthz", [](http::Request&&, http::Responder respond) {
        respond(JsonOk({{"status", "ok"}}));
    });
}

void AdminApi::Register(http::Router& router) {
    RegisterHealthz(router);
    router.Add("GET", "/readyz", [this](http::Request&&, http::Responder respond) {
        if (!calls_.Post([this, respond] { Readyz(respond); })) {
            respond(http::Response::JsonError(503, ExternalMessage(ErrorCode::kUnavailable)));
        }
    });
    router.Add("GET", "/metrics", [this](http::Request&&, http::Responder respond) {
        if (!calls_.Post([this, respond] { Metrics(respond); })) {
            respond(http::Response::JsonError(503, ExternalMessage(ErrorCode::kUnavailable)));
        }
    });

    // The page holds no data, only the code that asks the API (with the token the operator types in),
    // so with a token configured it is served to anyone; without one it is as local as the API.
    auto page = [this](http::Request&& request, http::Responder respond) {
        if (token_.load()->empty()) {
            if (const auto access = CheckAdminAccess(request, ""); access != AdminAccess::kAllowed) {
                respond(RefusalResponse(access));
                return;
            }
        }
        http::Response response{200, "text/html; charset=utf-8", {}, std::string(StatusPageHtml())};
        // Nothing of ours is meant to be framed or to load from elsewhere.
        response.headers.push_back(
            {"Content-Security-Policy",
             "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
             "connect-src 'self'; frame-ancestors 'none'"});
        response.headers.push_back({"Cache-Control", "no-store"});
        respond(std::move(response));
    };
    router.Add("GET", "/admin", page);
    router.Add("GET", "/admin/", page);

    router.Add("GET", "/admin/api/events", Protected(&AdminApi::Events));
    router.AddPrefix("GET", "/admin/api/events/", Protected(&AdminApi::EventItem));
    router.AddPrefix("POST", "/admin/api/events/", Protected(&AdminApi::EventItem));
    router.Add("GET", "/admin/api/runs", Protected(&AdminApi::Runs));
    router.AddPrefix("GET", "/admin/api/runs/", Protected(&AdminApi::RunItem));
    router.Add("GET", "/admin/api/dlq", Protected(&AdminApi::DeadLetters));
    router.AddPrefix("POST", "/admin/api/dlq/", Protected(&AdminApi::DeadLetterAction));
    if (status_) router.Add("GET", "/admin/api/status", Protected(&AdminApi::StatusReport));
}

void AdminApi::Readyz(http::Responder respond) {
    if (auto ping = store_.Ping(); !ping) {
        log::Warn(kComponent, "not ready: the store cannot commit", {{"error", ping.error().message}});
        respond(http::Response::JsonError(503, ExternalMessage(ErrorCode::kUnavailable)));
        return;
    }
    respond(JsonOk({{"status", "ready"}}));
}

void AdminApi::RefreshStoreGauges() {
    auto stats = store_.Stats();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto value = [&](std::int64_t store::StoreStats::*field) {
        return stats ? static_cast<double>((*stats).*field) : nan;
    };
    if (!stats) log::Warn(kComponent, "store statistics unavailable", {{"error", stats.error().message}});
    metrics_.GetGauge("spacehook_journal_events", "Deliveries in the journal")
        .Set(value(&store::StoreStats::events_total));
    metrics_.GetGauge("spacehook_journal_events_pending", "Journaled deliveries not dispatched yet")
        .Set(value(&store::StoreStats::events_pending));
    const char* kRunsHelp = "Runs by state";
    metrics_.GetGauge("spacehook_runs", kRunsHelp, {{"state", "pending"}})
        .Set(value(&store::StoreStats::runs_pending));
    metrics_.GetGauge("spacehook_runs", kRunsHelp, {{"state", "running"}})
        .Set(value(&store::StoreStats::runs_running));
    metrics_.GetGauge("spacehook_runs", kRunsHelp, {{"state", "done"}})
        .Set(value(&store::StoreStats::runs_done));
    metrics_.GetGauge("spacehook_dead_letters", "Dead runs and failed events waiting for an operator")
        .Set(value(&store::StoreStats::dead_letters));
    metrics_.GetGauge("spacehook_store_bytes", "Size of the store on disk (journal, runs, checkpoints)")
        .Set(value(&store::StoreStats::bytes));
    // A counter the store keeps: read at this scrape (the callback registered in the constructor).
    store_commits_ptr_->store(value(&store::StoreStats::commits));
    metrics_.GetGauge("spacehook_store_write_queue", "Writes waiting for the store's writer")
        .Set(value(&store::StoreStats::write_queue));
    // How long the oldest pending work has waited (0 when none): what alerts.backlog_age watches.
    const TimePoint now = clock_.Now();
    auto waited = [&](std::optional<TimePoint> store::StoreStats::*field) {
        if (!stats) return nan;
        const auto& since = (*stats).*field;
        return since ? std::chrono::duration<double>(now - *since).count() : 0.0;
    };
    const char* kOldestHelp = "Seconds the oldest pending event, or the oldest unfinished run, has waited";
    metrics_.GetGauge("spacehook_oldest_pending_seconds", kOldestHelp, {{"kind", "event"}})
        .Set(waited(&store::StoreStats::oldest_pending_event));
    metrics_.GetGauge("spacehook_oldest_pending_seconds", kOldestHelp, {{"kind", "run"}})
        .Set(waited(&store::StoreStats::oldest_live_run));
}

void AdminApi::Metrics(http::Responder respond) {
    RefreshStoreGauges();
    respond(http::Response{200, "text/plain; version=0.0.4; charset=utf-8", {}, metrics_.RenderPrometheus()});
}

void AdminApi::Events(const http::Request& request, http::Responder respond) {
    auto paging = ParsePaging(request);
    if (!paging) return respond(ErrorResponse(paging.error()));
    store::EventFilter filter;
    filter.limit = paging->limit;
    filter.before_seq = paging->before;
    if (auto state = request.QueryParam("state"); state && !state->empty()) {
        filter.state = store::ParseEventState(*state);
        if (!filter.state) {
            return respond(ErrorResponse(Error{
                ErrorCode::kInvalidArgument, "state must be pending, dispatched, ignored or failed", 0, {}}));
        }
    }
    filter.trigger = request.QueryParam("trigger").value_or("");
    auto events = store_.ListEvents(filter);
    if (!events) return respond(ErrorResponse(events.error()));
    Json list = Json::array();
    for (const auto& event : *events) list.push_back(EventJson(event, /*with_body=*/false));
    const bool more = events->size() == filter.limit;
    respond(JsonOk(
        {{"events", std::move(list)}, {"next_before", more ? Json(events->back().seq) : Json(nullptr)}}));
}

void AdminApi::EventItem(const http::Request& request, http::Responder respond) {
    const auto parts = Segments(request.path, "/admin/api/events/");
    const auto seq = parts.empty() ? std::nullopt : ParseId(parts[0]);
    const bool show = request.method == "GET" && parts.size() == 1;
    const bool replay = request.method == "POST" && parts.size() == 2 && parts[1] == "replay";
    if (!seq || (!show && !replay)) return respond(ErrorResponse(NotFound("no such admin route")));
    if (replay) {
        if (auto done = store_.ReplayEvent(*seq, clock_.Now()); !done)
            return respond(ErrorResponse(done.error()));
        log::Info(kComponent, "event replayed by an operator", {{"seq", *seq}});
        return respond(JsonOk({{"status", "replayed"}, {"seq", *seq}}));
    }
    auto event = store_.GetEvent(*seq);
    if (!event) return respond(ErrorResponse(event.error()));
    if (!*event) return respond(ErrorResponse(NotFound("no event with seq " + std::to_string(*seq))));
    respond(JsonOk(EventJson(**event, /*with_body=*/true)));
}

void AdminApi::Runs(const http::Request& request, http::Responder respond) {
    auto paging = ParsePaging(request);
    if (!paging) return respond(ErrorResponse(paging.error()));
    store::RunFilter filter;
    filter.limit = paging->limit;
    filter.before_id = paging->before;
    if (auto state = request.QueryParam("state"); state && !state->empty()) {
        filter.state = store::ParseRunState(*state);
        if (!filter.state) {
            return respond(ErrorResponse(Error{ErrorCode::kInvalidArgument,
                                               "state must be pending, running, done, dead or dropped",
                                               0,
                                               {}}));
        }
    }
    filter.rule = request.QueryParam("rule").value_or("");
    auto runs = store_.ListRuns(filter);
    if (!runs) return respond(ErrorResponse(runs.error()));
    Json list = Json::array();
    for (const auto& run : *runs) list.push_back(RunJson(run, /*with_context=*/false));
    const bool more = runs->size() == filter.limit;
    respond(
        JsonOk({{"runs", std::move(list)}, {"next_before", more ? Json(runs->back().id) : Json(nullptr)}}));
}

void AdminApi::RunItem(const http::Request& request, http::Responder respond) {
    const auto parts = Segments(request.path, "/admin/api/runs/");
    const auto id = parts.size() == 1 ? ParseId(parts[0]) : std::nullopt;
    if (!id) return respond(ErrorResponse(NotFound("no such admin route")));
    auto run = store_.GetRun(*id);
    if (!run) return respond(ErrorResponse(run.error()));
    if (!*run) return respond(ErrorResponse(NotFound("no run with id " + std::to_string(*id))));
    auto steps = store_.GetSteps(*id);
    if (!steps) return respond(ErrorResponse(steps.error()));
    Json body = RunJson(**run, /*with_context=*/true);
    body["steps"] = Json::array();
    for (const auto& step : *steps) body["steps"].push_back(StepJson(step));
    respond(JsonOk(body));
}

void AdminApi::DeadLetters(const http::Request& request, http::Responder respond) {
    auto paging = ParsePaging(request);
    if (!paging) return respond(ErrorResponse(paging.error()));
    auto dead = store_.ListDeadLetters(paging->limit);
    if (!dead) return respond(ErrorResponse(dead.error()));
    Json list = Json::array();
    for (const auto& entry : *dead) list.push_back(DeadLetterJson(entry));
    respond(JsonOk({{"dead_letters", std::move(list)}}));
}

void AdminApi::DeadLetterAction(const http::Request& request, http::Responder respond) {
    const auto parts = Segments(request.path, "/admin/api/dlq/");
    if (parts.size() == 1 && (parts[0] == "retry" || parts[0] == "drop")) {
        return BulkDeadLetterAction(parts[0] == "retry", request, std::move(respond));
    }
    const auto kind = parts.size() == 3 ? ParseDeadLetterKind(parts[0]) : std::nullopt;
    const auto id = parts.size() == 3 ? ParseId(parts[1]) : std::nullopt;
    const std::string_view action = parts.size() == 3 ? parts[2] : std::string_view();
    if (!kind || !id || (action != "retry" && action != "drop")) {
        return respond(ErrorResponse(NotFound("no such admin route")));
    }
    const Status done = action == "retry" ? store_.RetryDeadLetter(*kind, *id, clock_.Now())
                                          : store_.DropDeadLetter(*kind, *id);
    if (!done) return respond(ErrorResponse(done.error()));
    log::Info(kComponent,
              action == "retry" ? "dead letter retried by an operator" : "dead letter dropped by an operator",
              {{"kind", ToString(*kind)}, {"id", *id}});
    respond(JsonOk(
        {{"status", action == "retry" ? "queued" : "dropped"}, {"kind", ToString(*kind)}, {"id", *id}}));
}

void AdminApi::BulkDeadLetterAction(bool retry, const http::Request& request, http::Responder respond) {
    store::DeadLetterFilter filter;
    if (auto kind = request.QueryParam("kind"); kind && !kind->empty()) {
        filter.kind = ParseDeadLetterKind(*kind);
        if (!filter.kind) {
            return respond(
                ErrorResponse(Error{ErrorCode::kInvalidArgument, "kind must be run or event", 0, {}}));
        }
    }
    filter.rule = request.QueryParam("rule").value_or("");
    if (auto since = request.QueryParam("since"); since && !since->empty()) {
        filter.since = ParseIso8601(*since);
        if (!filter.since) {
            return respond(ErrorResponse(Error{ErrorCode::kInvalidArgument,
                                               "since must be an ISO-8601 time like 2026-06-30T10:00:00Z",
                                               0,
                                               {}}));
        }
    }
    auto count = retry ? store_.RetryDeadLetters(filter, clock_.Now()) : store_.DropDeadLetters(filter);
    if (!count) return respond(ErrorResponse(count.error()));
    log::Info(kComponent,
              retry ? "dead letters retried by an operator" : "dead letters dropped by an operator",
              {{"count", *count},
               {"kind", filter.kind ? ToString(*filter.kind) : "any"},
               {"rule", filter.rule},
               {"since", filter.since ? FormatIso8601(*filter.since) : ""}});
    respond(JsonOk({{"status", retry ? "queued" : "dropped"}, {"count", *count}}));
}

void AdminApi::StatusReport(const http::Request&, http::Responder respond) {
    auto status = status_();
    if (!status) return respond(ErrorResponse(status.error()));
    respond(JsonOk(*status));
}

}  // namespace spacehook::admin
