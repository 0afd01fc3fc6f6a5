#pragma once

// The fixture of the DocSpaceClient tests that run against the in-process emulator over loopback: an
// emulator per test, a client with a limiter of its own, and shortcuts to the default seed's rooms and
// folders. Test-only.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "docspace/client.hpp"
#include "emulator/emulator.hpp"

namespace spacehook::docspace::testing {

inline constexpr const char* kJaneId = "5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b";

class DocSpaceClientTest : public ::testing::Test {
protected:
    void SetUp() override { StartEmulator(emulator::Options{}); }

    void StartEmulator(emulator::Options options) {
        options.host = "127.0.0.1";
        options.port = 0;
        options.retry_base_seconds = 0.01;
        options.operation_delay = std::chrono::milliseconds(60);
        options.probe_timeout = std::chrono::milliseconds(2000);
        if (emulator_) emulator_->Stop();
        emulator_ = std::make_unique<emulator::Emulator>(options);
        auto started = emulator_->Start();
        ASSERT_TRUE(started) << started.error().message;
    }

    void TearDown() override {
        if (emulator_) emulator_->Stop();
    }

    ClientOptions Options(std::string api_key = {}) const {
        ClientOptions options;
        options.base_url = emulator_->base_url();
        options.api_key = api_key.empty() ? emulator_->ApiKeyOf("spacehook") : api_key;
        options.total_timeout = std::chrono::milliseconds(5000);
        options.rate_per_second = 1000;
        options.burst = 1000;
        options.poll_interval = std::chrono::milliseconds(20);
        options.poll_timeout = std::chrono::milliseconds(5000);
        return options;
    }

    /// A client with a limiter of its own, so tests do not share the process-wide one of a port.
    std::unique_ptr<DocSpaceClient> Client(ClientOptions options) const {
        RateLimitOptions rate;
        rate.rate_per_second = options.rate_per_second;
        rate.burst = options.burst;
        return std::make_unique<DocSpaceClient>(options, std::make_shared<RateLimiter>(rate));
    }
    std::unique_ptr<DocSpaceClient> Client() const { return Client(Options()); }

    Entry Room(DocSpaceClient& client, const std::string& title) {
        RoomQuery query;
        query.title_contains = title;
        auto rooms = client.FindRooms(query);
        EXPECT_TRUE(rooms) << rooms.error().message;
        for (const auto& room : *rooms) {
            if (room.title == title) return room;
        }
        ADD_FAILURE() << "no room " << title;
        return {};
    }

    Entry Folder(DocSpaceClient& client, const EntityId& parent, const std::string& title) {
        auto contents = client.GetFolder(parent);
        EXPECT_TRUE(contents) << contents.error().message;
        for (const auto& folder : contents->folders) {
            if (folder.title == title) return folder;
        }
        ADD_FAILURE() << "no folder " << title;
        return {};
    }

    EntityId Upload(const EntityId& folder, const std::string& title) {
        emulator::UploadSpec upload;
        upload.user = "rachel.admin";  // owns Client ACME; an editor may not create files
        upload.folder_id = folder;
        upload.title = title;
        auto file = emulator_->UploadFile(upload);
        EXPECT_TRUE(file) << file.error().message;
        return EntityId::FromJson(file->at("id")).value_or(EntityId{});
    }

    emulator::FaultSpec Fault(emulator::FaultKind kind, int status = 503) const {
        emulator::FaultSpec fault;
        fault.kind = kind;
        fault.status = status;
        fault.count = 1;
        fault.path_prefix = "/api/2.0/people";
        return fault;
    }

    std::unique_ptr<emulator::Emulator> emulator_;
};

}  // namespace spacehook::docspace::testing
