// libFuzzer entry of target (a); the body is FuzzDelivery (delivery_target.cpp).
#include <cstddef>
#include <cstdint>

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    spacehook::fuzz::FuzzDelivery({reinterpret_cast<const char*>(data), size});
    return 0;
}
