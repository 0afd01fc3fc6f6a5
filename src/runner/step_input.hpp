#pragma once

// Reading rendered step inputs (docs/rules.md "Rendered step inputs"). RenderStepInput has already
// checked shapes and required keys, so a mismatch here is a bug or a run stored by another version:
// kInvalidArgument, permanent.

#include <fmt/format.h>

#include <string>
#include <vector>

#include "core/entity_id.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

namespace spacehook::runner::input {

inline Error Bad(std::string_view step, std::string_view key, std::string_view what) {
    return Error{ErrorCode::kInvalidArgument, fmt::format("{}: input {}: {}", step, key, what), 0,
                 std::nullopt};
}

inline Result<EntityId> Id(const Json& input, std::string_view step, const char* key) {
    auto it = input.find(key);
    if (it == input.end()) return Fail(Bad(step, key, "missing"));
    auto id = EntityId::FromJson(*it);
    if (!id) return Fail(Bad(step, key, "not an id: " + it->dump()));
    return *id;
}

inline Result<std::vector<EntityId>> Ids(const Json& input, std::string_view step, const char* key) {
    std::vector<EntityId> out;
    auto it = input.find(key);
    if (it == input.end() || it->is_null()) return out;
    if (!it->is_array()) return Fail(Bad(step, key, "not a list"));
    for (const auto& item : *it) {
        auto id = EntityId::FromJson(item);
        if (!id) return Fail(Bad(step, key, "not an id: " + item.dump()));
        out.push_back(*id);
    }
    return out;
}

inline std::string Text(const Json& input, const char* key, std::string fallback = {}) {
    auto it = input.find(key);
    if (it == input.end() || !it->is_string()) return fallback;
    return it->get<std::string>();
}

inline std::vector<std::string> Texts(const Json& input, const char* key) {
    std::vector<std::string> out;
    auto it = input.find(key);
    if (it == input.end() || !it->is_array()) return out;
    for (const auto& item : *it) {
        if (item.is_string()) out.push_back(item.get<std::string>());
    }
    return out;
}

}  // namespace spacehook::runner::input
