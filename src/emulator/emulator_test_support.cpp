#include "emulator/emulator_test_support.hpp"

#include <stdexcept>

namespace spacehook::emulator::testing {

std::string Received::Header(std::string_view lower_name) const {
    for (const auto& h : headers) {
        if (h.name == lower_name) return h.value;
    }
    return {};
}

Receiver::Receiver() {
    http::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    server_ =
        std::make_unique<http::Server>(options, [this](http::Request&& request, http::Responder respond) {
            std::unique_lock lock(mu_);
            if (request.method == "HEAD") {
                ++heads_;
                const int status = head_status_;
                lock.unlock();
                respond(http::Response::Text(status, ""));
                return;
            }
            const int status = script_[std::min(posts_.size(), script_.size() - 1)];
            posts_.push_back(
                Received{request.path, request.headers, request.body, std::chrono::steady_clock::now()});
            lock.unlock();
            cv_.notify_all();
            respond(http::Response::Text(status, "ok"));
        });
    if (auto ok = server_->Start(); !ok) throw std::runtime_error(ok.error().message);
}

Receiver::~Receiver() {
    server_->Stop(std::chrono::milliseconds(200));
}

std::string Receiver::url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
}

void Receiver::SetHeadStatus(int status) {
    std::lock_guard lock(mu_);
    head_status_ = status;
}

void Receiver::SetPostScript(std::vector<int> statuses) {
    std::lock_guard lock(mu_);
    script_ = std::move(statuses);
}

std::vector<Received> Receiver::WaitPosts(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return posts_.size() >= n; });
    return posts_;
}

std::vector<Received> Receiver::Posts() {
    std::lock_guard lock(mu_);
    return posts_;
}

int Receiver::heads() const {
    std::lock_guard lock(mu_);
    return heads_;
}

std::string Answer::Header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
        if (name == lower_name) return value;
    }
    return {};
}

Answer Api::Call(const std::string& method, const std::string& path, const std::string& key,
                 const std::string& body, std::chrono::milliseconds timeout) {
    httpc::Request request;
    request.method = method;
    request.url = base_ + path;
    if (!key.empty()) request.headers.emplace_back("Authorization", "Bearer " + key);
    if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    request.body = body;
    request.total_timeout = timeout;
    auto response = client_.Send(request);
    Answer answer;
    if (!response) {
        answer.status = -1;
        answer.body = response.error().message;
        return answer;
    }
    answer.status = response->status;
    answer.body = response->body;
    answer.headers = response->headers;
    answer.json = Json::parse(answer.body, nullptr, false);
    if (answer.json.is_discarded()) answer.json = nullptr;
    return answer;
}

Answer Api::Control(const std::string& method, const std::string& path, const Json& body) {
    return Call(method, "/__emulator/" + path, "", body.empty() && method == "GET" ? "" : body.dump());
}

Options RunningEmulator::FastOptions() {
    Options o;
    o.retry_base_seconds = 0.01;
    o.operation_delay = std::chrono::milliseconds(60);
    o.probe_timeout = std::chrono::milliseconds(2000);
    o.delivery_timeout = std::chrono::milliseconds(5000);
    return o;
}

RunningEmulator::RunningEmulator(Options options) : emulator(std::move(options)) {
    if (auto ok = emulator.Start(); !ok) throw std::runtime_error(ok.error().message);
    api = std::make_unique<Api>(emulator.base_url());
}

std::int64_t Subscribe(Api& api, const std::string& key, const std::string& name, const std::string& uri,
                       std::int64_t triggers, const std::string& target_id) {
    Json body = {{"name", name},
                 {"uri", uri},
                 {"secretKey", "s3cret-key!"},
                 {"enabled", true},
                 {"triggers", triggers}};
    if (!target_id.empty()) body["targetId"] = target_id;
    const auto answer = api.Post("/api/2.0/settings/webhook", key, body);
    if (answer.status != 200) throw std::runtime_error("subscribe failed: " + answer.body);
    return answer.response().at("id").get<std::int64_t>();
}

}  // namespace spacehook::emulator::testing

namespace spacehook::emulator::testing {
namespace {
Json Search(const Json& node, const std::string& title) {
    if (node.is_object() && node.contains("title") && node["title"] == title) return node;
    for (const char* key : {"folders", "files"}) {
        if (!node.is_object() || !node.contains(key)) continue;
        for (const auto& child : node[key]) {
            auto found = Search(child, title);
            if (!found.is_null()) return found;
        }
    }
    return nullptr;
}
}  // namespace

Json FindNode(const Json& state, const std::string& title) {
    for (const auto& section : state.at("tree")) {
        auto found = Search(section, title);
        if (!found.is_null()) return found;
    }
    return nullptr;
}

Json IdOf(const Json& state, const std::string& title) {
    auto node = FindNode(state, title);
    if (node.is_null()) throw std::runtime_error("no node titled " + title);
    return node["id"];
}

}  // namespace spacehook::emulator::testing
