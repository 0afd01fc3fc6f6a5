#pragma once

#include <string_view>
#include <vector>

// The bodies of the libFuzzer targets, as plain functions: each fuzzer's LLVMFuzzerTestOneInput calls
// one, and corpus_replay_test (built by g++ with the ordinary tests) feeds every committed corpus and
// regression input through the same function, so a crash fixed once stays fixed in every CI run.
//
// A body returns normally for any input it handles correctly. A broken invariant (a wrong MAC accepted,
// a planned run whose steps do not render the same twice, ...) prints what broke and aborts, which both
// libFuzzer and ctest report as a crash. Exceptions are not caught: these are pure functions that return
// Result for every expected failure, so an exception escaping one is a finding too.
namespace spacehook::fuzz {

/// Input: line 1 = the x-docspace-signature-256 value (also tried as the event-id and timestamp
/// headers), line 2 = the webhook secret, the rest = the body.
void FuzzDelivery(std::string_view input);

/// Input: YAML text, optionally several files separated by lines of exactly "--- next file ---".
/// Loads each (fixed environment), merges the service config, compiles the rules and plans them against
/// fixed events and facts, rendering every planned step.
void FuzzConfigRules(std::string_view input);

/// Input: one template string. Parsed, rendered over a fixed context (strict and keep-unresolved),
/// inside a JSON value, and its references checked.
void FuzzTemplate(std::string_view input);

struct FuzzTarget {
    std::string_view name;  ///< the directory under fuzz/corpus and fuzz/regressions
    void (*run)(std::string_view input);
};

/// Every target, for the replay test.
const std::vector<FuzzTarget>& FuzzTargets();

/// Prints "fuzz invariant broken: <what>" and aborts when `ok` is false.
void Require(bool ok, std::string_view what);

}  // namespace spacehook::fuzz
