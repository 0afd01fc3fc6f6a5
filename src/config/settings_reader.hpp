#pragma once

// Typed, located reading of one configuration document's settings: what the `Apply*` functions of
// service_config.cpp and service_config_watch.cpp share. Private to the config library.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostics.hpp"
#include "config/document.hpp"
#include "config/service_config.hpp"

namespace spacehook::config {

// "/docspace/api_host" -> "docspace.api_host", the spelling used in messages and docs.
inline std::string Dotted(std::string_view pointer) {
    std::string out;
    for (char c : pointer.substr(pointer.empty() ? 0 : 1)) out += c == '/' ? '.' : c;
    return out;
}

inline bool HasWhitespace(std::string_view text) {
    return std::any_of(text.begin(), text.end(),
                       [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

inline std::vector<std::string> SplitCommaList(std::string_view text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto comma = text.find(',', start);
        if (comma == std::string_view::npos) comma = text.size();
        std::string_view item = text.substr(start, comma - start);
        while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
        while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
        if (!item.empty()) out.emplace_back(item);
        start = comma + 1;
    }
    return out;
}

/// Typed access to one document's settings. Every reader reports a located error and returns
/// nullopt when the value is present but wrong; an absent or null value is simply nullopt.
class SettingsReader {
public:
    SettingsReader(const Document& doc, Diagnostics& diagnostics, std::set<std::string>& set_pointers)
        : doc_(doc), diagnostics_(diagnostics), set_pointers_(set_pointers) {}

    const Document& doc() const { return doc_; }

    /// The map at `pointer` after checking its keys; nullptr when absent, null or not a map.
    const Json* Section(const std::string& pointer, const std::vector<std::string_view>& allowed) {
        const Json* value = Present(pointer);
        if (value == nullptr) return nullptr;
        if (!value->is_object()) {
            Error(pointer, fmt::format("{} must be a map, got {}", Dotted(pointer), KindName(*value)));
            return nullptr;
        }
        CheckKeys(doc_, pointer, *value, Dotted(pointer).empty() ? "the configuration" : Dotted(pointer),
                  allowed, diagnostics_);
        return value;
    }

    /// The map at `pointer` whose keys are names chosen by the operator (no key check).
    const Json* Map(const std::string& pointer) {
        const Json* value = Present(pointer);
        if (value == nullptr) return nullptr;
        if (!value->is_object()) {
            Error(pointer, fmt::format("{} must be a map, got {}", Dotted(pointer), KindName(*value)));
            return nullptr;
        }
        return value;
    }

    std::optional<std::string> Text(const std::string& pointer) {
        const Json* value = Present(pointer);
        if (value == nullptr) return std::nullopt;
        auto text = doc_.TextAt(pointer);
        if (!text || value->is_structured()) {
            Error(pointer, fmt::format("{} must be text, got {}", Dotted(pointer), KindName(*value)));
            return std::nullopt;
        }
        Mark(pointer);
        return text;
    }

    std::optional<std::string> OneOf(const std::string& pointer,
                                     const std::vector<std::string_view>& options) {
        auto text = Text(pointer);
        if (!text) return std::nullopt;
        if (std::find(options.begin(), options.end(), *text) == options.end()) {
            Error(pointer, fmt::format("{} must be one of {}, got '{}'", Dotted(pointer),
                                       fmt::join(options, ", "), *text));
            return std::nullopt;
        }
        return text;
    }

    std::optional<bool> Bool(const std::string& pointer) {
        const Json* value = Present(pointer);
        if (value == nullptr) return std::nullopt;
        if (!value->is_boolean()) {
            Error(pointer,
                  fmt::format("{} must be true or false, got {}", Dotted(pointer), KindName(*value)));
            return std::nullopt;
        }
        Mark(pointer);
        return value->get<bool>();
    }

    std::optional<std::int64_t> Integer(const std::string& pointer, std::int64_t min, std::int64_t max) {
        const Json* value = Present(pointer);
        if (value == nullptr) return std::nullopt;
        if (!value->is_number_integer() || value->get<std::int64_t>() < min ||
            value->get<std::int64_t>() > max) {
            Error(pointer,
                  fmt::format("{} must be an integer from {} to {}, got {}", Dotted(pointer), min, max,
                              value->is_primitive() ? value->dump() : std::string(KindName(*value))));
            return std::nullopt;
        }
        Mark(pointer);
        return value->get<std::int64_t>();
    }

    std::optional<double> Number(const std::string& pointer, double min, double max) {
        const Json* value = Present(pointer);
        if (value == nullptr) return std::nullopt;
        if (!value->is_number() || value->get<double>() < min || value->get<double>() > max) {
            Error(pointer,
                  fmt::format("{} must be a number from {} to {}, got {}", Dotted(pointer), min, max,
                              value->is_primitive() ? value->dump() : std::string(KindName(*value))));
            return std::nullopt;
        }
        Mark(pointer);
        return value->get<double>();
    }

    /// "250ms", "10s", "1h30m" or a plain number of milliseconds. `allow_zero` for "0 = off" settings.
    std::optional<std::chrono::milliseconds> Duration(const std::string& pointer, bool allow_zero = false) {
        const Json* value = Present(pointer);
        if (value == nullptr) return std::nullopt;
        std::optional<std::chrono::milliseconds> parsed;
        if (value->is_number_integer() && value->get<std::int64_t>() >= 0) {
            parsed = std::chrono::milliseconds(value->get<std::int64_t>());
        } else if (value->is_string()) {
            parsed = ParseDuration(value->get<std::string>());
        }
        if (!parsed || (!allow_zero && parsed->count() == 0)) {
            Error(pointer,
                  fmt::format("{} must be a {}duration like 250ms, 10s, 5m, 1h or 2d, got {}",
                              Dotted(pointer), allow_zero ? "" : "positive ",
                              value->is_primitive() ? value->dump() : std::string(KindName(*value))));
            return std::nullopt;
        }
        Mark(pointer);
        return parsed;
    }

    std::optional<std::size_t> Size(const std::string& pointer) {
        const Json* value = Present(pointer);
        if (value == nullptr) return std::nullopt;
        std::optional<std::size_t> parsed;
        if (value->is_number_integer() && value->get<std::int64_t>() > 0) {
            parsed = static_cast<std::size_t>(value->get<std::int64_t>());
        } else if (value->is_string()) {
            parsed = ParseSize(value->get<std::string>());
        }
        if (!parsed || *parsed == 0) {
            Error(pointer,
                  fmt::format("{} must be a positive size like 1048576, 512KiB or 1MiB, got {}",
                              Dotted(pointer),
                              value->is_primitive() ? value->dump() : std::string(KindName(*value))));
            return std::nullopt;
        }
        Mark(pointer);
        return parsed;
    }

    /// A YAML list of scalars, or (when `split_text`) one comma-separated text.
    std::optional<std::vector<std::string>> TextList(const std::string& pointer, bool split_text) {
        const Json* value = Present(pointer);
        if (value == nullptr) return std::nullopt;
        if (value->is_array()) {
            std::vector<std::string> out;
            bool ok = true;
            for (std::size_t i = 0; i < value->size(); ++i) {
                const std::string item_pointer = PointerJoin(pointer, i);
                if ((*value)[i].is_null()) continue;
                auto text = doc_.TextAt(item_pointer);
                if (!text || (*value)[i].is_structured()) {
                    Error(item_pointer, fmt::format("{} entries must be text", Dotted(pointer)));
                    ok = false;
                    continue;
                }
                if (!text->empty()) out.push_back(*text);
            }
            if (!ok) return std::nullopt;
            Mark(pointer);
            return out;
        }
        if (split_text && value->is_string()) {
            Mark(pointer);
            return SplitCommaList(value->get<std::string>());
        }
        Error(pointer, fmt::format("{} must be a list{}", Dotted(pointer),
                                   split_text ? " or comma-separated text" : ""));
        return std::nullopt;
    }

    void Error(const std::string& pointer, std::string_view message) {
        diagnostics_.AddAt(doc_, pointer, message);
    }

private:
    const Json* Present(const std::string& pointer) const {
        const Json* value = doc_.Find(pointer);
        if (value == nullptr || value->is_null()) return nullptr;
        return value;
    }
    void Mark(const std::string& pointer) { set_pointers_.insert(pointer); }

    const Document& doc_;
    Diagnostics& diagnostics_;
    std::set<std::string>& set_pointers_;
};

/// The `subscription` and `alerts` sections (service_config_watch.cpp).
void ApplySubscription(SettingsReader& r, ServiceConfig::Subscription& subscription);
void ApplyAlerts(SettingsReader& r, ServiceConfig::Alerts& alerts);
/// What can only be checked once every file is merged: alert channels exist in chat.channels.
void CheckAlerts(const ServiceConfig& config, Diagnostics& diagnostics);

}  // namespace spacehook::config
