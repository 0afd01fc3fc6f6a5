#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "rules/step.hpp"
#include "steps/kind.hpp"

namespace spacehook::steps {

/// The step kinds of this build: what rules::Compile accepts (as rules::StepKinds) and what the runner
/// executes. Immutable; shared by every thread.
class Catalog final : public rules::StepKinds {
public:
    explicit Catalog(std::vector<const StepDescriptor*> kinds);
    [[nodiscard]] const StepDescriptor* Descriptor(std::string_view name) const;
    [[nodiscard]] const std::vector<const StepDescriptor*>& descriptors() const { return descriptors_; }

private:
    std::vector<const StepDescriptor*> descriptors_;
};

/// Every step kind, in the order messages list them (catalog.cpp: one line per kind).
const Catalog& Kinds();

/// The step rendered against the context into its kind's typed input, ready to execute. kInternal when
/// its kind is not one of Kinds().
Result<std::unique_ptr<PreparedStep>> Prepare(const rules::Step& step, const rules::TemplateContext& context,
                                              rules::RenderMode mode = rules::RenderMode::kStrict);

}  // namespace spacehook::steps
