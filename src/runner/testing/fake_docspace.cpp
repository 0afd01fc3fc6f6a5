#include "runner/testing/fake_docspace.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

namespace spacehook::runner::testing {

namespace {

Error NotFound(std::string_view what, const EntityId& id) {
    return Error{ErrorCode::kNotFound,
                 fmt::format("DocSpace {} {}: 404 The required item was not found", what, id.str()), 404,
                 std::nullopt};
}

std::string NumberedTitle(const std::string& title, int n) {
    const auto dot = title.rfind('.');
    if (dot == std::string::npos) return fmt::format("{} ({})", title, n);
    return fmt::format("{} ({}){}", title.substr(0, dot), n, title.substr(dot));
}

}  // namespace

FakeDocSpace::FakeDocSpace() {
    Node root;
    root.id = EntityId::Number(kRoomsRoot);
    root.title = "Rooms";
    root.folder_type = 14;
    nodes_.emplace(root.id.str(), root);
    order_.push_back(root.id.str());
    AddUser(kSelfId, "Spacehook Service", "spacehook@example.com");
}

// --- the portal -----------------------------------------------------------------------------------------

EntityId FakeDocSpace::AddLocked(Node node) {
    node.id = EntityId::Number(next_id_++);
    order_.push_back(node.id.str());
    EntityId id = node.id;
    nodes_.emplace(id.str(), std::move(node));
    return id;
}

EntityId FakeDocSpace::AddRoom(const std::string& title, int room_type, std::vector<std::string> tags) {
    std::lock_guard lock(mu_);
    Node node;
    node.title = title;
    node.parent = EntityId::Number(kRoomsRoot);
    node.room_type = room_type;
    node.tags = std::move(tags);
    return AddLocked(std::move(node));
}

EntityId FakeDocSpace::AddFolder(const EntityId& parent, const std::string& title) {
    std::lock_guard lock(mu_);
    Node node;
    node.title = title;
    node.parent = parent;
    return AddLocked(std::move(node));
}

EntityId FakeDocSpace::AddFile(const EntityId& parent, const std::string& title) {
    std::lock_guard lock(mu_);
    Node node;
    node.title = title;
    node.parent = parent;
    node.folder = false;
    return AddLocked(std::move(node));
}

void FakeDocSpace::AddUser(const std::string& id, const std::string& display_name, const std::string& email) {
    std::lock_guard lock(mu_);
    docspace::User user;
    user.id = id;
    user.display_name = display_name;
    user.email = email;
    user.raw = Json{{"id", id}, {"displayName", display_name}, {"email", email}};
    users_[id] = std::move(user);
}

void FakeDocSpace::Remove(const EntityId& id) {
    std::lock_guard lock(mu_);
    if (Node* node = FindLocked(id)) node->removed = true;
}

void FakeDocSpace::SetDelay(const std::string& call, std::chrono::milliseconds delay) {
    std::lock_guard lock(mu_);
    delays_[call] = delay;
}

void FakeDocSpace::Pause(const std::string& call) const {
    std::chrono::milliseconds delay{0};
    {
        std::lock_guard lock(mu_);
        if (auto it = delays_.find(call); it != delays_.end()) delay = it->second;
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
}

void FakeDocSpace::FailNext(const std::string& call, Error error, int times, bool after_effect) {
    std::lock_guard lock(mu_);
    for (int i = 0; i < times; ++i) faults_[call].push_back(Fault{error, after_effect});
}

// --- inspection -----------------------------------------------------------------------------------------

int FakeDocSpace::Calls(std::string_view call) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find(call);
    return it == calls_.end() ? 0 : it->second;
}

int FakeDocSpace::TotalCalls() const {
    std::lock_guard lock(mu_);
    int total = 0;
    for (const auto& [name, count] : calls_) total += count;
    return total;
}

int FakeDocSpace::Effects(std::string_view name) const {
    std::lock_guard lock(mu_);
    auto it = effects_.find(name);
    return it == effects_.end() ? 0 : it->second;
}

std::vector<const FakeDocSpace::Node*> FakeDocSpace::ChildrenLocked(const EntityId& parent,
                                                                    bool folders) const {
    std::vector<const Node*> out;
    for (const auto& id : order_) {
        const Node& node = nodes_.at(id);
        if (!node.removed && node.parent == parent && node.folder == folders) out.push_back(&node);
    }
    return out;
}

std::vector<std::string> FakeDocSpace::FolderTitles(const EntityId& parent) const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const Node* node : ChildrenLocked(parent, true)) out.push_back(node->title);
    return out;
}

