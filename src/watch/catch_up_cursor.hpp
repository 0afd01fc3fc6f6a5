#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/clock.hpp"
#include "core/json.hpp"
#include "docspace/api.hpp"

namespace spacehook::watch {

/// How far catch-up has read one webhook's log on the portal, kept in the store between passes and
/// restarts (and shared by replicas). The log answers newest row first and has no id filter (docs/docspace-
/// api.md §1.13), so a pass pages down from the top until it reaches rows it has covered before.
struct CatchUpPosition {
    /// Every row created before `horizon - margin` was seen by a finished sweep. Portal time (the rows'
    /// creationTime), never this machine's clock, so a skewed clock cannot hide rows. Unset before the
    /// first sweep: that one covers `margin` back from the newest row it finds.
    std::optional<TimePoint> horizon;

    /// A sweep a pass had to leave unfinished (its page budget ran out), resumed by the next pass.
    struct Sweep {
        std::int64_t next_index = 0;      ///< startIndex of the first row not read yet...
        std::int64_t total = 0;           ///< ...when the log held this many rows (new rows push it down)
        std::int64_t lowest_id = 0;       ///< rows with this id or higher were handled
        std::optional<TimePoint> newest;  ///< the newest creationTime this sweep read
        std::optional<TimePoint> oldest_unfinished;  ///< the oldest row left for the sender to finish
        bool operator==(const Sweep&) const = default;
    };
    std::optional<Sweep> sweep;

    bool operator==(const CatchUpPosition&) const = default;
    [[nodiscard]] Json ToJson() const;
    /// nullopt for text that is not a position this version wrote (then catch-up starts afresh).
    static std::optional<CatchUpPosition> FromJson(const Json& json);
};

struct CatchUpLimits {
    /// How far behind the horizon a sweep keeps reading. Rows are numbered when the portal publishes
    /// them, so one published a moment earlier can become visible after a higher id; and a row left for
    /// the sender must still be in reach of the next sweep.
    std::chrono::milliseconds margin{std::chrono::minutes(10)};
    /// A row the portal's sender has not finished (queued, or between retries: about 31 s, up to ~10 min
    /// with timeouts, §1.9) is left alone this long: the live delivery is probably on its way. Older ones
    /// are taken: a row the sender never took (the URL check at send time failed) stays unfinished forever.
    std::chrono::milliseconds settle{std::chrono::minutes(2)};
    /// Pages of `page_size` rows one pass may read for one webhook (the first page of a resumed sweep
    /// may be read twice when rows arrived meanwhile).
    int pages_per_pass = 20;
    int page_size = 100;  ///< the portal's maximum `count`
};

/// The pure part of a catch-up pass over one webhook's log: which page to read next, which rows of a
/// page to journal, where the next pass starts. No I/O: CatchUp reads the pages and journals the rows.
///
/// A sweep reads from the newest row down and ends at the first row created before `horizon - margin`
/// (or at the end of the log); then the horizon moves to the newest row it read, held back to the oldest
/// row it left for the sender, so the next sweep reads from the top down to a little below that. A sweep
/// longer than a pass's page budget continues in the next pass where it stopped: its place is counted
/// from the end it does not move (new rows arrive at the top), re-reading rather than skipping when the
/// count is off.
class CatchUpCursor {
public:
    CatchUpCursor(CatchUpPosition position, const CatchUpLimits& limits, TimePoint now);

    /// The page to read next (config_id is the caller's); nullopt when this pass is done.
    [[nodiscard]] std::optional<docspace::WebhookLogQuery> NextPage() const;

    /// Takes the page read for the last NextPage(). Returns the rows of the page to journal, in the page's
    /// order (newest first): those not handled before, inside the horizon, and finished by the sender or
    /// older than `settle`.
    std::vector<const docspace::WebhookLogRow*> Take(const docspace::WebhookLogPage& page);

    /// The sweep reached the horizon or the end of the log in this pass.
    [[nodiscard]] bool finished() const { return finished_; }
    /// What to store once every row Take() returned is journaled.
    [[nodiscard]] CatchUpPosition position() const;
    /// Pages read (or asked for) in this pass.
    [[nodiscard]] int pages() const { return pages_; }

private:
    [[nodiscard]] bool Covered(const docspace::WebhookLogRow& row) const;

    CatchUpPosition start_;
    CatchUpLimits limits_;
    TimePoint now_;
    CatchUpPosition::Sweep sweep_;
    bool resumed_ = false;  ///< continuing a sweep of an earlier pass
    bool aligned_ = true;   ///< the next index is right for the log as it is now
    std::optional<TimePoint> horizon_;
    bool finished_ = false;
    int pages_ = 0;
};

}  // namespace spacehook::watch
