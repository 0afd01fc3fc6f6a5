#include "runner/step_executor.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/hmac_sha256.hpp"
#include "core/log.hpp"
#include "runner/entry_json.hpp"
#include "runner/step_input.hpp"

namespace spacehook::runner {

namespace {

constexpr std::string_view kComponent = "runner";

const docspace::Entry* FindTitle(const std::vector<docspace::Entry>& pool, const std::string& title,
                                 bool numbered) {
    const docspace::Entry* found = nullptr;
    for (const auto& entry : pool) {
        if (entry.title == title) return &entry;
        // Under conflict duplicate a copy may have come out numbered ("Report (2).docx").
        if (numbered && found == nullptr && docspace::TitleMatches(entry.title, title, true)) found = &entry;
    }
    return found;
}

docspace::ConflictResolve ConflictOf(const std::string& name) {
    if (name == "overwrite") return docspace::ConflictResolve::kOverwrite;
    if (name == "duplicate") return docspace::ConflictResolve::kDuplicate;
    return docspace::ConflictResolve::kSkip;
}

Json Entries(const std::vector<docspace::Entry>& entries) {
    Json out = Json::array();
    for (const auto& entry : entries) out.push_back(EntryJson(entry));
    return out;
}

}  // namespace

std::string RunTag(std::string_view run_key) {
    return "spacehook-" + Sha256Hex(run_key).substr(0, 12);
}

std::string MessageIdSeed(std::string_view run_key, int index) {
    return fmt::format("{}/{}", run_key, index);
}

std::string IdempotencyKey(std::string_view run_key, int index) {
    return Sha256Hex(MessageIdSeed(run_key, index));
}

StepExecutor::StepExecutor(StepDeps deps) : deps_(std::move(deps)) {}

TimePoint StepExecutor::Now() const {
    return deps_.clock != nullptr ? deps_.clock->Now() : SystemClock::Instance().Now();
}

Result<docspace::Api*> StepExecutor::RequireApi() const {
    if (deps_.api == nullptr) {
        return Fail(ErrorCode::kConfig,
                    "no DocSpace portal is configured (docspace.api_host / DOCSPACE_API_HOST)");
    }
    return deps_.api;
}

Result<Json> StepExecutor::Execute(rules::StepKind kind, const Json& input, const StepCall& call) {
    using rules::StepKind;
    if (!input.is_object()) return Fail(input::Bad(rules::ToString(kind), "(all)", "not an object"));
    switch (kind) {
        case StepKind::kCreateRoom:
            return CreateRoom(input, call);
        case StepKind::kCreateFolder:
            return CreateFolder(input);
        case StepKind::kCreateFolders:
            return CreateFolders(input);
        case StepKind::kCopyAs:
            return CopyAs(input);
        case StepKind::kSetAccess:
            return SetAccess(input);
        case StepKind::kCopy:
        case StepKind::kMove:
            return CopyOrMove(kind, input, call);
        case StepKind::kMail:
            return Mail(input, call);
        case StepKind::kChat:
            return Chat(input, call);
        case StepKind::kHttp:
            return Http(input, call);
    }
    return Fail(ErrorCode::kInternal, "unknown step kind");
}

Result<Json> StepExecutor::CreateRoom(const Json& in, const StepCall& call) {
    auto api = RequireApi();
    if (!api) return Fail(api.error());
    const std::string title = input::Text(in, "title");
    if (title.empty()) return Fail(input::Bad("create_room", "title", "empty"));
    if (!in.contains("type") || !in["type"].is_number_integer()) {
        return Fail(input::Bad("create_room", "type", "not a room type number"));
    }
    const int type = in["type"].get<int>();
    std::vector<std::string> tags = input::Texts(in, "tags");
    const std::string tag = RunTag(call.run_key);

    // Look first, on every attempt: an earlier one may have created the room and died before its
    // checkpoint, or lost the portal's answer (a timeout after the POST went through).
    docspace::RoomQuery query;
    query.tags = {tag};
    query.limit = 10;
    auto found = (*api)->FindRooms(query);
    if (!found) return Fail(found.error());
    if (!found->empty()) {
        log::Info(kComponent, "room of this run exists already; not creating another",
                  {{"run", call.run_key}, {"room", found->front().id.str()}, {"tag", tag}});
        return EntryJson(found->front());
    }
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
    auto room = (*api)->CreateRoom(title, type, tags);
    if (!room) return Fail(room.error());
    return EntryJson(*room);
}

Result<Json> StepExecutor::CreateFolder(const Json& in) {
    auto api = RequireApi();
    if (!api) return Fail(api.error());
    auto parent = input::Id(in, "create_folder", "in");
    if (!parent) return Fail(parent.error());
    const std::string title = input::Text(in, "title");
    if (title.empty()) return Fail(input::Bad("create_folder", "title", "empty"));
    auto contents = (*api)->GetFolder(*parent);
    if (!contents) return Fail(contents.error());
    if (const auto* existing = FindTitle(contents->folders, title, false)) return EntryJson(*existing);
    auto created = (*api)->CreateFolder(*parent, title);
    if (!created) return Fail(created.error());
    return EntryJson(*created);
}

Result<Json> StepExecutor::CreateFolders(const Json& in) {
    auto api = RequireApi();
    if (!api) return Fail(api.error());
    auto parent = input::Id(in, "create_folders", "in");
    if (!parent) return Fail(parent.error());
    const auto titles = input::Texts(in, "titles");
    auto contents = (*api)->GetFolder(*parent);
    if (!contents) return Fail(contents.error());
    Json folders = Json::array();
    Json ids = Json::array();
    for (const auto& title : titles) {
        Json folder;
        if (const auto* existing = FindTitle(contents->folders, title, false)) {
            folder = EntryJson(*existing);
        } else {
            auto created = (*api)->CreateFolder(*parent, title);
            if (!created) return Fail(created.error());
            contents->folders.push_back(*created);  // a repeated title in the list is made once
            folder = EntryJson(*created);
        }
        ids.push_back(folder.value("id", Json()));
        folders.push_back(std::move(folder));
    }
    return Json{{"folders", std::move(folders)}, {"ids", std::move(ids)}};
}

Result<Json> StepExecutor::CopyAs(const Json& in) {
    auto api = RequireApi();
    if (!api) return Fail(api.error());
    auto files = input::Ids(in, "copy_as", "files");
    if (!files) return Fail(files.error());
    auto dest = input::Id(in, "copy_as", "to");
    if (!dest) return Fail(dest.error());
    const bool titled = in.contains("title") && in["title"].is_string();
    if (titled && files->size() > 1) {
        // Every copy would get the same name, and the look-before-act below would then make only one.
        return Fail(input::Bad(
            "copy_as", "title",
            fmt::format("one title for {} files; leave title out to keep each file's own", files->size())));
    }
    auto contents = (*api)->GetFolder(*dest);
    if (!contents) return Fail(contents.error());
    Json copies = Json::array();
    for (const auto& file : *files) {
        std::string title = titled ? in["title"].get<std::string>() : "";
        if (title.empty()) {
            auto source = (*api)->GetFile(file);
            if (!source) return Fail(source.error());
            title = source->title;
        }
        if (const auto* existing = FindTitle(contents->files, title, false)) {
            copies.push_back(EntryJson(*existing));
            continue;
        }
        auto copy = (*api)->CopyFileAs(file, *dest, title);
        if (!copy) return Fail(copy.error());
        contents->files.push_back(*copy);
        copies.push_back(EntryJson(*copy));
    }
    return Json{{"files", std::move(copies)}};
}

Result<Json> StepExecutor::SetAccess(const Json& in) {
    auto api = RequireApi();
    if (!api) return Fail(api.error());
    auto room = input::Id(in, "set_access", "room");
    if (!room) return Fail(room.error());
    std::vector<docspace::Invitation> invitations;
    if (in.contains("invitations") && in["invitations"].is_array()) {
        for (const auto& item : in["invitations"]) {
            if (!item.is_object() || !item.contains("access") || !item["access"].is_number_integer()) {
                return Fail(
                    input::Bad("set_access", "invitations", "an entry without access: " + item.dump()));
            }
            docspace::Invitation invitation;
            invitation.id = input::Text(item, "id");
            invitation.email = input::Text(item, "email");
            invitation.access = item["access"].get<int>();
            invitations.push_back(std::move(invitation));
        }
    }
    // Every entry may come from an unset optional variable: nothing to share is not an error, and an
    // empty list would only make DocSpace answer {"error":0} (docs/docspace-api.md §2.5).
    if (invitations.empty()) return Json{{"members", Json::array()}};
    const bool notify = in.value("notify", false);
    auto members = (*api)->SetRoomAccess(*room, invitations, notify, input::Text(in, "message"));
    if (!members) return Fail(members.error());
    return Json{{"members", *members}};
}

Result<Json> StepExecutor::CopyOrMove(rules::StepKind kind, const Json& in, const StepCall& call) {
    auto api = RequireApi();
    if (!api) return Fail(api.error());
    const bool move = kind == rules::StepKind::kMove;
    const std::string_view name = move ? "move" : "copy";
    auto files = input::Ids(in, std::string(name), "files");
    if (!files) return Fail(files.error());
    auto folders = input::Ids(in, std::string(name), "folders");
    if (!folders) return Fail(folders.error());
    auto dest = input::Id(in, std::string(name), "to");
    if (!dest) return Fail(dest.error());
    const auto conflict = ConflictOf(input::Text(in, "conflict", "skip"));

    std::vector<docspace::Entry> done_files;
    std::vector<docspace::Entry> done_folders;
    std::vector<EntityId> pending_files;
    std::vector<EntityId> pending_folders;
    // A move is done when the item sits in the destination: always cheap to check, and moving an item
    // onto itself is not something to ask the portal. A copy is done when the destination holds an item
    // of the source's title: with conflict skip the portal would skip it anyway; with overwrite or
    // duplicate a copy is wanted even then, so only an attempt that may have copied already looks.
    const bool look = move || conflict == docspace::ConflictResolve::kSkip || call.resumed;
    std::optional<docspace::FolderContents> target;
    if (look && !move) {
        auto contents = (*api)->GetFolder(*dest);
        if (!contents) return Fail(contents.error());
        target = std::move(*contents);
    }
    const bool numbered = conflict == docspace::ConflictResolve::kDuplicate;
    for (const auto& id : *files) {
        if (!look) {
            pending_files.push_back(id);
            continue;
        }
        auto file = (*api)->GetFile(id);
        if (!file) return Fail(file.error());
        if (move && file->parent_id == *dest) {
            done_files.push_back(std::move(*file));
        } else if (!move && FindTitle(target->files, file->title, numbered) != nullptr) {
            done_files.push_back(*FindTitle(target->files, file->title, numbered));
        } else {
            pending_files.push_back(id);
        }
    }
    for (const auto& id : *folders) {
        if (!look) {
            pending_folders.push_back(id);
            continue;
        }
        // The last entry of its path is the folder's own FolderDto (one call, whatever its size).
        auto path = (*api)->GetFolderPath(id);
        if (!path) return Fail(path.error());
        if (path->empty() || !(path->back().id == id)) {
            return Fail(
                ErrorCode::kPermanent,
                fmt::format("{}: GET files/folder/{}/path did not end at the folder", name, id.str()));
        }
        const docspace::Entry& folder = path->back();
        if (move && folder.parent_id == *dest) {
            done_folders.push_back(folder);
        } else if (!move && FindTitle(target->folders, folder.title, numbered) != nullptr) {
            done_folders.push_back(*FindTitle(target->folders, folder.title, numbered));
        } else {
            pending_folders.push_back(id);
        }
    }
    if (!pending_files.empty() || !pending_folders.empty()) {
        auto outcome = move ? (*api)->MoveItems(pending_files, pending_folders, *dest, conflict)
                            : (*api)->CopyItems(pending_files, pending_folders, *dest, conflict);
        if (!outcome) return Fail(outcome.error());
        for (auto& entry : outcome->files) done_files.push_back(std::move(entry));
        for (auto& entry : outcome->folders) done_folders.push_back(std::move(entry));
    } else {
        log::Info(kComponent, "items are in the destination already; nothing to do",
                  {{"run", call.run_key}, {"step", call.index}, {"kind", name}});
    }
    return Json{{"files", Entries(done_files)}, {"folders", Entries(done_folders)}};
}

}  // namespace spacehook::runner
