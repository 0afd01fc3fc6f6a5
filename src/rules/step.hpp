#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostics.hpp"
#include "config/document.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "rules/condition.hpp"
#include "rules/facts.hpp"
#include "rules/template.hpp"
#include "rules/template_context.hpp"

namespace spacehook::rules {

/// How a step input is written in a rule and what rendering makes of it (docs/rules.md "Steps").
enum class InputType {
    kText,         ///< text (template allowed)
    kUrl,          ///< an http(s) URL: template values in its path and query are percent-encoded
    kId,           ///< one id: number, text or template
    kIdList,       ///< ids: YAML list or comma-separated text (what a template fills in is one id)
    kTextList,     ///< texts: YAML list or comma-separated text (what a template fills in is one text)
    kAddressList,  ///< mail addresses: YAML list or text split on , and ; outside quotes and <>; what a
                   ///< template fills in is one entry
    kItems,        ///< files and folders as objects ({{ entity }}, {{ steps.copy.files }}); renders to
                   ///< {"files": [id], "folders": [id]}
    kBool,         ///< literal true/false
    kRoomType,     ///< literal name or number (docspace::RoomTypes)
    kChoice,       ///< literal, one of InputSpec::choices
    kMethod,       ///< literal HTTP method (GET POST PUT PATCH DELETE), any case, kept upper case
    kChannel,      ///< literal name of chat.channels.<name>
    kTextMap,      ///< map of name -> text
    kAny,          ///< any JSON; every string in it may be a template
    kEntries,      ///< set_access entries; renders to DocSpace invitations (docs/rules.md)
};

/// One input of a step kind.
struct InputSpec {
    std::string_view key;
    InputType type = InputType::kText;
    bool required = false;
    /// Compiled into the step's input when the rule leaves the input out (null: no default), so `check`
    /// shows it and a stored run keeps it.
    Json default_value;
    std::vector<std::string_view> choices;  ///< kChoice
    /// Every `${VAR}` in it holds a secret, whatever its name (an http step's URL and headers, a chat
    /// URL): masked where a resolved value is shown, redacted from logs.
    bool sensitive = false;
};

class StepKind;
class StepKinds;

/// One action of a rule, compiled at load. `input` is the step's normalized input with its templates
/// still unrendered (what PlannedRun carries and the store keeps with each run); its kind renders it
/// into the input the runner executes (docs/rules.md "Rendered step inputs").
///
/// `${VAR}` in a step's input is kept as written in `input` (docs/rules.md "Variables in steps"): a run
/// record, `check` and the admin API show the reference, never its value. Rendering reads `resolved`:
/// the values at load for a compiled step, or those ResolveVariables reads when a stored step runs.
struct Step {
    const StepKind* kind = nullptr;  ///< never null in a compiled or parsed step
    std::string id;  ///< `id:`, default the kind's name; unique in its rule; later steps read steps.<id>.*
    Json input = Json::object();
    config::SourceLocation location;
    /// `input` with its `${VAR}` references resolved; in memory only, never stored or shown.
    std::optional<Json> resolved;
    /// Values in `resolved` that are secrets (VariableUse::secret, or any value of a sensitive input):
    /// test-rule masks them, the runner registers them with the log redactor.
    std::vector<std::string> secrets;
    /// False for a step stored by a spacehook that expanded `${VAR}` at load (run layout 1): its input
    /// holds values already and renders as it is.
    bool written = true;

    /// {"kind", "id", "input"}: a step survives being stored with its run and read back by another
    /// process of the same build (FromJson with the same kinds).
    [[nodiscard]] Json ToJson() const;
    static Result<Step> FromJson(const Json& json, const StepKinds& kinds);
};

/// A step's input map during compilation, for a kind's own checks across its inputs.
class StepCheck {
public:
    StepCheck(Json& step_input, const RuleScope& rule_scope, const config::Document& doc, std::string pointer,
              config::Diagnostics& diagnostics)
        : input(step_input),
          scope(rule_scope),
          doc_(doc),
          pointer_(std::move(pointer)),
          diagnostics_(diagnostics) {}

