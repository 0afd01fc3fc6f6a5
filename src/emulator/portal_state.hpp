#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "emulator/dto.hpp"
#include "emulator/emulator.hpp"
#include "emulator/file_operations.hpp"
#include "emulator/model.hpp"
#include "emulator/webhook_book.hpp"

namespace spacehook::emulator {

/// A fresh lower-case GUID ("5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b").
std::string NewGuid();

/// Everything a REST handler reads or changes, behind one mutex: the portal, API keys, file
/// operations and the mutation counters. Events are handed to the webhook book (its own leaf lock)
/// and then to the sender; lock order is always state -> book -> sender.
class PortalState {
public:
    PortalState(const Options& options, const Clock& clock, WebhookBook& book,
                std::function<void(std::int64_t log_id)> deliver);

    std::mutex mu;
    Portal portal;
    FileOperationStore operations;
    std::map<std::string, std::string> api_keys;  ///< key -> user id
    std::map<std::string, std::int64_t> counters;
    std::string base_url;  ///< used in webUrl, links

    [[nodiscard]] const Options& options() const { return options_; }
    [[nodiscard]] TimePoint Now() const { return clock_.Now(); }
    [[nodiscard]] DtoContext Dto(const User* viewer) const { return DtoContext{portal, base_url, viewer}; }
    void Count(const std::string& name, std::int64_t n = 1) { counters[name] += n; }

    /// The user an API key belongs to, or nullptr.
    [[nodiscard]] User* UserByKey(std::string_view key);
    /// A user by id, userName, email or API key.
    [[nodiscard]] User* FindAnyUser(std::string_view text);
    /// First key of a user; empty when none.
    [[nodiscard]] std::string KeyOf(const std::string& user_id) const;

    // Publishing (docs/docspace-api.md §1.5, §1.12). `actor` becomes event.createBy.
    void FireEntry(const std::string& trigger, const Entry& entry, const std::string& actor);
    void FireUser(const std::string& trigger, const User& user, const std::string& actor);
    void FireGroup(const std::string& trigger, const Group& group, const std::string& actor);
    /// form.submit (3.7.1): the payload is {originalForm, submittedForm}; a target matches the original
    /// form, and a webhook's creator must be able to read the submitted one (docs/docspace-api.md §1.6,
    /// §1.8).
    void FireSubmittedForm(const Entry& original, const Entry& submitted, const std::string& actor);
    /// room.* events of an AI agent are agent.* ("room.updated" -> "agent.updated").
    static std::string RoomTrigger(const Entry& room, std::string_view room_trigger);

    /// Forgets portal content, keys, operations and counters (webhooks live in the book).
    void Clear();

private:
    void Fire(const std::string& trigger, const OJson& payload, const EntityId& id, const std::string& actor,
              const std::function<bool(const User&)>& readable);

    const Options& options_;
    const Clock& clock_;
    WebhookBook& book_;
    std::function<void(std::int64_t)> deliver_;
};

}  // namespace spacehook::emulator
