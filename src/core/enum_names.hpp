#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

// One table per enum instead of a hand-written switch for ToString and a loop for Parse:
//
//   constexpr EnumNames<RunState, 2> kRunStateNames{{{{RunState::kPending, "pending"}, {RunState::kDone, "done"}}}};
//   kRunStateNames.Name(RunState::kDone) == "done";  kRunStateNames.Parse("done") == RunState::kDone
namespace spacehook {

template <typename E, std::size_t N>
struct EnumNames {
    std::array<std::pair<E, std::string_view>, N> entries;

    /// The value's name; the first entry's name for a value the table lacks (a bug the tests catch).
    constexpr std::string_view Name(E value) const {
        for (const auto& [e, name] : entries) {
            if (e == value) return name;
        }
        return entries[0].second;
    }

    /// The value named exactly `name`; nullopt for any other text.
    constexpr std::optional<E> Parse(std::string_view name) const {
        for (const auto& [e, text] : entries) {
            if (text == name) return e;
        }
        return std::nullopt;
    }
};

}  // namespace spacehook
