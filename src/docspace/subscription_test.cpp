#include "docspace/subscription.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "docspace/names.hpp"

namespace spacehook::docspace {
namespace {

/// An Api whose webhook settings live in memory; every other call is a test failure.
class FakeWebhookApi final : public Api {
public:
    std::vector<WebhookConfig> configs;
    std::vector<WebhookTriggerInfo> triggers;
    std::vector<std::string> calls;
    std::optional<Error> refuse_writes;
    std::optional<WebhookSpec> last_spec;

    Result<User> GetSelf() override { return Unused(); }
    Result<User> GetUser(const std::string&) override { return Unused(); }
    Result<User> GetUserByEmail(const std::string&) override { return Unused(); }
    Result<Entry> CreateRoom(const std::string&, int, const std::vector<std::string>&) override {
        return Unused();
    }
    Result<Entry> GetRoom(const EntityId&) override { return Unused(); }
    Result<std::vector<Entry>> FindRooms(const RoomQuery&) override { return Unused(); }
    Result<Json> SetRoomAccess(const EntityId&, const std::vector<Invitation>&, bool,
                               const std::string&) override {
        return Unused();
    }
    Result<Entry> CreateFolder(const EntityId&, const std::string&) override { return Unused(); }
    Result<FolderContents> GetFolder(const EntityId&) override { return Unused(); }
    Result<std::vector<Entry>> GetFolderPath(const EntityId&) override { return Unused(); }
    Result<Entry> GetFile(const EntityId&) override { return Unused(); }
    Result<Entry> CopyFileAs(const EntityId&, const EntityId&, const std::string&) override {
        return Unused();
    }
    Result<OperationOutcome> CopyItems(const std::vector<EntityId>&, const std::vector<EntityId>&,
                                       const EntityId&, ConflictResolve) override {
        return Unused();
    }
    Result<OperationOutcome> MoveItems(const std::vector<EntityId>&, const std::vector<EntityId>&,
                                       const EntityId&, ConflictResolve) override {
        return Unused();
    }

    Result<std::vector<WebhookConfig>> ListWebhooks() override {
        calls.push_back("list");
        return configs;
    }
    Result<WebhookConfig> CreateWebhook(const WebhookSpec& spec) override {
        calls.push_back("create");
        last_spec = spec;
        if (refuse_writes) return Fail(*refuse_writes);
        WebhookConfig config = FromSpec(static_cast<std::int64_t>(configs.size()) + 1, spec);
        configs.push_back(config);
        return config;
    }
    Result<WebhookConfig> UpdateWebhook(std::int64_t id, const WebhookSpec& spec) override {
        calls.push_back("update");
        last_spec = spec;
        if (refuse_writes) return Fail(*refuse_writes);
        for (auto& config : configs) {
            if (config.id == id) return config = FromSpec(id, spec);
        }
        return Fail(ErrorCode::kNotFound, "no such webhook");
    }
    Result<WebhookConfig> EnableWebhook(std::int64_t id, const WebhookSpec& spec, bool enabled) override {
        calls.push_back("enable");
        last_spec = spec;
        if (refuse_writes) return Fail(*refuse_writes);
        for (auto& config : configs) {
            if (config.id == id) {
                config.enabled = enabled;
                return config;
            }
        }
        return Fail(ErrorCode::kNotFound, "no such webhook");
    }
    Result<WebhookConfig> DeleteWebhook(std::int64_t) override { return Unused(); }
    Result<std::vector<WebhookTriggerInfo>> ListTriggers() override {
        calls.push_back("triggers");
        if (triggers.empty()) return Fail(ErrorCode::kNotFound, "no such route");
        return triggers;
    }
    Result<WebhookLogPage> ReadWebhookLog(const WebhookLogQuery&) override { return Unused(); }

private:
    static tl::unexpected<Error> Unused() {
        return Fail(ErrorCode::kInternal, "not used by subscription sync");
    }
    static WebhookConfig FromSpec(std::int64_t id, const WebhookSpec& spec) {
        WebhookConfig config;
        config.id = id;
        config.name = spec.name;
        config.uri = spec.uri;
        config.enabled = spec.enabled;
        config.ssl = spec.ssl;
        config.triggers = spec.triggers;
        config.target_id = spec.target_id;
        return config;
    }
};

const std::int64_t kFileCreated = *TriggerBit("file.created");
const std::int64_t kFileUploaded = *TriggerBit("file.uploaded");
const std::int64_t kUserCreated = *TriggerBit("user.created");

SubscriptionRequest Request() {
    SubscriptionRequest request;
    request.url = "https://hooks.example.com/docspace/webhook";
    request.secret = "s3cret-Secret-1";
    request.triggers = kFileCreated | kFileUploaded;
    return request;
}

TEST(SyncSubscription, CreatesThenIsIdempotent) {
    FakeWebhookApi api;
    auto first = SyncSubscription(api, Request());
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->action, SubscriptionAction::kCreated);
    ASSERT_EQ(api.configs.size(), 1u);
    EXPECT_TRUE(api.configs[0].ssl);
    EXPECT_TRUE(api.configs[0].enabled);
    EXPECT_EQ(api.configs[0].triggers, kFileCreated | kFileUploaded);
    EXPECT_EQ(api.last_spec->secret, "s3cret-Secret-1");

