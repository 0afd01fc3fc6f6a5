#include "config/diagnostics.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

namespace spacehook::config {

void Diagnostics::Add(Error error) {
    messages_.push_back(std::move(error.message));
}

void Diagnostics::AddAt(const Document& doc, std::string_view pointer, std::string_view message) {
    Add(doc.ErrorAt(pointer, message));
}

Error Diagnostics::ToError() const {
    std::string text;
    for (const auto& message : messages_) {
        if (!text.empty()) text += '\n';
        text += message;
    }
    return Error{ErrorCode::kConfig, std::move(text), 0, std::nullopt};
}

std::string PointerJoin(std::string_view base, std::string_view key) {
    std::string out(base);
    out += '/';
    for (char c : key) {
        if (c == '~') {
            out += "~0";
        } else if (c == '/') {
            out += "~1";
        } else {
            out += c;
        }
    }
    return out;
}

std::string PointerJoin(std::string_view base, std::size_t index) {
    return std::string(base) + '/' + std::to_string(index);
}

namespace {

std::size_t EditDistance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                              std::tolower(static_cast<unsigned char>(b[j - 1]));
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

}  // namespace

std::string ClosestName(std::string_view word, const std::vector<std::string_view>& candidates) {
    // A typo is a couple of edits; allow a third of the word for long names ("max_connectoins").
    const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
    std::string best;
    std::size_t best_distance = limit + 1;
    for (auto candidate : candidates) {
        const std::size_t distance = EditDistance(word, candidate);
        if (distance < best_distance) {
            best_distance = distance;
            best = std::string(candidate);
        }
    }
    return best;
}

std::string UnknownKeyMessage(std::string_view key, std::string_view where,
                              const std::vector<std::string_view>& allowed) {
    const std::string suggestion = ClosestName(key, allowed);
    if (!suggestion.empty()) {
        return fmt::format("unknown key '{}' in {}; did you mean '{}'?", key, where, suggestion);
    }
    return fmt::format("unknown key '{}' in {}; expected one of: {}", key, where, fmt::join(allowed, ", "));
}

bool CheckKeys(const Document& doc, std::string_view pointer, const Json& object, std::string_view where,
               const std::vector<std::string_view>& allowed, Diagnostics& diagnostics) {
    bool ok = true;
    for (const auto& [key, value] : object.items()) {
        if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
        diagnostics.AddAt(doc, PointerJoin(pointer, key), UnknownKeyMessage(key, where, allowed));
        ok = false;
    }
    return ok;
}

std::string_view KindName(const Json& value) {
    switch (value.type()) {
        case Json::value_t::null:
            return "empty";
        case Json::value_t::object:
            return "a map";
        case Json::value_t::array:
            return "a list";
        case Json::value_t::string:
            return "text";
        case Json::value_t::boolean:
            return "a boolean";
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned:
            return "an integer";
        case Json::value_t::number_float:
            return "a number";
        default:
            return "a value";
    }
}

}  // namespace spacehook::config
