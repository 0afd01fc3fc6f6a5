#include "admin/record_json.hpp"

#include "core/enum_names.hpp"
#include "core/json_depth.hpp"

namespace spacehook::admin {

namespace {

Json Time(TimePoint t) {
    if (t == TimePoint{}) return nullptr;
    return FormatIso8601(t, /*with_millis=*/true);
}

constexpr EnumNames<store::StepStatus, 3> kStepStatusNames{{{
    {store::StepStatus::kNone, "none"},
    {store::StepStatus::kStarted, "started"},
    {store::StepStatus::kDone, "done"},
}}};
static_assert(kStepStatusNames.Unique());

// The words of the admin API's and the CLI's dead-letter ids ("run:12", "event:7").
constexpr EnumNames<store::DeadLetter::Kind, 2> kDeadLetterKindNames{{{
    {store::DeadLetter::Kind::kRun, "run"},
    {store::DeadLetter::Kind::kEvent, "event"},
}}};
static_assert(kDeadLetterKindNames.Unique());

std::string_view ToString(store::StepStatus status) {
    return kStepStatusNames.Name(status);
}

}  // namespace

std::string_view ToString(store::DeadLetter::Kind kind) {
    return kDeadLetterKindNames.Name(kind);
}

std::optional<store::DeadLetter::Kind> ParseDeadLetterKind(std::string_view text) {
    return kDeadLetterKindNames.Parse(text);
}

Json EventJson(const store::EventRecord& event, bool with_body) {
    Json out = {
        {"seq", event.seq},
        {"webhook_id", event.webhook_id},
        {"event_id", event.event_id},
        {"trigger", event.trigger},
        {"actor", event.actor},
        {"entity_id", event.entity_id},
        {"created_on", event.created_on},
        {"received_at", Time(event.received_at)},
        {"state", std::string(store::ToString(event.state))},
        {"attempts", event.attempts},
        {"next_attempt_at", Time(event.next_attempt_at)},
        {"last_error", event.last_error},
        {"replay_generation", event.replay_generation},
        {"runs_created", event.runs_created},
        {"recovered", event.recovered},
    };
    if (with_body) {
        // Bounded: this object is dump()ed into the response, and dump() recurses once per level.
        auto body = ParseBoundedJson(event.body);
        if (!body) {
            out["body_text"] = event.body;
        } else {
            out["body"] = std::move(*body);
        }
    }
    return out;
}

Json RunJson(const store::RunRecord& run, bool with_context) {
    Json out = {
        {"id", run.id},
        {"run_key", run.run_key},
        {"rule", run.rule},
        {"event_seq", run.event_seq},
        {"lock_key", run.lock_key},
        {"state", std::string(store::ToString(run.state))},
        {"step_count", run.step_count},
        {"next_step", run.next_step},
        {"attempts", run.attempts},
        {"created_at", Time(run.created_at)},
        {"updated_at", Time(run.updated_at)},
        {"next_attempt_at", Time(run.next_attempt_at)},
        {"lease_owner", run.lease_owner},
        {"lease_until", Time(run.lease_until)},
        {"last_error", run.last_error},
        // The fingerprint of the rule version that planned the run (runner/stored_run.hpp): after a
        // reload, runs planned before it still show, and run, the old version.
        {"rule_version", run.context.is_object() && run.context.contains("fingerprint")
                             ? run.context["fingerprint"]
                             : Json(nullptr)},
    };
    if (with_context) out["context"] = run.context;
    return out;
}

Json StepJson(const store::StepRecord& step) {
    return {
        {"index", step.index},
        {"name", step.name},
        {"status", std::string(ToString(step.status))},
        {"output", step.output},
        {"started_at", Time(step.started_at)},
        {"finished_at", Time(step.finished_at)},
    };
}

Json DeadLetterJson(const store::DeadLetter& dead_letter) {
    return {
        {"kind", std::string(ToString(dead_letter.kind))},
        {"id", dead_letter.id},
        {"rule", dead_letter.rule},
        {"trigger", dead_letter.trigger},
        {"reason", dead_letter.reason},
        {"attempts", dead_letter.attempts},
        {"failed_at", Time(dead_letter.failed_at)},
    };
}

}  // namespace spacehook::admin
