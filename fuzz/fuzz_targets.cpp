#include "fuzz_targets.hpp"

#include <cstdio>
#include <cstdlib>

namespace spacehook::fuzz {

const std::vector<FuzzTarget>& FuzzTargets() {
    static const std::vector<FuzzTarget> kTargets = {
        {"delivery", &FuzzDelivery},
        {"config_rules", &FuzzConfigRules},
        {"template", &FuzzTemplate},
    };
    return kTargets;
}

void Require(bool ok, std::string_view what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz invariant broken: %.*s\n", static_cast<int>(what.size()), what.data());
    std::abort();
}

}  // namespace spacehook::fuzz
