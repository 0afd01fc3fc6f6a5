#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"

namespace spacehook::config {

/// Where a value was written: "examples/home-room.yaml:12:7".
struct SourceLocation {
    std::string file;
    int line = 0;    ///< 1-based; 0 = unknown
    int column = 0;  ///< 1-based
    [[nodiscard]] std::string ToString() const;
};

/// Looks up an environment variable. Injected so tests do not depend on the process environment.
using Env = std::function<std::optional<std::string>(std::string_view name)>;
/// The process environment (getenv).
Env ProcessEnv();
/// An Env over a fixed map (tests), falling back to nothing.
Env MapEnv(std::map<std::string, std::string> values);

/// Expands `${VAR}` and `${VAR:-default}` (default may be empty; `$$` is a literal `$`). An unset
/// variable without a default is kConfig naming the variable.
Result<std::string> ExpandVars(std::string_view text, const Env& env);

/// One `${...}` reference resolved by ExpandVars: the variable (or "file:PATH", "credential:NAME") and
/// the value it gave. `secret`: read from a file or credential (VAR_FILE, $CREDENTIALS_DIRECTORY,
/// ${file:}, ${credential:}) or named like a secret (NamedLikeSecret).
struct VariableUse {
    std::string name;
    std::string value;
    bool secret = false;
};
/// ExpandVars, also appending every reference it resolved to `uses`.
Result<std::string> ExpandVars(std::string_view text, const Env& env, std::vector<VariableUse>& uses);

/// A scalar as written in the file, when `${...}` or `$$` in it changed on loading.
struct WrittenText {
    std::string text;               ///< before expansion
    std::vector<VariableUse> uses;  ///< what its references resolved to (in memory only)
    [[nodiscard]] bool secret() const {
        for (const auto& use : uses) {
            if (use.secret) return true;
        }
        return false;
    }
};

/// A YAML file read into JSON values, remembering where each value stood. yaml-cpp stays inside
/// src/config; everything after loading works on Json plus these locations. Scalars are typed after
/// `${VAR}` expansion by YAML 1.2 core rules when unquoted (`id: ${ROOM_ID}` with ROOM_ID=890 is the
/// number 890) and stay strings when quoted.
struct Document {
    std::string file;
    Json root;
    /// JSON pointer ("/rules/0/if/title") -> position of that value (of its key for map entries).
    std::map<std::string, SourceLocation> locations;
    /// JSON pointer -> the expanded text of an unquoted scalar that was typed as a number, boolean or
    /// null. A setting that wants text reads it back exactly as written: `secret: 0123abcd` is text
    /// anyway, but `secret: 01234567` types as the integer 1234567 and must not lose its zero.
    std::map<std::string, std::string> source_text;
    /// JSON pointer -> the scalar as written, for scalars whose `${...}` or `$$` expansion changed them.
    /// Rule steps keep this form and resolve it when the step runs, so a run record, `check` and the
    /// admin API show `${VAR}`, never its value (docs/rules.md "Variables in steps").
    std::map<std::string, WrittenText> written;
    /// The values of every secret reference expanded in the file (VariableUse::secret), for
    /// log::RegisterSecret.
    std::vector<std::string> secret_values;

    /// Position of `pointer`, or of its nearest ancestor that has one.
    [[nodiscard]] SourceLocation Locate(std::string_view pointer) const;
    /// kConfig error "file:line:col: message" for the value at `pointer`.
    [[nodiscard]] Error ErrorAt(std::string_view pointer, std::string_view message) const;
    /// The value at `pointer` as text: strings as they are, typed plain scalars as written (see
    /// source_text), other numbers and booleans printed. nullopt for null, objects, arrays, absence.
    [[nodiscard]] std::optional<std::string> TextAt(std::string_view pointer) const;
    /// The value at `pointer`, or nullptr when the pointer is malformed or names nothing.
    [[nodiscard]] const Json* Find(std::string_view pointer) const;
};

/// Reads and expands one YAML file. Syntax errors and unset variables are kConfig errors naming
/// file, line and column.
Result<Document> LoadYamlFile(const std::string& path, const Env& env);
/// Same, from text (tests, fuzzing); `file` is only used in messages.
Result<Document> LoadYamlText(std::string_view text, const std::string& file, const Env& env);

}  // namespace spacehook::config
