#include "steps/catalog.hpp"

#include <fmt/format.h>

namespace spacehook::steps {

// Each kind's descriptor, defined in its own file (docs/DEVELOPING.md "Add a step kind").
const StepDescriptor& CreateRoomStep();
const StepDescriptor& CreateFolderStep();
const StepDescriptor& CreateFoldersStep();
const StepDescriptor& CopyAsStep();
const StepDescriptor& SetAccessStep();
const StepDescriptor& CopyStep();
const StepDescriptor& MoveStep();
const StepDescriptor& MailStep();
const StepDescriptor& ChatStep();
const StepDescriptor& HttpStep();

namespace {

std::vector<const rules::StepKind*> AsStepKinds(const std::vector<const StepDescriptor*>& kinds) {
    return {kinds.begin(), kinds.end()};
}

}  // namespace

Catalog::Catalog(std::vector<const StepDescriptor*> kinds)
    : rules::StepKinds(AsStepKinds(kinds)), descriptors_(std::move(kinds)) {}

const StepDescriptor* Catalog::Descriptor(std::string_view name) const {
    for (const auto* kind : descriptors_) {
        if (kind->name() == name) return kind;
    }
    return nullptr;
}

const Catalog& Kinds() {
    static const Catalog catalog({
        &CreateRoomStep(),
        &CreateFolderStep(),
        &CreateFoldersStep(),
        &CopyAsStep(),
        &SetAccessStep(),
        &CopyStep(),
        &MoveStep(),
        &MailStep(),
        &ChatStep(),
        &HttpStep(),
    });
    return catalog;
}

Result<std::unique_ptr<PreparedStep>> Prepare(const rules::Step& step, const rules::TemplateContext& context,
                                              rules::RenderMode mode) {
    const StepDescriptor* kind = step.kind != nullptr ? Kinds().Descriptor(step.kind->name()) : nullptr;
    if (kind == nullptr) {
        return Fail(ErrorCode::kInternal,
                    fmt::format("step {}: its kind is not one of this build's step kinds", step.id));
    }
    return kind->Prepare(step, context, mode);
}

}  // namespace spacehook::steps
