#include "core/random.hpp"

namespace spacehook {

SeededRandom::SeededRandom() : engine_(std::random_device{}()) {}

double SeededRandom::Uniform() {
    std::lock_guard lock(mu_);
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine_);
}

std::string RandomHexToken(std::size_t bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::random_device rd;
    std::string out;
    out.reserve(bytes * 2);
    for (std::size_t i = 0; i < bytes; ++i) {
        const auto b = static_cast<unsigned>(rd()) & 0xffU;
        out += kHex[b >> 4];
        out += kHex[b & 0xfU];
    }
    return out;
}

}  // namespace spacehook
