// CatchUpWebhook over log rows the emulator does not produce on demand, from a scripted log: a row the
// sender never took (no event.id in its body), a manual retry's row before it was sent (the old row's
// body), a body that is no delivery; the journal's order; and a store that fails, which stores no position.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "watch/catch_up.hpp"

namespace spacehook::watch {
namespace {

using std::chrono::minutes;

tl::unexpected<Error> NotHere() {
    return Fail(ErrorCode::kInternal, "not used by catch-up");
}

/// A portal whose only call is the webhook log, served from `rows` (newest first).
class ScriptedLog final : public docspace::Api {
public:
    std::vector<docspace::WebhookLogRow> rows;
    int reads = 0;

    Result<docspace::WebhookLogPage> ReadWebhookLog(const docspace::WebhookLogQuery& query) override {
        ++reads;
        docspace::WebhookLogPage page;
        page.total = static_cast<std::int64_t>(rows.size());
        for (auto i = query.start_index; i < page.total && static_cast<int>(page.rows.size()) < query.count;
             ++i)
            page.rows.push_back(rows[static_cast<std::size_t>(i)]);
        return page;
    }
    Result<docspace::User> GetSelf() override { return NotHere(); }
    Result<docspace::User> GetUser(const std::string&) override { return NotHere(); }
    Result<docspace::User> GetUserByEmail(const std::string&) override { return NotHere(); }
    Result<docspace::Entry> CreateRoom(const std::string&, int, const std::vector<std::string>&) override {
        return NotHere();
    }
    Result<docspace::Entry> GetRoom(const EntityId&) override { return NotHere(); }
    Result<std::vector<docspace::Entry>> FindRooms(const docspace::RoomQuery&) override { return NotHere(); }
    Result<Json> SetRoomAccess(const EntityId&, const std::vector<docspace::Invitation>&, bool,
                               const std::string&) override {
        return NotHere();
    }
    Result<docspace::Entry> CreateFolder(const EntityId&, const std::string&) override { return NotHere(); }
    Result<docspace::FolderContents> GetFolder(const EntityId&) override { return NotHere(); }
    Result<std::vector<docspace::Entry>> GetFolderPath(const EntityId&) override { return NotHere(); }
    Result<docspace::Entry> GetFile(const EntityId&) override { return NotHere(); }
    Result<docspace::Entry> CopyFileAs(const EntityId&, const EntityId&, const std::string&) override {
        return NotHere();
    }
    Result<docspace::OperationOutcome> CopyItems(const std::vector<EntityId>&, const std::vector<EntityId>&,
                                                 const EntityId&, docspace::ConflictResolve) override {
        return NotHere();
    }
    Result<docspace::OperationOutcome> MoveItems(const std::vector<EntityId>&, const std::vector<EntityId>&,
                                                 const EntityId&, docspace::ConflictResolve) override {
        return NotHere();
    }
    Result<std::vector<docspace::WebhookConfig>> ListWebhooks() override { return NotHere(); }
    Result<docspace::WebhookConfig> CreateWebhook(const docspace::WebhookSpec&) override { return NotHere(); }
    Result<docspace::WebhookConfig> UpdateWebhook(std::int64_t, const docspace::WebhookSpec&) override {
        return NotHere();
    }
    Result<docspace::WebhookConfig> EnableWebhook(std::int64_t, const docspace::WebhookSpec&, bool) override {
        return NotHere();
    }
    Result<docspace::WebhookConfig> DeleteWebhook(std::int64_t) override { return NotHere(); }
    Result<std::vector<docspace::WebhookTriggerInfo>> ListTriggers() override { return NotHere(); }
};

/// A journal that refuses every append, standing for a full disk.
class RefusingJournal final : public store::Journal {
public:
    void Append(store::NewDelivery, store::AppendCallback done) override {
        done(Fail(ErrorCode::kUnavailable, "disk full"));
    }
};

const TimePoint kT0 = FromUnixMillis(1'780'000'000'000);

std::string Body(std::optional<std::int64_t> event_id, const std::string& title) {
    Json event = {{"createOn", "2026-06-30T10:15:42Z"}, {"trigger", "folder.created"}, {"triggerId", 32768}};
    if (event_id) event["id"] = *event_id;
    return Json{{"event", event},
                {"payload", {{"id", 600}, {"title", title}, {"fileEntryType", 1}}},
                {"webhook", {{"id", 7}, {"name", "spacehook"}}}}
        .dump();
}

docspace::WebhookLogRow Row(std::int64_t id, std::string body, bool finished, TimePoint at) {
    docspace::WebhookLogRow row;
    row.id = id;
    row.created_at = at;
    row.request_payload = std::move(body);
    row.finished = finished;
    return row;
}

class CatchUpRowsTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/spacehook-catchup-rows-XXXXXX";
        ASSERT_NE(mkdtemp(pattern), nullptr);
        dir_ = pattern;
        auto opened = store::OpenStore("sqlite:" + dir_ + "/store.db", store::StoreOptions{}, clock_);
        ASSERT_TRUE(opened) << opened.error().message;
        store_ = std::move(*opened);
        // Where the first pass left off: the log was empty.
        ASSERT_TRUE(store_->PutValue(CatchUpPositionName(7),
                                     CatchUpPosition{TimePoint{}, std::nullopt}.ToJson().dump()));
    }
    void TearDown() override {
        store_->Close();
        std::filesystem::remove_all(dir_);
    }
    CatchUpResult Pass(store::Journal& journal) {
        return CatchUpWebhook(log_, journal, *store_, *store_, 7, CatchUpLimits{}, clock_);
    }
    std::vector<store::EventRecord> Events() {
        auto events = store_->ListEvents({});
        EXPECT_TRUE(events);
        return events ? *events : std::vector<store::EventRecord>{};
    }

