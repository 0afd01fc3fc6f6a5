#include "emulator/emulator.hpp"

#include <fmt/format.h>

#include <mutex>
#include <thread>

#include "core/log.hpp"
#include "emulator/api_dispatch.hpp"
#include "emulator/control_api.hpp"
#include "emulator/faults.hpp"
#include "emulator/operation_runner.hpp"
#include "emulator/portal_actions.hpp"
#include "emulator/seed.hpp"
#include "emulator/sender.hpp"
#include "emulator/state_dump.hpp"
#include "emulator/task_runner.hpp"
#include "http/server.hpp"

namespace spacehook::emulator {
namespace {

constexpr std::string_view kLog = "emulator";
constexpr std::string_view kControlPrefix = "/__emulator/";

ErrorCode CodeFor(int status) {
    switch (status) {
        case 400:
            return ErrorCode::kInvalidArgument;
        case 401:
            return ErrorCode::kUnauthorized;
        case 403:
            return ErrorCode::kForbidden;
        case 404:
            return ErrorCode::kNotFound;
        default:
            return ErrorCode::kInternal;
    }
}

http::Response ToResponse(Reply reply) {
    http::Response r;
    r.status = reply.status;
    r.content_type = std::move(reply.content_type);
    r.body = std::move(reply.body);
    for (auto& [name, value] : reply.headers) r.headers.push_back({std::move(name), std::move(value)});
    if (reply.drop) {
        r.abort_connection = true;  // closed without an answer
    }
    return r;
}

IncomingRequest FromHttp(http::Request&& request) {
    IncomingRequest in;
    in.method = std::move(request.method);
    in.path = std::move(request.path);
    in.query = std::move(request.query);
    in.body = std::move(request.body);
    for (auto& h : request.headers) in.headers.emplace_back(std::move(h.name), std::move(h.value));
    return in;
}

}  // namespace

class Emulator::Impl final : public ControlTarget {
public:
    explicit Impl(Options options)
        : options_(std::move(options)),
          clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Instance()),
          transport_(MakeHttpTransport(options_.ca_file)),
          book_(clock_),
          sender_(book_, clock_, transport_, SenderOptionsFrom(options_)),
          state_(options_, clock_, book_, [this](std::int64_t log_id) { sender_.Enqueue(log_id); }),
          runner_(4),
          dispatcher_(ApiServices{state_, book_,
                                  [this](const std::string& url, bool verify) { return Probe(url, verify); },
                                  [this](const std::string& op, std::chrono::milliseconds delay) {
                                      ScheduleOperation(op, delay);
                                  },
                                  [this](std::int64_t log_id) { sender_.Enqueue(log_id); }}) {}

    ~Impl() override { Stop(); }

    static SenderOptions SenderOptionsFrom(const Options& o) {
        SenderOptions s;
        s.retry_base_seconds = o.retry_base_seconds;
        s.retry_count = o.retry_count;
        s.threads = o.sender_threads;
        s.timeout = o.delivery_timeout;
        s.ssrf_guard = o.ssrf_guard;
        return s;
    }

    Status Start() {
        if (server_) return Fail(ErrorCode::kInternal, "emulator already started");
        if (options_.seed_file.empty()) {
            seed_ = DefaultSeed();
        } else {
            auto loaded = LoadSeedFile(options_.seed_file);
            if (!loaded) return tl::unexpected(loaded.error());
            seed_ = std::move(*loaded);
        }
        if (auto ok = ApplyCurrentSeed(); !ok) return ok;

        http::ServerOptions server_options;
        server_options.host = options_.host;
        server_options.port = options_.port;
        server_options.threads = 2;
        server_options.body_limit = std::size_t{8} * 1024 * 1024;
        // Slow faults hold an answer past any client timeout; the server must not answer 503 first.
        server_options.handler_timeout = std::chrono::minutes(15);
        // One handler rather than http::Router: DocSpace routes carry parameters ("files/rooms/{id}/share"),
        // which ApiDispatcher matches segment by segment, and /__emulator/* must bypass the fault rules.
        server_ = std::make_unique<http::Server>(server_options,
                                                 [this](http::Request&& request, http::Responder respond) {
                                                     Route(FromHttp(std::move(request)), std::move(respond));
                                                 });
        if (auto ok = server_->Start(); !ok) {
            server_.reset();
            return ok;
        }
        listen_url_ = fmt::format("http://{}:{}", options_.host, server_->port());
        {
            std::lock_guard lock(state_.mu);
            state_.base_url = PublicBase();
        }
        sender_.Start();
        log::Info(kLog, "DocSpace emulator listening", {{"url", listen_url_}});
        return Ok();
    }

    void Stop() {
        if (server_) server_->Stop(std::chrono::milliseconds(1000));
        runner_.Stop();
        sender_.Stop();
    }

    [[nodiscard]] std::uint16_t port() const { return server_ ? server_->port() : 0; }
    [[nodiscard]] std::string base_url() const { return listen_url_; }

    std::string PublicBase() const {
        std::string base = options_.public_base_url.empty() ? listen_url_ : options_.public_base_url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        return base;
    }

