#include "config/document.hpp"

#include <fmt/format.h>

#include <cstdlib>

#include "config/variables.hpp"

namespace spacehook::config {

std::string SourceLocation::ToString() const {
    if (line <= 0) return file;
    return fmt::format("{}:{}:{}", file, line, column);
}

Env ProcessEnv() {
    return [](std::string_view name) -> std::optional<std::string> {
        const char* value = std::getenv(std::string(name).c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
}

Env MapEnv(std::map<std::string, std::string> values) {
    return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
        auto it = values.find(std::string(name));
        if (it == values.end()) return std::nullopt;
        return it->second;
    };
}

namespace {

bool IsNameStart(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool IsNameChar(char c) {
    return IsNameStart(c) || (c >= '0' && c <= '9');
}

// Index of the '}' closing a `${` whose body starts at `from`, honouring nested `${...}` in defaults.
std::optional<std::size_t> FindClosingBrace(std::string_view text, std::size_t from) {
    int depth = 0;
    for (std::size_t i = from; i < text.size(); ++i) {
        if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
            ++depth;
            ++i;
        } else if (text[i] == '}') {
            if (depth == 0) return i;
            --depth;
        }
    }
    return std::nullopt;
}

}  // namespace

Result<std::string> ExpandVars(std::string_view text, const Env& env) {
    std::vector<VariableUse> uses;
    return ExpandVars(text, env, uses);
}

Result<std::string> ExpandVars(std::string_view text, const Env& env, std::vector<VariableUse>& uses) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c != '$' || i + 1 >= text.size() || (text[i + 1] != '$' && text[i + 1] != '{')) {
            out += c;
            ++i;
            continue;
        }
        if (text[i + 1] == '$') {
            out += '$';
            i += 2;
            continue;
        }
        std::size_t j = i + 2;
        if (j >= text.size() || !IsNameStart(text[j])) {
            return Fail(ErrorCode::kConfig,
                        "'${' must be followed by a variable name (write '$$' for a literal '$')");
        }
        while (j < text.size() && IsNameChar(text[j])) ++j;
        const std::string name(text.substr(i + 2, j - i - 2));
        // ${file:PATH} and ${credential:NAME}: a secret read from a file, not the environment. ':-'
        // still means a default, so `${file:-x}` stays the variable `file` with a default.
        if ((name == "file" || name == "credential") && j + 1 < text.size() && text[j] == ':' &&
            text[j + 1] != '-') {
            const auto close = text.find('}', j + 1);
            if (close == std::string_view::npos)
                return Fail(ErrorCode::kConfig, fmt::format("'${{{}:' is never closed by '}}'", name));
            const std::string target(text.substr(j + 1, close - j - 1));
            auto read = name == "file" ? ReadSecretFile(target) : ReadCredential(target, env);
            if (!read)
                return Fail(ErrorCode::kConfig,
                            fmt::format("${{{}:{}}}: {}", name, target, read.error().message));
            out += *read;
            uses.push_back(VariableUse{fmt::format("{}:{}", name, target), *read, true});
            i = close + 1;
            continue;
        }
        bool from_secret_source = false;
        if (j < text.size() && text[j] == '}') {
            auto looked_up = LookupVariable(name, env, from_secret_source);
            if (!looked_up) return Fail(looked_up.error());
            const auto& value = *looked_up;
            if (!value) {
                return Fail(
                    ErrorCode::kConfig,
                    fmt::format("environment variable {0} is not set (write ${{{0}:-}} if it is optional)",
                                name));
            }
            out += *value;
            uses.push_back(VariableUse{name, *value, from_secret_source || NamedLikeSecret(name)});
            i = j + 1;
            continue;
        }
        if (text.substr(j, 2) != ":-") {
            return Fail(ErrorCode::kConfig,
                        fmt::format("'${{{}' must be closed by '}}' or continue with ':-default}}'", name));
        }
        auto close = FindClosingBrace(text, j + 2);
        if (!close) return Fail(ErrorCode::kConfig, fmt::format("'${{{}:-' is never closed by '}}'", name));
        auto looked_up = LookupVariable(name, env, from_secret_source);
        if (!looked_up) return Fail(looked_up.error());
        const auto& value = *looked_up;
        // Shell semantics: ':-' also replaces a variable that is set but empty.
        if (value && !value->empty()) {
            out += *value;
            uses.push_back(VariableUse{name, *value, from_secret_source || NamedLikeSecret(name)});
        } else {
            auto fallback = ExpandVars(text.substr(j + 2, *close - j - 2), env, uses);
            if (!fallback) return fallback;
            out += *fallback;
        }
        i = *close + 1;
    }
    return out;
}

SourceLocation Document::Locate(std::string_view pointer) const {
    std::string current(pointer);
    while (true) {
        auto it = locations.find(current);
        if (it != locations.end()) return it->second;
        if (current.empty()) break;
        const auto slash = current.rfind('/');
        current.resize(slash == std::string::npos ? 0 : slash);
    }
    return SourceLocation{file, 0, 0};
}

Error Document::ErrorAt(std::string_view pointer, std::string_view message) const {
    return Error{ErrorCode::kConfig, fmt::format("{}: {}", Locate(pointer).ToString(), message), 0,
                 std::nullopt};
}

const Json* Document::Find(std::string_view pointer) const {
    try {
        const Json::json_pointer ptr{std::string(pointer)};
        if (!root.contains(ptr)) return nullptr;
        return &root.at(ptr);
    } catch (const Json::exception&) {
        return nullptr;
    }
}

std::optional<std::string> Document::TextAt(std::string_view pointer) const {
    const Json* value = Find(pointer);
    if (value == nullptr) return std::nullopt;
    if (value->is_string()) return value->get<std::string>();
    auto text = source_text.find(std::string(pointer));
    if (text != source_text.end() && !value->is_null()) return text->second;
    if (value->is_number_integer()) return std::to_string(value->get<std::int64_t>());
    if (value->is_number_unsigned()) return std::to_string(value->get<std::uint64_t>());
    if (value->is_number_float() || value->is_boolean()) return value->dump();
    return std::nullopt;
}

}  // namespace spacehook::config
