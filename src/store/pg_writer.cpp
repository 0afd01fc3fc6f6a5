#include "store/pg_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <map>

#include "core/log.hpp"
#include "store/ledger_sql.hpp"
#include "store/pg_listener.hpp"

namespace spacehook::store::pg {

namespace {

/// Rows per INSERT statement. A statement takes at most 65535 parameters (9 per row); smaller
/// statements also keep the SQL text of a big batch moderate. One batch may hold several.
constexpr std::size_t kRowsPerStatement = 1000;

Error Unavailable(std::string message) {
    return Error{ErrorCode::kUnavailable, std::move(message), 0, std::nullopt};
}

}  // namespace

AppendWriter::AppendWriter(Connector connect, Options options, std::function<void()> on_stored,
                           std::atomic<std::uint64_t>& commits)
    : connect_(std::move(connect)),
      options_(std::move(options)),
      on_stored_(std::move(on_stored)),
      commits_(commits),
      thread_({options_.max_batch, options_.max_pending_appends}) {
    thread_.Start([this](std::vector<Pending>& batch) { ProcessBatch(batch); });
}

AppendWriter::~AppendWriter() {
    Close();
}

void AppendWriter::Submit(NewDelivery delivery, TimePoint now, AppendCallback done) {
    Pending pending{std::move(delivery), now, std::move(done)};
    if (auto refused = thread_.Enqueue(pending, /*is_append=*/true, "the database")) {
        Finish(pending, tl::unexpected(std::move(*refused)));
    }
}

void AppendWriter::Close() {
    if (thread_.Close()) db_.reset();
}

Status AppendWriter::WriteBatch(const std::vector<Pending>& batch, std::vector<bool>& stored) {
    if (!db_ || db_->broken()) {
        db_.reset();
        auto connected = connect_();
        if (!connected) return Fail(connected.error());
        db_ = std::move(*connected);
    }
    // Rows go in sorted by their dedupe key. Two replicas whose batches share keys (a redelivery
    // that reached both) then wait for each other's index entries in the same order, which cannot
    // deadlock; in arrival order each could hold the key the other waits for. The deliveries of one
    // batch were all in flight at once (none was answered yet), so no order among them is lost.
    std::vector<std::pair<std::string, std::string>> keys;
    keys.reserve(batch.size());
    for (const Pending& pending : batch) {
        keys.emplace_back(ValidUtf8(pending.delivery.webhook_id), ValidUtf8(pending.delivery.event_id));
    }
    std::vector<std::size_t> order(batch.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });

    if (auto st = db_->Exec("BEGIN"); !st) {
        // The idle session was dropped by the server (restart, failover, idle timeout): nothing of this
        // batch was sent yet, so one fresh session may take it instead of failing every delivery.
        if (!db_->broken()) return st;
        db_.reset();
        auto connected = connect_();
        if (!connected) return Fail(connected.error());
        db_ = std::move(*connected);
        if (auto again = db_->Exec("BEGIN"); !again) return again;
    }
    // (webhook_id, event_id) -> how many rows of that key this batch inserted (0 or 1).
    std::map<std::pair<std::string, std::string>, int> inserted;
    std::size_t new_rows = 0;
    for (std::size_t from = 0; from < order.size(); from += kRowsPerStatement) {
        const std::size_t rows = std::min(kRowsPerStatement, order.size() - from);
        std::vector<Param> params;
        params.reserve(rows * kParamsPerDelivery);
        for (std::size_t k = from; k < from + rows; ++k) {
            const Pending& pending = batch[order[k]];
            for (const Param& param : DeliveryParams(pending.delivery, pending.now)) params.push_back(param);
        }
        auto stored_key = [&](const Row& row) -> Status {
            ++inserted[{row.Text(0), row.Text(1)}];
            ++new_rows;
            return Ok();
        };
        const RowSink sink(stored_key);
        auto ran = db_->Run(InsertEventsSql(rows) + " RETURNING webhook_id, event_id", params, &sink);
        if (!ran) return Fail(ran.error());
    }
    if (new_rows > 0) {
        // Delivered at COMMIT, to every replica's listener: new work.
        if (auto st = Notify(*db_, options_.notify_channel, options_.notify_payload); !st) return st;
    }
    if (auto st = db_->Exec("COMMIT"); !st) return st;
    // Within a batch the first delivery of a key (in arrival order: the sort is stable) is reported
    // stored and later ones duplicates. Keys are compared as the database holds them (ValidUtf8).
    for (std::size_t i = 0; i < batch.size(); ++i) {
        auto it = inserted.find(keys[i]);
        stored[i] = it != inserted.end() && it->second > 0;
        if (stored[i]) --it->second;
    }
    return Ok();
}

void AppendWriter::ProcessBatch(std::vector<Pending>& batch) {
    std::vector<bool> stored(batch.size(), false);
    Status status = WriteBatch(batch, stored);
    if (!status && db_ && db_->InTransaction() && !db_->broken()) (void)db_->Exec("ROLLBACK");
    if (!status && db_ && (db_->broken() || db_->InTransaction())) db_.reset();  // reconnect next time

    if (status) {
        commits_.fetch_add(1, std::memory_order_relaxed);
        if (failing_) {
            failing_ = false;
            log::Info("store", "appends commit again");
        }
        bool any_stored = false;
        for (bool s : stored) any_stored = any_stored || s;
        // Wake this process's workers first, as the SQLite writer does: a caller that got its answer
        // knows the wake-up has already happened. Other replicas learn it from the NOTIFY.
        if (any_stored && on_stored_) on_stored_();
        for (std::size_t i = 0; i < batch.size(); ++i) {
            Finish(batch[i], stored[i] ? AppendOutcome::kStored : AppendOutcome::kDuplicate);
        }
        return;
    }
    if (!failing_) {
        failing_ = true;
        log::Error("store", "group commit failed; the batch was rolled back",
                   {{"error", status.error().message}, {"requests", batch.size()}});
    }
    const Error failed = Unavailable(
        fmt::format("store write failed, nothing of its batch was kept: {}", status.error().message));
    for (auto& pending : batch) Finish(pending, tl::unexpected(failed));
}

void AppendWriter::Finish(Pending& pending, const Result<AppendOutcome>& outcome) {
    if (!pending.done) return;
    try {
        pending.done(outcome);
    } catch (const std::exception& e) {
        // A throwing callback must not take the writer (and every later delivery) down with it.
        log::Error("store", "append callback threw", {{"error", e.what()}});
    }
}

}  // namespace spacehook::store::pg
