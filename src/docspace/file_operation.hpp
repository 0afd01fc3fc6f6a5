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

/// One item a copy/move was asked for, as it was before the operation.
struct OperationItem {
    EntityId id;
    bool is_folder = false;
    std::string title;
};

/// What it takes to tell whether each item of a finished copy/move arrived. "Finished" with an empty
/// error is also what the portal reports after an exception it swallowed or a conflict it skipped, and
/// its result lists are unreliable (docs/docspace-api.md §2.5 "File operations"), so only the
/// destination can tell.
struct ArrivalCheck {
    bool move = false;
    ConflictResolve conflict = ConflictResolve::kSkip;
    EntityId destination;
    std::vector<OperationItem> items;
    FolderContents
        before;  ///< the destination's entries before the operation (copies, and moves that may conflict)
    FolderContents after;  ///< and after it
    /// Moves: where an item is now; nullopt once it no longer exists (an overwrite deletes the source).
    std::function<Result<std::optional<Entry>>(const OperationItem&)> current;
};

/// Judges every item: a move arrived when the item's parent is the destination, or (overwrite) when the
/// source is gone and the destination's file of its title has a newer version, or (a folder meeting a
/// folder of its title) when the source was merged in and removed; a copy arrived when a new entry of
/// the title, numbered or not (a folder's number ends the name), is in the destination, or when an
/// entry of that title was there before and the conflict rule keeps it (skip; overwrite with a newer
/// version). The outcome lists the arrived entries in request order. An item the portal skipped over a
/// title conflict is kConflict (skip was asked for: retrying changes nothing); any other missing item is
/// kUnavailable, naming `what` (how the operation ended) and the titles.
Result<OperationOutcome> CheckArrival(const ArrivalCheck& check, std::string_view what);

/// Polls a started copy/move until it is done, failed, vanished (then verified at the destination),
/// or `options.timeout` passed (kTimeout). A transient error while polling is retried until the
/// deadline; a permanent one ends the wait. A non-empty `error` is kPermanent with the portal's text.
Result<OperationOutcome> AwaitFileOperation(const FileOperation& started, std::string_view what,
                                            const PollOptions& options, const PollHooks& hooks);

}  // namespace spacehook::docspace
