// copy_as: a copy of each file in a folder, skipping a file whose copy's title is there already.
#include <fmt/format.h>

#include "steps/entry_json.hpp"
#include "steps/kind.hpp"
#include "steps/look.hpp"

namespace spacehook::steps {
namespace {

struct CopyAsInput {
    std::vector<EntityId> files;
    EntityId to;
    std::optional<std::string> title;  ///< nullopt: each copy keeps its file's own title
};

class CopyAs final : public Kind<CopyAsInput> {
public:
    CopyAs()
        : Kind("copy_as",
               {.what = "POST files/file/{id}/copyas for each file",
                .looks =
                    "always: each destination title (the source's own, from `GET files/file/{id}`, unless "
                    "`title` is given) among the destination's files, in the portal's form of it (the "
                    "extension "
                    "in lower case too)"},
               {Bind("files", rules::InputType::kIdList, &CopyAsInput::files).Required(),
                Bind("to", rules::InputType::kId, &CopyAsInput::to).Required(),
                Bind("title", rules::InputType::kText, &CopyAsInput::title).ShownWhenAbsent(nullptr)}) {}

private:
    Status Finish(CopyAsInput& in, const InputProblems& problem, bool strict) const override {
        if (strict && in.files.empty()) return Fail(problem("files", "no file to copy"));
        return Ok();
    }

    Result<Json> Execute(const CopyAsInput& in, const StepDeps& deps,
                         const StepCall& /*call*/) const override {
        auto api = deps.RequireApi();
        if (!api) return Fail(api.error());
        if (in.title && in.files.size() > 1) {
            // Every copy would get the same name, and the look-before-act below would then make only one.
            return Fail(
                Bad("title", fmt::format("one title for {} files; leave title out to keep each file's own",
                                         in.files.size())));
        }
        auto contents = (*api)->GetFolder(in.to);
        if (!contents) return Fail(contents.error());
        Json copies = Json::array();
        for (const auto& file : in.files) {
            std::string title = in.title.value_or("");
            if (title.empty()) {
                auto source = (*api)->GetFile(file);
                if (!source) return Fail(source.error());
                title = source->title;
            }
            if (const auto* existing = FindByTitle(contents->files, title, false)) {
                copies.push_back(EntryJson(*existing));
                continue;
            }
            auto copy = (*api)->CopyFileAs(file, in.to, title);
            if (!copy) return Fail(copy.error());
            contents->files.push_back(*copy);
            copies.push_back(EntryJson(*copy));
        }
        return Json{{"files", std::move(copies)}};
    }
};

}  // namespace

const StepDescriptor& CopyAsStep() {
    static const CopyAs kind;
    return kind;
}

}  // namespace spacehook::steps
