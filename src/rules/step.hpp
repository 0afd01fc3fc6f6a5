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

enum class StepKind {
    kCreateRoom,
    kCreateFolder,
    kCreateFolders,
    kCopyAs,
    kSetAccess,
    kCopy,
    kMove,
    kMail,
    kChat,
    kHttp,
};

/// "create_room", "create_folder", ... as written in rule files.
std::string_view ToString(StepKind kind);
std::optional<StepKind> ParseStepKind(std::string_view name);
const std::vector<std::string_view>& StepKindNames();

/// One action of a rule, compiled at load. `input` is the step's normalized input with its templates
/// still unrendered (what PlannedRun carries and the store may keep); RenderStepInput turns it into
/// the rendered input the runner executes (docs/rules.md "Step inputs" lists both shapes).
struct Step {
    StepKind kind = StepKind::kMail;
    std::string id;  ///< `id:`, default the kind; unique in its rule; later steps read steps.<id>.*
    Json input = Json::object();
    config::SourceLocation location;

    [[nodiscard]] Json ToJson() const;
    static Result<Step> FromJson(const Json& json);
};

/// What compilation may check against the rest of the configuration.
struct CompileOptions {
    /// Names of `chat.channels` in the service config. When set, a `chat` step naming another channel
    /// is a load error; when nullopt (rule files checked on their own) channel names are not checked.
    std::optional<std::set<std::string>> chat_channels;
};

/// Compiles the step at `pointer` (an element of `do:`). Adds the facts its templates read to `needs`.
std::optional<Step> CompileStep(const config::Document& doc, const std::string& pointer,
                                const RuleScope& scope, const std::vector<std::string>& earlier_steps,
                                const CompileOptions& options, NeededFacts& needs,
                                config::Diagnostics& diagnostics);

/// Renders a step's input against the context: templates filled, lists split and flattened, ids
/// typed (a numeric id is a JSON number), empty optional entries dropped, named levels already
/// numbers. kInvalidArgument naming the step and input when a value is missing or unusable (a
/// permanent failure: the data is not there). kKeepUnresolved leaves missing values as their
/// `{{ ... }}` text and skips the checks that need them (test-rule).
Result<Json> RenderStepInput(const Step& step, const TemplateContext& context,
                             RenderMode mode = RenderMode::kStrict);

}  // namespace spacehook::rules
