#include "rules/template.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/text.hpp"

namespace spacehook::rules {

namespace {

bool IsIdentStart(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool IsIdentChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}
bool IsDigit(char c) {
    return c >= '0' && c <= '9';
}

/// Recursive-descent parser of one `{{ ... }}` body, starting just after the opening braces.
class ExpressionParser {
public:
    ExpressionParser(std::string_view text, std::size_t pos) : text_(text), pos_(pos) {}

    Result<TemplateExpression> Parse() {
        const std::size_t start = pos_;
        TemplateExpression expression;
        auto operand = ParseOperand(false);
        if (!operand) return tl::unexpected(operand.error());
        expression.operands.push_back(std::move(*operand));
        while (SkipSpace(), Peek("??")) {
            pos_ += 2;
            auto next = ParseOperand(true);
            if (!next) return tl::unexpected(next.error());
            expression.operands.push_back(std::move(*next));
        }
        while (SkipSpace(), Peek("|")) {
            ++pos_;
            auto filter = ParseFilter();
            if (!filter) return tl::unexpected(filter.error());
            expression.filters.push_back(std::move(*filter));
        }
        SkipSpace();
        if (!Peek("}}")) {
            if (pos_ >= text_.size()) return Error("'{{' is never closed by '}}'");
            return Error(
                fmt::format("unexpected '{}' in '{{{{ {} }}}}'", text_.substr(pos_, 1), Source(start)));
        }
        std::string_view source = text_.substr(start, pos_ - start);
        while (!source.empty() && std::isspace(static_cast<unsigned char>(source.front())))
            source.remove_prefix(1);
        while (!source.empty() && std::isspace(static_cast<unsigned char>(source.back())))
            source.remove_suffix(1);
        expression.source = std::string(source);
        pos_ += 2;
        return expression;
    }

    [[nodiscard]] std::size_t pos() const { return pos_; }

private:
    void SkipSpace() {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }
    [[nodiscard]] bool Peek(std::string_view token) const {
        return text_.substr(pos_, token.size()) == token;
    }

    std::string Source(std::size_t start) const {
        auto end = text_.find("}}", start);
        std::string_view body =
            text_.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        while (!body.empty() && std::isspace(static_cast<unsigned char>(body.front()))) body.remove_prefix(1);
        while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) body.remove_suffix(1);
        return std::string(body);
    }

    static tl::unexpected<spacehook::Error> Error(std::string message) {
        return Fail(ErrorCode::kConfig, std::move(message));
    }

    Result<Json> ParseLiteral() {
        const char quote = text_[pos_];
        if (quote == '"' || quote == '\'') {
            std::string value;
            ++pos_;
            while (pos_ < text_.size() && text_[pos_] != quote) {
                char c = text_[pos_++];
                if (c == '\\' && pos_ < text_.size()) {
                    const char escaped = text_[pos_++];
                    c = escaped == 'n' ? '\n' : escaped == 't' ? '\t' : escaped;
                }
                value += c;
            }
            if (pos_ >= text_.size()) return Error("a string literal is never closed");
            ++pos_;
            return Json(std::move(value));
        }
        const std::size_t start = pos_;
        if (text_[pos_] == '-') ++pos_;
        while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
        const std::string digits(text_.substr(start, pos_ - start));
        if (digits.empty() || digits == "-") return Error("expected a value");
        if (digits.size() > 18) return Error("number literal too long");
        return Json(std::stoll(digits));
    }

    Result<TemplateOperand> ParseOperand(bool after_fallback) {
        SkipSpace();
        if (pos_ >= text_.size()) return Error("'{{' is never closed by '}}'");
        if (after_fallback && (Peek("}}") || Peek("|") || Peek("??"))) {
            return Error(
                "expected a name or a \"literal\" after the '?"
                "?'");
        }
        const char c = text_[pos_];
        if (c == '"' || c == '\'' || IsDigit(c) || c == '-') {
            auto literal = ParseLiteral();
            if (!literal) return tl::unexpected(literal.error());
            return TemplateOperand{std::move(*literal), {}};
        }
        if (!IsIdentStart(c)) {
            if (Peek("}}")) return Error("empty '{{ }}'");
            return Error(fmt::format("expected a name like file.title, got '{}'", text_.substr(pos_, 1)));
        }
        TemplateOperand operand;
        operand.path.segments.push_back(Identifier());
        while (pos_ < text_.size()) {
            if (text_[pos_] == '.') {
                ++pos_;
                if (pos_ < text_.size() && (IsIdentChar(text_[pos_]))) {
                    operand.path.segments.push_back(Identifier());
                } else {
                    return Error(fmt::format("expected a name after '{}.'", operand.path.ToString()));
                }
            } else if (text_[pos_] == '[') {
                ++pos_;
                SkipSpace();
                if (pos_ < text_.size() && IsDigit(text_[pos_])) {
                    const std::size_t start = pos_;
                    while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
                    operand.path.segments.emplace_back(text_.substr(start, pos_ - start));
                } else if (pos_ < text_.size() && (text_[pos_] == '"' || text_[pos_] == '\'')) {
                    auto key = ParseLiteral();
                    if (!key) return tl::unexpected(key.error());
                    operand.path.segments.push_back(key->get<std::string>());
                } else {
                    return Error("expected an index or a quoted key inside '[ ]'");
                }
                SkipSpace();
                if (!Peek("]")) return Error("'[' is never closed by ']'");
                ++pos_;
            } else {
                break;
            }
        }
        return operand;
    }

