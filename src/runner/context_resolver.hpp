#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "docspace/api.hpp"
#include "rules/event.hpp"
#include "rules/facts.hpp"
#include "runner/folder_path_cache.hpp"

namespace spacehook::runner {

/// What the resolver found for one event so far. Resolve() may be called again with more needs; it
/// only fetches what is neither resolved nor known to be unavailable.
struct Resolution {
    rules::Facts facts;
    /// Facts this event cannot have, by fact name ("room path", "file info", ...; NeededFacts::Names):
    /// the entity, its parent or the user is gone (404) or hidden from the service account (403).
    std::map<std::string, std::string> unavailable;
    int api_calls = 0;       ///< REST calls made for this event (cache hits cost none)
    bool room_info = false;  ///< facts.room is the room's whole FolderDto, not only {id, title} from the path
};

/// Turns rules::NeededFacts into rules::Facts through the DocSpace API (docs/rules.md "Facts"):
///   room path   GET files/folder/{parentId}/path, cached per folder (FolderPathCache); the room is the
///               part with a roomType (docs/docspace-api.md §1.7), and a room event is its own room
///   room info   GET files/rooms/{id}
///   file info   GET files/file/{id}
///   folder info the last entry of GET files/folder/{id}/path (one FolderDto, where GET files/{id}
///               would page through the folder's whole content): the entity for folder events, its
///               parent for file events
///   user info   GET people/{payload.id};  actor info  GET people/{event.createBy}
/// Thread-compatible: one resolver per dispatcher thread (the cache is shared and thread-safe).
class ContextResolver {
public:
    ContextResolver(docspace::Api& api, FolderPathCache& cache) : api_(api), cache_(cache) {}

    /// Keeps the cache true to what the event says: a new folder or room (folder.created, folder.copied,
    /// room.created, room.copied, agent.created) is added under its parent; a renamed, moved, trashed,
    /// restored or deleted folder or room drops every cached path through it. Costs no API call. Meant
    /// for every event, the service's own included (its create_folder steps warm the cache).
    void Observe(const rules::Event& event);

    /// Fetches what `needs` asks for and `into` lacks. A lookup that finds the entity gone (kNotFound)
    /// or hidden (kForbidden) marks that fact unavailable and goes on; any other failure ends the call
    /// with that error: transient ones (kUnavailable, kTimeout, kRateLimited) mean "dispatch again
    /// later", the rest (a refused API key, a malformed answer) are the dispatch's permanent failure.
    Status Resolve(const rules::Event& event, const rules::NeededFacts& needs, Resolution& into);

private:
    /// The path of `folder` (root .. folder), from the cache or one API call; the call's entries go to
    /// `entries` when given (the last one is the folder's own FolderDto).
    Result<std::vector<PathNode>> PathOf(const EntityId& folder, Resolution& into,
                                         std::vector<docspace::Entry>* entries = nullptr);
    Status ResolvePath(const rules::Event& event, Resolution& into);
    Status ResolveRoom(const rules::Event& event, Resolution& into);
    Status ResolveFile(const rules::Event& event, Resolution& into);
    Status ResolveFolder(const rules::Event& event, Resolution& into);
    Status ResolveUser(const std::string& fact, const std::string& user_id, Json& slot, Resolution& into);

    docspace::Api& api_;
    FolderPathCache& cache_;
};

/// True for the failures that mean "this entity cannot be looked up" rather than "try again" or "the
/// service is misconfigured": 404 and 403.
bool IsEntityUnavailable(const Error& error);

}  // namespace spacehook::runner