    api.calls.clear();
    auto second = SyncSubscription(api, Request());
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->action, SubscriptionAction::kUnchanged);
    EXPECT_EQ(api.calls, (std::vector<std::string>{"triggers", "list"}));
    EXPECT_EQ(api.configs.size(), 1u);
}

TEST(SyncSubscription, SetsChangesAndRemovesTheTarget) {
    FakeWebhookApi api;
    auto request = Request();
    request.target_id = "890";
    auto created = SyncSubscription(api, request);
    ASSERT_TRUE(created) << created.error().message;
    EXPECT_EQ(api.configs[0].target_id, "890");
    const auto lines = created->Describe();
    EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& line) {
        return line.find("target: 890") != std::string::npos;
    }));
    // Unchanged while the rules name the same room.
    auto same = SyncSubscription(api, request);
    ASSERT_TRUE(same);
    EXPECT_EQ(same->action, SubscriptionAction::kUnchanged);
    // The rules no longer allow one: removed.
    request.target_id.clear();
    auto removed = SyncSubscription(api, request);
    ASSERT_TRUE(removed) << removed.error().message;
    EXPECT_EQ(removed->action, SubscriptionAction::kUpdated);
    EXPECT_EQ(removed->changes, (std::vector<std::string>{"target: 890 -> none"}));
    EXPECT_EQ(api.last_spec->target_id, "");
    EXPECT_EQ(api.configs[0].target_id, "");
}

TEST(SyncSubscription, UpdatesOnlyWhatDiffersAndSendsTheFullConfig) {
    FakeWebhookApi api;
    ASSERT_TRUE(SyncSubscription(api, Request()));
    auto request = Request();
    request.triggers = kFileCreated;
    auto report = SyncSubscription(api, request);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->action, SubscriptionAction::kUpdated);
    ASSERT_EQ(report->changes.size(), 1u);
    EXPECT_NE(report->changes[0].find("file.created, file.uploaded -> file.created"), std::string::npos);
    EXPECT_TRUE(api.last_spec->enabled);
    EXPECT_TRUE(api.last_spec->ssl);
    EXPECT_EQ(api.last_spec->secret, "s3cret-Secret-1");
    EXPECT_EQ(api.configs[0].triggers, kFileCreated);
}

TEST(SyncSubscription, DisabledIsReportedAndLeftAloneWithoutEnable) {
    FakeWebhookApi api;
    ASSERT_TRUE(SyncSubscription(api, Request()));
    api.configs[0].enabled = false;
    api.configs[0].last_failure_on = "2026-06-30T10:15:43Z";
    api.configs[0].last_failure_content = "Response status code does not indicate success: 503";
    api.calls.clear();
    auto report = SyncSubscription(api, Request());
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->action, SubscriptionAction::kLeftDisabled);
    EXPECT_FALSE(api.configs[0].enabled);
    ASSERT_FALSE(report->notes.empty());
    EXPECT_NE(report->notes[0].find("--enable"), std::string::npos);
    EXPECT_NE(report->notes[0].find("503"), std::string::npos);
    EXPECT_EQ(api.calls, (std::vector<std::string>{"triggers", "list"}));
}

TEST(SyncSubscription, EnableReEnablesADisabledSubscription) {
    FakeWebhookApi api;
    ASSERT_TRUE(SyncSubscription(api, Request()));
    api.configs[0].enabled = false;
    auto request = Request();
    request.enable = true;
    auto report = SyncSubscription(api, request);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->action, SubscriptionAction::kEnabled);
    EXPECT_TRUE(api.configs[0].enabled);
    EXPECT_EQ(api.last_spec->name, "spacehook");
    EXPECT_EQ(api.last_spec->uri, request.url);
}

TEST(SyncSubscription, DisabledWithChangesStaysDisabledUnlessEnable) {
    FakeWebhookApi api;
    ASSERT_TRUE(SyncSubscription(api, Request()));
    api.configs[0].enabled = false;
    auto request = Request();
    request.triggers = kFileCreated;
    auto report = SyncSubscription(api, request);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->action, SubscriptionAction::kUpdated);
    EXPECT_FALSE(api.last_spec->enabled);  // PUT is a full replace: enabled is sent as it was
    request.enable = true;
    request.triggers = kFileUploaded;
    report = SyncSubscription(api, request);
    ASSERT_TRUE(report);
    EXPECT_TRUE(api.last_spec->enabled);
    EXPECT_TRUE(api.configs[0].enabled);
}

