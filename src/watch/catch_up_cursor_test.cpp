// CatchUpCursor over a log held in memory, as the portal pages it (newest first, `total` of all rows):
// where a sweep stops, what it takes, how a sweep spread over several passes resumes when rows arrive
// meanwhile, and the position surviving a round trip through the store's text.
#include "watch/catch_up_cursor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace spacehook::watch {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kT0 = FromUnixMillis(1'780'000'000'000);

/// The portal's log of one webhook: rows appended with increasing ids, read newest first.
class Log {
public:
    /// A row published at `at`; `finished` = the sender is done with it.
    std::int64_t Add(TimePoint at, bool finished = true) {
        docspace::WebhookLogRow row;
        row.id = next_id_;
        next_id_ += 3;  // log ids are shared by every webhook of the portal: gaps are normal
        row.created_at = at;
        row.finished = finished;
        row.status = finished ? 200 : 0;
        rows_.insert(rows_.begin(), row);
        return row.id;
    }
    void Finish(std::int64_t id) {
        for (auto& row : rows_) {
            if (row.id == id) row.finished = true;
        }
    }
    docspace::WebhookLogPage Read(const docspace::WebhookLogQuery& query) const {
        docspace::WebhookLogPage page;
        page.total = static_cast<std::int64_t>(rows_.size());
        for (std::int64_t i = query.start_index;
             i < page.total && static_cast<int>(page.rows.size()) < query.count; ++i) {
            page.rows.push_back(rows_[static_cast<std::size_t>(i)]);
        }
        return page;
    }

private:
    std::vector<docspace::WebhookLogRow> rows_;  // newest first
    std::int64_t next_id_ = 1000;
};

struct Pass {
    std::vector<std::int64_t> taken;
    CatchUpPosition position;
    bool finished = false;
    int pages = 0;
};

/// One pass as CatchUp runs it, the position going through its JSON form as the store keeps it.
Pass RunPass(const Log& log, const CatchUpPosition& position, const CatchUpLimits& limits, TimePoint now) {
    auto stored = CatchUpPosition::FromJson(Json::parse(position.ToJson().dump()));
    EXPECT_TRUE(stored);
    CatchUpCursor cursor(stored.value_or(CatchUpPosition{}), limits, now);
    Pass pass;
    while (auto query = cursor.NextPage()) {
        const auto page = log.Read(*query);
        for (const auto* row : cursor.Take(page)) pass.taken.push_back(row->id);
    }
    pass.position = cursor.position();
    pass.finished = cursor.finished();
    pass.pages = cursor.pages();
    return pass;
}

CatchUpLimits Limits(int pages_per_pass = 20) {
    CatchUpLimits limits;
    limits.margin = minutes(10);
    limits.settle = minutes(2);
    limits.pages_per_pass = pages_per_pass;
    return limits;
}

TEST(CatchUpCursor, TheFirstSweepCoversTheMarginBeforeTheNewestRow) {
    Log log;
    const auto old = log.Add(kT0 - minutes(30));
    const auto recent = log.Add(kT0 - minutes(8));
    const auto newest = log.Add(kT0);
    const auto pass = RunPass(log, CatchUpPosition{}, Limits(), kT0 + minutes(3));
    EXPECT_TRUE(pass.finished);
    EXPECT_EQ(pass.taken, (std::vector<std::int64_t>{newest, recent}));
    EXPECT_EQ(std::count(pass.taken.begin(), pass.taken.end(), old), 0);
    EXPECT_EQ(pass.position.horizon, kT0);
    EXPECT_FALSE(pass.position.sweep);
}

TEST(CatchUpCursor, AnEmptyLogOnTheFirstSweepMakesEveryLaterRowNew) {
    Log log;
    const auto first = RunPass(log, CatchUpPosition{}, Limits(), kT0);
    EXPECT_TRUE(first.finished);
    EXPECT_EQ(first.pages, 1);
    ASSERT_TRUE(first.position.horizon);
    // Rows published long after (a long downtime) are all taken.
    const auto a = log.Add(kT0 + std::chrono::hours(50));
    const auto b = log.Add(kT0 + std::chrono::hours(70));
    const auto second = RunPass(log, first.position, Limits(), kT0 + std::chrono::hours(71));
    EXPECT_EQ(second.taken, (std::vector<std::int64_t>{b, a}));
    EXPECT_EQ(second.position.horizon, kT0 + std::chrono::hours(70));
}

