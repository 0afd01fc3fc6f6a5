#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "docspace/api.hpp"
#include "store/store.hpp"
#include "watch/catch_up_cursor.hpp"

namespace spacehook::watch {

/// What one catch-up pass over one webhook's log did.
struct CatchUpResult {
    std::int64_t webhook_id = 0;
    int pages = 0;       ///< log pages read
    int recovered = 0;   ///< deliveries the journal did not have, journaled now (marked recovered)
    int journaled = 0;   ///< rows the journal had already (delivered live, or recovered before)
    int unreadable = 0;  ///< rows whose body is not a delivery spacehook can read (logged, skipped)
    std::optional<TimePoint> oldest_recovered;  ///< when the oldest recovered one was published
    bool finished = false;  ///< the pass read down to the stored position (else the next one goes on)
    /// The portal or the store failed; what was read before it is kept and the next pass goes on.
    std::optional<Error> error;
};

/// The store name of a webhook's catch-up position ("catch-up/7").
std::string CatchUpPositionName(std::int64_t webhook_id);

/// One catch-up pass over the log of portal webhook `webhook_id` (docs/docspace-api.md §1.13): the rows the
/// cursor takes are journaled through the same dedupe as a live delivery, webhook id + event.id (a row's id
/// is the event.id its deliveries carried), oldest first so that the dispatcher sees them in the order they
/// happened, marked recovered. A row holds the last body sent; one the sender never took has no event.id
/// yet and gets the row's. The position is stored once every taken row is journaled: a pass cut short by
/// the portal keeps what it read; one cut short by the store stores nothing and is read again.
/// `stop`, when given, is asked between pages: true ends the pass there (what was read is kept).
CatchUpResult CatchUpWebhook(docspace::Api& api, store::Journal& journal, store::Admin& admin,
                             store::SharedState& state, std::int64_t webhook_id, const CatchUpLimits& limits,
                             const Clock& clock, const std::function<bool()>& stop = {});

}  // namespace spacehook::watch
