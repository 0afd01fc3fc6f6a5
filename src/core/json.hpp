#pragma once

// The project's one JSON library (nlohmann-json3-dev). Webhook bodies and API answers are small; the
// store's commit cost, not parsing, bounds throughput (cpp-deps.md §1.4).
#include <nlohmann/json.hpp>

namespace spacehook {
using Json = nlohmann::json;
}  // namespace spacehook