TEST(SyncSubscription, DryRunChangesNothing) {
    FakeWebhookApi api;
    auto request = Request();
    request.dry_run = true;
    auto report = SyncSubscription(api, request);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->action, SubscriptionAction::kCreated);
    EXPECT_TRUE(report->dry_run);
    EXPECT_TRUE(api.configs.empty());
    EXPECT_NE(report->Describe()[0].find("would be created"), std::string::npos);
}

TEST(SyncSubscription, PlainHttpUrlMeansSslOff) {
    FakeWebhookApi api;
    auto request = Request();
    request.url = "http://hooks.example.com/docspace/webhook";
    ASSERT_TRUE(SyncSubscription(api, request));
    EXPECT_FALSE(api.configs[0].ssl);
}

TEST(SyncSubscription, TriggersNotAvailableToTheRoleAreNamed) {
    FakeWebhookApi api;
    api.triggers = {{"file.created", kFileCreated, true}, {"user.created", kUserCreated, false}};
    auto request = Request();
    request.triggers = kFileCreated | kUserCreated;
    auto report = SyncSubscription(api, request);
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error().code, ErrorCode::kForbidden);
    EXPECT_NE(report.error().message.find("user.created"), std::string::npos);
    EXPECT_EQ(report.error().message.find("file.created"), std::string::npos);
    EXPECT_TRUE(api.configs.empty());
}

TEST(SyncSubscription, TriggersMissingFromTheRolesListAreRefusedToo) {
    FakeWebhookApi api;
    api.triggers = {{"file.created", kFileCreated, true}, {"file.uploaded", kFileUploaded, true}};
    auto request = Request();
    request.triggers = kFileCreated | kUserCreated;
    auto report = SyncSubscription(api, request);
    ASSERT_FALSE(report);
    EXPECT_NE(report.error().message.find("may not subscribe to: user.created."), std::string::npos)
        << report.error().message;
}

TEST(SyncSubscription, SecretRulesAreCheckedFirst) {
    for (const std::string& secret :
         std::vector<std::string>{"short", "has a space in it", std::string(31, 'x'), ""}) {
        FakeWebhookApi api;
        auto request = Request();
        request.secret = secret;
        auto report = SyncSubscription(api, request);
        ASSERT_FALSE(report) << secret;
        EXPECT_EQ(report.error().code, ErrorCode::kConfig);
        EXPECT_TRUE(api.calls.empty());
    }
}

TEST(SyncSubscription, PortalRefusalsGetTheNextStep) {
    struct Case {
        Error error;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {{ErrorCode::kPermanent,
          "DocSpace POST /api/2.0/settings/webhook: HTTP 400: URL resolves to a blacklisted IP address", 400,
          std::nullopt},
         "webhooks:blacklist"},
        {{ErrorCode::kPermanent,
          "DocSpace POST /api/2.0/settings/webhook: HTTP 400: Webhook URL is not available. HEAD request is "
          "not response 200 http status.",
          400, std::nullopt},
         "HEAD request and needs a 2xx"},
        {{ErrorCode::kUnavailable, "DocSpace POST /api/2.0/settings/webhook: HTTP 500 Internal Server Error",
          500, std::nullopt},
         "HEAD probe cannot connect"},
        {{ErrorCode::kPermanent,
          "DocSpace POST /api/2.0/settings/webhook: HTTP 400: Trigger is not available", 400, std::nullopt},
         "admin"},
        {{ErrorCode::kForbidden, "DocSpace POST /api/2.0/settings/webhook: HTTP 403 Forbidden: Access denied",
          403, std::nullopt},
         "guests never can"},
    };
    for (const auto& c : cases) {
        FakeWebhookApi api;
        api.refuse_writes = c.error;
        auto report = SyncSubscription(api, Request());
        ASSERT_FALSE(report);
        EXPECT_NE(report.error().message.find(c.expected), std::string::npos) << report.error().message;
        EXPECT_EQ(report.error().message.rfind(c.error.message, 0), 0u) << "the portal's words come first";
    }
}

TEST(SyncSubscription, AnotherWebhookOnTheSameUrlIsNoted) {
    FakeWebhookApi api;
    WebhookConfig other;
    other.id = 9;
    other.name = "old";
    other.uri = Request().url;
    other.enabled = true;
    api.configs.push_back(other);
    auto report = SyncSubscription(api, Request());
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->action, SubscriptionAction::kCreated);
    ASSERT_EQ(report->notes.size(), 1u);
    EXPECT_NE(report->notes[0].find("'old' (id 9)"), std::string::npos);
}

}  // namespace
}  // namespace spacehook::docspace
