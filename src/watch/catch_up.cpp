#include "watch/catch_up.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <future>

#include "core/json_depth.hpp"
#include "core/log.hpp"
#include "ingress/envelope.hpp"

namespace spacehook::watch {

namespace {

constexpr std::string_view kComponent = "catch-up";
/// An append's callback comes once its commit is durable or failed; the store bounds its own waits, this
/// only guards against a callback that never comes.
constexpr std::chrono::seconds kAppendWait{120};

Result<store::AppendOutcome> AppendAndWait(store::Journal& journal, store::NewDelivery delivery) {
    auto promise = std::make_shared<std::promise<Result<store::AppendOutcome>>>();
    auto future = promise->get_future();
    journal.Append(std::move(delivery), [promise](Result<store::AppendOutcome> outcome) {
        promise->set_value(std::move(outcome));
    });
    if (future.wait_for(kAppendWait) != std::future_status::ready) {
        return Fail(ErrorCode::kTimeout, "the journal did not confirm a recovered delivery in time");
    }
    return future.get();
}

/// The body to journal for `row`: as the portal holds it, unless it has no event.id of its own (published,
/// never sent) or another one (a manual retry's row before the sender took it carries the old row's body):
/// then with the row's id, which is what its delivery would have carried (docs/docspace-api.md §1.9, §1.13).
Result<std::string> BodyOf(const docspace::WebhookLogRow& row) {
    auto envelope = ingress::ParseEnvelope(row.request_payload);
    if (!envelope) return Fail(envelope.error());
    const std::string id = std::to_string(row.id);
    if (envelope->event_id && envelope->event_id->str() == id) return row.request_payload;
    auto json = ParseBoundedJson(row.request_payload);
    if (!json) return Fail(json.error());
    (*json)["event"]["id"] = row.id;
    return json->dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

std::string CatchUpPositionName(std::int64_t webhook_id) {
    return fmt::format("catch-up/{}", webhook_id);
}

CatchUpResult CatchUpWebhook(docspace::Api& api, store::Journal& journal, store::Admin& admin,
                             store::SharedState& state, std::int64_t webhook_id, const CatchUpLimits& limits,
                             const Clock& clock, const std::function<bool()>& stop) {
    CatchUpResult result;
    result.webhook_id = webhook_id;
    const std::string name = CatchUpPositionName(webhook_id);
    auto stored = state.GetValue(name);
    if (!stored) {
        result.error = stored.error();
        return result;
    }
    CatchUpPosition position;
    if (*stored) {
        auto json = Json::parse(**stored, nullptr, /*allow_exceptions=*/false);
        if (auto parsed = CatchUpPosition::FromJson(json)) {
            position = *parsed;
        } else {
            log::Warn(kComponent, "stored catch-up position unreadable; starting afresh",
                      {{"webhook", webhook_id}});
        }
    }

    CatchUpCursor cursor(position, limits, clock.Now());
    std::vector<docspace::WebhookLogRow> taken;
    while (auto query = cursor.NextPage()) {
        if (stop && stop()) break;
        query->config_id = webhook_id;
        auto page = api.ReadWebhookLog(*query);
        if (!page) {
            result.error = page.error();
            break;
        }
        for (const auto* row : cursor.Take(*page)) taken.push_back(*row);
    }
    result.pages = cursor.pages();

    // Oldest first, as they happened: the dispatcher takes the journal in order.
    std::sort(taken.begin(), taken.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    const std::string webhook = std::to_string(webhook_id);
    for (const auto& row : taken) {
        const std::string event_id = std::to_string(row.id);
        auto known = admin.FindEvent(event_id);
        if (!known) {
            result.error = known.error();
            return result;
        }
        if (*known && (*known)->webhook_id == webhook) {
            ++result.journaled;
            continue;
        }
        auto body = BodyOf(row);
        auto envelope = body ? ingress::ParseEnvelope(*body) : Result<ingress::Envelope>(Fail(body.error()));
        if (!envelope) {
            // Not a delivery of this service's kind (a portal before 3.1 sent raw API answers, §1.1): it
            // could not have run live either.
            ++result.unreadable;
            log::Warn(kComponent, "log row is not a readable delivery; skipped",
                      {{"webhook", webhook_id}, {"row", row.id}, {"error", envelope.error().message}});
            continue;
        }
        store::NewDelivery delivery = ingress::ToNewDelivery(*envelope, std::move(*body), clock.Now());
        delivery.webhook_id = webhook;
        delivery.event_id = event_id;
        delivery.recovered = true;
        auto appended = AppendAndWait(journal, std::move(delivery));
        if (!appended) {
            result.error = appended.error();
            return result;  // nothing stored: this pass is read again
        }
        if (*appended == store::AppendOutcome::kDuplicate) {
            ++result.journaled;  // delivered live a moment ago
            continue;
        }
        ++result.recovered;
        if (row.created_at && (!result.oldest_recovered || *row.created_at < *result.oldest_recovered)) {
            result.oldest_recovered = row.created_at;
        }
    }
    result.finished = cursor.finished();
    const CatchUpPosition next = cursor.position();
    if (next != position) {
        if (auto saved = state.PutValue(name, next.ToJson().dump()); !saved && !result.error) {
            result.error = saved.error();
        }
    }
    return result;
}

}  // namespace spacehook::watch