    std::string Identifier() {
        const std::size_t start = pos_;
        while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
        return std::string(text_.substr(start, pos_ - start));
    }

    Result<TemplateFilter> ParseFilter() {
        SkipSpace();
        if (pos_ >= text_.size() || !IsIdentStart(text_[pos_]))
            return Error("expected a filter name after '|'");
        TemplateFilter filter;
        filter.name = Identifier();
        const auto& names = TemplateFilterNames();
        if (std::find(names.begin(), names.end(), filter.name) == names.end()) {
            return Error(
                fmt::format("unknown filter '{}'; filters are: {}", filter.name, fmt::join(names, ", ")));
        }
        SkipSpace();
        if (Peek("(")) {
            ++pos_;
            SkipSpace();
            if (pos_ >= text_.size()) return Error("'(' is never closed by ')'");
            auto argument = ParseLiteral();
            if (!argument) return tl::unexpected(argument.error());
            filter.argument = std::move(*argument);
            SkipSpace();
            if (!Peek(")")) return Error("'(' is never closed by ')'");
            ++pos_;
        }
        if (filter.name == "default" && !filter.argument)
            return Error("default needs a value: default(\"text\")");
        if (filter.name != "default" && filter.argument)
            return Error(fmt::format("{} takes no argument", filter.name));
        return filter;
    }

    std::string_view text_;
    std::size_t pos_;
};

const Json* Lookup(const Json& context, const TemplatePath& path) {
    const Json* current = &context;
    for (const auto& segment : path.segments) {
        if (current->is_object()) {
            auto it = current->find(segment);
            if (it == current->end()) return nullptr;
            current = &*it;
        } else if (current->is_array() && !segment.empty() &&
                   std::all_of(segment.begin(), segment.end(), IsDigit)) {
            // from_chars, not stoul: an index past 64 bits is simply not there (stoul threw
            // out_of_range; found by fuzz_template).
            std::size_t index = 0;
            const auto [end, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), index);
            if (ec != std::errc() || end != segment.data() + segment.size()) return nullptr;
            if (index >= current->size()) return nullptr;
            current = &(*current)[index];
        } else {
            return nullptr;
        }
    }
    return current->is_null() ? nullptr : current;
}

// Compact JSON that never throws: rule files are checked to be UTF-8 when loaded and event values come
// from parsed JSON, but a template built any other way could still hold other bytes, and dump() throws
// on them (found by fuzz_template). They become U+FFFD.
std::string DumpText(const Json& value) {
    return value.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

Result<std::string> FilterInput(const TemplateFilter& filter, const Json& value) {
    if (value.is_structured()) {
        return Fail(ErrorCode::kInvalidArgument, fmt::format("filter {} needs text, got {}", filter.name,
                                                             value.is_array() ? "a list" : "a map"));
    }
    return TemplateText(value);
}

Result<std::optional<Json>> ApplyFilter(const TemplateFilter& filter, std::optional<Json> value) {
    if (filter.name == "default") {
        if (!value || value->is_null() ||
            (value->is_string() && value->get_ref<const std::string&>().empty())) {
            return std::optional<Json>(*filter.argument);
        }
        return value;
    }
    if (!value) return value;  // a missing value stays missing; the end of the chain reports it
    if (filter.name == "json") return std::optional<Json>(Json(DumpText(*value)));
    auto text = FilterInput(filter, *value);
    if (!text) return tl::unexpected(text.error());
    std::string out = std::move(*text);
    if (filter.name == "lower") {
        // ASCII only: enough for addresses, ids and extensions; other letters are left as they are.
        out = ToLower(out);
    } else if (filter.name == "upper") {
        out = ToUpper(out);
    } else if (filter.name == "trim") {
        const auto first = out.find_first_not_of(" \t\r\n");
        const auto last = out.find_last_not_of(" \t\r\n");
        out = first == std::string::npos ? "" : out.substr(first, last - first + 1);
    } else if (filter.name == "urlencode") {
        out = PercentEncode(out);
    }
    return std::optional<Json>(Json(std::move(out)));
}

std::string MissingMessage(const TemplateExpression& expression) {
    std::vector<std::string> names;
    for (const auto& operand : expression.operands) {
        if (!operand.literal) names.push_back(operand.path.ToString());
    }
    std::string list;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) list += i + 1 == names.size() ? " or " : ", ";
        list += names[i];
    }
    return fmt::format("{{{{ {} }}}}: no value for {}", expression.source, list);
}