    Json& input;  ///< each input compiled on its own; defaults not added yet
    const RuleScope& scope;

    /// A located load error on the step's input map, or on one of its inputs.
    void Error(std::string_view message);
    void ErrorAt(std::string_view key, std::string_view message);

private:
    const config::Document& doc_;
    std::string pointer_;
    config::Diagnostics& diagnostics_;
};

/// The pure half of a step kind: how the rule compiler checks its inputs and how a run renders them.
/// The kinds themselves (with their executors) live in src/steps; rules only sees this interface.
class StepKind {
public:
    virtual ~StepKind() = default;
    /// As written in rule files: "create_room".
    [[nodiscard]] virtual std::string_view name() const = 0;
    /// Its inputs, in the order they are compiled and rendered.
    [[nodiscard]] virtual const std::vector<InputSpec>& inputs() const = 0;
    /// Checks across inputs, once each input compiled without error (mail needs body or html, ...).
    virtual void Check(StepCheck& check) const;
    /// The rendered input: RenderInputs, then the kind's own shape and checks (docs/rules.md
    /// "Rendered step inputs"). Errors as StepInputError.
    [[nodiscard]] virtual Result<Json> Render(const Step& step, const TemplateContext& context,
                                              RenderMode mode) const = 0;
};

/// The step kinds a rule may use, by name, in the order messages list them.
class StepKinds {
public:
    explicit StepKinds(std::vector<const StepKind*> kinds);
    [[nodiscard]] const StepKind* Find(std::string_view name) const;
    [[nodiscard]] const std::vector<std::string_view>& Names() const { return names_; }

private:
    std::vector<const StepKind*> kinds_;
    std::vector<std::string_view> names_;
};

/// What compilation may check against the rest of the configuration.
struct CompileOptions {
    /// Names of `chat.channels` in the service config. When set, a `chat` step naming another channel
    /// is a load error; when nullopt (rule files checked on their own) channel names are not checked.
    std::optional<std::set<std::string>> chat_channels;
};

/// The step with `resolved` and `secrets` filled from `env` (the values when the step runs): every
/// text of its input expanded once, as the loader expands a file. kConfig naming the step and input
/// when a variable is not set or its file cannot be read. A step that is not `written` is returned as
/// it is.
Result<Step> ResolveVariables(Step step, const config::Env& env);

/// Replaces each of `secrets` (4 characters or more) in `text` by "•••": how test-rule shows a
/// rendered input.
std::string MaskSecrets(std::string text, const std::vector<std::string>& secrets);

/// Compiles the step at `pointer` (an element of `do:`). Adds the facts its templates read to `needs`.
std::optional<Step> CompileStep(const config::Document& doc, const std::string& pointer,
                                const RuleScope& scope, const std::vector<std::string>& earlier_steps,
                                const StepKinds& kinds, const CompileOptions& options, NeededFacts& needs,
                                config::Diagnostics& diagnostics);

/// Renders a step's input against the context (its kind's Render): templates filled, lists split and
/// flattened, ids typed (a numeric id is a JSON number), empty optional entries dropped, named levels
/// already numbers. kInvalidArgument naming the step and input when a value is missing or unusable (a
/// permanent failure: the data is not there). kKeepUnresolved leaves missing values as their
/// `{{ ... }}` text and skips the checks that need them (test-rule).
Result<Json> RenderStepInput(const Step& step, const TemplateContext& context,
                             RenderMode mode = RenderMode::kStrict);

/// The generic half of rendering: {key: value} with each input of the step rendered on its own by its
/// InputType; inputs the rule left out, and values that rendered to nothing, are absent.
Result<Json> RenderInputs(const Step& step, const TemplateContext& context, RenderMode mode);

/// kInvalidArgument "step <id> (<kind>): <key>: <message>", as every render error of a step reads.
Error StepInputError(const Step& step, std::string_view key, std::string_view message);

}  // namespace spacehook::rules
