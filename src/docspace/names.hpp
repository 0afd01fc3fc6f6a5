#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace spacehook::docspace {

// Names <-> DocSpace numbers (docs/docspace-api.md §0, §1.5, §2.4). Users write names; the wire carries
// numbers. Unknown names are errors, never a silent 0: DocSpace reads an unknown FileShare as 0 = None, which
// REMOVES the member (docs/docspace-api.md §2.4).

/// room_manager 9, editor 10, viewer 2, content_creator 11, reviewer 5, commenter 6, form_filler 7, and
/// `remove` 0 (only by that explicit name). kInvalidArgument listing the valid names otherwise.
Result<int> ParseAccessLevel(std::string_view name);
/// The name for a FileShare number ("editor" for 10); "access_<n>" for numbers without a name.
std::string AccessLevelName(int access);
/// Every named level, in the order users usually think of them.
const std::vector<std::pair<std::string_view, int>>& AccessLevels();

/// form_filling 1, collaboration|editing 2, custom 5, public 6, virtual_data 8, ai 9, or the number as
/// text ("2"). kInvalidArgument otherwise.
Result<int> ParseRoomType(std::string_view name_or_number);
std::string_view RoomTypeName(int room_type);
/// Every room type name with its number (two names for 2: collaboration, the UI label, and editing).
const std::vector<std::pair<std::string_view, int>>& RoomTypes();

/// Trigger name -> bit ("file.created" -> 128); "*" -> 0 (All). nullopt when unknown.
std::optional<std::int64_t> TriggerBit(std::string_view name);
/// Bit -> name; empty when unknown.
std::string_view TriggerName(std::int64_t bit);
/// Every known trigger (docs/docspace-api.md §1.5), in bit order.
const std::vector<std::pair<std::string_view, std::int64_t>>& AllTriggers();
/// "file.created" -> "file", "form.filled.out" -> "form": the part before the first dot.
std::string_view TriggerFamily(std::string_view trigger);
/// Names of the bits set in `mask` (["*"] for 0).
std::vector<std::string_view> TriggerNames(std::int64_t mask);

}  // namespace spacehook::docspace