TEST(CatchUpCursor, PagesPastAHundredRowsDownToTheHorizon) {
    Log log;
    const auto long_before = log.Add(kT0 - minutes(60));
    const auto before = log.Add(kT0 - minutes(30));
    const auto start = RunPass(log, CatchUpPosition{}, Limits(), kT0 - minutes(29));
    EXPECT_EQ(start.taken, (std::vector<std::int64_t>{before}));
    std::set<std::int64_t> published;
    for (int i = 0; i < 250; ++i) published.insert(log.Add(kT0 + seconds(i)));
    const auto pass = RunPass(log, start.position, Limits(), kT0 + minutes(10));
    EXPECT_TRUE(pass.finished);
    EXPECT_EQ(pass.pages, 3);  // 100 + 100 + 52 rows: the one older than horizon - margin ends it
    // The horizon's own row is within the margin and offered again (the journal has it and skips it).
    std::set<std::int64_t> expected = published;
    expected.insert(before);
    EXPECT_EQ(std::set<std::int64_t>(pass.taken.begin(), pass.taken.end()), expected);
    EXPECT_EQ(pass.taken.size(), expected.size());
    EXPECT_EQ(std::count(pass.taken.begin(), pass.taken.end(), long_before), 0);
    EXPECT_TRUE(std::is_sorted(pass.taken.rbegin(), pass.taken.rend()));  // the log's order: newest first
    EXPECT_EQ(pass.position.horizon, kT0 + seconds(249));
}

TEST(CatchUpCursor, ASweepLongerThanAPassResumesWhereItStoppedWhileRowsArrive) {
    Log log;
    auto limits = Limits(2);
    limits.margin = minutes(1);
    const auto start = RunPass(log, CatchUpPosition{}, limits, kT0);
    std::set<std::int64_t> missed;
    for (int i = 0; i < 450; ++i) missed.insert(log.Add(kT0 + seconds(2 * i)));

    std::multiset<std::int64_t> taken;
    auto pass = RunPass(log, start.position, limits, kT0 + minutes(20));
    EXPECT_FALSE(pass.finished);
    ASSERT_TRUE(pass.position.sweep);
    EXPECT_EQ(pass.taken.size(), 200U);
    taken.insert(pass.taken.begin(), pass.taken.end());

    // Between passes the portal publishes more: the place of the sweep moves down by as many rows.
    std::set<std::int64_t> during;
    for (int i = 0; i < 37; ++i) during.insert(log.Add(kT0 + minutes(30) + seconds(i)));
    int passes = 1;
    while (!pass.finished && passes < 20) {
        pass = RunPass(log, pass.position, limits, kT0 + minutes(31));
        taken.insert(pass.taken.begin(), pass.taken.end());
        ++passes;
    }
    ASSERT_TRUE(pass.finished);
    // Every missed row exactly once; the rows that arrived meanwhile wait for the next sweep.
    EXPECT_EQ(std::set<std::int64_t>(taken.begin(), taken.end()), missed);
    EXPECT_EQ(taken.size(), missed.size());
    EXPECT_EQ(pass.position.horizon, kT0 + seconds(898));
    // The next sweep: the 37 new rows, and the missed rows within a minute of the horizon again.
    pass = RunPass(log, pass.position, limits, kT0 + minutes(32));
    EXPECT_TRUE(pass.finished);
    std::set<std::int64_t> expected = during;
    for (int i = 419; i < 450; ++i) expected.insert(*std::next(missed.begin(), i));
    EXPECT_EQ(std::set<std::int64_t>(pass.taken.begin(), pass.taken.end()), expected);
    EXPECT_EQ(pass.taken.size(), expected.size());
}

