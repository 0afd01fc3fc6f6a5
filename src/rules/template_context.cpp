#include "rules/template_context.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "config/diagnostics.hpp"

namespace spacehook::rules {

TemplateContext TemplateContext::ForEvent(const Event& event, const Facts& facts) {
    Json values = Json::object();
    values["event"] = event.event;
    values["payload"] = event.payload;
    values["webhook"] = event.webhook;
    Json entity = Json::object();
    if (event.entity_id) entity["id"] = event.entity_id->ToJson();
    entity["kind"] = std::string(ToString(event.kind));
    if (event.title) entity["title"] = *event.title;
    if (event.parent_id) entity["parentId"] = event.parent_id->ToJson();
    values["entity"] = std::move(entity);
    if (!facts.file.is_null()) values["file"] = facts.file;
    if (!facts.folder.is_null()) values["folder"] = facts.folder;
    if (facts.room.is_object()) {
        values["room"] = facts.room;
    } else if (event.kind == EntityKind::kRoom && event.entity_id) {
        Json room = {{"id", event.entity_id->ToJson()}};
        if (event.title) room["title"] = *event.title;
        values["room"] = std::move(room);
    }
    if (!facts.user.is_null()) values["user"] = facts.user;
    if (!facts.actor.is_null()) values["actor"] = facts.actor;
    values["steps"] = Json::object();
    return TemplateContext(std::move(values));
}

void TemplateContext::SetRun(std::string_view rule_name, std::string_view run_key) {
    values_["rule"] = {{"name", std::string(rule_name)}};
    values_["run"] = {{"key", std::string(run_key)}};
}

void TemplateContext::SetStepOutput(std::string_view step_id, Json output) {
    if (!values_.contains("steps") || !values_["steps"].is_object()) values_["steps"] = Json::object();
    values_["steps"][std::string(step_id)] = std::move(output);
}

namespace {

const std::vector<std::string_view> kRoots = {"event", "payload", "webhook", "entity", "file", "folder",
                                              "room",  "user",    "actor",   "steps",  "rule", "run"};
const std::vector<std::string_view> kEventFields = {"id", "trigger", "triggerId", "createOn", "createBy"};
const std::vector<std::string_view> kWebhookFields = {"id",
                                                      "name",
                                                      "url",
                                                      "triggers",
                                                      "target",
                                                      "lastFailureOn",
                                                      "lastFailureContent",
                                                      "lastSuccessOn",
                                                      "retryCount",
                                                      "retryOn"};
const std::vector<std::string_view> kEntityFields = {"id", "kind", "title", "parentId"};

std::optional<std::string> CheckField(const TemplatePath& path, const std::vector<std::string_view>& fields) {
    if (path.segments.size() < 2) return std::nullopt;
    const auto& field = path.segments[1];
    if (std::find(fields.begin(), fields.end(), field) != fields.end()) return std::nullopt;
    const auto suggestion = config::ClosestName(field, fields);
    return fmt::format("{} has no field '{}'{}", path.segments[0], field,
                       suggestion.empty()
                           ? fmt::format("; fields are: {}", fmt::join(fields, ", "))
                           : fmt::format("; did you mean '{}.{}'?", path.segments[0], suggestion));
}

std::optional<std::string> CheckAvailable(const TemplatePath& path, const RuleScope& scope,
                                          std::initializer_list<EntityKind> kinds,
                                          std::string_view families) {
    for (auto kind : kinds) {
        if (scope.Allows(kind)) return std::nullopt;
    }
    return fmt::format("{} does not exist for this rule's triggers ({}); {}.* exists for {} triggers",
                       path.ToString(), scope.triggers, path.segments[0], families);
}

std::optional<std::string> CheckPath(const TemplatePath& path, const ReferenceScope& scope,
                                     NeededFacts& needs) {
    const std::string& root = path.segments[0];
    if (std::find(kRoots.begin(), kRoots.end(), root) == kRoots.end()) {
        const auto suggestion = config::ClosestName(root, kRoots);
        return fmt::format("unknown name '{}'{}", root,
                           suggestion.empty() ? fmt::format("; templates read {}", fmt::join(kRoots, ", "))
                                              : fmt::format("; did you mean '{}'?", suggestion));
    }
    const RuleScope& rule = *scope.rule;
    if (root == "event") return CheckField(path, kEventFields);
    if (root == "webhook") return CheckField(path, kWebhookFields);
    if (root == "entity") return CheckField(path, kEntityFields);
    if (root == "rule") return CheckField(path, {"name"});
    if (root == "run") {
        if (!scope.in_step) return std::string("run.key does not exist yet while the run key is made");
        return CheckField(path, {"key"});
    }
    if (root == "steps") {
        if (!scope.in_step) return std::string("steps do not exist yet while the run key is made");
        if (path.segments.size() < 2) return std::string("steps needs a step id: steps.<id>.<field>");
        const auto& earlier = *scope.earlier_steps;
        const auto& id = path.segments[1];
        if (std::find(earlier.begin(), earlier.end(), id) != earlier.end()) return std::nullopt;
        if (earlier.empty()) return fmt::format("steps.{}: there is no earlier step in this rule", id);
        return fmt::format("steps.{}: no earlier step has id '{}'; earlier steps are: {}", id, id,
                           fmt::join(earlier, ", "));
    }
    if (root == "file") {
        needs.file = true;
        return CheckAvailable(path, rule, {EntityKind::kFile}, "file.* and form.*");
    }
    if (root == "folder") {
        needs.folder = true;
        return CheckAvailable(path, rule, {EntityKind::kFile, EntityKind::kFolder},
                              "file.*, folder.* and form.*");
    }
    if (root == "room") {
        // The room's id and title come with its path; anything else needs the room itself.
        const bool from_path =
            path.segments.size() >= 2 && (path.segments[1] == "id" || path.segments[1] == "title");
        needs.path = true;
        if (!from_path) needs.room = true;
        return CheckAvailable(path, rule, {EntityKind::kFile, EntityKind::kFolder, EntityKind::kRoom},
                              "file.*, folder.*, room.*, agent.* and form.*");
    }
    if (root == "user") {
        needs.user = true;
        return CheckAvailable(path, rule, {EntityKind::kUser}, "user.*");
    }
    if (root == "actor") needs.actor = true;
    return std::nullopt;  // payload, actor: any field
}

}  // namespace

std::optional<std::string> CheckReferences(const Template& tmpl, const ReferenceScope& scope,
                                           NeededFacts& needs) {
    for (const auto* expression : tmpl.Expressions()) {
        for (const auto& operand : expression->operands) {
            if (operand.literal) continue;
            if (auto problem = CheckPath(operand.path, scope, needs)) {
                return fmt::format("{{{{ {} }}}}: {}", expression->source, *problem);
            }
        }
    }
    return std::nullopt;
}

}  // namespace spacehook::rules
