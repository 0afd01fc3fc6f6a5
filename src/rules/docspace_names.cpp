#include "rules/docspace_names.hpp"

#include <algorithm>

namespace spacehook::rules {

const std::vector<TriggerName>& KnownTriggers() {
    static const std::vector<TriggerName> kTriggers = {
        {"user.created", 1LL << 0},    {"user.invited", 1LL << 1},     {"user.updated", 1LL << 2},
        {"user.deleted", 1LL << 3},    {"group.created", 1LL << 4},    {"group.updated", 1LL << 5},
        {"group.deleted", 1LL << 6},   {"file.created", 1LL << 7},     {"file.uploaded", 1LL << 8},
        {"file.updated", 1LL << 9},    {"file.trashed", 1LL << 10},    {"file.deleted", 1LL << 11},
        {"file.restored", 1LL << 12},  {"file.copied", 1LL << 13},     {"file.moved", 1LL << 14},
        {"folder.created", 1LL << 15}, {"folder.updated", 1LL << 16},  {"folder.trashed", 1LL << 17},
        {"folder.deleted", 1LL << 18}, {"folder.restored", 1LL << 19}, {"folder.copied", 1LL << 20},
        {"folder.moved", 1LL << 21},   {"room.created", 1LL << 22},    {"room.updated", 1LL << 23},
        {"room.archived", 1LL << 24},  {"room.deleted", 1LL << 25},    {"room.restored", 1LL << 26},
        {"room.copied", 1LL << 27},    {"form.submit", 1LL << 28},     {"form.filled.out", 1LL << 29},
        {"form.stopped", 1LL << 30},   {"agent.created", 1LL << 31},   {"agent.updated", 1LL << 32},
        {"agent.deleted", 1LL << 33},  {"file.downloaded", 1LL << 34}, {"folder.downloaded", 1LL << 35},
    };
    return kTriggers;
}

std::optional<std::int64_t> TriggerBit(std::string_view name) {
    const auto& triggers = KnownTriggers();
    auto it = std::find_if(triggers.begin(), triggers.end(),
                           [name](const TriggerName& t) { return t.name == name; });
    if (it == triggers.end()) return std::nullopt;
    return it->bit;
}

std::string_view TriggerFamily(std::string_view trigger) {
    return trigger.substr(0, trigger.find('.'));
}

const std::vector<AccessLevel>& AccessLevels() {
    static const std::vector<AccessLevel> kLevels = {
        {"room_manager", 9}, {"editor", 10},   {"viewer", 2},      {"content_creator", 11},
        {"reviewer", 5},     {"commenter", 6}, {"form_filler", 7}, {"remove", 0},
    };
    return kLevels;
}

std::optional<int> AccessLevelValue(std::string_view name) {
    for (const auto& level : AccessLevels()) {
        if (level.name == name) return level.value;
    }
    return std::nullopt;
}

const std::vector<RoomTypeName>& RoomTypes() {
    static const std::vector<RoomTypeName> kTypes = {
        {"form_filling", 1}, {"collaboration", 2}, {"editing", 2}, {"custom", 5},
        {"public", 6},       {"virtual_data", 8},  {"ai", 9},
    };
    return kTypes;
}

std::optional<int> RoomTypeValue(std::string_view name) {
    for (const auto& type : RoomTypes()) {
        if (type.name == name) return type.value;
    }
    return std::nullopt;
}

}  // namespace spacehook::rules
