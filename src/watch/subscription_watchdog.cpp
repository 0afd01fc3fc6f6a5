#include "watch/subscription_watchdog.hpp"

#include <fmt/format.h>

#include "core/enum_names.hpp"
#include "docspace/names.hpp"
#include "docspace/subscription.hpp"

namespace spacehook::watch {

namespace {

constexpr EnumNames<PortalReach, 3> kReachNames{{{
    {PortalReach::kReachable, "reachable"},
    {PortalReach::kKeyRefused, "key_refused"},
    {PortalReach::kUnreachable, "unreachable"},
}}};
static_assert(kReachNames.Unique());

constexpr EnumNames<SubscriptionState, 4> kStateNames{{{
    {SubscriptionState::kUnknown, "unknown"},
    {SubscriptionState::kEnabled, "enabled"},
    {SubscriptionState::kDisabled, "disabled"},
    {SubscriptionState::kMissing, "missing"},
}}};
static_assert(kStateNames.Unique());

std::string TriggerList(std::int64_t mask) {
    std::string text;
    for (const auto name : docspace::TriggerNames(mask))
        text += (text.empty() ? "" : ", ") + std::string(name);
    return text;
}

bool Ours(const docspace::WebhookConfig& config, const WatchdogOptions& options) {
    return config.name == options.name && (options.url.empty() || config.uri == options.url);
}

/// The full config for a PUT (a full replace, docs/docspace-api.md §1.13): everything as the portal holds
/// it, the secret left out so the portal keeps its own.
docspace::WebhookSpec SpecOf(const docspace::WebhookConfig& config) {
    docspace::WebhookSpec spec;
    spec.name = config.name;
    spec.uri = config.uri;
    spec.enabled = config.enabled;
    spec.ssl = config.ssl;
    spec.triggers = config.triggers;
    spec.target_id = config.target_id;
    return spec;
}

/// The triggers the webhook must have for the rules, when it lacks some: what it has plus what they need
/// (0 = all when a rule listens to every trigger). nullopt when it has all they need. Nothing is taken
/// away: a trigger the rules no longer need costs an ignored delivery, a missing one loses events, and an
/// operator may have subscribed to more (or to all) on purpose.
std::optional<std::int64_t> NeededTriggers(std::int64_t has, std::optional<std::int64_t> needs) {
    if (!needs || has == 0) return std::nullopt;
    if (*needs == 0) return 0;
    if ((*needs & ~has) == 0) return std::nullopt;
    return has | *needs;
}

void Repair(docspace::Api& api, const WatchdogOptions& options, WatchedWebhook& hook) {
    auto& config = hook.config;
    const auto triggers = NeededTriggers(config.triggers, options.triggers);
    if (!triggers && config.enabled) return;
    docspace::WebhookSpec spec = SpecOf(config);
    spec.enabled = true;
    if (triggers) {
        // One update sets both: enabling it this way costs the portal one HEAD probe, not two.
        spec.triggers = *triggers;
        auto updated = api.UpdateWebhook(config.id, spec);
        if (!updated) {
            hook.problem = fmt::format("adding the triggers the rules need ({}) failed: {}",
                                       TriggerList(*triggers), updated.error().message);
            return;
        }
        hook.repairs.push_back(
            fmt::format("triggers: {} -> {}", TriggerList(config.triggers), TriggerList(*triggers)));
        if (!config.enabled) hook.repairs.emplace_back("re-enabled");
        config = *updated;
        return;
    }
    auto enabled = api.EnableWebhook(config.id, spec, true);
    if (!enabled) {
        hook.problem = fmt::format("re-enabling it failed: {}", enabled.error().message);
        return;
    }
    hook.repairs.emplace_back("re-enabled");
    config = *enabled;
}

}  // namespace

std::string_view ToString(PortalReach reach) {
    return kReachNames.Name(reach);
}

std::string_view ToString(SubscriptionState state) {
    return kStateNames.Name(state);
}

SubscriptionCheck CheckSubscription(docspace::Api& api, const WatchdogOptions& options) {
    SubscriptionCheck check;
    auto configs = api.ListWebhooks();
    if (!configs) {
        const ErrorCode code = configs.error().code;
        check.reach = code == ErrorCode::kUnauthorized || code == ErrorCode::kForbidden
                          ? PortalReach::kKeyRefused
                          : PortalReach::kUnreachable;
        check.portal_error = configs.error().message;
        return check;
    }
    check.reach = PortalReach::kReachable;
    for (const auto& config : *configs) {
        if (!Ours(config, options)) continue;
        WatchedWebhook hook;
        hook.config = config;
        hook.was_disabled = !config.enabled;
        if (options.keep_alive) Repair(api, options, hook);
        check.webhooks.push_back(std::move(hook));
    }

    if (check.webhooks.empty()) {
        const std::string which = options.url.empty()
                                      ? fmt::format("named '{}'", options.name)
                                      : fmt::format("named '{}' with URL {}", options.name, options.url);
        if (!options.keep_alive) {
            check.missing_reason = fmt::format("the portal has no webhook {}", which);
        } else if (options.url.empty()) {
            check.missing_reason = fmt::format(
                "the portal has no webhook {} (the portal deletes one after a 410 answer or a blacklisted "
                "address, docs/docspace-api.md §1.9); set subscription.url so spacehook can recreate it, or "
                "run spacehook subscribe",
                which);
        } else if (!options.triggers) {
            check.missing_reason =
                fmt::format("the portal has no webhook {}, and no rule is enabled to subscribe for", which);
        } else {
            docspace::SubscriptionRequest request;
            request.name = options.name;
            request.url = options.url;
            request.secret = options.secret;
            request.triggers = *options.triggers;
            request.enable = true;
            auto created = docspace::SyncSubscription(api, request);
            if (!created) {
                check.missing_reason = fmt::format("the portal has no webhook {}; recreating it failed: {}",
                                                   which, created.error().message);
            } else {
                WatchedWebhook hook;
                hook.config = created->config;
                hook.recreated = true;
                hook.repairs.emplace_back("recreated");
                check.webhooks.push_back(std::move(hook));
            }
        }
    }

    // The worst of them: one disabled webhook of two still loses what only it would get.
    check.state = check.webhooks.empty() ? SubscriptionState::kMissing : SubscriptionState::kEnabled;
    for (const auto& hook : check.webhooks) {
        if (!hook.config.enabled) check.state = SubscriptionState::kDisabled;
    }
    return check;
}

}  // namespace spacehook::watch
