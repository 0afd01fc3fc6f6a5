#include "admin/admin_api.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "admin/access.hpp"
#include "admin/record_json.hpp"
#include "core/log.hpp"
#include "core/random.hpp"

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

/// An optional ISO-8601 time parameter ("since", "until"); empty or absent is nullopt.
Result<std::optional<TimePoint>> ParseTimeParam(const http::Request& request, std::string_view name) {
    const auto text = request.QueryParam(name);
    if (!text || text->empty()) return std::optional<TimePoint>{};
    if (auto time = ParseIso8601(*text)) return std::optional<TimePoint>{*time};
    return Fail(ErrorCode::kInvalidArgument,
                std::string(name) + " must be an ISO-8601 time like 2026-06-30T10:00:00Z");
}

/// Wraps `respond` so the action's answer is logged for the audit trail: who (the admin token, or a local
/// user when none is configured), from where, what, and how it ended.
http::Responder AuditedResponder(const http::Request& request, bool local, http::Responder respond) {
    std::string what = request.method + " " + request.path;
    if (!request.query.empty()) what += "?" + request.query;
    return [what = std::move(what), from = request.remote_address, local,
            respond = std::move(respond)](http::Response response) {
        log::Info("audit", "admin action",
                  {{"who", local ? "local user (no admin token configured)" : "admin token"},
                   {"from", from},
                   {"action", log::Redact(what)},
                   {"status", response.status}});
        respond(std::move(response));
    };
}

Error NotFound(std::string message) {
    return Error{ErrorCode::kNotFound, std::move(message), 0, std::nullopt};
}

}  // namespace

AdminApi::AdminApi(AdminOptions options, store::Admin& store, MetricsRegistry& metrics, const Clock& clock)
    : token_(std::make_shared<const std::string>(std::move(options.token))),
      status_(std::move(options.status)),
      csrf_token_(RandomHexToken(32)),
      rules_(std::move(options.rules)),
      explain_(std::move(options.explain)),
      store_(store),
      metrics_(metrics),
      clock_(clock) {
    metrics_.AddCounterCallback("spacehook_store_commits_total",
                                "Write transactions committed since start (group commits)",
                                [commits = store_commits_ptr_] { return commits->load(); });
}

http::Handler AdminApi::Protected(void (AdminApi::*call)(const http::Request&, http::Responder)) {
    return [this, call](http::Request&& request, http::Responder respond) {
        const auto token = token_.load();
        if (const auto access = CheckAdminAccess(request, *token); access != AdminAccess::kAllowed) {
            respond(RefusalResponse(access));
            return;
        }
        if (request.method == "POST") {
            // A bearer token is never sent by a browser on its own, so only the loopback rule needs this.
            if (token->empty() && !CarriesCsrfToken(request, csrf_token_)) {
                respond(CsrfRefusal());
                return;
            }
            respond = AuditedResponder(request, token->empty(), std::move(respond));
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

    RegisterPage(router);
    router.Add("GET", "/admin/api/session", Protected(&AdminApi::Session));
    if (rules_) router.Add("GET", "/admin/api/rules", Protected(&AdminApi::Rules));
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
    auto since = ParseTimeParam(request, "since");
    auto until = ParseTimeParam(request, "until");
    if (!since) return respond(ErrorResponse(since.error()));
    if (!until) return respond(ErrorResponse(until.error()));
    filter.received_since = *since;
    filter.received_until = *until;
    filter.text = request.QueryParam("q").value_or("");
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
    const bool explain = request.method == "GET" && parts.size() == 2 && parts[1] == "explain" && explain_;
    if (!seq || (!show && !replay && !explain))
        return respond(ErrorResponse(NotFound("no such admin route")));
    if (replay) {
        if (auto done = store_.ReplayEvent(*seq, clock_.Now()); !done)
            return respond(ErrorResponse(done.error()));
        log::Info(kComponent, "event replayed by an operator", {{"seq", *seq}});
        return respond(JsonOk({{"status", "replayed"}, {"seq", *seq}}));
    }
    auto event = store_.GetEvent(*seq);
    if (!event) return respond(ErrorResponse(event.error()));
    if (!*event) return respond(ErrorResponse(NotFound("no event with seq " + std::to_string(*seq))));
    if (explain) {
        auto text = explain_((*event)->body);
        if (!text) return respond(ErrorResponse(text.error()));
        // Whatever a condition or a rendered input still holds of a secret never leaves.
        return respond(JsonOk({{"explanation", log::Redact(*text)}}));
    }
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
    if (auto event = request.QueryParam("event"); event && !event->empty()) {
        const auto seq = ParseId(*event);
        if (!seq)
            return respond(ErrorResponse(Error{ErrorCode::kInvalidArgument, "event must be a seq", 0, {}}));
        filter.event_seq = *seq;
    }
    auto since = ParseTimeParam(request, "since");
    auto until = ParseTimeParam(request, "until");
    if (!since) return respond(ErrorResponse(since.error()));
    if (!until) return respond(ErrorResponse(until.error()));
    filter.created_since = *since;
    filter.created_until = *until;
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

void AdminApi::Session(const http::Request&, http::Responder respond) {
    respond(JsonOk({{"csrf_token", csrf_token_}, {"access", token_.load()->empty() ? "local" : "token"}}));
}

namespace {
/// log::Redact over every text of `value`: a secret written in a rule file as it is is masked as in logs.
void RedactTexts(Json& value) {
    if (value.is_string()) {
        value = log::Redact(value.get<std::string>());
    } else if (value.is_structured()) {
        for (auto& item : value) RedactTexts(item);
    }
}
}  // namespace

void AdminApi::Rules(const http::Request&, http::Responder respond) {
    Json body = rules_();
    RedactTexts(body);
    auto counts = store_.CountRunsByRule();
    if (!counts) return respond(ErrorResponse(counts.error()));
    auto counts_json = [](const store::RuleRunCounts& c) {
        return Json{{"live", c.live},
                    {"done", c.done},
                    {"dead", c.dead},
                    {"dropped", c.dropped},
                    {"last_run_at", c.last_run_at == TimePoint{} ? Json(nullptr)
                                                                 : Json(FormatIso8601(c.last_run_at, true))}};
    };
    for (auto& rule : body["rules"]) {
        const auto name = rule.value("name", std::string());
        const auto found = std::find_if(counts->begin(), counts->end(),
                                        [&](const store::RuleRunCounts& c) { return c.rule == name; });
        rule["runs"] = counts_json(found == counts->end() ? store::RuleRunCounts{} : *found);
    }
    // Runs of rules no longer loaded (renamed or removed by a reload) still count somewhere.
    Json gone = Json::array();
    for (const auto& c : *counts) {
        const bool loaded = std::any_of(body["rules"].begin(), body["rules"].end(), [&](const Json& rule) {
            return rule.value("name", std::string()) == c.rule;
        });
        if (!loaded) gone.push_back(Json{{"name", c.rule}, {"runs", counts_json(c)}});
    }
    body["unloaded_rules"] = std::move(gone);
    respond(JsonOk(body));
}

}  // namespace spacehook::admin
