// create_folders: several folders in one parent, in order; each title that is there already is used.
#include "steps/entry_json.hpp"
#include "steps/kind.hpp"
#include "steps/look.hpp"

namespace spacehook::steps {
namespace {

struct CreateFoldersInput {
    EntityId in;  ///< the room or folder they go in
    std::vector<std::string> titles;
};

class CreateFolders final : public Kind<CreateFoldersInput> {
public:
    CreateFolders()
        : Kind("create_folders",
               {.what = "several folders, in order",
                .looks = "always: each title among the parent's folders (`GET files/{id}`), in the portal's "
                         "form of it"},
               {Bind("in", rules::InputType::kId, &CreateFoldersInput::in).Required(),
                Bind("titles", rules::InputType::kTextList, &CreateFoldersInput::titles).Required()}) {}

private:
    Status Finish(CreateFoldersInput& in, const InputProblems& problem, bool strict) const override {
        if (strict && in.titles.empty()) return Fail(problem("titles", "no folder title"));
        return Ok();
    }

    Result<Json> Execute(const CreateFoldersInput& in, const StepDeps& deps,
                         const StepCall& /*call*/) const override {
        auto api = deps.RequireApi();
        if (!api) return Fail(api.error());
        auto contents = (*api)->GetFolder(in.in);
        if (!contents) return Fail(contents.error());
        Json folders = Json::array();
        Json ids = Json::array();
        for (const auto& title : in.titles) {
            Json folder;
            if (const auto* existing =
                    FindByTitle(contents->folders, title, false, docspace::TitleKind::kFolder)) {
                folder = EntryJson(*existing);
            } else {
                auto created = (*api)->CreateFolder(in.in, title);
                if (!created) return Fail(created.error());
                contents->folders.push_back(*created);  // a repeated title in the list is made once
                folder = EntryJson(*created);
            }
            ids.push_back(folder.value("id", Json()));
            folders.push_back(std::move(folder));
        }
        return Json{{"folders", std::move(folders)}, {"ids", std::move(ids)}};
    }
};

}  // namespace

const StepDescriptor& CreateFoldersStep() {
    static const CreateFolders kind;
    return kind;
}

}  // namespace spacehook::steps
