#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/emulator.hpp"
#include "emulator/stj_json.hpp"

namespace spacehook::emulator {

/// What to do to one API call.
struct FaultDecision {
    std::chrono::milliseconds latency{0};  ///< added before answering
    std::optional<FaultSpec> fault;        ///< the rule that fired, if any
};

/// The fault rules in force. Thread-safe; each call consumes one use of the first matching rule.
class FaultSet {
public:
    void SetLatency(std::chrono::milliseconds latency);
    void Add(FaultSpec fault);
    void Clear();
    FaultDecision Decide(std::string_view method, std::string_view path);
    /// {"latencyMs": N, "faults": [{kind, status, retryAfter, remaining, expiresInMs, method, pathPrefix,
    /// delayMs}]}
    [[nodiscard]] OJson ToJson() const;

private:
    struct Rule {
        FaultSpec spec;
        int remaining;  ///< -1 = unlimited
        std::optional<std::chrono::steady_clock::time_point> expires;
    };
    mutable std::mutex mu_;
    std::chrono::milliseconds latency_{0};
    std::vector<Rule> rules_;
};

/// Parses a fault from the control API's JSON ({"kind":"status"|"drop"|"slow", "status":503,
/// "retryAfter":2, "count":3, "durationMs":1000, "method":"GET", "pathPrefix":"/api/2.0/files",
/// "delayMs":5000, "afterEffect":true}). Error text on bad input.
std::optional<std::string> ParseFault(const OJson& json, FaultSpec& out);
std::string_view FaultKindName(FaultKind kind);

}  // namespace spacehook::emulator
