#pragma once

#include <memory>
#include <mutex>
#include <utility>

#include "rules/compiled_rules.hpp"

namespace spacehook::runner {

/// The rule set the dispatcher plans with, replaced whole when `serve` reloads its configuration
/// (SIGHUP). A dispatch takes the current set once (Current()) and plans the event with it to the
/// end, so an event is never judged half by the old rules and half by the new. Runs do not need it:
/// each run carries its rule's steps and fingerprint from dispatch (runner/stored_run.hpp) and
/// finishes with the version that planned it. Thread-safe.
class LiveRules {
public:
    explicit LiveRules(std::shared_ptr<const rules::CompiledRules> initial) : current_(std::move(initial)) {}

    [[nodiscard]] std::shared_ptr<const rules::CompiledRules> Current() const {
        std::lock_guard lock(mu_);
        return current_;
    }
    /// The set events dispatched from now on are planned with.
    void Replace(std::shared_ptr<const rules::CompiledRules> next) {
        std::lock_guard lock(mu_);
        current_ = std::move(next);
    }

private:
    mutable std::mutex mu_;
    std::shared_ptr<const rules::CompiledRules> current_;
};

}  // namespace spacehook::runner
