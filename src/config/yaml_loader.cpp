// YAML -> Json with locations. yaml-cpp is used through its event interface rather than YAML::Node:
// events carry a Mark for every key and value, tell plain scalars from quoted ones (the tag is "?"
// for plain, "!" for quoted and block scalars), and let us reject duplicate keys, which
// YAML::Node silently keeps.
#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string_view>

#include "config/diagnostics.hpp"
#include "config/document.hpp"

namespace spacehook::config {

namespace {

// Alias expansion copies values; a "billion laughs" file must not exhaust memory.
constexpr std::size_t kMaxValues = 200'000;

constexpr std::string_view kStrTag = "tag:yaml.org,2002:str";

struct LoadFailure {
    YAML::Mark mark;
    std::string message;
};

bool AllOf(std::string_view text, bool (*pred)(char)) {
    if (text.empty()) return false;
    for (char c : text) {
        if (!pred(c)) return false;
    }
    return true;
}
bool IsDigit(char c) {
    return c >= '0' && c <= '9';
}
bool IsOctal(char c) {
    return c >= '0' && c <= '7';
}
bool IsHex(char c) {
    return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::optional<Json> ParseInteger(std::string_view digits, int base, bool negative) {
    std::uint64_t magnitude = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    if (negative) {
        if (magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1)
            return std::nullopt;
        return Json(static_cast<std::int64_t>(0 - magnitude));
    }
    if (magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return Json(static_cast<std::int64_t>(magnitude));
    }
    return Json(magnitude);
}

// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF). yaml-cpp passes
// other bytes through, and every loaded string ends up in JSON (rule fingerprints, stored runs, HTTP
// bodies), where nlohmann's dump() throws on them: a rule file saved as Latin-1 must be a located error.
bool IsUtf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t extra = 0;
        unsigned char min_second = 0x80, max_second = 0xBF;
        if (c < 0x80) {
            ++i;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            if (c == 0xE0) min_second = 0xA0;  // overlong
            if (c == 0xED) max_second = 0x9F;  // surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            if (c == 0xF0) min_second = 0x90;  // overlong
            if (c == 0xF4) max_second = 0x8F;  // past U+10FFFF
        } else {
            return false;
        }
        if (text.size() - i <= extra) return false;
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            const unsigned char lo = k == 1 ? min_second : 0x80;
            const unsigned char hi = k == 1 ? max_second : 0xBF;
            if (next < lo || next > hi) return false;
        }
        i += extra + 1;
    }
    return true;
}

constexpr std::string_view kNotUtf8 = "text is not valid UTF-8 (save the file as UTF-8)";

// [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
bool IsCoreFloat(std::string_view text) {
    std::size_t i = 0;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    std::size_t int_digits = 0;
    while (i < text.size() && IsDigit(text[i])) ++i, ++int_digits;
    std::size_t frac_digits = 0;
    if (i < text.size() && text[i] == '.') {
        ++i;
        while (i < text.size() && IsDigit(text[i])) ++i, ++frac_digits;
        if (int_digits == 0 && frac_digits == 0) return false;
    } else if (int_digits == 0) {
        return false;
    }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
        std::size_t exp_digits = 0;
        while (i < text.size() && IsDigit(text[i])) ++i, ++exp_digits;
        if (exp_digits == 0) return false;
    }
    return i == text.size();
}

/// Types an unquoted scalar by the YAML 1.2 core schema. Integers outside 64 bits stay text: they
/// are ids more often than quantities, and a double would silently round them.
Json TypePlainScalar(std::string_view text) {
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    {
        std::string_view body = text;
        bool negative = false;
        if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
            negative = body[0] == '-';
            body.remove_prefix(1);
        }
        if (AllOf(body, IsDigit)) {
            if (auto value = ParseInteger(body, 10, negative)) return *value;
            return std::string(text);
        }
    }
    if (text.size() > 2 && text[0] == '0' && text[1] == 'o' && AllOf(text.substr(2), IsOctal)) {
        if (auto value = ParseInteger(text.substr(2), 8, false)) return *value;
        return std::string(text);
    }
    if (text.size() > 2 && text[0] == '0' && text[1] == 'x' && AllOf(text.substr(2), IsHex)) {
        if (auto value = ParseInteger(text.substr(2), 16, false)) return *value;
        return std::string(text);
    }
    if (IsCoreFloat(text)) {
        double value = 0;
        std::string_view body = text[0] == '+' ? text.substr(1) : text;
        auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
        if (ec == std::errc() && end == body.data() + body.size()) return value;
        return std::string(text);
    }
    std::string_view body = text;
    bool negative = false;
    if (body[0] == '-' || body[0] == '+') {
        negative = body[0] == '-';
        body.remove_prefix(1);
    }
    if (body == ".inf" || body == ".Inf" || body == ".INF") {
        return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    }
    if (text == ".nan" || text == ".NaN" || text == ".NAN") return std::numeric_limits<double>::quiet_NaN();
    return std::string(text);
}

