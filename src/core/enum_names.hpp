#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

// One table per enum instead of a hand-written switch for ToString and a loop for Parse:
//
//   constexpr EnumNames<RunState, 2> kRunStateNames{{{
//       {RunState::kPending, "pending"},
//       {RunState::kDone, "done"},
//   }}};
//   static_assert(kRunStateNames.Unique());
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

    /// No value or name twice and no empty name: what a table's static_assert checks, so that a copied
    /// line or an N larger than the entries written (the rest are {E{}, ""}) does not compile.
    constexpr bool Unique() const {
        for (std::size_t i = 0; i < N; ++i) {
            if (entries[i].second.empty()) return false;
            for (std::size_t j = i + 1; j < N; ++j) {
                if (entries[i].first == entries[j].first || entries[i].second == entries[j].second)
                    return false;
            }
        }
        return true;
    }

    /// Entry i names the value i (0, 1, ...): a table that also lists every value of a dense enum in
    /// order, for code that indexes by the value.
    constexpr bool Dense() const {
        for (std::size_t i = 0; i < N; ++i) {
            if (entries[i].first != static_cast<E>(i)) return false;
        }
        return true;
    }
};

}  // namespace spacehook
