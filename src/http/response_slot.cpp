#include "http/response_slot.hpp"

#include <utility>

#include "core/log.hpp"

namespace spacehook::http {

namespace {
constexpr std::string_view kComponent = "http";
}  // namespace

void ResponseSlot::Complete(Response response) {
    std::lock_guard lock(mu_);
    if (called_) {
        log::Warn(kComponent, "responder called more than once; the later call is ignored");
        return;
    }
    called_ = true;
    if (closed_) {
        if (reason_ == CloseReason::kTimedOut) {
            log::Warn(kComponent, "response arrived after handler_timeout (503 already sent); dropped",
                      {{"status", response.status}});
        } else {
            log::Debug(kComponent, "response arrived after the connection closed; dropped",
                       {{"status", response.status}});
        }
        return;
    }
    response_ = std::move(response);
    if (wake_) wake_();
}

void ResponseSlot::CompleteIfUnanswered(Response response) {
    std::lock_guard lock(mu_);
    if (called_) return;
    called_ = true;
    response_ = std::move(response);
}

std::optional<Response> ResponseSlot::TakeOrArm(std::function<void()> wake) {
    std::lock_guard lock(mu_);
    if (response_) return std::exchange(response_, std::nullopt);
    wake_ = std::move(wake);
    return std::nullopt;
}

std::optional<Response> ResponseSlot::Take() {
    std::lock_guard lock(mu_);
    return std::exchange(response_, std::nullopt);
}

std::optional<Response> ResponseSlot::Close(CloseReason reason) {
    std::function<void()> wake;
    std::lock_guard lock(mu_);
    if (!closed_) {
        closed_ = true;
        reason_ = reason;
    }
    wake = std::move(wake_);
    wake_ = nullptr;
    return std::exchange(response_, std::nullopt);
}

}  // namespace spacehook::http