TEST(CatchUpCursor, RowsTheSenderHasNotFinishedWaitAndHoldTheHorizonBack) {
    Log log;
    const auto start = RunPass(log, CatchUpPosition{}, Limits(), kT0);
    const auto sent = log.Add(kT0 + seconds(1));
    const auto sending = log.Add(kT0 + minutes(19) + seconds(50), /*finished=*/false);
    const auto later = log.Add(kT0 + minutes(20));
    // 40 s after `sending` was published: the live delivery may still come.
    auto pass = RunPass(log, start.position, Limits(), kT0 + minutes(20) + seconds(30));
    EXPECT_EQ(pass.taken, (std::vector<std::int64_t>{later, sent}));
    EXPECT_EQ(pass.position.horizon, kT0 + minutes(19) + seconds(50));
    // The next pass reaches back to it; once finished it is taken.
    log.Finish(sending);
    pass = RunPass(log, pass.position, Limits(), kT0 + minutes(21));
    EXPECT_EQ(std::count(pass.taken.begin(), pass.taken.end(), sending), 1);
    EXPECT_EQ(std::count(pass.taken.begin(), pass.taken.end(), sent), 0);
    EXPECT_EQ(pass.position.horizon, kT0 + minutes(20));

    // A row the sender never takes (its URL check failed at send time) is taken after `settle`.
    const auto stuck = log.Add(kT0 + minutes(22), /*finished=*/false);
    pass = RunPass(log, pass.position, Limits(), kT0 + minutes(23));
    EXPECT_EQ(std::count(pass.taken.begin(), pass.taken.end(), stuck), 0);
    pass = RunPass(log, pass.position, Limits(), kT0 + minutes(25));
    EXPECT_EQ(std::count(pass.taken.begin(), pass.taken.end(), stuck), 1);
}

TEST(CatchUpCursor, EachPassRereadsOnlyTheMargin) {
    Log log;
    auto pass = RunPass(log, CatchUpPosition{}, Limits(), kT0);
    for (int i = 0; i < 300; ++i) log.Add(kT0 + seconds(i));  // five minutes of rows
    pass = RunPass(log, pass.position, Limits(), kT0 + minutes(6));
    EXPECT_EQ(pass.taken.size(), 300U);
    // An hour later, 50 new rows: the sweep reads down to 10 minutes below the last horizon, which holds
    // every row of the earlier five minutes (taken again: the journal then finds them and skips them).
    for (int i = 0; i < 50; ++i) log.Add(kT0 + std::chrono::hours(1) + seconds(i));
    pass = RunPass(log, pass.position, Limits(), kT0 + std::chrono::hours(2));
    EXPECT_TRUE(pass.finished);
    EXPECT_EQ(pass.pages, 4);
    EXPECT_EQ(pass.taken.size(), 350U);
    // Two hours later 5 more: offered with the 50 within the margin, and the first row older than
    // horizon - margin ends the sweep on its first page.
    for (int i = 0; i < 5; ++i) log.Add(kT0 + std::chrono::hours(3) + seconds(i));
    pass = RunPass(log, pass.position, Limits(), kT0 + std::chrono::hours(4));
    EXPECT_EQ(pass.taken.size(), 55U);
    EXPECT_EQ(pass.pages, 1);
    EXPECT_TRUE(pass.finished);
}

TEST(CatchUpCursor, ThePositionSurvivesTheStoresTextAndForeignTextStartsAfresh) {
    CatchUpPosition position;
    position.horizon = kT0;
    position.sweep = CatchUpPosition::Sweep{200, 450, 1234, kT0 + seconds(5), kT0 + seconds(1)};
    EXPECT_EQ(CatchUpPosition::FromJson(Json::parse(position.ToJson().dump())), position);
    CatchUpPosition fresh;
    EXPECT_EQ(CatchUpPosition::FromJson(fresh.ToJson()), fresh);
    EXPECT_FALSE(CatchUpPosition::FromJson(Json("garbage")));
    EXPECT_FALSE(CatchUpPosition::FromJson(Json::object()));
    // A position that did not change (no page read) is handed back as it was.
    CatchUpCursor idle(position, Limits(0), kT0);
    EXPECT_FALSE(idle.NextPage());
    EXPECT_EQ(idle.position(), position);
}

}  // namespace
}  // namespace spacehook::watch