// `${VAR}` inside a flow collection (`move: { to: ${FOLDER_ID} }`) is not valid YAML: `{` and `}` are
// flow indicators there. Rule files are full of such lines, so before parsing, the braces of each
// `${...}` are swapped for two control bytes of the same width (marks stay exact) that scalars
// carry through untouched, and swapped back before expansion. A line whose `${` is not closed on the
// same line is left alone; ExpandVars then reports it.
constexpr char kOpenBrace = '\x01';
constexpr char kCloseBrace = '\x02';

std::string ProtectVariableBraces(std::string_view text) {
    if (text.find(kOpenBrace) != std::string_view::npos || text.find(kCloseBrace) != std::string_view::npos) {
        return std::string(text);  // never rewrite a file that already holds these bytes
    }
    std::string out;
    out.reserve(text.size());
    std::size_t line_start = 0;
    while (line_start < text.size()) {
        auto line_end = text.find('\n', line_start);
        if (line_end == std::string_view::npos) line_end = text.size();
        const std::string_view line = text.substr(line_start, line_end - line_start);
        std::string rewritten;
        int depth = 0;
        for (std::size_t i = 0; i < line.size(); ++i) {
            if (line[i] == '$' && i + 1 < line.size() && line[i + 1] == '$') {
                rewritten += "$$";
                ++i;
            } else if (line[i] == '$' && i + 1 < line.size() && line[i + 1] == '{') {
                rewritten += '$';
                rewritten += kOpenBrace;
                ++depth;
                ++i;
            } else if (line[i] == '}' && depth > 0) {
                rewritten += kCloseBrace;
                --depth;
            } else {
                rewritten += line[i];
            }
        }
        out += depth == 0 ? rewritten : std::string(line);
        if (line_end < text.size()) out += '\n';
        line_start = line_end + 1;
    }
    return out;
}

std::string RestoreVariableBraces(std::string text) {
    for (char& c : text) {
        if (c == kOpenBrace) c = '{';
        if (c == kCloseBrace) c = '}';
    }
    return text;
}

class JsonBuilder final : public YAML::EventHandler {
public:
    JsonBuilder(Document& doc, const Env& env) : doc_(doc), env_(env) {}

    void OnDocumentStart(const YAML::Mark& mark) override {
        if (documents_++ > 0) throw LoadFailure{mark, "only one YAML document per file is supported"};
        start_mark_ = mark;
    }
    void OnDocumentEnd() override {}

    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        if (ExpectingKey()) throw LoadFailure{mark, "a map key must not be empty"};
        const std::string pointer = ChildPointer(mark);
        Complete(nullptr, pointer, anchor);
    }

    void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        if (ExpectingKey()) throw LoadFailure{mark, "aliases cannot be map keys"};
        auto it = anchors_.find(anchor);
        if (it == anchors_.end())
            throw LoadFailure{mark, "alias refers to an anchor that is not complete here"};
        count_ += CountValues(it->second.value);
        if (count_ > kMaxValues) throw LoadFailure{mark, "document too large after expanding aliases"};
        const std::string pointer = ChildPointer(mark);
        CopyLocations(it->second.pointer, pointer);
        Complete(it->second.value, pointer, 0);
    }

    void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  const std::string& protected_value) override {
        const std::string value = RestoreVariableBraces(protected_value);
        if (!IsUtf8(value)) throw LoadFailure{mark, std::string(kNotUtf8)};
        if (ExpectingKey()) {
            Frame& frame = stack_.back();
            if (anchor != 0) throw LoadFailure{mark, "anchors on map keys are not supported"};
            if (frame.explicit_keys.count(value) != 0) {
                throw LoadFailure{mark,
                                  fmt::format("duplicate key '{}' (first written at {})", value,
                                              doc_.locations[PointerJoin(frame.pointer, value)].ToString())};
            }
            frame.key = value;
            frame.key_mark = mark;
            frame.merge_key = tag == "?" && value == "<<";
            if (!frame.merge_key) frame.explicit_keys.insert(value);
            return;
        }
        const std::string pointer = ChildPointer(mark);
        std::vector<VariableUse> uses;
        auto expanded = ExpandVars(value, env_, uses);
        if (!expanded) throw LoadFailure{mark, expanded.error().message};
        if (!IsUtf8(*expanded)) throw LoadFailure{mark, "a ${VAR} value is not valid UTF-8"};
        if (*expanded != value) {
            for (const auto& use : uses) {
                if (use.secret && !use.value.empty()) doc_.secret_values.push_back(use.value);
            }
            doc_.written[pointer] = WrittenText{value, std::move(uses)};
        }
        Json typed;
        if (tag == "?") {
            typed = TypePlainScalar(*expanded);
            if (!typed.is_string()) doc_.source_text[pointer] = *expanded;
        } else if (tag == "!" || tag == kStrTag) {
            typed = *expanded;
        } else {
            throw LoadFailure{mark, fmt::format("unsupported tag '{}'; quote the value instead", tag)};
        }
        Complete(std::move(typed), pointer, anchor);
    }

    void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value /*style*/) override {
        Open(mark, tag, anchor, Json::array());
    }
    void OnSequenceEnd() override { Close(); }

    void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value /*style*/) override {
        Open(mark, tag, anchor, Json::object());
    }
    void OnMapEnd() override {
        Frame& frame = stack_.back();
        ApplyMerges(frame);
        Close();
    }

    void Finish() {
        if (documents_ == 0) {
            doc_.root = nullptr;
            return;
        }
        if (!doc_.locations.count("")) {
            doc_.locations[""] = SourceLocation{doc_.file, start_mark_.line + 1, start_mark_.column + 1};
        }
    }

