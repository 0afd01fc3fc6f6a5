#include "steps/step_deps.hpp"

#include <fmt/format.h>

#include "core/hmac_sha256.hpp"

namespace spacehook::steps {

Result<docspace::Api*> StepDeps::RequireApi() const {
    if (api == nullptr) {
        return Fail(ErrorCode::kConfig,
                    "no DocSpace portal is configured (docspace.api_host / DOCSPACE_API_HOST)");
    }
    return api;
}

TimePoint StepDeps::Now() const {
    return clock != nullptr ? clock->Now() : SystemClock::Instance().Now();
}

std::string RunTag(std::string_view run_key) {
    return "spacehook-" + Sha256Hex(run_key).substr(0, 12);
}

std::string MessageIdSeed(std::string_view run_key, int index) {
    return fmt::format("{}/{}", run_key, index);
}

std::string IdempotencyKey(std::string_view run_key, int index) {
    return Sha256Hex(MessageIdSeed(run_key, index));
}

}  // namespace spacehook::steps
