#include "docspace/file_operation.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "docspace/dto.hpp"

namespace spacehook::docspace {
namespace {

using std::chrono::milliseconds;

TEST(FileOperation, ParsesTheCapitalOperationKeyAndStringProcessed) {
    const auto op = ParseFileOperation(Json::parse(R"({"id":"c4a1","Operation":1,"progress":100,"error":"",
        "processed":"1","finished":true,"files":[{"id":1235,"title":"Copy.docx","folderId":567,"fileEntryType":2}],
        "folders":[]})"),
                                       "https://portal");
    ASSERT_TRUE(op);
    EXPECT_EQ(op->id, "c4a1");
    EXPECT_EQ(op->operation, 1);
    EXPECT_EQ(op->processed, "1");
    EXPECT_TRUE(op->Done());
    ASSERT_EQ(op->files.size(), 1u);
    EXPECT_EQ(op->files[0].id, EntityId::Number(1235));
    EXPECT_EQ(op->files[0].parent_id, EntityId::Number(567));
}

TEST(FileOperation, KeysAreCaseInsensitiveAndNumbersMayBeStrings) {
    const auto op =
        ParseFileOperation(Json::parse(R"({"ID":"x","operation":"0","Progress":"40","Processed":3})"), "");
    ASSERT_TRUE(op);
    EXPECT_EQ(op->operation, 0);
    EXPECT_EQ(op->progress, 40);
    EXPECT_EQ(op->processed, "3");
    EXPECT_FALSE(op->Done());
}

TEST(FileOperation, ProgressHundredCountsAsDone) {
    const auto op = ParseFileOperation(Json::parse(R"({"id":"x","progress":100,"finished":false})"), "");
    ASSERT_TRUE(op);
    EXPECT_TRUE(op->Done());
}

/// A scripted /fileops: each poll pops the next answer.
struct FakePortal {
    std::deque<Result<std::vector<FileOperation>>> answers;
    int polls = 0;
    int verifications = 0;
    Result<OperationOutcome> verification = OperationOutcome{};
    std::chrono::steady_clock::time_point now{};

    PollHooks Hooks() {
        PollHooks hooks;
        hooks.list = [this](const std::string&) -> Result<std::vector<FileOperation>> {
            ++polls;
            if (answers.empty()) return std::vector<FileOperation>{Running()};
            auto next = answers.front();
            answers.pop_front();
            return next;
        };
        hooks.verify_target = [this] {
            ++verifications;
            return verification;
        };
        hooks.sleep = [this](milliseconds d) { now += d; };
        hooks.now = [this] { return now; };
        return hooks;
    }

    static FileOperation Running(int progress = 10) {
        FileOperation op;
        op.id = "op-1";
        op.progress = progress;
        return op;
    }
};

PollOptions Poll(int interval_ms, int timeout_ms) {
    PollOptions options;
    options.interval = milliseconds(interval_ms);
    options.timeout = milliseconds(timeout_ms);
    return options;
}

TEST(AwaitFileOperation, PollsUntilFinishedAndReturnsTheResultingEntries) {
    FakePortal portal;
    auto done = FakePortal::Running(100);
    done.finished = true;
    Entry copy;
    copy.id = EntityId::Number(42);
    done.files = {copy};
    portal.answers = {std::vector<FileOperation>{FakePortal::Running(30)},
                      std::vector<FileOperation>{FakePortal::Running(60)}, std::vector<FileOperation>{done}};
    auto outcome = AwaitFileOperation(FakePortal::Running(0), "copy", Poll(100, 10000), portal.Hooks());
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_EQ(outcome->operation_id, "op-1");
    ASSERT_EQ(outcome->files.size(), 1u);
    EXPECT_EQ(outcome->files[0].id, EntityId::Number(42));
    EXPECT_FALSE(outcome->verified_by_target);
    EXPECT_EQ(portal.polls, 3);
    EXPECT_EQ(portal.verifications, 0);
}

TEST(AwaitFileOperation, AnErrorTextIsAPermanentFailure) {
    FakePortal portal;
    auto failed = FakePortal::Running(100);
    failed.finished = true;
    failed.error = "You don't have enough permission to copy the folder";
    portal.answers = {std::vector<FileOperation>{failed}};
    auto outcome = AwaitFileOperation(FakePortal::Running(0), "copy", Poll(100, 10000), portal.Hooks());
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, ErrorCode::kPermanent);
    EXPECT_NE(outcome.error().message.find("enough permission"), std::string::npos);
}