    // --- ControlTarget ---
    Json StateJson() override {
        std::lock_guard lock(state_.mu);
        return StateDump(state_, book_, sender_, faults_);
    }
    Json DeliveriesList() override { return DeliveriesJson(sender_); }
    std::map<std::string, std::int64_t> CounterMap() override {
        std::lock_guard lock(state_.mu);
        return AllCounters(state_, sender_);
    }
    Status ResetToSeed() override {
        std::lock_guard lock(seed_mu_);
        return ApplyCurrentSeed();
    }
    Status ReplaceSeed(const Json& seed) override {
        std::lock_guard lock(seed_mu_);
        const Json previous = seed_;
        seed_ = seed;
        if (auto ok = ApplyCurrentSeed(); !ok) {
            seed_ = previous;
            (void)ApplyCurrentSeed();
            return ok;
        }
        return Ok();
    }
    bool Idle(std::chrono::milliseconds timeout) override {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            std::size_t running = 0;
            {
                std::lock_guard lock(state_.mu);
                running = state_.operations.Running();
            }
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline) return false;
            if (running == 0) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
                if (!sender_.WaitIdle(left)) return false;
                std::lock_guard lock(state_.mu);
                if (state_.operations.Running() == 0) return true;
                continue;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    FaultSet& Faults() override { return faults_; }
    PortalState& State() override { return state_; }
    void GiveUpDeliveries(int count, int status, std::int64_t webhook_id) override {
        sender_.GiveUp(count, status, webhook_id);
    }
    bool DisableWebhook(std::int64_t id) override {
        if (!book_.Get(id)) return false;
        book_.SetEnabled(id, false);
        std::lock_guard lock(state_.mu);
        state_.Count("webhooks_disabled_by_control");
        return true;
    }

    WebhookSender& sender() { return sender_; }
    std::string control_token() const { return options_.control_token; }

private:
    Status ApplyCurrentSeed() {
        sender_.CancelAll();
        sender_.ClearAttempts();
        faults_.Clear();
        std::lock_guard lock(state_.mu);
        state_.Clear();
        state_.base_url = PublicBase();
        book_.Clear();
        try {
            return ApplySeed(seed_, state_, book_);
        } catch (const std::exception& e) {
            return Fail(ErrorCode::kConfig, fmt::format("seed: {}", e.what()));
        }
    }

    void ScheduleOperation(const std::string& op_id, std::chrono::milliseconds delay) {
        runner_.PostAfter(delay, [this, op_id] {
            std::lock_guard lock(state_.mu);
            RunOperation(state_, op_id);
        });
    }

    Result<int> Probe(const std::string& url, bool verify_tls) {
        httpc::Request request;
        request.method = "HEAD";
        request.url = url;
        request.total_timeout = options_.probe_timeout;
        request.connect_timeout = options_.probe_timeout;
        auto response = transport_(request, verify_tls);
        if (!response) return tl::unexpected(response.error());
        return response->status;
    }

    void Route(IncomingRequest request, http::Responder respond) {
        if (request.path.rfind(kControlPrefix, 0) == 0) {
            runner_.Post([this, request = std::move(request), respond = std::move(respond)] {
                respond(ToResponse(HandleControl(*this, request, options_.control_token)));
            });
            return;
        }
        const auto decision = faults_.Decide(request.method, request.path);
        if (decision.fault) {
            // Counted when the call arrives, so a slow answer counts even if the client has gone, and a
            // test can tell each kind reached the client: faults_injected.<status|drop|slow>.
            const FaultSpec& fault = *decision.fault;
            std::lock_guard lock(state_.mu);
            state_.Count("faults_injected");
            state_.Count(fault.kind == FaultKind::kStatus
                             ? fmt::format("faults_injected.{}", fault.status)
                             : fmt::format("faults_injected.{}", FaultKindName(fault.kind)));
        }
        auto delay = decision.latency;
        if (decision.fault && decision.fault->kind == FaultKind::kSlow) delay += decision.fault->delay;
        runner_.PostAfter(delay, [this, request = std::move(request), respond = std::move(respond),
                                  fault = decision.fault] {
            {
                // Every REST call, faulted or not, so a client's calls per unit of work can be counted
                // here rather than assumed (bench/compare: API calls per automation).
                std::lock_guard lock(state_.mu);
                state_.Count("api_calls");
                state_.Count("api_calls." + request.method);
            }
            Reply reply;
            if (fault && fault->kind == FaultKind::kStatus && fault->after_effect) {
                (void)dispatcher_.Handle(request, PublicBase());  // done, but the answer is lost
                reply = FaultReply(fault->status, fault->retry_after_seconds);
            } else if (fault && fault->kind == FaultKind::kStatus) {
                reply = FaultReply(fault->status, fault->retry_after_seconds);
            } else if (fault && fault->kind == FaultKind::kDrop) {
                reply.drop = true;
            } else {
                reply =
                    dispatcher_.Handle(request, PublicBase(), fault && fault->kind == FaultKind::kSwallow);
            }
            respond(ToResponse(std::move(reply)));
        });
    }

