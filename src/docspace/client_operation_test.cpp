// DocSpaceClient's copy and move against the emulator over loopback: awaited to completion, verified at the
// destination when another poller dequeued them, and checked item by item afterwards, since a finished
// operation proves nothing (docs/docspace-api.md §2.5 "File operations").
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "docspace/client_test_fixture.hpp"
#include "httpc/client.hpp"

namespace spacehook::docspace {
namespace {

using std::chrono::milliseconds;
using testing::DocSpaceClientTest;

// --- file operations --------------------------------------------------------------------------------

TEST_F(DocSpaceClientTest, CopyIsAwaitedToCompletion) {
    auto client = Client();
    const Entry acme = Room(*client, "Client ACME");
    const Entry incoming = Folder(*client, acme.id, "Incoming");
    const Entry archive = Folder(*client, acme.id, "Archive 2025");
    const EntityId file = Upload(incoming.id, "Report.docx");

    auto outcome = client->CopyItems({file}, {}, archive.id, ConflictResolve::kDuplicate);
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_FALSE(outcome->verified_by_target);
    EXPECT_FALSE(outcome->operation_id.empty());
    ASSERT_EQ(outcome->files.size(), 1u);
    EXPECT_EQ(outcome->files[0].title, "Report.docx");
    EXPECT_NE(outcome->files[0].id, file);
    EXPECT_EQ(outcome->files[0].parent_id, archive.id);
    EXPECT_EQ(emulator_->Counter("copy_operations"), 1);

    auto source = client->GetFile(file);
    ASSERT_TRUE(source) << source.error().message;
    EXPECT_EQ(source->parent_id, incoming.id);  // deleteAfter:false kept the source
}

TEST_F(DocSpaceClientTest, MoveIsAwaitedToCompletion) {
    auto client = Client();
    const Entry acme = Room(*client, "Client ACME");
    const Entry incoming = Folder(*client, acme.id, "Incoming");
    const Entry archive = Folder(*client, acme.id, "Archive 2025");
    const EntityId file = Upload(incoming.id, "Move-me.docx");
    auto folder = client->CreateFolder(incoming.id, "Sub");
    ASSERT_TRUE(folder) << folder.error().message;

    auto outcome = client->MoveItems({file}, {folder->id}, archive.id, ConflictResolve::kSkip);
    ASSERT_TRUE(outcome) << outcome.error().message;
    auto moved = client->GetFile(file);
    ASSERT_TRUE(moved) << moved.error().message;
    EXPECT_EQ(moved->parent_id, archive.id);
    auto path = client->GetFolderPath(folder->id);
    ASSERT_TRUE(path) << path.error().message;
    EXPECT_EQ((*path)[path->size() - 2].id, archive.id);

    auto nothing = client->MoveItems({}, {}, archive.id, ConflictResolve::kSkip);
    ASSERT_FALSE(nothing);
    EXPECT_EQ(nothing.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(DocSpaceClientTest, OperationDequeuedByAnotherPollerIsVerifiedAtTheDestination) {
    auto options = Options();
    options.poll_interval = milliseconds(400);  // the other poller (every 5 ms) wins the race
    auto client = Client(options);
    const Entry acme = Room(*client, "Client ACME");
    const Entry incoming = Folder(*client, acme.id, "Incoming");
    const Entry archive = Folder(*client, acme.id, "Archive 2025");
    const EntityId file = Upload(incoming.id, "Raced.docx");

    // The same user's "web UI": polls /fileops and so dequeues every finished operation (docs/docspace-api.md
    // §2.5).
    std::atomic<bool> stop{false};
    std::atomic<int> dequeued{0};
    std::thread other([&] {
        httpc::Client http;
        httpc::Request request;
        request.url = emulator_->base_url() + "/api/2.0/files/fileops";
        request.headers = {{"Authorization", "Bearer " + emulator_->ApiKeyOf("spacehook")}};
        while (!stop) {
            auto answer = http.Send(request);
            if (answer && answer->status == 200) {
                const auto body = Json::parse(answer->body, nullptr, false);
                if (body.is_object() && body["response"].is_array()) {
                    for (const auto& op : body["response"]) dequeued += op.value("finished", false) ? 1 : 0;
                }
            }
            std::this_thread::sleep_for(milliseconds(5));
        }
    });
    auto outcome = client->CopyItems({file}, {}, archive.id, ConflictResolve::kSkip);
    stop = true;
    other.join();
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_GE(dequeued.load(), 1);
    EXPECT_TRUE(outcome->verified_by_target);
    ASSERT_EQ(outcome->files.size(), 1u);
    EXPECT_EQ(outcome->files[0].title, "Raced.docx");
    EXPECT_EQ(outcome->files[0].parent_id, archive.id);
}

TEST_F(DocSpaceClientTest, VanishedMoveIsVerifiedByTheEntrysNewParent) {
    auto options = Options();
    options.poll_interval = milliseconds(400);
    auto client = Client(options);
    const Entry acme = Room(*client, "Client ACME");
    const Entry incoming = Folder(*client, acme.id, "Incoming");
    const Entry archive = Folder(*client, acme.id, "Archive 2025");
    const EntityId file = Upload(incoming.id, "Raced-move.docx");
    std::atomic<bool> stop{false};
    std::thread other([&] {
        auto poller = Client();
        while (!stop) {
            (void)poller->Call("GET", "/api/2.0/files/fileops");
            std::this_thread::sleep_for(milliseconds(5));
        }
    });
    auto outcome = client->MoveItems({file}, {}, archive.id, ConflictResolve::kSkip);
    stop = true;
    other.join();
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_TRUE(outcome->verified_by_target);
    ASSERT_EQ(outcome->files.size(), 1u);
    EXPECT_EQ(outcome->files[0].id, file);
}

// "Finished, progress 100, no error" is also what the portal reports when its job swallowed an
// exception or skipped a conflict (docs/docspace-api.md §2.5): the destination decides.
TEST_F(DocSpaceClientTest, AnOperationThatDidNothingIsNotReportedDone) {
    auto client = Client();
    const Entry acme = Room(*client, "Client ACME");
    const Entry incoming = Folder(*client, acme.id, "Incoming");
    const Entry archive = Folder(*client, acme.id, "Archive 2025");
    const EntityId file = Upload(incoming.id, "Lost.docx");
    for (const char* path : {"/api/2.0/files/fileops/move", "/api/2.0/files/fileops/copy"}) {
        emulator::FaultSpec swallow;
        swallow.kind = emulator::FaultKind::kSwallow;
        swallow.path_prefix = path;
        emulator_->AddFault(swallow);
    }
    auto moved = client->MoveItems({file}, {}, archive.id, ConflictResolve::kSkip);
    ASSERT_FALSE(moved);
    EXPECT_EQ(moved.error().code, ErrorCode::kUnavailable);  // retried: nothing says why
    EXPECT_NE(moved.error().message.find("'Lost.docx'"), std::string::npos) << moved.error().message;
    auto copied = client->CopyItems({file}, {}, archive.id, ConflictResolve::kDuplicate);
    ASSERT_FALSE(copied);
    EXPECT_EQ(copied.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(copied.error().message.find("'Lost.docx'"), std::string::npos) << copied.error().message;
    EXPECT_EQ(emulator_->Counter("operations_swallowed"), 2);
    // Without the fault the same calls arrive.
    auto again = client->MoveItems({file}, {}, archive.id, ConflictResolve::kSkip);
    ASSERT_TRUE(again) << again.error().message;
    ASSERT_EQ(again->files.size(), 1u);
    EXPECT_EQ(again->files[0].parent_id, archive.id);
}

TEST_F(DocSpaceClientTest, AMoveSkippedOverATitleConflictSaysSo) {
    auto client = Client();
    const Entry acme = Room(*client, "Client ACME");
    const Entry incoming = Folder(*client, acme.id, "Incoming");
    const Entry archive = Folder(*client, acme.id, "Archive 2025");
    const EntityId file = Upload(incoming.id, "Dup.docx");
    Upload(archive.id, "Dup.docx");
    auto skipped = client->MoveItems({file}, {}, archive.id, ConflictResolve::kSkip);
    ASSERT_FALSE(skipped);
    EXPECT_EQ(skipped.error().code, ErrorCode::kConflict);
    EXPECT_NE(skipped.error().message.find("skip"), std::string::npos) << skipped.error().message;
    EXPECT_NE(skipped.error().message.find("'Dup.docx'"), std::string::npos) << skipped.error().message;
    auto source = client->GetFile(file);
    ASSERT_TRUE(source) << source.error().message;
    EXPECT_EQ(source->parent_id, incoming.id);
}

TEST_F(DocSpaceClientTest, AMoveWithOverwriteArrivesAsTheDestinationsFile) {
    auto client = Client();
    const Entry acme = Room(*client, "Client ACME");
    const Entry incoming = Folder(*client, acme.id, "Incoming");
    const Entry archive = Folder(*client, acme.id, "Archive 2025");
    const EntityId file = Upload(incoming.id, "Same.docx");
    const EntityId existing = Upload(archive.id, "Same.docx");
    auto moved = client->MoveItems({file}, {}, archive.id, ConflictResolve::kOverwrite);
    ASSERT_TRUE(moved) << moved.error().message;
    ASSERT_EQ(moved->files.size(), 1u);
    EXPECT_EQ(moved->files[0].id, existing);  // the source is deleted; its content is version 2
    EXPECT_EQ(moved->files[0].version, 2);
    EXPECT_EQ(client->GetFile(file).error().code, ErrorCode::kNotFound);
}

TEST_F(DocSpaceClientTest, AMoveWithDuplicateLeavesTwoOfOneTitle) {
    auto client = Client();
    const Entry acme = Room(*client, "Client ACME");
    const Entry incoming = Folder(*client, acme.id, "Incoming");
    const Entry archive = Folder(*client, acme.id, "Archive 2025");
    const EntityId file = Upload(incoming.id, "Twin.docx");
    Upload(archive.id, "Twin.docx");
    auto moved = client->MoveItems({file}, {}, archive.id, ConflictResolve::kDuplicate);
    ASSERT_TRUE(moved) << moved.error().message;
    ASSERT_EQ(moved->files.size(), 1u);
    EXPECT_EQ(moved->files[0].id, file);
    EXPECT_EQ(moved->files[0].title, "Twin.docx");
}

TEST_F(DocSpaceClientTest, ACopiedFolderIsFoundByItsNumberedTitle) {
    auto client = Client();
    const Entry acme = Room(*client, "Client ACME");
    auto folder = client->CreateFolder(acme.id, "v1.2");
    ASSERT_TRUE(folder) << folder.error().message;
    auto copied = client->CopyItems({}, {folder->id}, acme.id, ConflictResolve::kDuplicate);
    ASSERT_TRUE(copied) << copied.error().message;
    ASSERT_EQ(copied->folders.size(), 1u);  // not the destination the operation's result also lists
    EXPECT_EQ(copied->folders[0].title, "v1.2 (1)");
    EXPECT_NE(copied->folders[0].id, folder->id);
}

TEST_F(DocSpaceClientTest, PollingRidesOutTransientErrors) {
    auto client = Client();
    const Entry acme = Room(*client, "Client ACME");
    const Entry incoming = Folder(*client, acme.id, "Incoming");
    const Entry archive = Folder(*client, acme.id, "Archive 2025");
    const EntityId file = Upload(incoming.id, "Bumpy.docx");
    emulator::FaultSpec fault;
    fault.kind = emulator::FaultKind::kStatus;
    fault.status = 503;
    fault.count = 2;
    fault.method = "GET";
    fault.path_prefix = "/api/2.0/files/fileops";
    emulator_->AddFault(fault);
    auto outcome = client->CopyItems({file}, {}, archive.id, ConflictResolve::kSkip);
    ASSERT_TRUE(outcome) << outcome.error().message;
    ASSERT_EQ(outcome->files.size(), 1u);
}

}  // namespace
}  // namespace spacehook::docspace
