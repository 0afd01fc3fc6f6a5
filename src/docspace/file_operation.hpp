#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "docspace/api.hpp"

namespace spacehook::docspace {

/// FileOperationDto (docs/docspace-api.md §2.5).
struct FileOperation {
    std::string id;
    int operation = -1;  ///< FileOperationType: Move 0, Copy 1, ...; the JSON key is "Operation"
    int progress = 0;
    std::string error;
    std::string processed;  ///< a string on the wire
    bool finished = false;
    std::vector<Entry> files;  ///< the resulting entries, once the result is there
    std::vector<Entry> folders;

    /// DocSpace and both official integrations treat `finished || progress == 100` as done.
    [[nodiscard]] bool Done() const { return finished || progress >= 100; }
};

/// Parses one FileOperationDto; keys are matched case-insensitively. nullopt without an id.
std::optional<FileOperation> ParseFileOperation(const Json& dto, std::string_view base_url);
/// The operations in a fileops answer (an array, or one object).
std::vector<FileOperation> ParseFileOperations(const Json& response, std::string_view base_url);

struct PollOptions {
    std::chrono::milliseconds interval{200};
    std::chrono::milliseconds timeout{120000};
};

/// What AwaitFileOperation needs from the outside world; injected so the loop is tested with fakes.
struct PollHooks {
    /// GET /api/2.0/files/fileops?id=<op>: the operations the portal still lists.
    std::function<Result<std::vector<FileOperation>>(const std::string& operation_id)> list;
    /// The operation is gone from the list before we saw it finish (another poller of the same user,
    /// even the user's browser, dequeued it, docs/docspace-api.md §2.5): look at the destination instead. A
    /// kUnavailable answer means "not there (yet)".
    std::function<Result<OperationOutcome>()> verify_target;
    std::function<void(std::chrono::milliseconds)> sleep;
    /// Monotonic time for the deadline.
    std::function<std::chrono::steady_clock::time_point()> now;
};

/// Polls a started copy/move until it is done, failed, vanished (then verified at the destination),
/// or `options.timeout` passed (kTimeout). A transient error while polling is retried until the
/// deadline; a permanent one ends the wait. A non-empty `error` is kPermanent with the portal's text.
Result<OperationOutcome> AwaitFileOperation(const FileOperation& started, std::string_view what,
                                            const PollOptions& options, const PollHooks& hooks);

}  // namespace spacehook::docspace