TEST(AwaitFileOperation, VanishedOperationIsVerifiedAtTheDestination) {
    FakePortal portal;
    portal.answers = {std::vector<FileOperation>{FakePortal::Running(50)}, std::vector<FileOperation>{}};
    OperationOutcome found;
    Entry copy;
    copy.id = EntityId::Number(77);
    found.files = {copy};
    portal.verification = found;
    auto outcome = AwaitFileOperation(FakePortal::Running(0), "copy", Poll(100, 10000), portal.Hooks());
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_TRUE(outcome->verified_by_target);
    EXPECT_EQ(outcome->operation_id, "op-1");
    EXPECT_EQ(portal.verifications, 1);
    ASSERT_EQ(outcome->files.size(), 1u);
}

TEST(AwaitFileOperation, VanishedAndNotAtTheDestinationIsTransient) {
    FakePortal portal;
    portal.answers = {std::vector<FileOperation>{}};
    portal.verification = Fail(ErrorCode::kUnavailable, "folder 5 does not hold 'a.docx' yet");
    auto outcome = AwaitFileOperation(FakePortal::Running(0), "move", Poll(100, 10000), portal.Hooks());
    ASSERT_FALSE(outcome);
    EXPECT_TRUE(outcome.error().IsTransient());
}

TEST(AwaitFileOperation, OtherOperationsInTheListDoNotCount) {
    FakePortal portal;
    auto other = FakePortal::Running(100);
    other.id = "someone-else";
    other.finished = true;
    portal.answers = {std::vector<FileOperation>{other}};
    portal.verification = Fail(ErrorCode::kUnavailable, "not there");
    auto outcome = AwaitFileOperation(FakePortal::Running(0), "copy", Poll(100, 10000), portal.Hooks());
    ASSERT_FALSE(outcome);
    EXPECT_EQ(portal.verifications, 1);
}

TEST(AwaitFileOperation, TransientPollErrorsAreRiddenOutUntilTheDeadline) {
    FakePortal portal;
    auto done = FakePortal::Running(100);
    portal.answers = {Fail(ErrorCode::kUnavailable, "503"), Fail(ErrorCode::kTimeout, "slow"),
                      std::vector<FileOperation>{done}};
    auto outcome = AwaitFileOperation(FakePortal::Running(0), "copy", Poll(100, 10000), portal.Hooks());
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_EQ(portal.polls, 3);
}

TEST(AwaitFileOperation, APermanentPollErrorEndsTheWait) {
    FakePortal portal;
    portal.answers = {Fail(ErrorCode::kUnauthorized, "401")};
    auto outcome = AwaitFileOperation(FakePortal::Running(0), "copy", Poll(100, 10000), portal.Hooks());
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, ErrorCode::kUnauthorized);
    EXPECT_EQ(portal.polls, 1);
}

TEST(AwaitFileOperation, TimesOutOnTheInjectedClock) {
    FakePortal portal;  // always running
    auto outcome = AwaitFileOperation(FakePortal::Running(0), "copy", Poll(200, 1000), portal.Hooks());
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, ErrorCode::kTimeout);
    EXPECT_EQ(portal.polls, 5);
    EXPECT_NE(outcome.error().message.find("op-1"), std::string::npos);
}

TEST(AwaitFileOperation, AlreadyFinishedNeedsNoPoll) {
    FakePortal portal;
    auto outcome = AwaitFileOperation(FakePortal::Running(100), "copy", Poll(100, 1000), portal.Hooks());
    ASSERT_TRUE(outcome);
    EXPECT_EQ(portal.polls, 0);
}

Entry At(std::int64_t id, const std::string& title, int version = 1) {
    Entry e;
    e.id = EntityId::Number(id);
    e.title = title;
    e.version = version;
    e.parent_id = EntityId::Number(567);
    return e;
}

ArrivalCheck Copying(ConflictResolve conflict, std::vector<OperationItem> items) {
    ArrivalCheck check;
    check.conflict = conflict;
    check.destination = EntityId::Number(567);
    check.items = std::move(items);
    return check;
}

TEST(CheckArrival, ACopyArrivesAsANewEntryNumberedOrNot) {
    auto check = Copying(ConflictResolve::kDuplicate, {{EntityId::Number(1), false, "Report.docx"},
                                                       {EntityId::Number(2), false, "Report.docx"}});
    check.before.files = {At(50, "Report.docx")};
    check.after.files = {At(50, "Report.docx"), At(51, "Report (1).docx"), At(52, "Report (2).docx")};
    auto outcome = CheckArrival(check, "finished");
    ASSERT_TRUE(outcome) << outcome.error().message;
    ASSERT_EQ(outcome->files.size(), 2u);
    EXPECT_NE(outcome->files[0].id, outcome->files[1].id);  // one new entry per item
    // Only one new entry for two items: one is missing.
    check.after.files.pop_back();
    auto short_one = CheckArrival(check, "finished");
    ASSERT_FALSE(short_one);
    EXPECT_EQ(short_one.error().code, ErrorCode::kUnavailable);
}

