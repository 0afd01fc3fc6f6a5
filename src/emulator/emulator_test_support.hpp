#pragma once

// Shared by the emulator's integration tests: a webhook receiver (http::Server on port 0) and a small
// REST caller over httpc::Client. Every wait is bounded.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "emulator/emulator.hpp"
#include "http/server.hpp"
#include "httpc/client.hpp"

namespace spacehook::emulator::testing {

/// One POST the receiver got.
struct Received {
    std::string path;
    std::vector<http::Header> headers;
    std::string body;
    std::chrono::steady_clock::time_point at;

    [[nodiscard]] std::string Header(std::string_view lower_name) const;
    [[nodiscard]] Json Parsed() const { return Json::parse(body); }
};

/// A webhook endpoint: answers HEAD with `head_status`, POSTs from `post_script` (last repeats).
class Receiver {
public:
    Receiver();
    ~Receiver();
    [[nodiscard]] std::string url(std::string_view path = "/hook") const;
    void SetHeadStatus(int status);
    void SetPostScript(std::vector<int> statuses);
    /// Waits until at least `n` POSTs arrived; returns them all.
    std::vector<Received> WaitPosts(std::size_t n,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
    /// POSTs so far.
    std::vector<Received> Posts();
    int heads() const;

private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Received> posts_;
    int head_status_ = 200;
    int heads_ = 0;
    std::vector<int> script_{200};
    std::unique_ptr<http::Server> server_;
};

/// A REST answer: status, parsed JSON (null when the body is not JSON), raw body and headers.
struct Answer {
    int status = 0;
    Json json;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    [[nodiscard]] const Json& response() const { return json.at("response"); }
    [[nodiscard]] std::string Header(std::string_view lower_name) const;
};

class Api {
public:
    explicit Api(std::string base_url) : base_(std::move(base_url)) {}
    Answer Call(const std::string& method, const std::string& path, const std::string& key,
                const std::string& body = {}, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    Answer Get(const std::string& path, const std::string& key) { return Call("GET", path, key); }
    Answer Post(const std::string& path, const std::string& key, const Json& body) {
        return Call("POST", path, key, body.dump());
    }
    Answer Put(const std::string& path, const std::string& key, const Json& body) {
        return Call("PUT", path, key, body.dump());
    }
    /// A control call (/__emulator/...), body JSON.
    Answer Control(const std::string& method, const std::string& path, const Json& body = Json::object());

private:
    std::string base_;
    httpc::Client client_;
};

/// An emulator with test-speed timings on port 0, plus its Api.
struct RunningEmulator {
    explicit RunningEmulator(Options options = FastOptions());
    static Options FastOptions();
    Emulator emulator;
    std::unique_ptr<Api> api;
};

/// A webhook subscribed through the REST API (HEAD probe included); returns its id.
std::int64_t Subscribe(Api& api, const std::string& key, const std::string& name, const std::string& uri,
                       std::int64_t triggers, const std::string& target_id = {});

}  // namespace spacehook::emulator::testing

namespace spacehook::emulator::testing {

inline constexpr char kOwnerKey[] = "sk-emulator-owner";
inline constexpr char kRoomAdminKey[] = "sk-emulator-roomadmin";
inline constexpr char kJaneKey[] = "sk-emulator-jane";
inline constexpr char kGuestKey[] = "sk-emulator-guest";
inline constexpr char kOwnerId[] = "66faa6e4-f133-11ea-b126-00ffeec8b4ef";
inline constexpr char kJaneId[] = "5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b";

/// The first tree node (section, room, folder or file) with this title in a state dump; null if none.
Json FindNode(const Json& state, const std::string& title);
/// Its id as a JSON value (number or string).
Json IdOf(const Json& state, const std::string& title);

}  // namespace spacehook::emulator::testing
