#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "steps/kind.hpp"

namespace spacehook::runner {

/// How many workers may be inside calls to one dependency at a time: the portal, the SMTP server, each
/// chat or http host (runner.max_per_dependency). A dependency that hangs then holds at most that many
/// workers, and the others keep serving the rest: without it, a hanging SMTP server took every worker
/// and an unrelated portal rule waited for the SMTP timeout over and over.
class DependencyLimits {
public:
    /// A call in progress; the slot frees when it is destroyed.
    class Slot {
    public:
        Slot(DependencyLimits* limits, std::string dependency)
            : limits_(limits), dependency_(std::move(dependency)) {}
        Slot(Slot&& other) noexcept : limits_(other.limits_), dependency_(std::move(other.dependency_)) {
            other.limits_ = nullptr;
        }
        Slot& operator=(Slot&&) = delete;
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;
        ~Slot() {
            if (limits_ != nullptr) limits_->Release(dependency_);
        }

    private:
        DependencyLimits* limits_;
        std::string dependency_;
    };

    DependencyLimits(int per_dependency, const Clock& clock)
        : limit_(per_dependency < 1 ? 1 : per_dependency), clock_(clock) {}

    /// A slot for a call to `dependency`, or nullopt when `limit` calls to it are in progress.
    std::optional<Slot> TryAcquire(const std::string& dependency);
    /// How long a run refused a slot for `dependency` waits before it is claimed again: a tenth of a
    /// second at first, growing with how long the dependency has been full (half that time, at most 5 s),
    /// so runs waiting on a hanging server are not claimed and given back many times a second.
    [[nodiscard]] std::chrono::milliseconds WaitFor(const std::string& dependency);
    [[nodiscard]] int limit() const { return limit_; }
    /// Calls to `dependency` in progress now.
    [[nodiscard]] int Busy(const std::string& dependency);

private:
    void Release(const std::string& dependency);

    struct State {
        int busy = 0;
        std::optional<TimePoint> full_since;  ///< the first refusal since a slot last freed
    };
    const int limit_;
    const Clock& clock_;
    std::mutex mu_;
    std::map<std::string, State> states_;
};

/// The dependency a prepared step calls: "smtp" (mail), "chat:<host>", "http:<host>", or "portal"
/// (every other kind acts on DocSpace).
std::string DependencyOf(const steps::PreparedStep& step, const steps::StepDeps& deps);

}  // namespace spacehook::runner
