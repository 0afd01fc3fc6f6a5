#include "docspace/names.hpp"

#include <fmt/format.h>

#include <string>

namespace spacehook::docspace {

const std::vector<std::pair<std::string_view, int>>& AccessLevels() {
    // FileShare (docs/docspace-api.md §2.4): 9 RoomManager, 10 Editing, 2 Read, 11 ContentCreator, 5 Review,
    // 6 Comment, 7 FillForms. 4 is "Varies", not full access (the seeds get this wrong).
    static const std::vector<std::pair<std::string_view, int>> kLevels = {
        {"room_manager", 9}, {"editor", 10},   {"viewer", 2},      {"content_creator", 11},
        {"reviewer", 5},     {"commenter", 6}, {"form_filler", 7},
    };
    return kLevels;
}

Result<int> ParseAccessLevel(std::string_view name) {
    for (const auto& [n, v] : AccessLevels()) {
        if (n == name) return v;
    }
    if (name == "remove") return 0;
    std::string valid;
    for (const auto& [n, v] : AccessLevels()) valid += fmt::format("{}{}", valid.empty() ? "" : ", ", n);
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("unknown access level '{}' (valid: {}, or 'remove')", name, valid));
}

std::string AccessLevelName(int access) {
    for (const auto& [n, v] : AccessLevels()) {
        if (v == access) return std::string(n);
    }
    if (access == 0) return "remove";
    return fmt::format("access_{}", access);
}

const std::vector<std::pair<std::string_view, int>>& RoomTypes() {
    // RoomType (docs/docspace-api.md §2.4). "collaboration" is the UI label of EditingRoom.
    static const std::vector<std::pair<std::string_view, int>> kRoomTypes = {
        {"form_filling", 1}, {"collaboration", 2}, {"editing", 2}, {"custom", 5},
        {"public", 6},       {"virtual_data", 8},  {"ai", 9},
    };
    return kRoomTypes;
}

Result<int> ParseRoomType(std::string_view name_or_number) {
    for (const auto& [name, value] : RoomTypes()) {
        if (name == name_or_number) return value;
    }
    for (const auto& [name, value] : RoomTypes()) {
        if (std::to_string(value) == name_or_number) return value;
    }
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("unknown room type '{}' (valid: form_filling 1, collaboration 2, custom 5, public 6, "
                    "virtual_data 8, ai 9)",
                    name_or_number));
}

std::string_view RoomTypeName(int room_type) {
    for (const auto& [name, value] : RoomTypes()) {
        if (value == room_type) return name;
    }
    return "unknown";
}

const std::vector<std::pair<std::string_view, std::int64_t>>& AllTriggers() {
    // WebhookTrigger [Flags] enum, long since 3.7 (docs/docspace-api.md §1.5).
    static const std::vector<std::pair<std::string_view, std::int64_t>> kTriggers = {
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
    if (name == "*") return 0;
    for (const auto& [n, bit] : AllTriggers()) {
        if (n == name) return bit;
    }
    return std::nullopt;
}

std::string_view TriggerName(std::int64_t bit) {
    for (const auto& [n, b] : AllTriggers()) {
        if (b == bit) return n;
    }
    return {};
}

std::string_view TriggerFamily(std::string_view trigger) {
    return trigger.substr(0, trigger.find('.'));
}

std::vector<std::string_view> TriggerNames(std::int64_t mask) {
    if (mask == 0) return {"*"};
    std::vector<std::string_view> out;
    for (const auto& [n, bit] : AllTriggers()) {
        if ((mask & bit) != 0) out.push_back(n);
    }
    return out;
}

}  // namespace spacehook::docspace
