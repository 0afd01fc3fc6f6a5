// libFuzzer entry of target (b); the body is FuzzConfigRules (config_rules_target.cpp).
#include <cstddef>
#include <cstdint>

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    spacehook::fuzz::FuzzConfigRules({reinterpret_cast<const char*>(data), size});
    return 0;
}
