#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/document.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

namespace spacehook::config {

/// Collects located configuration errors, so one `spacehook check` reports every problem in a file
/// instead of making the operator fix them one run at a time.
class Diagnostics {
public:
    void Add(Error error);
    /// Adds "file:line:col: message" for the value at `pointer` of `doc`.
    void AddAt(const Document& doc, std::string_view pointer, std::string_view message);

    [[nodiscard]] bool empty() const { return messages_.empty(); }
    [[nodiscard]] std::size_t size() const { return messages_.size(); }
    [[nodiscard]] const std::vector<std::string>& messages() const { return messages_; }
    /// One kConfig error listing every message, one per line, in the order they were found.
    [[nodiscard]] Error ToError() const;

private:
    std::vector<std::string> messages_;
};

/// "/rules/0" + "if" -> "/rules/0/if" (RFC 6901 escaping of '~' and '/').
std::string PointerJoin(std::string_view base, std::string_view key);
std::string PointerJoin(std::string_view base, std::size_t index);

/// The candidate closest to `word` by edit distance when it is close enough to be a typo (case is
/// ignored), else an empty string.
std::string ClosestName(std::string_view word, const std::vector<std::string_view>& candidates);

/// "unknown key 'lisen' in server; did you mean 'listen'?" or, with no close candidate,
/// "unknown key 'foo' in server; expected one of: a, b, c".
std::string UnknownKeyMessage(std::string_view key, std::string_view where,
                              const std::vector<std::string_view>& allowed);

/// Reports every key of the object at `pointer` that is not in `allowed` (see UnknownKeyMessage).
/// Returns false when there was one.
bool CheckKeys(const Document& doc, std::string_view pointer, const Json& object, std::string_view where,
               const std::vector<std::string_view>& allowed, Diagnostics& diagnostics);

/// Short description of a JSON value's kind for messages: "a number", "a list", "text", ...
std::string_view KindName(const Json& value);

}  // namespace spacehook::config