std::vector<std::string> FakeDocSpace::FileTitles(const EntityId& parent) const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const Node* node : ChildrenLocked(parent, false)) out.push_back(node->title);
    return out;
}

std::vector<EntityId> FakeDocSpace::RoomsTagged(const std::string& tag) const {
    std::lock_guard lock(mu_);
    std::vector<EntityId> out;
    for (const auto& id : order_) {
        const Node& node = nodes_.at(id);
        if (node.room_type && std::find(node.tags.begin(), node.tags.end(), tag) != node.tags.end()) {
            out.push_back(node.id);
        }
    }
    return out;
}

std::optional<EntityId> FakeDocSpace::ParentOf(const EntityId& id) const {
    std::lock_guard lock(mu_);
    const Node* node = FindLocked(id);
    if (node == nullptr) return std::nullopt;
    return node->parent;
}

std::vector<std::vector<docspace::Invitation>> FakeDocSpace::Shares() const {
    std::lock_guard lock(mu_);
    return shares_;
}

// --- internals ------------------------------------------------------------------------------------------

std::optional<FakeDocSpace::Fault> FakeDocSpace::Enter(const std::string& call) {
    ++calls_[call];
    auto it = faults_.find(call);
    if (it == faults_.end() || it->second.empty()) return std::nullopt;
    Fault fault = it->second.front();
    it->second.pop_front();
    return fault;
}

FakeDocSpace::Node* FakeDocSpace::FindLocked(const EntityId& id) {
    auto it = nodes_.find(id.str());
    return it == nodes_.end() ? nullptr : &it->second;
}

const FakeDocSpace::Node* FakeDocSpace::FindLocked(const EntityId& id) const {
    auto it = nodes_.find(id.str());
    return it == nodes_.end() ? nullptr : &it->second;
}

Result<FakeDocSpace::Node*> FakeDocSpace::Existing(const EntityId& id, bool want_folder,
                                                   std::string_view what) {
    Node* node = FindLocked(id);
    if (node == nullptr || node->removed || node->folder != want_folder) return Fail(NotFound(what, id));
    return node;
}

docspace::Entry FakeDocSpace::EntryOf(const Node& node) const {
    docspace::Entry entry;
    entry.id = node.id;
    entry.title = node.title;
    entry.parent_id = node.parent;
    entry.entry_type = node.folder ? 1 : 2;
    entry.room_type = node.room_type;
    entry.folder_type = node.folder_type;
    entry.tags = node.tags;
    Json raw = {{"id", node.id.ToJson()}, {"title", node.title}, {"fileEntryType", entry.entry_type}};
    if (node.folder) {
        if (!node.parent.empty()) raw["parentId"] = node.parent.ToJson();
        if (node.room_type) raw["roomType"] = *node.room_type;
        if (!node.tags.empty()) raw["tags"] = node.tags;
        entry.web_url =
            fmt::format("{}/rooms/shared/{}/filter?folder={}", kBaseUrl, node.id.str(), node.id.str());
    } else {
        raw["folderId"] = node.parent.ToJson();
        raw["version"] = 1;
        const auto dot = node.title.rfind('.');
        entry.file_exst = dot == std::string::npos ? "" : node.title.substr(dot);
        raw["fileExst"] = entry.file_exst;
        entry.web_url = fmt::format("{}/doceditor?fileid={}&version=1", kBaseUrl, node.id.str());
        raw["webUrl"] = entry.web_url;
        entry.version = 1;
    }
    entry.raw = std::move(raw);
    return entry;
}

// --- docspace::Api --------------------------------------------------------------------------------------

