#include "core/json_depth.hpp"

#include <fmt/format.h>

namespace spacehook {

std::size_t JsonNestingDepth(std::string_view text, std::size_t limit) {
    // A scan rather than a SAX pass: brackets outside strings are the whole story for valid JSON, and
    // this costs one look at each byte, far less than the parse it guards.
    std::size_t depth = 0;
    std::size_t deepest = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        switch (c) {
            case '"':
                in_string = true;
                break;
            case '[':
            case '{':
                if (++depth > deepest) {
                    deepest = depth;
                    if (deepest > limit) return deepest;
                }
                break;
            case ']':
            case '}':
                if (depth > 0) --depth;
                break;
            default:
                break;
        }
    }
    return deepest;
}

Result<Json> ParseBoundedJson(std::string_view text, std::size_t max_depth) {
    if (JsonNestingDepth(text, max_depth) > max_depth) {
        return Fail(ErrorCode::kInvalidArgument, fmt::format("JSON nests deeper than {} levels", max_depth));
    }
    Json value = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return Fail(ErrorCode::kInvalidArgument, "not valid JSON");
    return value;
}

}  // namespace spacehook
