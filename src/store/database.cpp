#include "store/database.hpp"

#include <exception>

#include "core/log.hpp"

namespace spacehook::store {

std::vector<Status> Database::WriteEach(const std::vector<WriteFn>& applies) {
    std::vector<Status> statuses;
    statuses.reserve(applies.size());
    for (const WriteFn& apply : applies) statuses.push_back(Write(apply));
    return statuses;
}

void Database::SetWakeup(std::function<void()> wakeup) {
    std::lock_guard lock(wakeup_mu_);
    wakeup_ = std::move(wakeup);
}

void Database::Wakeup() {
    std::function<void()> wakeup;
    {
        std::lock_guard lock(wakeup_mu_);
        wakeup = wakeup_;
    }
    if (!wakeup) return;
    try {
        wakeup();
    } catch (const std::exception& e) {
        log::Error("store", "wake-up callback threw", {{"error", e.what()}});
    }
}

}  // namespace spacehook::store
