// What the admin's web view looks things up by: events by time and text, runs by event and time, and
// each rule's runs counted by state.

#include "store/store_test_support.hpp"

namespace spacehook::store::testing {
namespace {

std::vector<std::string> EventIds(const Result<std::vector<EventRecord>>& events) {
    std::vector<std::string> ids;
    if (events) {
        for (const auto& event : *events) ids.push_back(event.event_id);
    }
    return ids;
}

TEST_P(StoreTest, ListEventsByTimeAndByTextOfTheDelivery) {
    auto at = [](std::int64_t minute) { return FromUnixMillis(1'782'814'000'000 + minute * 60'000); };
    auto append = [&](std::string id, std::int64_t minute, std::string entity, std::string body) {
        NewDelivery d = MakeDelivery("wh", std::move(id));
        d.received_at = at(minute);
        d.entity_id = std::move(entity);
        d.body = std::move(body);
        ASSERT_TRUE(AppendAndWait(*store_, std::move(d)));
    };
    append("1", 0, "890", R"({"payload":{"title":"Invoice_2026.PDF"}})");
    append("2", 10, "891", R"({"payload":{"title":"notes 100%! done.txt"}})");
    append("3", 20, "8900", R"({"payload":{"title":"Contract.docx"}})");
    append("4", 30, "77", R"({"payload":{"title":"Счёт C:\\scans.pdf"}})");

    EventFilter window;
    window.received_since = at(10);
    window.received_until = at(20);  // excluded
    EXPECT_EQ(EventIds(store_->ListEvents(window)), std::vector<std::string>{"2"});

    EventFilter text;
    text.text = "invoice_2026";  // any case; "_" is a letter here, not LIKE's wildcard
    EXPECT_EQ(EventIds(store_->ListEvents(text)), std::vector<std::string>{"1"});
    text.text = "invoice-2026";
    EXPECT_TRUE(EventIds(store_->ListEvents(text)).empty());
    text.text = "100%";
    EXPECT_EQ(EventIds(store_->ListEvents(text)), std::vector<std::string>{"2"});
    // An entity id matches whole: 890 is not 8900 (whose body does not say 890 either).
    text.text = "890";
    EXPECT_EQ(EventIds(store_->ListEvents(text)), std::vector<std::string>{"1"});
    text.text = "%";
    EXPECT_EQ(EventIds(store_->ListEvents(text)), std::vector<std::string>{"2"});
    text.text = "%! d";
    EXPECT_EQ(EventIds(store_->ListEvents(text)), std::vector<std::string>{"2"});
    // Beyond ASCII the bytes match as written; a backslash is a character like any other.
    text.text = "Счёт";
    EXPECT_EQ(EventIds(store_->ListEvents(text)), std::vector<std::string>{"4"});
    text.text = R"(c:\\scans)";
    EXPECT_EQ(EventIds(store_->ListEvents(text)), std::vector<std::string>{"4"});
}

TEST_P(StoreTest, ListRunsOfOneEventAndByCreationTime) {
    const std::int64_t first = DispatchRuns("e1", {MakeRun("a"), MakeRun("b")});
    clock_.Advance(std::chrono::minutes(5));
    const TimePoint later = clock_.Now();
    const std::int64_t second = DispatchRuns("e2", {MakeRun("c")});

    RunFilter of_first;
    of_first.event_seq = first;
    auto runs = store_->ListRuns(of_first);
    ASSERT_TRUE(runs);
    ASSERT_EQ(runs->size(), 2u);
    EXPECT_EQ((*runs)[0].run_key, "b");
    EXPECT_EQ((*runs)[1].run_key, "a");

    RunFilter since;
    since.created_since = later;
    runs = store_->ListRuns(since);
    ASSERT_TRUE(runs);
    ASSERT_EQ(runs->size(), 1u);
    EXPECT_EQ((*runs)[0].event_seq, second);
    RunFilter until;
    until.created_until = later;
    EXPECT_EQ(store_->ListRuns(until)->size(), 2u);
}

TEST_P(StoreTest, RunsAreCountedPerRuleByState) {
    NewRun other = MakeRun("x");
    other.rule = "archive";
    DispatchRuns("e1", {MakeRun("a"), MakeRun("b"), other});
    const RunRecord claimed = MustClaimRun("worker");
    ASSERT_TRUE(store_->DeadLetterRun(claimed.id, "worker", "403 from DocSpace", clock_.Now()));

    auto counts = store_->CountRunsByRule();
    ASSERT_TRUE(counts) << counts.error().message;
    ASSERT_EQ(counts->size(), 2u);
    EXPECT_EQ((*counts)[0].rule, "archive");
    EXPECT_EQ((*counts)[1].rule, "invoice-intake");
    const RuleRunCounts& dead_rule = claimed.rule == "archive" ? (*counts)[0] : (*counts)[1];
    const RuleRunCounts& live_rule = claimed.rule == "archive" ? (*counts)[1] : (*counts)[0];
    EXPECT_EQ(dead_rule.dead, 1);
    EXPECT_EQ(dead_rule.live + live_rule.live, 2);
    EXPECT_EQ(live_rule.dead, 0);
    EXPECT_EQ(dead_rule.done + live_rule.done, 0);
    EXPECT_EQ((*counts)[0].last_run_at, clock_.Now());
}

}  // namespace
}  // namespace spacehook::store::testing