Result<docspace::User> FakeDocSpace::GetSelf() {
    Pause("GetSelf");
    std::lock_guard lock(mu_);
    if (auto fault = Enter("GetSelf")) return Fail(fault->error);
    return users_.at(kSelfId);
}

Result<docspace::User> FakeDocSpace::GetUser(const std::string& id) {
    Pause("GetUser");
    std::lock_guard lock(mu_);
    if (auto fault = Enter("GetUser")) return Fail(fault->error);
    auto it = users_.find(id);
    if (it == users_.end()) {
        return Fail(Error{
            ErrorCode::kNotFound, "DocSpace GET /api/2.0/people/" + id + ": 404 User not found", 404, {}});
    }
    return it->second;
}

Result<docspace::User> FakeDocSpace::GetUserByEmail(const std::string& email) {
    Pause("GetUserByEmail");
    std::lock_guard lock(mu_);
    if (auto fault = Enter("GetUserByEmail")) return Fail(fault->error);
    for (const auto& [id, user] : users_) {
        if (user.email == email) return user;
    }
    return Fail(
        Error{ErrorCode::kNotFound, "DocSpace GET /api/2.0/people/email: 404 User not found", 404, {}});
}

Result<docspace::Entry> FakeDocSpace::CreateRoom(const std::string& title, int room_type,
                                                 const std::vector<std::string>& tags) {
    Pause("CreateRoom");
    std::lock_guard lock(mu_);
    auto fault = Enter("CreateRoom");
    if (fault && !fault->after_effect) return Fail(fault->error);
    Node node;
    node.title = title;
    node.parent = EntityId::Number(kRoomsRoot);
    node.room_type = room_type;
    node.tags = tags;
    const EntityId id = AddLocked(std::move(node));
    ++effects_["rooms_created"];
    if (fault) return Fail(fault->error);
    return EntryOf(*FindLocked(id));
}

Result<docspace::Entry> FakeDocSpace::GetRoom(const EntityId& room_id) {
    Pause("GetRoom");
    std::lock_guard lock(mu_);
    if (auto fault = Enter("GetRoom")) return Fail(fault->error);
    auto node = Existing(room_id, true, "GET /api/2.0/files/rooms/");
    if (!node) return Fail(node.error());
    if (!(*node)->room_type) return Fail(NotFound("GET /api/2.0/files/rooms/", room_id));
    return EntryOf(**node);
}

Result<std::vector<docspace::Entry>> FakeDocSpace::FindRooms(const docspace::RoomQuery& query) {
    Pause("FindRooms");
    std::lock_guard lock(mu_);
    if (auto fault = Enter("FindRooms")) return Fail(fault->error);
    std::vector<docspace::Entry> out;
    for (const auto& id : order_) {
        const Node& node = nodes_.at(id);
        if (node.removed || !node.room_type) continue;
        const bool tagged = std::all_of(query.tags.begin(), query.tags.end(), [&](const std::string& tag) {
            return std::find(node.tags.begin(), node.tags.end(), tag) != node.tags.end();
        });
        if (!tagged) continue;
        if (!query.title_contains.empty() && node.title.find(query.title_contains) == std::string::npos)
            continue;
        out.push_back(EntryOf(node));
    }
    return out;
}

Result<Json> FakeDocSpace::SetRoomAccess(const EntityId& room_id,
                                         const std::vector<docspace::Invitation>& invitations, bool,
                                         const std::string&) {
    Pause("SetRoomAccess");
    std::lock_guard lock(mu_);
    auto fault = Enter("SetRoomAccess");
    if (fault && !fault->after_effect) return Fail(fault->error);
    auto node = Existing(room_id, true, "PUT /api/2.0/files/rooms/");
    if (!node) return Fail(node.error());
    shares_.push_back(invitations);
    ++effects_["shares"];
    if (fault) return Fail(fault->error);
    Json members = Json::array();
    for (const auto& invitation : invitations) {
        members.push_back(
            {{"access", invitation.access},
             {"sharedToUser", {{"id", invitation.id.empty() ? invitation.email : invitation.id}}}});
    }
    return members;
}

