#include "steps/kind.hpp"

#include <fmt/format.h>

namespace spacehook::steps {

Result<Json> StepDescriptor::Render(const rules::Step& step, const rules::TemplateContext& context,
                                    rules::RenderMode mode) const {
    auto prepared = Prepare(step, context, mode);
    if (!prepared) return Fail(prepared.error());
    return (*prepared)->ToJson();
}

Error InputProblems::operator()(std::string_view key, std::string_view what) const {
    if (step_ != nullptr) return rules::StepInputError(*step_, key, what);
    return Error{ErrorCode::kInvalidArgument, fmt::format("{}: input {}: {}", kind_, key, what), 0,
                 std::nullopt};
}

}  // namespace spacehook::steps
