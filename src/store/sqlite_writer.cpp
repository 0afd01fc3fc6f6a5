#include "store/sqlite_writer.hpp"

#include <fmt/format.h>

#include <exception>
#include <future>

#include "core/log.hpp"

namespace spacehook::store::sqlite {

namespace {

enum GatePhase : int { kQueued = 0, kStarted = 1, kAbandoned = 2 };

/// Moves a gated request from kQueued to `to`; false when the other side got there first.
bool TakeGate(const std::shared_ptr<std::atomic<int>>& gate, int to) {
    int expected = kQueued;
    return gate->compare_exchange_strong(expected, to, std::memory_order_acq_rel);
}

Error Unavailable(std::string message) {
    return Error{ErrorCode::kUnavailable, std::move(message), 0, std::nullopt};
}

}  // namespace

GroupCommitWriter::GroupCommitWriter(std::unique_ptr<Connection> db, Options options,
                                     std::function<void()> on_wakeup)
    : db_(std::move(db)),
      options_(options),
      on_wakeup_(std::move(on_wakeup)),
      thread_({options.max_batch, options.max_pending_appends}) {
    thread_.Start([this](std::vector<WriteRequest>& batch) { ProcessBatch(batch); });
}

GroupCommitWriter::~GroupCommitWriter() {
    Close();
}

void GroupCommitWriter::Submit(WriteRequest request) {
    const bool is_append = request.counts_as_append;
    if (auto refused = thread_.Enqueue(request, is_append, "the disk")) {
        Finish(request, tl::unexpected(std::move(*refused)));
    }
}

void GroupCommitWriter::SubmitAll(std::vector<WriteRequest> requests) {
    // Synchronous: no append limit.
    if (thread_.PushAll(requests) == WriterThread<WriteRequest>::Refusal::kNone) return;
    for (auto& request : requests) Finish(request, tl::unexpected(Unavailable("store is closed")));
}

Status GroupCommitWriter::Run(std::function<Status(WriteContext&)> apply) {
    std::vector<std::function<Status(WriteContext&)>> one;
    one.push_back(std::move(apply));
    return std::move(RunAll(std::move(one)).front());
}

std::vector<Status> GroupCommitWriter::RunAll(std::vector<std::function<Status(WriteContext&)>> applies) {
    std::vector<Status> statuses(applies.size());
    if (OnWriterThread()) {
        // The writer would wait for itself.
        for (auto& status : statuses) {
            status = Fail(ErrorCode::kInternal,
                          "a synchronous store write was called from the store's writer thread");
        }
        return statuses;
    }
    std::vector<std::future<Status>> done;
    std::vector<std::shared_ptr<std::atomic<int>>> gates;
    std::vector<WriteRequest> requests;
    for (auto& apply : applies) {
        auto result = std::make_shared<std::promise<Status>>();
        done.push_back(result->get_future());
        WriteRequest request;
        request.apply = std::move(apply);
        request.finish = [result](const Status& status) { result->set_value(status); };
        request.gate = std::make_shared<std::atomic<int>>(kQueued);
        gates.push_back(request.gate);
        requests.push_back(std::move(request));
    }
    if (requests.size() == 1) {
        Submit(std::move(requests.front()));
    } else {
        SubmitAll(std::move(requests));
    }
    const auto deadline = std::chrono::steady_clock::now() + options_.write_timeout;
    for (std::size_t i = 0; i < done.size(); ++i) {
        const bool ready = done[i].wait_until(deadline) == std::future_status::ready;
        if (!ready && TakeGate(gates[i], kAbandoned)) {
            statuses[i] = Fail(ErrorCode::kUnavailable,
                               fmt::format("store writer did not take the operation within {} ms",
                                           options_.write_timeout.count()));
        } else {
            // Done, or the writer has started it: then the outcome is decided by SQLite (bounded by
            // busy_timeout and the disk), and must be reported, not guessed.
            statuses[i] = done[i].get();
        }
    }
    return statuses;
}

void GroupCommitWriter::Close() {
    if (thread_.Close()) db_.reset();
}

Status GroupCommitWriter::Apply(WriteRequest& request, WriteContext& context) {
    auto guarded = [&]() -> Status {
        try {
            return request.apply(context);
        } catch (const std::exception& e) {
            return Fail(ErrorCode::kInternal, fmt::format("store write threw: {}", e.what()));
        }
    };
    if (request.single_statement) return guarded();
    if (auto st = db_->Exec("SAVEPOINT request"); !st) return st;
    Status status = guarded();
    if (status) return db_->Exec("RELEASE request");
    // Undo only this request, unless the transaction itself is lost (the caller checks that).
    if (!db_->storage_failed() && db_->InTransaction()) {
        if (auto st = db_->Exec("ROLLBACK TO request"); !st) return st;
        if (auto st = db_->Exec("RELEASE request"); !st) return st;
    }
    return status;
}

void GroupCommitWriter::ProcessBatch(std::vector<WriteRequest>& batch) {
    // A request whose caller gave up (write_timeout) is dropped before it can touch the caller's
    // stack; the others are marked started so the caller now waits for the real outcome.
    std::erase_if(batch, [](WriteRequest& r) { return r.gate && !TakeGate(r.gate, kStarted); });
    if (batch.empty()) return;

    std::vector<Status> results(batch.size());
    bool wakeup = false;
    db_->ClearStorageFailed();
    Status batch_status = db_->Exec("BEGIN IMMEDIATE");
    if (batch_status) {
        std::vector<bool> wants_wakeup(batch.size(), false);
        for (std::size_t i = 0; i < batch.size(); ++i) {
            WriteContext context(*db_);
            Status status = Apply(batch[i], context);
            if (!status && (db_->storage_failed() || !db_->InTransaction())) {
                batch_status = std::move(status);
                break;
            }
            wants_wakeup[i] = status && context.wakeup_requested();
            results[i] = std::move(status);
        }
        if (batch_status) batch_status = db_->Exec("COMMIT");
        if (!batch_status && db_->InTransaction()) (void)db_->Exec("ROLLBACK");
        for (std::size_t i = 0; batch_status && i < batch.size(); ++i) wakeup = wakeup || wants_wakeup[i];
    }

    if (batch_status) {
        commits_.fetch_add(1, std::memory_order_relaxed);
        if (failing_) {
            failing_ = false;
            log::Info("store", "writes commit again");
        }
        // Wake the workers first: they start on the new work while the callbacks answer the callers,
        // and a caller that got its answer knows the wake-up has already happened.
        if (wakeup && on_wakeup_) on_wakeup_();
        for (std::size_t i = 0; i < batch.size(); ++i) Finish(batch[i], results[i]);
        return;
    }

    if (!failing_) {
        failing_ = true;
        log::Error("store", "group commit failed; the batch was rolled back",
                   {{"error", batch_status.error().message}, {"requests", batch.size()}});
    }
    const Status failed = tl::unexpected(Unavailable(
        fmt::format("store write failed, nothing of its batch was kept: {}", batch_status.error().message)));
    for (auto& request : batch) Finish(request, failed);
}

void GroupCommitWriter::Finish(WriteRequest& request, const Status& status) {
    if (!request.finish) return;
    try {
        request.finish(status);
    } catch (const std::exception& e) {
        // A throwing callback must not take the writer (and every later delivery) down with it.
        log::Error("store", "write callback threw", {{"error", e.what()}});
    }
}

}  // namespace spacehook::store::sqlite
