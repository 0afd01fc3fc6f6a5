#include "runner/stored_run.hpp"

#include <fmt/format.h>

#include "steps/catalog.hpp"

namespace spacehook::runner {

Json StoredRunJson(const rules::PlannedRun& run, const Json& unavailable) {
    Json steps = Json::array();
    for (const auto& step : run.steps) steps.push_back(step.ToJson());
    return Json{{"format", kStoredRunFormat},
                {"rule", run.rule},
                {"fingerprint", run.fingerprint},
                {"steps", std::move(steps)},
                {"template", run.context.values()},
                {"unavailable", unavailable.is_object() ? unavailable : Json::object()}};
}

store::NewRun MakeNewRun(const rules::PlannedRun& run, const Json& unavailable) {
    store::NewRun out;
    out.run_key = run.run_key;
    out.rule = run.rule;
    out.lock_key = run.lock_key;
    out.step_count = static_cast<int>(run.steps.size());
    out.context = StoredRunJson(run, unavailable);
    return out;
}

Result<StoredRun> ParseStoredRun(const Json& context) {
    auto bad = [](std::string why) {
        return Fail(ErrorCode::kInternal, "the run's stored context cannot be executed: " + std::move(why));
    };
    if (!context.is_object()) return bad("not a JSON object");
    const Json format = context.value("format", Json());
    if (!format.is_number_integer() || format.get<int>() < 1 || format.get<int>() > kStoredRunFormat) {
        return bad(fmt::format("layout {} is not one this spacehook reads (1 to {})", format.dump(),
                               kStoredRunFormat));
    }
    const bool written = format.get<int>() >= 2;
    StoredRun run;
    run.rule = context.value("rule", "");
    run.fingerprint = context.value("fingerprint", "");
    const Json& steps = context.contains("steps") ? context["steps"] : Json();
    if (!steps.is_array()) return bad("no steps");
    for (const auto& item : steps) {
        auto step = rules::Step::FromJson(item, steps::Kinds());
        if (!step) return bad(step.error().message);
        step->written = written;
        run.steps.push_back(std::move(*step));
    }
    const Json& values = context.contains("template") ? context["template"] : Json();
    if (!values.is_object()) return bad("no template context");
    run.context = rules::TemplateContext(values);
    if (context.contains("unavailable") && context["unavailable"].is_object())
        run.unavailable = context["unavailable"];
    return run;
}

}  // namespace spacehook::runner