Result<docspace::Entry> FakeDocSpace::CreateFolder(const EntityId& parent_id, const std::string& title) {
    Pause("CreateFolder");
    std::lock_guard lock(mu_);
    auto fault = Enter("CreateFolder");
    if (fault && !fault->after_effect) return Fail(fault->error);
    auto parent = Existing(parent_id, true, "POST /api/2.0/files/folder/");
    if (!parent) return Fail(parent.error());
    Node node;
    node.title = title;
    node.parent = parent_id;
    const EntityId id = AddLocked(std::move(node));
    ++effects_["folders_created"];
    if (fault) return Fail(fault->error);
    return EntryOf(*FindLocked(id));
}

Result<docspace::FolderContents> FakeDocSpace::GetFolder(const EntityId& folder_id) {
    Pause("GetFolder");
    std::lock_guard lock(mu_);
    if (auto fault = Enter("GetFolder")) return Fail(fault->error);
    auto folder = Existing(folder_id, true, "GET /api/2.0/files/");
    if (!folder) return Fail(folder.error());
    docspace::FolderContents contents;
    contents.current = EntryOf(**folder);
    for (const Node* node : ChildrenLocked(folder_id, true)) contents.folders.push_back(EntryOf(*node));
    for (const Node* node : ChildrenLocked(folder_id, false)) contents.files.push_back(EntryOf(*node));
    contents.total = static_cast<int>(contents.folders.size() + contents.files.size());
    return contents;
}

Result<std::vector<docspace::Entry>> FakeDocSpace::GetFolderPath(const EntityId& folder_id) {
    Pause("GetFolderPath");
    std::lock_guard lock(mu_);
    if (auto fault = Enter("GetFolderPath")) return Fail(fault->error);
    auto folder = Existing(folder_id, true, "GET /api/2.0/files/folder/");
    if (!folder) return Fail(folder.error());
    std::vector<docspace::Entry> path;
    for (const Node* node = *folder; node != nullptr;
         node = node->parent.empty() ? nullptr : FindLocked(node->parent)) {
        path.push_back(EntryOf(*node));
    }
    std::reverse(path.begin(), path.end());
    return path;
}

Result<docspace::Entry> FakeDocSpace::GetFile(const EntityId& file_id) {
    Pause("GetFile");
    std::lock_guard lock(mu_);
    if (auto fault = Enter("GetFile")) return Fail(fault->error);
    auto file = Existing(file_id, false, "GET /api/2.0/files/file/");
    if (!file) return Fail(file.error());
    return EntryOf(**file);
}

Result<docspace::Entry> FakeDocSpace::CopyFileAs(const EntityId& file_id, const EntityId& dest_folder_id,
                                                 const std::string& dest_title) {
    Pause("CopyFileAs");
    std::lock_guard lock(mu_);
    auto fault = Enter("CopyFileAs");
    if (fault && !fault->after_effect) return Fail(fault->error);
    auto file = Existing(file_id, false, "POST /api/2.0/files/file/");
    if (!file) return Fail(file.error());
    auto dest = Existing(dest_folder_id, true, "POST /api/2.0/files/file/copyas to");
    if (!dest) return Fail(dest.error());
    Node copy;
    copy.title = dest_title;
    copy.parent = dest_folder_id;
    copy.folder = false;
    const EntityId id = AddLocked(std::move(copy));
    ++effects_["copyas"];
    if (fault) return Fail(fault->error);
    return EntryOf(*FindLocked(id));
}

