#include "runner/dependency_limits.hpp"

#include <algorithm>

#include "core/text.hpp"

namespace spacehook::runner {

std::optional<DependencyLimits::Slot> DependencyLimits::TryAcquire(const std::string& dependency) {
    std::lock_guard lock(mu_);
    State& state = states_[dependency];
    if (state.busy >= limit_) {
        if (!state.full_since) state.full_since = clock_.Now();
        return std::nullopt;
    }
    ++state.busy;
    return Slot(this, dependency);
}

std::chrono::milliseconds DependencyLimits::WaitFor(const std::string& dependency) {
    using std::chrono::milliseconds;
    std::lock_guard lock(mu_);
    const State& state = states_[dependency];
    if (!state.full_since) return milliseconds(100);
    const auto full_for = std::chrono::duration_cast<milliseconds>(clock_.Now() - *state.full_since);
    return std::clamp(full_for / 2, milliseconds(100), milliseconds(5000));
}

int DependencyLimits::Busy(const std::string& dependency) {
    std::lock_guard lock(mu_);
    auto it = states_.find(dependency);
    return it == states_.end() ? 0 : it->second.busy;
}

void DependencyLimits::Release(const std::string& dependency) {
    std::lock_guard lock(mu_);
    State& state = states_[dependency];
    --state.busy;
    state.full_since.reset();
}

std::string DependencyOf(const steps::PreparedStep& step, const steps::StepDeps& deps) {
    const std::string_view kind = step.kind().name();
    if (kind == "mail") return "smtp";
    if (kind != "chat" && kind != "http") return "portal";
    const Json input = step.ToJson();
    std::string url = input.value("url", std::string());
    if (input.contains("channel") && input["channel"].is_string()) {
        auto it = deps.chat_channels.find(input["channel"].get<std::string>());
        if (it != deps.chat_channels.end()) url = it->second.url;
    }
    return std::string(kind) + ":" + ToLower(UrlHost(url));
}

}  // namespace spacehook::runner
