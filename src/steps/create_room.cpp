// create_room: a room, found again by the run's tag on every attempt.
#include <algorithm>

#include "core/log.hpp"
#include "steps/entry_json.hpp"
#include "steps/kind.hpp"

namespace spacehook::steps {
namespace {

struct CreateRoomInput {
    std::string title;
    int type = 0;  ///< DocSpace's room type number (docspace::RoomTypes)
    std::vector<std::string> tags;
};

class CreateRoom final : public Kind<CreateRoomInput> {
public:
    CreateRoom()
        : Kind(
              "create_room",
              {.what = "POST files/rooms",
               .looks = "always: a room tagged `spacehook-<first 12 hex of SHA-256(run key)>` (`FindRooms`); "
                        "the tag is added to the room besides the user's tags"},
              {Bind("title", rules::InputType::kText, &CreateRoomInput::title).Required(),
               Bind("type", rules::InputType::kRoomType, &CreateRoomInput::type).Required(),
               Bind("tags", rules::InputType::kTextList, &CreateRoomInput::tags)}) {}

private:
    Result<Json> Execute(const CreateRoomInput& in, const StepDeps& deps,
                         const StepCall& call) const override {
        auto api = deps.RequireApi();
        if (!api) return Fail(api.error());
        if (in.title.empty()) return Fail(Bad("title", "empty"));
        const std::string tag = RunTag(call.run_key);

        // Look first, on every attempt: an earlier one may have created the room and died before its
        // checkpoint, or lost the portal's answer (a timeout after the POST went through).
        docspace::RoomQuery query;
        query.tags = {tag};
        query.limit = 10;
        auto found = (*api)->FindRooms(query);
        if (!found) return Fail(found.error());
        if (!found->empty()) {
            log::Info("runner", "room of this run exists already; not creating another",
                      {{"run", call.run_key}, {"room", found->front().id.str()}, {"tag", tag}});
            return EntryJson(found->front());
        }
        std::vector<std::string> tags = in.tags;
        if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
        auto room = (*api)->CreateRoom(in.title, in.type, tags);
        if (!room) return Fail(room.error());
        return EntryJson(*room);
    }
};

}  // namespace

const StepDescriptor& CreateRoomStep() {
    static const CreateRoom kind;
    return kind;
}

}  // namespace spacehook::steps
