#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/json.hpp"

namespace spacehook {

/// A DocSpace entity id. Internal storage uses numbers, third-party storage and people use strings
/// (docs/docspace-api.md §1.7), and DocSpace itself compares ids as text (`entity.Id.ToString() == TargetId`,
/// §1.8). So an EntityId is its text, plus whether it came (and goes back out) as a JSON number.
class EntityId {
public:
    EntityId() = default;
    static EntityId Number(std::int64_t value);
    static EntityId String(std::string value);
    /// Text that looks like a plain integer becomes a number id, anything else a string id.
    static EntityId Parse(std::string text);
    /// Accepts a JSON number (integral) or non-empty string; anything else is nullopt.
    static std::optional<EntityId> FromJson(const Json& value);

    [[nodiscard]] const std::string& str() const { return text_; }
    [[nodiscard]] bool is_number() const { return numeric_; }
    [[nodiscard]] bool empty() const { return text_.empty(); }
    /// A number id as a JSON number, a string id as a JSON string; null when empty.
    [[nodiscard]] Json ToJson() const;

    friend bool operator==(const EntityId& a, const EntityId& b) { return a.text_ == b.text_; }
    friend bool operator<(const EntityId& a, const EntityId& b) { return a.text_ < b.text_; }

private:
    std::string text_;
    bool numeric_ = false;
};

}  // namespace spacehook

template <>
struct std::hash<spacehook::EntityId> {
    size_t operator()(const spacehook::EntityId& id) const noexcept {
        return std::hash<std::string>{}(id.str());
    }
};