private:
    struct Frame {
        Json value;
        std::string pointer;
        YAML::anchor_t anchor = 0;
        std::optional<std::string> key;  // maps: the key waiting for its value
        YAML::Mark key_mark;
        bool merge_key = false;
        std::set<std::string> explicit_keys;
        std::vector<std::string> merge_pointers;  // values of `<<`, parked under "<pointer>/<<"
    };
    struct Anchored {
        Json value;
        std::string pointer;
    };

    [[nodiscard]] bool ExpectingKey() const {
        return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().key;
    }

    // Pointer of the value about to be completed, recording its location (map values are located at
    // their key, which is where an operator looks).
    std::string ChildPointer(const YAML::Mark& mark) {
        std::string pointer;
        YAML::Mark where = mark;
        if (stack_.empty()) {
            pointer = "";
        } else if (stack_.back().value.is_object()) {
            Frame& frame = stack_.back();
            // Merge values are parked at "<<" plus an index, so several `<<` keys do not collide.
            pointer = frame.merge_key
                          ? PointerJoin(PointerJoin(frame.pointer, "<<"), frame.merge_pointers.size())
                          : PointerJoin(frame.pointer, *frame.key);
            where = frame.key_mark;
        } else {
            pointer = PointerJoin(stack_.back().pointer, stack_.back().value.size());
        }
        doc_.locations[pointer] = SourceLocation{doc_.file, where.line + 1, where.column + 1};
        return pointer;
    }

    void Open(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor, Json empty) {
        if (ExpectingKey()) throw LoadFailure{mark, "map keys must be plain text, not lists or maps"};
        if (!tag.empty() && tag != "?" && tag != "!") {
            throw LoadFailure{mark, fmt::format("unsupported tag '{}'", tag)};
        }
        Frame frame;
        frame.pointer = ChildPointer(mark);
        frame.anchor = anchor;
        frame.value = std::move(empty);
        stack_.push_back(std::move(frame));
    }

    void Close() {
        Frame frame = std::move(stack_.back());
        stack_.pop_back();
        Complete(std::move(frame.value), frame.pointer, frame.anchor);
    }

    void Complete(Json value, const std::string& pointer, YAML::anchor_t anchor) {
        if (++count_ > kMaxValues) throw LoadFailure{YAML::Mark(), "document too large"};
        if (anchor != 0) anchors_[anchor] = Anchored{value, pointer};
        if (stack_.empty()) {
            doc_.root = std::move(value);
            return;
        }
        Frame& parent = stack_.back();
        if (parent.value.is_array()) {
            parent.value.push_back(std::move(value));
            return;
        }
        if (parent.merge_key) {
            parked_[pointer] = std::move(value);
            parent.merge_pointers.push_back(pointer);
        } else {
            parent.value[*parent.key] = std::move(value);
        }
        parent.key.reset();
        parent.merge_key = false;
    }

    // `<<: *defaults` (or a list of them) adds the keys the map does not set itself; explicit keys
    // win wherever they are written, and earlier merge sources win over later ones.
    void ApplyMerges(Frame& frame) {
        for (const auto& parked_pointer : frame.merge_pointers) {
            Json source = std::move(parked_[parked_pointer]);
            parked_.erase(parked_pointer);
            std::vector<std::pair<Json, std::string>> maps;
            if (source.is_object()) {
                maps.emplace_back(std::move(source), parked_pointer);
            } else if (source.is_array()) {
                for (std::size_t i = 0; i < source.size(); ++i) {
                    if (!source[i].is_object())
                        throw LoadFailure{MarkOf(parked_pointer), "'<<' merges maps only"};
                    maps.emplace_back(std::move(source[i]), PointerJoin(parked_pointer, i));
                }
            } else {
                throw LoadFailure{MarkOf(parked_pointer), "'<<' merges maps only"};
            }
            for (auto& [map, from] : maps) {
                for (auto& [key, value] : map.items()) {
                    if (frame.value.contains(key)) continue;
                    CopyLocations(PointerJoin(from, key), PointerJoin(frame.pointer, key));
                    frame.value[key] = std::move(value);
                }
            }
            EraseLocations(parked_pointer);
        }
    }

    YAML::Mark MarkOf(const std::string& pointer) const {
        YAML::Mark mark;
        auto it = doc_.locations.find(pointer);
        if (it != doc_.locations.end()) {
            mark.line = it->second.line - 1;
            mark.column = it->second.column - 1;
        }
        return mark;
    }

    void CopyLocations(const std::string& from, const std::string& to) {
        std::vector<std::pair<std::string, SourceLocation>> copies;
        std::vector<std::pair<std::string, std::string>> texts;
        std::vector<std::pair<std::string, WrittenText>> writtens;
        for (auto it = doc_.locations.lower_bound(from); it != doc_.locations.end(); ++it) {
            if (it->first.compare(0, from.size(), from) != 0) break;
            const std::string rest = it->first.substr(from.size());
            if (!rest.empty() && rest[0] != '/') continue;
            copies.emplace_back(to + rest, it->second);
            auto text = doc_.source_text.find(it->first);
            if (text != doc_.source_text.end()) texts.emplace_back(to + rest, text->second);
            auto written = doc_.written.find(it->first);
            if (written != doc_.written.end()) writtens.emplace_back(to + rest, written->second);
        }
        for (auto& [pointer, location] : copies) {
            // The alias itself keeps its own position; the content points at the anchored original.
            if (pointer == to && doc_.locations.count(to)) continue;
            doc_.locations[pointer] = location;
        }
        for (auto& [pointer, text] : texts) doc_.source_text[pointer] = text;
        for (auto& [pointer, written] : writtens) doc_.written[pointer] = written;
    }

    void EraseLocations(const std::string& prefix) {
        for (auto it = doc_.locations.lower_bound(prefix); it != doc_.locations.end();) {
            if (it->first.compare(0, prefix.size(), prefix) != 0) break;
            it = doc_.locations.erase(it);
        }
        for (auto it = doc_.source_text.lower_bound(prefix); it != doc_.source_text.end();) {
            if (it->first.compare(0, prefix.size(), prefix) != 0) break;
            it = doc_.source_text.erase(it);
        }
        for (auto it = doc_.written.lower_bound(prefix); it != doc_.written.end();) {
            if (it->first.compare(0, prefix.size(), prefix) != 0) break;
            it = doc_.written.erase(it);
        }
    }

    static std::size_t CountValues(const Json& value) {
        std::size_t n = 1;
        if (value.is_structured()) {
            for (const auto& child : value) n += CountValues(child);
        }
        return n;
    }

    Document& doc_;
    const Env& env_;
    std::vector<Frame> stack_;
    std::map<YAML::anchor_t, Anchored> anchors_;
    std::map<std::string, Json> parked_;
    std::size_t count_ = 0;
    int documents_ = 0;
    YAML::Mark start_mark_;
};

}  // namespace

Result<Document> LoadYamlText(std::string_view text, const std::string& file, const Env& env) {
    Document doc;
    doc.file = file;
    std::istringstream in{ProtectVariableBraces(text)};
    try {
        YAML::Parser parser(in);
        JsonBuilder builder(doc, env);
        while (parser.HandleNextDocument(builder)) {
        }
        builder.Finish();
    } catch (const LoadFailure& failure) {
        return Fail(ErrorCode::kConfig, fmt::format("{}:{}:{}: {}", file, failure.mark.line + 1,
                                                    failure.mark.column + 1, failure.message));
    } catch (const YAML::Exception& e) {
        if (e.mark.is_null()) return Fail(ErrorCode::kConfig, fmt::format("{}: {}", file, e.msg));
        return Fail(ErrorCode::kConfig,
                    fmt::format("{}:{}:{}: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg));
    }
    return doc;
}

Result<Document> LoadYamlFile(const std::string& path, const Env& env) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(ErrorCode::kConfig, fmt::format("{}: cannot read the file", path));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return Fail(ErrorCode::kConfig, fmt::format("{}: cannot read the file", path));
    return LoadYamlText(text.str(), path, env);
}

}  // namespace spacehook::config