    Options options_;
    const Clock& clock_;
    Transport transport_;
    WebhookBook book_;
    WebhookSender sender_;
    PortalState state_;
    FaultSet faults_;
    TaskRunner runner_;
    ApiDispatcher dispatcher_;
    std::mutex seed_mu_;  // one reset at a time; guards seed_
    Json seed_;
    std::unique_ptr<http::Server> server_;
    std::string listen_url_;
};

Emulator::Emulator(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Emulator::~Emulator() = default;

Status Emulator::Start() {
    return impl_->Start();
}
void Emulator::Stop() {
    impl_->Stop();
}
std::uint16_t Emulator::port() const {
    return impl_->port();
}
std::string Emulator::base_url() const {
    return impl_->base_url();
}

std::string Emulator::admin_api_key() const {
    auto& state = impl_->State();
    std::lock_guard lock(state.mu);
    const User* owner = state.portal.owner();
    if (owner == nullptr) return {};
    // Prefer the owner's key; any DocSpace admin's otherwise.
    if (auto key = state.KeyOf(owner->id); !key.empty()) return key;
    for (const auto& u : state.portal.users()) {
        if (u.IsAdmin()) {
            if (auto key = state.KeyOf(u.id); !key.empty()) return key;
        }
    }
    return {};
}

std::string Emulator::ApiKeyOf(std::string_view user) const {
    auto& state = impl_->State();
    std::lock_guard lock(state.mu);
    const User* u = state.FindAnyUser(user);
    return u == nullptr ? std::string() : state.KeyOf(u->id);
}

std::string Emulator::UserIdOf(std::string_view user) const {
    auto& state = impl_->State();
    std::lock_guard lock(state.mu);
    const User* u = state.FindAnyUser(user);
    return u == nullptr ? std::string() : u->id;
}

EntityId Emulator::rooms_root_id() const {
    auto& state = impl_->State();
    std::lock_guard lock(state.mu);
    return state.portal.rooms_root();
}

Json Emulator::State() const {
    return impl_->StateJson();
}
std::map<std::string, std::int64_t> Emulator::Counters() const {
    return impl_->CounterMap();
}
std::int64_t Emulator::Counter(std::string_view name) const {
    const auto counters = impl_->CounterMap();
    auto it = counters.find(std::string(name));
    return it == counters.end() ? 0 : it->second;
}
Status Emulator::Reset() {
    return impl_->ResetToSeed();
}
Status Emulator::LoadSeed(const Json& seed) {
    return impl_->ReplaceSeed(seed);
}
Json Emulator::Deliveries() const {
    return impl_->DeliveriesList();
}
bool Emulator::WaitIdle(std::chrono::milliseconds timeout) const {
    return impl_->Idle(timeout);
}
void Emulator::SetLatency(std::chrono::milliseconds latency) {
    impl_->Faults().SetLatency(latency);
}
void Emulator::AddFault(FaultSpec fault) {
    impl_->Faults().Add(std::move(fault));
}
void Emulator::ClearFaults() {
    impl_->Faults().Clear();
}
void Emulator::GiveUpDeliveries(int count, int status, std::int64_t webhook_id) {
    impl_->GiveUpDeliveries(count, status, webhook_id);
}
bool Emulator::DisableWebhook(std::int64_t id) {
    return impl_->DisableWebhook(id);
}

Result<Json> Emulator::UploadFile(const UploadSpec& upload) {
    auto& state = impl_->State();
    std::lock_guard lock(state.mu);
    const User* user = state.FindAnyUser(upload.user);
    if (user == nullptr)
        return Fail(ErrorCode::kInvalidArgument, fmt::format("unknown user '{}'", upload.user));
    const User actor = *user;
    auto file =
        emulator::UploadFile(state, actor, upload.folder_id, upload.title, upload.size, upload.chunked);
    if (!file) return Fail(CodeFor(file.error().status), file.error().message);
    return FromOrdered(FileDto(state.Dto(&actor), **file));
}

Result<Json> Emulator::AcceptInvitation(std::string_view email, std::string_view first_name,
                                        std::string_view last_name) {
    auto& state = impl_->State();
    std::lock_guard lock(state.mu);
    auto user = emulator::AcceptInvitation(state, std::string(email), std::string(first_name),
                                           std::string(last_name));
    if (!user) return Fail(CodeFor(user.error().status), user.error().message);
    return FromOrdered(EmployeeFullDto(state.Dto(*user), **user));
}

Result<Json> Emulator::EditFile(std::string_view user, const EntityId& file_id) {
    auto& state = impl_->State();
    std::lock_guard lock(state.mu);
    const User* found = state.FindAnyUser(user);
    if (found == nullptr) return Fail(ErrorCode::kInvalidArgument, fmt::format("unknown user '{}'", user));
    const User actor = *found;
    auto file = SaveFileVersion(state, actor, file_id);
    if (!file) return Fail(CodeFor(file.error().status), file.error().message);
    return FromOrdered(FileDto(state.Dto(&actor), **file));
}

}  // namespace spacehook::emulator
