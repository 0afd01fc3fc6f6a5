#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace spacehook::rules {

// DocSpace's names and numbers as the rule language uses them (wire.md §0, §1.5, §2.4). The rules
// library keeps its own small tables instead of linking spacehook_docspace: rule compilation and
// matching are pure and must not depend on the HTTP client. src/docspace has the same tables for the
// wire; both follow wire.md, and rules_test checks these against it.

struct TriggerName {
    std::string_view name;
    std::int64_t bit;
};

/// Every trigger DocSpace 3.7 knows, in bit order (wire.md §1.5). `*` (0) is not in the list.
const std::vector<TriggerName>& KnownTriggers();
/// "file.created" -> 128; nullopt when unknown (and for "*").
std::optional<std::int64_t> TriggerBit(std::string_view name);
/// "file.created" -> "file"; the part before the dot.
std::string_view TriggerFamily(std::string_view trigger);

struct AccessLevel {
    std::string_view name;
    int value;
};
/// room_manager 9, editor 10, viewer 2, content_creator 11, reviewer 5, commenter 6, form_filler 7,
/// and remove 0. DocSpace turns any unknown access *name* into 0 = remove (wire.md §2.4), so the
/// language only knows these names and compiles them to numbers; nothing else can yield 0.
const std::vector<AccessLevel>& AccessLevels();
std::optional<int> AccessLevelValue(std::string_view name);

struct RoomTypeName {
    std::string_view name;
    int value;
};
/// form_filling 1, collaboration|editing 2, custom 5, public 6, virtual_data 8, ai 9 (wire.md §2.4).
const std::vector<RoomTypeName>& RoomTypes();
std::optional<int> RoomTypeValue(std::string_view name);

}  // namespace spacehook::rules
