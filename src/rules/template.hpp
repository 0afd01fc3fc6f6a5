#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"

namespace spacehook::rules {

/// A dotted path over the template context: `file.title`, `steps.room.id`, `payload.tags[0]`.
struct TemplatePath {
    std::vector<std::string> segments;  ///< segments[0] is the root
    [[nodiscard]] std::string ToString() const;
};

/// One alternative of a `??` chain: a path, or a literal (string or number).
struct TemplateOperand {
    std::optional<Json> literal;
    TemplatePath path;
};

struct TemplateFilter {
    std::string name;              ///< lower, upper, trim, urlencode, json, default
    std::optional<Json> argument;  ///< default("x")
};

/// `{{ a ?? b ?? "x" | trim | lower }}`: the first alternative that has a value (not missing, not
/// null), then the filters in order.
struct TemplateExpression {
    std::vector<TemplateOperand> operands;
    std::vector<TemplateFilter> filters;
    std::string source;  ///< the text between the braces, trimmed, for messages
};

enum class RenderMode {
    kStrict,          ///< a missing value is an error (the runner)
    kKeepUnresolved,  ///< a missing value leaves its `{{ ... }}` in place (test-rule: "as far as known")
};

/// How a value is written into the text around it, for an input whose text has a structure of its own
/// (a URL): `before` is the text rendered up to the value. An error refuses the value.
using ValueWriter = std::function<Result<std::string>(const TemplateExpression& expression,
                                                      std::string_view before, std::string value)>;

/// A string with `{{ expr }}` parts. Any string input of a rule may be one. A string that is exactly
/// one expression renders to the value's own JSON type, so `to: "{{ steps.room.id }}"` stays a number.
class Template {
public:
    /// kConfig error with the problem (no location: the caller knows where the string stood).
    static Result<Template> Parse(std::string_view text);
    /// True when `text` contains `{{`, i.e. is a template rather than plain text.
    static bool HasExpressions(std::string_view text);

    [[nodiscard]] bool IsSingleExpression() const;
    [[nodiscard]] std::vector<const TemplateExpression*> Expressions() const;
    [[nodiscard]] Result<Json> Render(const Json& context, RenderMode mode = RenderMode::kStrict) const;
    /// Renders to text (a single expression too), each value's text passed through `write`. With
    /// kKeepUnresolved a missing value stays `{{ ... }}`, not written.
    [[nodiscard]] Result<std::string> RenderText(const Json& context, RenderMode mode,
                                                 const ValueWriter& write) const;

private:
    struct Part {
        std::string text;
        std::optional<TemplateExpression> expression;
    };
    std::vector<Part> parts_;
};

/// Renders every string inside `value` (through objects and arrays; keys are left alone).
Result<Json> RenderJson(const Json& value, const Json& context, RenderMode mode = RenderMode::kStrict);

/// The names of the filters, for messages.
const std::vector<std::string_view>& TemplateFilterNames();

/// A value as template text: strings as they are, numbers and booleans printed, lists and maps as
/// compact JSON.
std::string TemplateText(const Json& value);

}  // namespace spacehook::rules
