#include "rules/step.hpp"

#include <fmt/format.h>

namespace spacehook::rules {

StepKinds::StepKinds(std::vector<const StepKind*> kinds) : kinds_(std::move(kinds)) {
    for (const auto* kind : kinds_) names_.push_back(kind->name());
}

const StepKind* StepKinds::Find(std::string_view name) const {
    for (const auto* kind : kinds_) {
        if (kind->name() == name) return kind;
    }
    return nullptr;
}

Json Step::ToJson() const {
    return {{"kind", std::string(kind->name())}, {"id", id}, {"input", input}};
}

Result<Step> Step::FromJson(const Json& json, const StepKinds& kinds) {
    if (!json.is_object() || !json.contains("kind") || !json["kind"].is_string() || !json.contains("id") ||
        !json["id"].is_string() || !json.contains("input") || !json["input"].is_object()) {
        return Fail(ErrorCode::kInvalidArgument, "a stored step needs kind, id and input");
    }
    const StepKind* kind = kinds.Find(json["kind"].get<std::string>());
    if (kind == nullptr) return Fail(ErrorCode::kInvalidArgument, "unknown step kind " + json["kind"].dump());
    Step step;
    step.kind = kind;
    step.id = json["id"].get<std::string>();
    step.input = json["input"];
    return step;
}

Error StepInputError(const Step& step, std::string_view key, std::string_view message) {
    return Error{ErrorCode::kInvalidArgument,
                 fmt::format("step {} ({}): {}: {}", step.id, step.kind->name(), key, message), 0,
                 std::nullopt};
}

}  // namespace spacehook::rules
