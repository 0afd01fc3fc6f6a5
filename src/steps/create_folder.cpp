// create_folder: one folder in a room or folder, unless the parent has one of that title already.
#include "steps/entry_json.hpp"
#include "steps/kind.hpp"
#include "steps/look.hpp"

namespace spacehook::steps {
namespace {

struct CreateFolderInput {
    EntityId in;  ///< the room or folder it goes in
    std::string title;
};

class CreateFolder final : public Kind<CreateFolderInput> {
public:
    CreateFolder()
        : Kind("create_folder",
               {.what = "one folder in a room or folder",
                .looks = "always: the title among the parent's folders (`GET files/{id}`), in the portal's "
                         "form of it (`Q1: Plans` is looked for as `Q1_ Plans`)"},
               {Bind("in", rules::InputType::kId, &CreateFolderInput::in).Required(),
                Bind("title", rules::InputType::kText, &CreateFolderInput::title).Required()}) {}

private:
    Result<Json> Execute(const CreateFolderInput& in, const StepDeps& deps,
                         const StepCall& /*call*/) const override {
        auto api = deps.RequireApi();
        if (!api) return Fail(api.error());
        if (in.title.empty()) return Fail(Bad("title", "empty"));
        auto contents = (*api)->GetFolder(in.in);
        if (!contents) return Fail(contents.error());
        if (const auto* existing =
                FindByTitle(contents->folders, in.title, false, docspace::TitleKind::kFolder))
            return EntryJson(*existing);
        auto created = (*api)->CreateFolder(in.in, in.title);
        if (!created) return Fail(created.error());
        return EntryJson(*created);
    }
};

}  // namespace

const StepDescriptor& CreateFolderStep() {
    static const CreateFolder kind;
    return kind;
}

}  // namespace spacehook::steps
