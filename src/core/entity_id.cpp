#include "core/entity_id.hpp"

#include <cctype>

namespace spacehook {

namespace {
bool LooksLikeInteger(const std::string& text) {
    if (text.empty() || text.size() > 18) return false;
    size_t i = text[0] == '-' ? 1 : 0;
    if (i == text.size()) return false;
    if (text[i] == '0' && text.size() > i + 1) return false;  // "007" stays a string: it would not round-trip
    for (; i < text.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
    }
    return true;
}
}  // namespace

EntityId EntityId::Number(std::int64_t value) {
    EntityId id;
    id.text_ = std::to_string(value);
    id.numeric_ = true;
    return id;
}

EntityId EntityId::String(std::string value) {
    EntityId id;
    id.text_ = std::move(value);
    id.numeric_ = false;
    return id;
}

EntityId EntityId::Parse(std::string text) {
    EntityId id;
    id.numeric_ = LooksLikeInteger(text);
    id.text_ = std::move(text);
    return id;
}

std::optional<EntityId> EntityId::FromJson(const Json& value) {
    if (value.is_number_integer()) return Number(value.get<std::int64_t>());
    if (value.is_number_unsigned()) return Number(static_cast<std::int64_t>(value.get<std::uint64_t>()));
    if (value.is_string()) {
        auto text = value.get<std::string>();
        if (text.empty()) return std::nullopt;
        return String(std::move(text));
    }
    return std::nullopt;
}

Json EntityId::ToJson() const {
    if (text_.empty()) return nullptr;
    if (numeric_) return std::stoll(text_);
    return text_;
}

}  // namespace spacehook
