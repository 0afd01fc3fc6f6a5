#include "docspace/titles.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace spacehook::docspace {

namespace {

/// .NET strings are UTF-16: lengths, positions and the regex's \p{Cs} all count UTF-16 units.
using Units = std::vector<std::uint32_t>;

constexpr std::uint32_t kInvalidByte = 0xDFFF;  // stands for a byte that is not UTF-8: a lone surrogate
constexpr std::size_t kMaxTitle = 170;          // Global.MaxTitle

Units ToUnits(std::string_view text) {
    Units units;
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        int extra = 0;
        std::uint32_t cp = 0;
        if (lead < 0x80) {
            cp = lead;
        } else if ((lead & 0xE0) == 0xC0) {
            extra = 1;
            cp = lead & 0x1F;
        } else if ((lead & 0xF0) == 0xE0) {
            extra = 2;
            cp = lead & 0x0F;
        } else if ((lead & 0xF8) == 0xF0) {
            extra = 3;
            cp = lead & 0x07;
        } else {
            units.push_back(kInvalidByte);
            ++i;
            continue;
        }
        bool ok = i + static_cast<std::size_t>(extra) < text.size();
        for (int k = 1; ok && k <= extra; ++k) {
            const auto next = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
            if ((next & 0xC0) != 0x80) {
                ok = false;
            } else {
                cp = (cp << 6) | (next & 0x3F);
            }
        }
        static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
        if (!ok || cp < kMin[extra] || cp > 0x10FFFF) {
            units.push_back(kInvalidByte);
            ++i;
            continue;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            units.push_back(0xD800 + (cp >> 10));
            units.push_back(0xDC00 + (cp & 0x3FF));
        } else {
            units.push_back(cp);  // an encoded surrogate (CESU) stays a lone surrogate unit
        }
        i += static_cast<std::size_t>(extra) + 1;
    }
    return units;
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

bool IsSurrogate(std::uint32_t unit) {
    return unit >= 0xD800 && unit <= 0xDFFF;
}

std::string FromUnits(const Units& units) {
    std::string out;
    for (std::size_t i = 0; i < units.size(); ++i) {
        const auto unit = units[i];
        if (unit >= 0xD800 && unit <= 0xDBFF && i + 1 < units.size() && units[i + 1] >= 0xDC00 &&
            units[i + 1] <= 0xDFFF) {
            AppendUtf8(out, 0x10000 + ((unit - 0xD800) << 10) + (units[i + 1] - 0xDC00));
            ++i;
        } else {
            AppendUtf8(out, IsSurrogate(unit) ? 0xFFFD : unit);
        }
    }
    return out;
}

/// char.IsWhiteSpace: what String.Trim() removes.
bool IsWhiteSpace(std::uint32_t unit) {
    return (unit >= 0x09 && unit <= 0x0D) || unit == 0x20 || unit == 0x85 || unit == 0xA0 || unit == 0x1680 ||
           (unit >= 0x2000 && unit <= 0x200A) || unit == 0x2028 || unit == 0x2029 || unit == 0x202F ||
           unit == 0x205F || unit == 0x3000;
}

/// Global._invalidTitleChars: [\t*\+:"<>?|\\/\p{Cs}].
bool IsInvalidTitleUnit(std::uint32_t unit) {
    switch (unit) {
        case '\t':
        case '*':
        case '+':
        case ':':
        case '"':
        case '<':
        case '>':
        case '?':
        case '|':
        case '\\':
        case '/':
            return true;
        default:
            return IsSurrogate(unit);
    }
}

Units Trimmed(const Units& units) {
    std::size_t begin = 0;
    std::size_t end = units.size();
    while (begin < end && IsWhiteSpace(units[begin])) ++begin;
    while (end > begin && IsWhiteSpace(units[end - 1])) --end;
    return Units(units.begin() + static_cast<std::ptrdiff_t>(begin),
                 units.begin() + static_cast<std::ptrdiff_t>(end));
}

std::ptrdiff_t LastDot(const Units& units) {
    for (auto i = static_cast<std::ptrdiff_t>(units.size()) - 1; i >= 0; --i) {
        if (units[static_cast<std::size_t>(i)] == '.') return i;
    }
    return -1;
}

/// Global.ReplaceInvalidCharsAndTruncate on UTF-16 units.
Units ReplaceInvalidCharsAndTruncate(const Units& requested) {
    Units title = Trimmed(requested);
    if (title.size() > kMaxTitle) {
        const auto dot = LastDot(title);
        if (dot > static_cast<std::ptrdiff_t>(kMaxTitle) - 20) {
            const auto ext_length = title.size() - static_cast<std::size_t>(dot);
            // A longer extension than the whole limit makes the portal's range throw; keep what fits.
            const std::size_t stem = ext_length < kMaxTitle ? kMaxTitle - ext_length : 0;
            Units cut(title.begin(), title.begin() + static_cast<std::ptrdiff_t>(stem));
            cut.insert(cut.end(), title.begin() + dot, title.end());
            title = std::move(cut);
        } else {
            title.resize(kMaxTitle);
        }
    }
    for (auto& unit : title) {
        if (IsInvalidTitleUnit(unit)) unit = '_';
    }
    return title;
}

/// FileUtility.ReplaceFileExtension(title, FileUtility.GetFileExtension(title)), as FileDao's saves run
/// it: Path.GetFileNameWithoutExtension + "." + the extension trimmed, lower-cased, without its dot.
Units WithLowerCaseExtension(const Units& title) {
    // Path.GetExtension: from the last dot, unless that dot ends the name ("name." has none). The
    // directory separators were replaced above, so the whole title is the file name.
    const auto dot = LastDot(title);
    Units extension;
    if (dot >= 0 && static_cast<std::size_t>(dot) + 1 < title.size()) {
        extension.assign(title.begin() + dot, title.end());
    }
    extension = Trimmed(extension);
    for (auto& unit : extension) {
        if (unit >= 'A' && unit <= 'Z') unit = unit - 'A' + 'a';
    }
    Units out(title.begin(), dot >= 0 ? title.begin() + dot : title.end());
    out.push_back('.');
    auto rest = extension.begin();
    while (rest != extension.end() && *rest == '.') ++rest;
    out.insert(out.end(), rest, extension.end());
    return out;
}

}  // namespace