Result<docspace::OperationOutcome> FakeDocSpace::CopyItems(const std::vector<EntityId>& file_ids,
                                                           const std::vector<EntityId>& folder_ids,
                                                           const EntityId& dest_folder_id,
                                                           docspace::ConflictResolve conflict) {
    Pause("CopyItems");
    std::lock_guard lock(mu_);
    auto fault = Enter("CopyItems");
    if (fault && !fault->after_effect) return Fail(fault->error);
    auto dest = Existing(dest_folder_id, true, "PUT /api/2.0/files/fileops/copy to");
    if (!dest) return Fail(dest.error());
    docspace::OperationOutcome outcome;
    outcome.operation_id = fmt::format("op-{}", next_id_);
    auto copy_one = [&](const EntityId& id, bool folder) -> Status {
        auto source = Existing(id, folder, "PUT /api/2.0/files/fileops/copy");
        if (!source) return Fail(source.error());
        std::string title = (*source)->title;
        std::vector<std::string> taken;
        for (const Node* node : ChildrenLocked(dest_folder_id, folder)) taken.push_back(node->title);
        if (std::find(taken.begin(), taken.end(), title) != taken.end()) {
            if (conflict == docspace::ConflictResolve::kSkip) return Ok();
            for (int n = 1; conflict == docspace::ConflictResolve::kDuplicate; ++n) {
                if (std::find(taken.begin(), taken.end(), NumberedTitle(title, n)) == taken.end()) {
                    title = NumberedTitle(title, n);
                    break;
                }
            }
        }
        Node copy;
        copy.title = title;
        copy.parent = dest_folder_id;
        copy.folder = folder;
        const EntityId new_id = AddLocked(std::move(copy));
        ++effects_["copied"];
        (folder ? outcome.folders : outcome.files).push_back(EntryOf(*FindLocked(new_id)));
        return Ok();
    };
    for (const auto& id : file_ids) {
        if (auto st = copy_one(id, false); !st) return Fail(st.error());
    }
    for (const auto& id : folder_ids) {
        if (auto st = copy_one(id, true); !st) return Fail(st.error());
    }
    if (fault) return Fail(fault->error);
    return outcome;
}

Result<docspace::OperationOutcome> FakeDocSpace::MoveItems(const std::vector<EntityId>& file_ids,
                                                           const std::vector<EntityId>& folder_ids,
                                                           const EntityId& dest_folder_id,
                                                           docspace::ConflictResolve) {
    Pause("MoveItems");
    std::lock_guard lock(mu_);
    auto fault = Enter("MoveItems");
    if (fault && !fault->after_effect) return Fail(fault->error);
    auto dest = Existing(dest_folder_id, true, "PUT /api/2.0/files/fileops/move to");
    if (!dest) return Fail(dest.error());
    docspace::OperationOutcome outcome;
    outcome.operation_id = fmt::format("op-{}", next_id_);
    for (const auto& [ids, folder] : {std::pair{&file_ids, false}, std::pair{&folder_ids, true}}) {
        for (const auto& id : *ids) {
            auto node = Existing(id, folder, "PUT /api/2.0/files/fileops/move");
            if (!node) return Fail(node.error());
            (*node)->parent = dest_folder_id;
            ++effects_["moved"];
            (folder ? outcome.folders : outcome.files).push_back(EntryOf(**node));
        }
    }
    if (fault) return Fail(fault->error);
    return outcome;
}

namespace {
Error NotInFake(std::string_view call) {
    return Error{ErrorCode::kPermanent, fmt::format("FakeDocSpace: {} is not part of the fake", call), 0, {}};
}
}  // namespace

Result<std::vector<docspace::WebhookConfig>> FakeDocSpace::ListWebhooks() {
    return Fail(NotInFake("ListWebhooks"));
}
Result<docspace::WebhookConfig> FakeDocSpace::CreateWebhook(const docspace::WebhookSpec&) {
    return Fail(NotInFake("CreateWebhook"));
}
Result<docspace::WebhookConfig> FakeDocSpace::UpdateWebhook(std::int64_t, const docspace::WebhookSpec&) {
    return Fail(NotInFake("UpdateWebhook"));
}
Result<docspace::WebhookConfig> FakeDocSpace::EnableWebhook(std::int64_t, const docspace::WebhookSpec&,
                                                            bool) {
    return Fail(NotInFake("EnableWebhook"));
}
Result<docspace::WebhookConfig> FakeDocSpace::DeleteWebhook(std::int64_t) {
    return Fail(NotInFake("DeleteWebhook"));
}
Result<std::vector<docspace::WebhookTriggerInfo>> FakeDocSpace::ListTriggers() {
    return Fail(NotInFake("ListTriggers"));
}

Result<docspace::WebhookLogPage> FakeDocSpace::ReadWebhookLog(const docspace::WebhookLogQuery&) {
    return Fail(NotInFake("ReadWebhookLog"));
}

}  // namespace spacehook::runner::testing
