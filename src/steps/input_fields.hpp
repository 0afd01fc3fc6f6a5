#pragma once

// A kind's inputs, declared once: how each is written in a rule (rules::InputSpec, which the rule
// compiler checks and the renderer renders) and which member of the kind's typed input its rendered
// value fills. The member's C++ type decides how the value is read and shown again (the rendered input
// of test-rule and docs/rules.md "Rendered step inputs"):
//
//   std::string, int, bool, Json        a value that is always shown
//   EntityId                            a number or text id, shown as it came (EntityId::ToJson)
//   std::vector<T>, std::map<...>       a list / a map of names to text, shown even when empty
//   std::optional<T>                    left out of the rendered input when absent

#include <fmt/format.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/entity_id.hpp"
#include "core/enum_names.hpp"
#include "core/json.hpp"
#include "rules/step.hpp"

namespace spacehook::steps {

namespace codec {

/// Each Read fills `out` from a rendered value: nullopt, or what is wrong with the value.
using Problem = std::optional<std::string>;

inline Problem Read(const Json& value, std::string& out) {
    if (!value.is_string()) return "expected text, got " + value.dump();
    out = value.get<std::string>();
    return std::nullopt;
}

inline Problem Read(const Json& value, EntityId& out) {
    auto id = EntityId::FromJson(value);
    if (!id) return "not an id: " + value.dump();
    out = std::move(*id);
    return std::nullopt;
}

inline Problem Read(const Json& value, int& out) {
    if (!value.is_number_integer()) return "expected a whole number, got " + value.dump();
    out = value.get<int>();
    return std::nullopt;
}

inline Problem Read(const Json& value, bool& out) {
    if (!value.is_boolean()) return "expected true or false, got " + value.dump();
    out = value.get<bool>();
    return std::nullopt;
}

inline Problem Read(const Json& value, Json& out) {
    out = value;
    return std::nullopt;
}

/// A map of names to text; a value that is not text is kept as its JSON text.
inline Problem Read(const Json& value, std::map<std::string, std::string>& out) {
    if (!value.is_object()) return "expected a map, got " + value.dump();
    out.clear();
    for (const auto& [name, item] : value.items()) {
        out[name] = item.is_string() ? item.get<std::string>() : item.dump();
    }
    return std::nullopt;
}

template <typename T>
Problem Read(const Json& value, std::vector<T>& out) {
    if (!value.is_array()) return "expected a list, got " + value.dump();
    out.clear();
    for (const auto& item : value) {
        T element{};
        if (auto problem = Read(item, element)) return problem;
        out.push_back(std::move(element));
    }
    return std::nullopt;
}

template <typename T>
Problem Read(const Json& value, std::optional<T>& out) {
    T present{};
    if (auto problem = Read(value, present)) return problem;
    out = std::move(present);
    return std::nullopt;
}

inline Json Show(const std::string& value) {
    return value;
}
inline Json Show(const EntityId& value) {
    return value.ToJson();
}
inline Json Show(int value) {
    return value;
}
inline Json Show(bool value) {
    return value;
}
inline Json Show(const Json& value) {
    return value;
}
inline Json Show(const std::map<std::string, std::string>& value) {
    Json out = Json::object();
    for (const auto& [name, text] : value) out[name] = text;
    return out;
}

template <typename T>
Json Show(const std::vector<T>& values) {
    Json out = Json::array();
    for (const auto& value : values) out.push_back(Show(value));
    return out;
}

/// nullopt: the input is left out of the rendered input.
template <typename T>
std::optional<Json> ShowIfPresent(const T& value) {
    return Show(value);
}
template <typename T>
std::optional<Json> ShowIfPresent(const std::optional<T>& value) {
    if (!value) return std::nullopt;
    return Show(*value);
}

}  // namespace codec

/// One input of a kind whose typed input is `Input`.
template <typename Input>
struct Field {
    rules::InputSpec spec;
    /// Its key in the rendered input (usually spec.key); empty when its value is folded into other
    /// members and not shown on its own (copy's `items` become `files` and `folders`).
    std::string_view shown;
    /// Reads the rendered value into the typed input: nullopt, or what is wrong with the value.
    std::function<codec::Problem(Input&, const Json&)> read;
    /// The member as shown in the rendered input; nullopt leaves it out (an absent optional).
    std::function<std::optional<Json>(const Input&)> show;
    /// Shown instead of leaving an absent input out (copy_as shows `title: null`).
    std::optional<Json> shown_when_absent;

    Field Required() && {
        spec.required = true;
        return std::move(*this);
    }
    /// Compiled into the step when the rule leaves the input out, so `check` shows it.
    Field Default(Json value) && {
        spec.default_value = std::move(value);
        return std::move(*this);
    }
    /// Its `${VAR}` values are secrets whatever their names (rules::InputSpec::sensitive).
    Field Sensitive() && {
        spec.sensitive = true;
        return std::move(*this);
    }
    Field ShownAs(std::string_view key) && {
        shown = key;
        return std::move(*this);
    }
    Field ShownWhenAbsent(Json value) && {
        shown_when_absent = std::move(value);
        return std::move(*this);
    }
};

/// An input of `type` whose rendered value is read into `member` (by the member's type, see above).
template <typename Input, typename T>
Field<Input> Bind(std::string_view key, rules::InputType type, T Input::*member) {
    Field<Input> field;
    field.spec.key = key;
    field.spec.type = type;
    field.shown = key;
    field.read = [member](Input& input, const Json& value) { return codec::Read(value, input.*member); };
    field.show = [member](const Input& input) { return codec::ShowIfPresent(input.*member); };
    return field;
}

/// A literal one of `names` (rules::InputType::kChoice), read into an enum member (E, or
/// std::optional<E> when it may be left out).
template <typename Input, typename Member, typename E, std::size_t N>
Field<Input> Choice(std::string_view key, Member Input::*member, const EnumNames<E, N>& names) {
    Field<Input> field;
    field.spec.key = key;
    field.spec.type = rules::InputType::kChoice;
    for (const auto& entry : names.entries) field.spec.choices.push_back(entry.second);
    field.shown = key;
    field.read = [member, &names](Input& input, const Json& value) -> codec::Problem {
        auto parsed = value.is_string() ? names.Parse(value.get<std::string>()) : std::nullopt;
        if (!parsed) return "not one of the choices: " + value.dump();
        input.*member = *parsed;
        return std::nullopt;
    };
    field.show = [member, &names](const Input& input) -> std::optional<Json> {
        if constexpr (std::is_same_v<Member, std::optional<E>>) {
            if (!(input.*member)) return std::nullopt;
            return Json(names.Name(*(input.*member)));
        } else {
            return Json(names.Name(input.*member));
        }
    };
    return field;
}

}  // namespace spacehook::steps