/// The value of one expression; nullopt when nothing in it has a value.
Result<std::optional<Json>> Evaluate(const TemplateExpression& expression, const Json& context) {
    std::optional<Json> value;
    for (const auto& operand : expression.operands) {
        if (operand.literal) {
            value = *operand.literal;
            break;
        }
        if (const Json* found = Lookup(context, operand.path)) {
            value = *found;
            break;
        }
    }
    for (const auto& filter : expression.filters) {
        auto next = ApplyFilter(filter, std::move(value));
        if (!next) {
            return Fail(ErrorCode::kInvalidArgument,
                        fmt::format("{{{{ {} }}}}: {}", expression.source, next.error().message));
        }
        value = std::move(*next);
    }
    return value;
}

}  // namespace

std::string TemplatePath::ToString() const {
    std::string out;
    for (const auto& segment : segments) {
        if (!out.empty()) out += '.';
        out += segment;
    }
    return out;
}

const std::vector<std::string_view>& TemplateFilterNames() {
    static const std::vector<std::string_view> kNames = {"lower",     "upper", "trim",
                                                         "urlencode", "json",  "default"};
    return kNames;
}

std::string TemplateText(const Json& value) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
    if (value.is_null()) return "";
    return DumpText(value);
}

bool Template::HasExpressions(std::string_view text) {
    return text.find("{{") != std::string_view::npos;
}

Result<Template> Template::Parse(std::string_view text) {
    Template out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto open = text.find("{{", pos);
        if (open == std::string_view::npos) {
            out.parts_.push_back(Part{std::string(text.substr(pos)), std::nullopt});
            break;
        }
        if (open > pos) out.parts_.push_back(Part{std::string(text.substr(pos, open - pos)), std::nullopt});
        ExpressionParser parser(text, open + 2);
        auto expression = parser.Parse();
        if (!expression) return tl::unexpected(expression.error());
        out.parts_.push_back(Part{"", std::move(*expression)});
        pos = parser.pos();
    }
    return out;
}

bool Template::IsSingleExpression() const {
    return parts_.size() == 1 && parts_[0].expression.has_value();
}

std::vector<const TemplateExpression*> Template::Expressions() const {
    std::vector<const TemplateExpression*> out;
    for (const auto& part : parts_) {
        if (part.expression) out.push_back(&*part.expression);
    }
    return out;
}

Result<Json> Template::Render(const Json& context, RenderMode mode) const {
    if (IsSingleExpression()) {
        const auto& expression = *parts_[0].expression;
        auto value = Evaluate(expression, context);
        if (!value) return tl::unexpected(value.error());
        if (*value) return std::move(**value);
        if (mode == RenderMode::kKeepUnresolved) return Json("{{ " + expression.source + " }}");
        return Fail(ErrorCode::kInvalidArgument, MissingMessage(expression));
    }
    auto text =
        RenderText(context, mode,
                   [](const TemplateExpression&, std::string_view, std::string value) -> Result<std::string> {
                       return value;  // plain text: each value as it is
                   });
    if (!text) return tl::unexpected(text.error());
    return Json(std::move(*text));
}

Result<std::string> Template::RenderText(const Json& context, RenderMode mode,
                                         const ValueWriter& write) const {
    std::string out;
    for (const auto& part : parts_) {
        if (!part.expression) {
            out += part.text;
            continue;
        }
        auto value = Evaluate(*part.expression, context);
        if (!value) return tl::unexpected(value.error());
        if (*value) {
            auto written = write(*part.expression, out, TemplateText(**value));
            if (!written) return tl::unexpected(written.error());
            out += *written;
        } else if (mode == RenderMode::kKeepUnresolved) {
            out += "{{ " + part.expression->source + " }}";
        } else {
            return Fail(ErrorCode::kInvalidArgument, MissingMessage(*part.expression));
        }
    }
    return out;
}

Result<Json> RenderJson(const Json& value, const Json& context, RenderMode mode) {
    if (value.is_string()) {
        const auto& text = value.get_ref<const std::string&>();
        if (!Template::HasExpressions(text)) return value;
        auto parsed = Template::Parse(text);
        if (!parsed) return Fail(ErrorCode::kInvalidArgument, parsed.error().message);
        return parsed->Render(context, mode);
    }
    if (value.is_array()) {
        Json out = Json::array();
        for (const auto& item : value) {
            auto rendered = RenderJson(item, context, mode);
            if (!rendered) return rendered;
            out.push_back(std::move(*rendered));
        }
        return out;
    }
    if (value.is_object()) {
        Json out = Json::object();
        for (const auto& [key, item] : value.items()) {
            auto rendered = RenderJson(item, context, mode);
            if (!rendered) return rendered;
            out[key] = std::move(*rendered);
        }
        return out;
    }
    return value;
}

}  // namespace spacehook::rules
