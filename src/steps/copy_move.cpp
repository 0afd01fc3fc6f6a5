// copy and move: files and folders into a folder, as one DocSpace file operation awaited to its end
// (docs/docspace-api.md §3). Two kinds with one input and one executor.
#include <fmt/format.h>

#include "core/log.hpp"
#include "steps/entry_json.hpp"
#include "steps/kind.hpp"
#include "steps/look.hpp"

namespace spacehook::steps {
namespace {

constexpr EnumNames<docspace::ConflictResolve, 3> kConflictNames{{{
    {docspace::ConflictResolve::kSkip, "skip"},
    {docspace::ConflictResolve::kOverwrite, "overwrite"},
    {docspace::ConflictResolve::kDuplicate, "duplicate"},
}}};

struct TransferInput {
    EntityId to;
    std::vector<EntityId> files;
    std::vector<EntityId> folders;
    docspace::ConflictResolve conflict = docspace::ConflictResolve::kSkip;
};

/// `items` ({{ entity }}, {{ steps.copy.files }}) render as {"files": [id], "folders": [id]}, each item
/// placed by what it says it is; they join `files` and `folders`.
Field<TransferInput> Items() {
    Field<TransferInput> field;
    field.spec.key = "items";
    field.spec.type = rules::InputType::kItems;
    field.read = [](TransferInput& in, const Json& value) -> codec::Problem {
        std::vector<EntityId> files;
        std::vector<EntityId> folders;
        if (auto problem = codec::Read(value.value("files", Json::array()), files)) return problem;
        if (auto problem = codec::Read(value.value("folders", Json::array()), folders)) return problem;
        in.files.insert(in.files.end(), files.begin(), files.end());
        in.folders.insert(in.folders.end(), folders.begin(), folders.end());
        return std::nullopt;
    };
    return field;
}

Json Entries(const std::vector<docspace::Entry>& entries) {
    Json out = Json::array();
    for (const auto& entry : entries) out.push_back(EntryJson(entry));
    return out;
}

class Transfer final : public Kind<TransferInput> {
public:
    explicit Transfer(bool move)
        : Kind(
              move ? "move" : "copy",
              {.what = move ? "move operation, awaited to the end and checked at the destination. Without "
                              "files/folders/items: the event's own file or folder"
                            : "copy operation, awaited to the end and checked at the destination. Without "
                              "files/folders/items: the event's own file or folder",
               .looks =
                   move ? "always: each item's parent (`GET files/file/{id}`, the path of a folder)"
                        : "with `conflict: skip` always, with `overwrite`/`duplicate` only when resumed: the "
                          "source's title among the destination's entries (numbered too for `duplicate`: "
                          "`Title (1).ext` for a file, `Title (1)` at the end of a folder's name)"},
              {Bind("to", rules::InputType::kId, &TransferInput::to).Required(),
               Bind("files", rules::InputType::kIdList, &TransferInput::files),
               Bind("folders", rules::InputType::kIdList, &TransferInput::folders), Items(),
               Choice("conflict", &TransferInput::conflict, kConflictNames).Default("skip")}),
          move_(move) {}

private:
    void Check(rules::StepCheck& check) const override {
        Json& input = check.input;
        if (input.contains("files") || input.contains("folders") || input.contains("items")) return;
        // Default: the event's own entity.
        if (!check.scope.Allows(rules::EntityKind::kFile) &&
            !check.scope.Allows(rules::EntityKind::kFolder)) {
            check.Error(
                fmt::format("{} needs files, folders or items: this rule's events ({}) are not about a "
                            "file or folder",
                            name(), check.scope.triggers));
        } else {
            input["items"] = "{{ entity }}";
        }
    }

    Status Finish(TransferInput& in, const InputProblems& problem, bool strict) const override {
        if (strict && in.files.empty() && in.folders.empty())
            return Fail(problem("files", fmt::format("nothing to {}", name())));
        return Ok();
    }

    Result<Json> Execute(const TransferInput& in, const StepDeps& deps, const StepCall& call) const override;

    bool move_;
};

Result<Json> Transfer::Execute(const TransferInput& in, const StepDeps& deps, const StepCall& call) const {
    auto api = deps.RequireApi();
    if (!api) return Fail(api.error());
    const std::string_view verb = name();
    std::vector<docspace::Entry> done_files;
    std::vector<docspace::Entry> done_folders;
    std::vector<EntityId> pending_files;
    std::vector<EntityId> pending_folders;
    // A move is done when the item sits in the destination: always cheap to check, and moving an item
    // onto itself is not something to ask the portal. A copy is done when the destination holds an item
    // of the source's title: with conflict skip the portal would skip it anyway; with overwrite or
    // duplicate a copy is wanted even then, so only an attempt that may have copied already looks.
    const bool look = move_ || in.conflict == docspace::ConflictResolve::kSkip || call.resumed;
    std::optional<docspace::FolderContents> target;
    if (look && !move_) {
        auto contents = (*api)->GetFolder(in.to);
        if (!contents) return Fail(contents.error());
        target = std::move(*contents);
    }
    const bool numbered = in.conflict == docspace::ConflictResolve::kDuplicate;
    for (const auto& id : in.files) {
        if (!look) {
            pending_files.push_back(id);
            continue;
        }
        auto file = (*api)->GetFile(id);
        if (!file) return Fail(file.error());
        const docspace::Entry* copied = move_ ? nullptr : FindByTitle(target->files, file->title, numbered);
        if (move_ && file->parent_id == in.to) {
            done_files.push_back(std::move(*file));
        } else if (copied != nullptr) {
            done_files.push_back(*copied);
        } else {
            pending_files.push_back(id);
        }
    }
    for (const auto& id : in.folders) {
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
                fmt::format("{}: GET files/folder/{}/path did not end at the folder", verb, id.str()));
        }
        const docspace::Entry& folder = path->back();
        const docspace::Entry* copied =
            move_ ? nullptr
                  : FindByTitle(target->folders, folder.title, numbered, docspace::TitleKind::kFolder);
        if (move_ && folder.parent_id == in.to) {
            done_folders.push_back(folder);
        } else if (copied != nullptr) {
            done_folders.push_back(*copied);
        } else {
            pending_folders.push_back(id);
        }
    }
    if (!pending_files.empty() || !pending_folders.empty()) {
        auto outcome = move_ ? (*api)->MoveItems(pending_files, pending_folders, in.to, in.conflict)
                             : (*api)->CopyItems(pending_files, pending_folders, in.to, in.conflict);
        if (!outcome) return Fail(outcome.error());
        for (auto& entry : outcome->files) done_files.push_back(std::move(entry));
        for (auto& entry : outcome->folders) done_folders.push_back(std::move(entry));
    } else {
        log::Info("runner", "items are in the destination already; nothing to do",
                  {{"run", call.run_key}, {"step", call.index}, {"kind", verb}});
    }
    return Json{{"files", Entries(done_files)}, {"folders", Entries(done_folders)}};
}

}  // namespace

const StepDescriptor& CopyStep() {
    static const Transfer kind(false);
    return kind;
}

const StepDescriptor& MoveStep() {
    static const Transfer kind(true);
    return kind;
}

}  // namespace spacehook::steps