TEST(CheckArrival, AFolderCopyIsNumberedAtTheEndOfItsName) {
    auto check = Copying(ConflictResolve::kDuplicate, {{EntityId::Number(3), true, "v1.2"}});
    check.before.folders = {At(3, "v1.2")};
    check.after.folders = {At(3, "v1.2"), At(9, "v1.2 (1)")};
    auto outcome = CheckArrival(check, "finished");
    ASSERT_TRUE(outcome) << outcome.error().message;
    ASSERT_EQ(outcome->folders.size(), 1u);
    EXPECT_EQ(outcome->folders[0].title, "v1.2 (1)");
}

TEST(CheckArrival, WhatTheConflictRuleKeepsCountsAndAnOverwriteNeedsANewVersion) {
    auto skip = Copying(ConflictResolve::kSkip, {{EntityId::Number(1), false, "a.docx"}});
    skip.before.files = {At(50, "A.DOCX")};  // the portal's conflict check ignores case
    skip.after.files = skip.before.files;
    EXPECT_TRUE(CheckArrival(skip, "finished"));
    auto overwrite = Copying(ConflictResolve::kOverwrite, {{EntityId::Number(1), false, "a.docx"}});
    overwrite.before.files = {At(50, "a.docx", 1)};
    overwrite.after.files = {At(50, "a.docx", 1)};
    EXPECT_FALSE(CheckArrival(overwrite, "finished"));  // finished, yet no new version: nothing done
    overwrite.after.files = {At(50, "a.docx", 2)};
    EXPECT_TRUE(CheckArrival(overwrite, "finished"));
}

TEST(CheckArrival, AMoveSkippedOverAConflictIsAConflict) {
    ArrivalCheck check = Copying(ConflictResolve::kSkip, {{EntityId::Number(1), false, "a.docx"}});
    check.move = true;
    check.before.files = {At(50, "a.docx")};
    check.after.files = check.before.files;
    Entry source = At(1, "a.docx");
    source.parent_id = EntityId::Number(10);
    check.current = [&](const OperationItem&) -> Result<std::optional<Entry>> {
        return std::optional(source);
    };
    auto skipped = CheckArrival(check, "finished");
    ASSERT_FALSE(skipped);
    EXPECT_EQ(skipped.error().code, ErrorCode::kConflict);
    // Without a conflict it is simply not done, and may be retried.
    check.before.files.clear();
    check.after.files.clear();
    auto missing = CheckArrival(check, "finished");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::kUnavailable);
    // In the destination: arrived.
    source.parent_id = EntityId::Number(567);
    EXPECT_TRUE(CheckArrival(check, "finished"));
}

TEST(Dto, EntryIdsKeepTheirJsonKind) {
    const auto file =
        ParseEntry(Json::parse(R"({"id":"sbox-123|abc","title":"a.docx","folderId":"sbox-123|dir",
        "fileExst":".docx","version":3,"webUrl":"https://p/doceditor?fileid=1"})"),
                   "https://p");
    ASSERT_TRUE(file);
    EXPECT_FALSE(file->id.is_number());
    EXPECT_EQ(file->entry_type, 2);
    EXPECT_EQ(file->parent_id.str(), "sbox-123|dir");
    EXPECT_EQ(file->version, 3);
    const auto room = ParseEntry(Json::parse(R"({"id":890,"title":"Client ACME","parentId":3,"roomType":2,
        "rootFolderType":14,"tags":["client","acme"]})"),
                                 "https://p/");
    ASSERT_TRUE(room);
    EXPECT_TRUE(room->id.is_number());
    EXPECT_EQ(room->room_type, 2);
    EXPECT_EQ(room->entry_type, 1);
    EXPECT_EQ(room->tags, (std::vector<std::string>{"client", "acme"}));
    EXPECT_EQ(room->web_url, "https://p/rooms/shared/890/filter?folder=890");
}

TEST(Dto, WebhookConfigFromTheListShape) {
    const auto config = ParseWebhookConfig(Json::parse(R"({"configs":{"id":7,"name":"spacehook",
        "uri":"https://hooks.example.com/docspace","enabled":false,"ssl":true,"triggers":4194432,
        "lastFailureContent":"503"},"status":503})"));
    ASSERT_TRUE(config);
    EXPECT_EQ(config->id, 7);
    EXPECT_FALSE(config->enabled);
    EXPECT_TRUE(config->ssl);
    EXPECT_EQ(config->triggers, 4194432);
    EXPECT_EQ(config->last_status, 503);
    EXPECT_EQ(config->last_failure_content, "503");
}

}  // namespace
}  // namespace spacehook::docspace