std::string PortalTitle(std::string_view requested, TitleKind kind) {
    if (requested.empty()) return std::string();
    Units title = ReplaceInvalidCharsAndTruncate(ToUnits(requested));
    if (kind == TitleKind::kFile && !title.empty()) title = WithLowerCaseExtension(title);
    return FromUnits(title);
}

std::size_t Utf16Length(std::string_view text) {
    return ToUnits(text).size();
}

std::string NumberedTitle(std::string_view title, int n, TitleKind kind) {
    const auto dot = kind == TitleKind::kFile ? title.rfind('.') : std::string_view::npos;
    if (dot == std::string_view::npos) return fmt::format("{} ({})", title, n);
    return fmt::format("{} ({}){}", title.substr(0, dot), n, title.substr(dot));
}

bool TitleMatches(std::string_view candidate, std::string_view source, bool allow_numbered, TitleKind kind) {
    if (candidate == source) return true;
    if (!allow_numbered) return false;
    const auto dot = kind == TitleKind::kFile ? source.rfind('.') : std::string_view::npos;
    const std::string_view stem = dot == std::string_view::npos ? source : source.substr(0, dot);
    const std::string_view ext = dot == std::string_view::npos ? std::string_view() : source.substr(dot);
    // "<stem> (<digits>)<ext>", matched piece by piece on views (no temporary strings).
    if (!candidate.starts_with(stem)) return false;
    std::string_view rest = candidate.substr(stem.size());
    if (rest.size() < 3 + ext.size() || !rest.starts_with(" (") || !rest.ends_with(ext)) return false;
    rest = rest.substr(2, rest.size() - 2 - ext.size());
    if (!rest.ends_with(')')) return false;
    const auto number = rest.substr(0, rest.size() - 1);
    return !number.empty() &&
           std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace spacehook::docspace