    ManualClock clock_{kT0 + minutes(30)};
    ScriptedLog log_;
    std::string dir_;
    std::unique_ptr<store::Store> store_;
};

TEST_F(CatchUpRowsTest, EachRowIsJournaledUnderItsOwnIdOldestFirst) {
    // Newest first, as the portal answers: a manual retry's row not sent yet holds the body of row 101;
    // row 102 was never taken by the sender (unfinished for over `settle`), its body has no event.id;
    // row 101 was given up on; row 100 is not a delivery at all.
    log_.rows = {Row(103, Body(101, "Retried"), false, kT0 + minutes(20)),
                 Row(102, Body(std::nullopt, "Never sent"), false, kT0 + minutes(10)),
                 Row(101, Body(101, "Given up"), true, kT0 + minutes(5)),
                 Row(100, R"({"response":{"id":1},"status":0})", true, kT0)};
    const auto pass = Pass(*store_);
    ASSERT_FALSE(pass.error) << pass.error->message;
    EXPECT_EQ(pass.recovered, 3);
    EXPECT_EQ(pass.unreadable, 1);
    EXPECT_EQ(pass.oldest_recovered, kT0 + minutes(5));
    const auto events = Events();  // newest seq first
    ASSERT_EQ(events.size(), 3U);
    EXPECT_EQ(events[2].event_id, "101");  // journaled first: the oldest
    EXPECT_EQ(events[1].event_id, "102");
    EXPECT_EQ(events[0].event_id, "103");
    EXPECT_EQ(Json::parse(events[1].body)["event"]["id"], 102);
    EXPECT_EQ(Json::parse(events[0].body)["event"]["id"], 103);
    EXPECT_EQ(Json::parse(events[0].body)["payload"]["title"], "Retried");
    EXPECT_EQ(events[2].body, log_.rows[2].request_payload);  // as the portal holds it
    for (const auto& event : events) {
        EXPECT_TRUE(event.recovered);
        EXPECT_EQ(event.webhook_id, "7");
    }
}

TEST_F(CatchUpRowsTest, AStoreThatFailsStoresNoPositionAndTheNextPassReadsAgain) {
    log_.rows = {Row(201, Body(201, "B"), true, kT0 + minutes(2)), Row(200, Body(200, "A"), true, kT0)};
    const auto before = store_->GetValue(CatchUpPositionName(7)).value();
    RefusingJournal full;
    const auto failed = Pass(full);
    ASSERT_TRUE(failed.error);
    EXPECT_EQ(failed.error->code, ErrorCode::kUnavailable);
    EXPECT_EQ(failed.recovered, 0);
    EXPECT_EQ(store_->GetValue(CatchUpPositionName(7)).value(), before);
    const auto next = Pass(*store_);
    ASSERT_FALSE(next.error) << next.error->message;
    EXPECT_EQ(next.recovered, 2);
    EXPECT_NE(store_->GetValue(CatchUpPositionName(7)).value(), before);
}

}  // namespace
}  // namespace spacehook::watch
