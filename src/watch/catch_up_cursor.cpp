#include "watch/catch_up_cursor.hpp"

#include <algorithm>

namespace spacehook::watch {

namespace {

/// Rows re-read above a resumed sweep's place: cheap (they are skipped by id), and they cover a row that
/// became visible below the place after a higher id, which would otherwise push the place one row too far.
constexpr std::int64_t kResumeOverlap = 5;

Json TimeJson(const std::optional<TimePoint>& t) {
    return t ? Json(ToUnixMillis(*t)) : Json(nullptr);
}

std::optional<TimePoint> TimeFrom(const Json& json, const char* key) {
    const auto it = json.find(key);
    if (it == json.end() || !it->is_number_integer()) return std::nullopt;
    return FromUnixMillis(it->get<std::int64_t>());
}

std::int64_t IntegerFrom(const Json& json, const char* key) {
    const auto it = json.find(key);
    return it != json.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

void Earliest(std::optional<TimePoint>& slot, TimePoint t) {
    if (!slot || t < *slot) slot = t;
}
void Latest(std::optional<TimePoint>& slot, TimePoint t) {
    if (!slot || t > *slot) slot = t;
}

}  // namespace

Json CatchUpPosition::ToJson() const {
    Json out = {{"horizon", TimeJson(horizon)}};
    if (sweep) {
        out["sweep"] = {{"next_index", sweep->next_index},
                        {"total", sweep->total},
                        {"lowest_id", sweep->lowest_id},
                        {"newest", TimeJson(sweep->newest)},
                        {"oldest_unfinished", TimeJson(sweep->oldest_unfinished)}};
    }
    return out;
}

std::optional<CatchUpPosition> CatchUpPosition::FromJson(const Json& json) {
    if (!json.is_object() || !json.contains("horizon")) return std::nullopt;
    CatchUpPosition position;
    position.horizon = TimeFrom(json, "horizon");
    if (const auto it = json.find("sweep"); it != json.end() && it->is_object()) {
        Sweep sweep;
        sweep.next_index = std::max<std::int64_t>(0, IntegerFrom(*it, "next_index"));
        sweep.total = std::max<std::int64_t>(0, IntegerFrom(*it, "total"));
        sweep.lowest_id = std::max<std::int64_t>(0, IntegerFrom(*it, "lowest_id"));
        sweep.newest = TimeFrom(*it, "newest");
        sweep.oldest_unfinished = TimeFrom(*it, "oldest_unfinished");
        position.sweep = sweep;
    }
    return position;
}

CatchUpCursor::CatchUpCursor(CatchUpPosition position, const CatchUpLimits& limits, TimePoint now)
    : start_(position), limits_(limits), now_(now), horizon_(start_.horizon) {
    if (start_.sweep) {
        sweep_ = *start_.sweep;
        resumed_ = true;
        aligned_ = false;  // rows may have arrived since: the first page says how many
        // A first sweep that did not finish: its newest row is where it began.
        if (!horizon_) horizon_ = sweep_.newest;
    }
}

std::optional<docspace::WebhookLogQuery> CatchUpCursor::NextPage() const {
    if (finished_ || pages_ >= limits_.pages_per_pass) return std::nullopt;
    docspace::WebhookLogQuery query;
    query.start_index = sweep_.next_index;
    query.count = limits_.page_size;
    return query;
}

bool CatchUpCursor::Covered(const docspace::WebhookLogRow& row) const {
    return horizon_ && row.created_at && *row.created_at < *horizon_ - limits_.margin;
}

std::vector<const docspace::WebhookLogRow*> CatchUpCursor::Take(const docspace::WebhookLogPage& page) {
    ++pages_;
    std::vector<const docspace::WebhookLogRow*> taken;
    if (!aligned_) {
        aligned_ = true;
        if (page.total != sweep_.total) {
            // New rows at the top pushed the sweep's place down by as many (deleted ones pull it up).
            const std::int64_t moved =
                std::max<std::int64_t>(0, sweep_.next_index + (page.total - sweep_.total) - kResumeOverlap);
            sweep_.total = page.total;
            if (moved != sweep_.next_index) {
                sweep_.next_index = moved;
                return taken;  // not the rows wanted: read again at the right place
            }
        }
    }
    std::int64_t consumed = 0;
    for (const auto& row : page.rows) {
        ++consumed;
        if (sweep_.lowest_id != 0 && row.id >= sweep_.lowest_id) continue;  // handled already
        if (Covered(row)) {
            finished_ = true;
            break;
        }
        if (row.created_at) {
            // The first sweep ever starts its horizon at the newest row there is.
            if (!horizon_) horizon_ = row.created_at;
            Latest(sweep_.newest, *row.created_at);
        }
        const bool settled = row.finished || !row.created_at || now_ - *row.created_at >= limits_.settle;
        if (settled) {
            taken.push_back(&row);
        } else {
            Earliest(sweep_.oldest_unfinished, *row.created_at);
        }
        sweep_.lowest_id = sweep_.lowest_id == 0 ? row.id : std::min(sweep_.lowest_id, row.id);
    }
    sweep_.next_index += consumed;
    sweep_.total = page.total;
    if (static_cast<std::int64_t>(page.rows.size()) < limits_.page_size || sweep_.next_index >= page.total) {
        finished_ = true;  // the end of the log
    }
    return taken;
}

CatchUpPosition CatchUpCursor::position() const {
    if (pages_ == 0) return start_;
    CatchUpPosition next;
    if (!finished_) {
        next.horizon = start_.horizon;
        next.sweep = sweep_;
        return next;
    }
    // An empty log on the first sweep: every row that appears later is new.
    TimePoint horizon = horizon_.value_or(TimePoint{});
    if (sweep_.newest && *sweep_.newest > horizon) horizon = *sweep_.newest;
    // A row left for the sender keeps the next sweep reaching down to it.
    if (sweep_.oldest_unfinished && *sweep_.oldest_unfinished < horizon) horizon = *sweep_.oldest_unfinished;
    next.horizon = horizon;
    return next;
}

}  // namespace spacehook::watch
