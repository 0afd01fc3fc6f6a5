#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "http/server.hpp"

namespace spacehook::http {

/// Shared by one request's Responder and its connection. It holds no Asio object, so a Responder kept by
/// another thread may outlive the connection and the whole server: the connection clears the wake-up
/// (under the lock) before it stops waiting, and a late answer is simply dropped.
class ResponseSlot {
public:
    enum class CloseReason { kAnswered, kTimedOut, kConnectionGone };

    /// The Responder's body; any thread.
    void Complete(Response response);
    /// The server's own answer when the handler threw; a Responder call that already happened wins.
    void CompleteIfUnanswered(Response response);
    /// The answer if it is there; otherwise installs `wake` for Complete() to call.
    std::optional<Response> TakeOrArm(std::function<void()> wake);
    std::optional<Response> Take();
    /// The connection stops waiting; returns an answer that raced in. Idempotent.
    std::optional<Response> Close(CloseReason reason);

private:
    std::mutex mu_;
    bool called_ = false;
    bool closed_ = false;
    CloseReason reason_ = CloseReason::kAnswered;
    std::optional<Response> response_;
    std::function<void()> wake_;
};

/// Closes the slot even when the coroutine frame is destroyed without resuming (io_context teardown).
struct SlotCloser {
    std::shared_ptr<ResponseSlot> slot;
    ~SlotCloser() { slot->Close(ResponseSlot::CloseReason::kConnectionGone); }
};

}  // namespace spacehook::http
