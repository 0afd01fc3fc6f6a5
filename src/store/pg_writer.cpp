#include "store/pg_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <map>

#include "core/log.hpp"

namespace spacehook::store::pg {

namespace {

/// Rows per INSERT statement. A statement takes at most 65535 parameters (9 per row); smaller
/// statements also keep the SQL text of a big batch moderate. One batch may hold several.
constexpr std::size_t kRowsPerStatement = 1000;
constexpr int kParamsPerRow = 9;

Error Unavailable(std::string message) {
    return Error{ErrorCode::kUnavailable, std::move(message), 0, std::nullopt};
}

std::string InsertSql(std::size_t rows) {
    std::string sql =
        "INSERT INTO events (webhook_id, event_id, trigger_name, actor, entity_id, created_on, body, "
        "received_at, "
        "state, next_attempt_at) VALUES ";
    for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t p = r * kParamsPerRow;
        if (r > 0) sql += ", ";
        sql += fmt::format("(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, 'pending', ${})", p + 1, p + 2, p + 3,
                           p + 4, p + 5, p + 6, p + 7, p + 8, p + 9);
    }
    sql += " ON CONFLICT ON CONSTRAINT events_delivery_key DO NOTHING RETURNING webhook_id, event_id";
    return sql;
}

}  // namespace

AppendWriter::AppendWriter(Connector connect, Options options, std::function<void()> on_stored,
                           std::atomic<std::uint64_t>& commits)
    : connect_(std::move(connect)),
      options_(std::move(options)),
      on_stored_(std::move(on_stored)),
      commits_(commits) {
    thread_ = std::thread([this] { Loop(); });
    thread_id_ = thread_.get_id();
}

AppendWriter::~AppendWriter() {
    Close();
}

void AppendWriter::Submit(NewDelivery delivery, TimePoint now, AppendCallback done) {
    std::unique_lock lock(mu_);
    if (closing_ || queue_.size() >= options_.max_pending_appends) {
        const bool closed = closing_;
        lock.unlock();
        Pending refused{std::move(delivery), now, std::move(done)};
        Finish(refused,
               tl::unexpected(Unavailable(
                   closed ? std::string("store is closed")
                          : fmt::format("store write queue is full ({} appends wait for the database)",
                                        options_.max_pending_appends))));
        return;
    }
    queue_.push_back(Pending{std::move(delivery), now, std::move(done)});
    lock.unlock();
    cv_.notify_one();
}

void AppendWriter::Close() {
    {
        std::lock_guard lock(mu_);
        closing_ = true;
        paused_ = false;
    }
    cv_.notify_all();
    if (!thread_.joinable()) return;
    if (OnWriterThread()) {
        log::Error("store",
                   "Close() called from the store's writer thread; the writer stops after this batch");
        return;
    }
    thread_.join();
    db_.reset();
}

std::size_t AppendWriter::queued() const {
    std::lock_guard lock(mu_);
    return queue_.size();
}

bool AppendWriter::AppendsRefused() const {
    std::lock_guard lock(mu_);
    return queue_.size() >= options_.max_pending_appends;
}

void AppendWriter::PauseForTesting(bool paused) {
    {
        std::lock_guard lock(mu_);
        paused_ = paused && !closing_;
    }
    cv_.notify_all();
}

void AppendWriter::Loop() {
    std::vector<Pending> batch;
    for (;;) {
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return closing_ || (!paused_ && !queue_.empty()); });
            if (queue_.empty()) return;  // closing, and everything queued has been written
            const std::size_t take = std::min(queue_.size(), std::max<std::size_t>(options_.max_batch, 1));
            for (std::size_t i = 0; i < take; ++i) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        ProcessBatch(batch);
        batch.clear();
    }
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
        Params params;
        for (std::size_t k = from; k < from + rows; ++k) {
            const std::size_t i = order[k];
            const NewDelivery& d = batch[i].delivery;
            params.Add(d.webhook_id)
                .Add(d.event_id)
                .Add(d.trigger)
                .Add(d.actor)
                .Add(d.entity_id)
                .Add(d.created_on);
            params.AddBytes(d.body).Add(d.received_at).Add(batch[i].now);
        }
        auto result = db_->Query(InsertSql(rows), params);
        if (!result) return Fail(result.error());
        for (int r = 0; r < result->size(); ++r) ++inserted[{result->Text(r, 0), result->Text(r, 1)}];
        new_rows += static_cast<std::size_t>(result->size());
    }
    if (new_rows > 0) {
        // Delivered at COMMIT, to every replica's listener: new work.
        auto notified = db_->Query("SELECT pg_notify($1, $2)",
                                   Params::Of(options_.notify_channel, options_.notify_payload));
        if (!notified) return Fail(notified.error());
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
