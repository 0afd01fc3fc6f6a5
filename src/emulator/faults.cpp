#include "emulator/faults.hpp"

#include <algorithm>
#include <cctype>

#include "core/enum_names.hpp"
#include "core/text.hpp"

namespace spacehook::emulator {

namespace {
// The "kind" of the control API's faults (docs/emulator.md).
constexpr EnumNames<FaultKind, 4> kFaultKindNames{{{
    {FaultKind::kStatus, "status"},
    {FaultKind::kDrop, "drop"},
    {FaultKind::kSlow, "slow"},
    {FaultKind::kSwallow, "swallow"},
}}};
static_assert(kFaultKindNames.Unique());
}  // namespace

void FaultSet::SetLatency(std::chrono::milliseconds latency) {
    std::lock_guard lock(mu_);
    latency_ = latency;
}

void FaultSet::Add(FaultSpec fault) {
    std::lock_guard lock(mu_);
    Rule rule{fault, fault.count > 0 ? fault.count : -1, std::nullopt};
    if (fault.duration.count() > 0) rule.expires = std::chrono::steady_clock::now() + fault.duration;
    rules_.push_back(std::move(rule));
}

void FaultSet::Clear() {
    std::lock_guard lock(mu_);
    latency_ = std::chrono::milliseconds(0);
    rules_.clear();
}

FaultDecision FaultSet::Decide(std::string_view method, std::string_view path) {
    std::lock_guard lock(mu_);
    FaultDecision decision;
    decision.latency = latency_;
    const auto now = std::chrono::steady_clock::now();
    rules_.erase(
        std::remove_if(rules_.begin(), rules_.end(),
                       [&](const Rule& r) { return r.remaining == 0 || (r.expires && *r.expires <= now); }),
        rules_.end());
    for (auto& rule : rules_) {
        const auto& spec = rule.spec;
        if (!spec.method.empty() && ToUpper(spec.method) != method) continue;
        if (!spec.path_prefix.empty() && path.substr(0, spec.path_prefix.size()) != spec.path_prefix)
            continue;
        if (rule.remaining > 0) --rule.remaining;
        decision.fault = spec;
        break;
    }
    return decision;
}

std::string_view FaultKindName(FaultKind kind) {
    return kFaultKindNames.Name(kind);
}

OJson FaultSet::ToJson() const {
    std::lock_guard lock(mu_);
    OJson out = OJson::object();
    out["latencyMs"] = latency_.count();
    OJson list = OJson::array();
    const auto now = std::chrono::steady_clock::now();
    for (const auto& r : rules_) {
        OJson f = OJson::object();
        f["kind"] = std::string(FaultKindName(r.spec.kind));
        f["status"] = r.spec.status;
        f["retryAfter"] = r.spec.retry_after_seconds;
        f["remaining"] = r.remaining;
        if (r.expires) {
            f["expiresInMs"] =
                std::chrono::duration_cast<std::chrono::milliseconds>(*r.expires - now).count();
        }
        f["method"] = r.spec.method;
        f["pathPrefix"] = r.spec.path_prefix;
        f["delayMs"] = r.spec.delay.count();
        f["afterEffect"] = r.spec.after_effect;
        list.push_back(std::move(f));
    }
    out["faults"] = std::move(list);
    return out;
}

std::optional<std::string> ParseFault(const OJson& json, FaultSpec& out) {
    if (!json.is_object()) return "fault must be a JSON object";
    out = FaultSpec{};
    const auto kind = kFaultKindNames.Parse(json.value("kind", std::string("status")));
    if (!kind) return "kind must be status, drop, slow or swallow";
    out.kind = *kind;
    auto int_field = [&](const char* name, auto& target) -> std::optional<std::string> {
        if (!json.contains(name)) return std::nullopt;
        if (!json[name].is_number_integer()) return std::string(name) + " must be an integer";
        target = json[name].get<std::int64_t>();
        return std::nullopt;
    };
    std::int64_t status = out.status, retry_after = -1, count = 1, duration = 0, delay = 0;
    for (auto [name, target] : {std::pair<const char*, std::int64_t*>{"status", &status},
                                {"retryAfter", &retry_after},
                                {"count", &count},
                                {"durationMs", &duration},
                                {"delayMs", &delay}}) {
        if (auto error = int_field(name, *target)) return error;
    }
    if (out.kind == FaultKind::kStatus && (status < 100 || status > 599)) return "status must be 100..599";
    if (count < 0 || duration < 0 || delay < 0) return "count, durationMs and delayMs must not be negative";
    if (out.kind == FaultKind::kSlow && delay == 0) return "a slow fault needs delayMs";
    // A duration without an explicit count means "every call for that long".
    if (json.contains("durationMs") && !json.contains("count")) count = 0;
    out.status = static_cast<int>(status);
    out.retry_after_seconds = static_cast<int>(retry_after);
    out.count = static_cast<int>(count);
    out.duration = std::chrono::milliseconds(duration);
    out.delay = std::chrono::milliseconds(delay);
    if (json.contains("afterEffect")) {
        if (!json["afterEffect"].is_boolean()) return "afterEffect must be true or false";
        if (out.kind != FaultKind::kStatus) return "afterEffect is for status faults";
        out.after_effect = json["afterEffect"].get<bool>();
    }
    out.method = json.value("method", std::string());
    out.path_prefix = json.value("pathPrefix", std::string());
    return std::nullopt;
}

}  // namespace spacehook::emulator
