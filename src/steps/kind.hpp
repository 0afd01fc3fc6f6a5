#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "rules/step.hpp"
#include "steps/input_fields.hpp"
#include "steps/step_deps.hpp"

namespace spacehook::steps {

class StepDescriptor;

/// A step whose input is rendered and typed, ready to execute: what the runner holds between rendering
/// a step and running it.
class PreparedStep {
public:
    virtual ~PreparedStep() = default;
    [[nodiscard]] virtual const StepDescriptor& kind() const = 0;
    /// The rendered input (docs/rules.md "Rendered step inputs"), as test-rule shows it.
    [[nodiscard]] virtual Json ToJson() const = 0;
    /// Looks before it acts (docs/runner.md "Exactly once, step by step"), acts, and returns the output
    /// later steps read as steps.<id>.* (docs/runner.md "Step outputs"). Errors keep the portal's own
    /// message; their code decides retry (transient) or dead letter. Thread-safe when `deps` are.
    [[nodiscard]] virtual Result<Json> Execute(const StepDeps& deps, const StepCall& call) const = 0;
};

/// What the docs say of a kind, word for word (steps_test holds docs/rules.md and docs/runner.md to it).
struct StepDocs {
    std::string_view what;   ///< docs/rules.md "Steps": what it does
    std::string_view looks;  ///< docs/runner.md "Exactly once, step by step": what it reads before acting
};

/// One step kind, whole: the pure half the rule compiler and test-rule use (rules::StepKind: name,
/// inputs, checks, rendering), its typed input, its executor, and its docs. Kind<Input> implements it;
/// catalog.cpp registers each one.
class StepDescriptor : public rules::StepKind {
public:
    [[nodiscard]] virtual const StepDocs& docs() const = 0;
    /// Renders the step against the context into its typed input. Errors as rules::StepInputError.
    [[nodiscard]] virtual Result<std::unique_ptr<PreparedStep>> Prepare(
        const rules::Step& step, const rules::TemplateContext& context,
        rules::RenderMode mode = rules::RenderMode::kStrict) const = 0;
    /// Reads a rendered input (PreparedStep::ToJson's shape) back, for tools and tests that hold one.
    [[nodiscard]] virtual Result<std::unique_ptr<PreparedStep>> FromRendered(const Json& rendered) const = 0;

    [[nodiscard]] Result<Json> Render(const rules::Step& step, const rules::TemplateContext& context,
                                      rules::RenderMode mode) const final;
};

/// Names what is wrong with an input: "step room (create_room): title: empty" for a rule's step being
/// rendered (rules::StepInputError), "create_room: input title: empty" for an input read on its own.
class InputProblems {
public:
    explicit InputProblems(const rules::Step& step) : step_(&step) {}
    explicit InputProblems(std::string_view kind) : kind_(kind) {}
    [[nodiscard]] Error operator()(std::string_view key, std::string_view what) const;

private:
    const rules::Step* step_ = nullptr;
    std::string_view kind_;
};

/// A kind whose typed input is `Input` (a plain struct), with its inputs declared as Fields. A kind
/// overrides Execute, and Check / Finish for what its fields cannot say on their own.
template <typename Input>
class Kind : public StepDescriptor {
public:
    [[nodiscard]] std::string_view name() const final { return name_; }
    [[nodiscard]] const std::vector<rules::InputSpec>& inputs() const final { return specs_; }
    [[nodiscard]] const StepDocs& docs() const final { return docs_; }

    [[nodiscard]] Result<std::unique_ptr<PreparedStep>> Prepare(const rules::Step& step,
                                                                const rules::TemplateContext& context,
                                                                rules::RenderMode mode) const final {
        auto rendered = rules::RenderInputs(step, context, mode);
        if (!rendered) return Fail(rendered.error());
        return Read(*rendered, InputProblems(step), mode == rules::RenderMode::kStrict, false);
    }

    [[nodiscard]] Result<std::unique_ptr<PreparedStep>> FromRendered(const Json& rendered) const final {
        const InputProblems problem(name_);
        if (!rendered.is_object()) return Fail(problem("(all)", "not an object"));
        return Read(rendered, problem, true, true);
    }

protected:
    Kind(std::string_view name, StepDocs docs, std::vector<Field<Input>> fields)
        : name_(name), docs_(docs), fields_(std::move(fields)) {
        for (const auto& field : fields_) specs_.push_back(field.spec);
    }

    /// The kind's own checks and shape once every input is read. `strict` is false for test-rule, which
    /// renders as far as the values are known: checks that need the values are skipped then.
    virtual Status Finish(Input& /*input*/, const InputProblems& /*problem*/, bool /*strict*/) const {
        return Ok();
    }
    virtual Result<Json> Execute(const Input& input, const StepDeps& deps, const StepCall& call) const = 0;

    /// "<kind>: input <key>: <what>", kInvalidArgument: for what Execute finds wrong with its input.
    [[nodiscard]] Error Bad(std::string_view key, std::string_view what) const {
        return InputProblems(name_)(key, what);
    }

private:
    class Prepared final : public PreparedStep {
    public:
        Prepared(const Kind& kind, Input input) : kind_(kind), input_(std::move(input)) {}
        [[nodiscard]] const StepDescriptor& kind() const override { return kind_; }
        [[nodiscard]] Json ToJson() const override { return kind_.Show(input_); }
        [[nodiscard]] Result<Json> Execute(const StepDeps& deps, const StepCall& call) const override {
            return kind_.Execute(input_, deps, call);
        }

    private:
        const Kind& kind_;
        Input input_;
    };

    /// `values` by written key (RenderInputs) or, with `shown_keys`, a rendered input.
    Result<std::unique_ptr<PreparedStep>> Read(const Json& values, const InputProblems& problem, bool strict,
                                               bool shown_keys) const {
        Input input{};
        for (const auto& field : fields_) {
            const std::string_view key = shown_keys ? field.shown : field.spec.key;
            if (key.empty()) continue;  // folded into other members: not in a rendered input
            auto it = values.find(key);
            // null is "left out", as a rendered input shows an absent optional that must be seen (title).
            const Json* value = it != values.end() && !it->is_null() ? &*it : nullptr;
            if (value == nullptr && !field.spec.default_value.is_null()) value = &field.spec.default_value;
            if (value == nullptr) {
                if (field.spec.required) return Fail(problem(key, "missing"));
                continue;
            }
            if (auto wrong = field.read(input, *value)) return Fail(problem(key, *wrong));
        }
        if (auto finished = Finish(input, problem, strict); !finished) return Fail(finished.error());
        return std::unique_ptr<PreparedStep>(std::make_unique<Prepared>(*this, std::move(input)));
    }

    [[nodiscard]] Json Show(const Input& input) const {
        Json out = Json::object();
        for (const auto& field : fields_) {
            if (field.shown.empty()) continue;
            auto value = field.show(input);
            if (!value) value = field.shown_when_absent;
            if (value) out[std::string(field.shown)] = std::move(*value);
        }
        return out;
    }

    std::string_view name_;
    StepDocs docs_;
    std::vector<Field<Input>> fields_;
    std::vector<rules::InputSpec> specs_;
};

}  // namespace spacehook::steps
