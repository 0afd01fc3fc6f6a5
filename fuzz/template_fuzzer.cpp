// libFuzzer entry of target (c); the body is FuzzTemplate (template_target.cpp).
#include <cstddef>
#include <cstdint>

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    spacehook::fuzz::FuzzTemplate({reinterpret_cast<const char*>(data), size});
    return 0;
}
