#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>

namespace spacehook {

/// Randomness, injected so jitter and chaos schedules are reproducible in tests.
class Random {
public:
    virtual ~Random() = default;
    /// Uniform in [0, 1).
    virtual double Uniform() = 0;
};

/// Mersenne twister behind a mutex; seeded from the OS unless a seed is given.
class SeededRandom final : public Random {
public:
    SeededRandom();
    explicit SeededRandom(std::uint64_t seed) : engine_(seed) {}
    double Uniform() override;

private:
    std::mutex mu_;
    std::mt19937_64 engine_;
};

/// Always returns the same value: makes jittered delays exact in tests.
class FixedRandom final : public Random {
public:
    explicit FixedRandom(double value) : value_(value) {}
    double Uniform() override { return value_; }

private:
    double value_;
};

/// A random hex token of `bytes` bytes from the OS (lease owners, Message-IDs).
std::string RandomHexToken(std::size_t bytes);

}  // namespace spacehook
