#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/entity_id.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

// The DocSpace emulator: an in-memory portal that answers the REST calls spacehook makes with the
// shapes DocSpace really uses, sends webhooks the way DocSpace's WebhookSender does (signing, retries,
// 410, HEAD probe), and lets tests inject faults. docs/docspace-api.md is its specification; every
// quirk it reproduces points to a section there. Beast and curl stay in src/http and src/httpc: this
// header speaks the project's types only.

namespace spacehook::emulator {

struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  ///< 0 = pick a free port (tests), see Emulator::port()
    /// Seed fixture (YAML or JSON, see docs/emulator.md). Empty = the built-in default seed.
    std::string seed_file;
    /// Backoff base of the webhook sender: waits are base x 1, 2, 4, 8, 16 (docs/docspace-api.md §1.9,
    /// v3.5+). DocSpace uses 1 s; tests use a few milliseconds.
    double retry_base_seconds = 1.0;
    /// Retries after the first attempt (`webhooks:repeatcount`, docs/docspace-api.md §1.9).
    int retry_count = 5;
    /// Parallel senders (`webhooks:threadcount`, docs/docspace-api.md §1.9): no ordering guarantee across
    /// them.
    int sender_threads = 10;
    /// Enforce DocSpace 3.7's UrlValidator on webhook URIs (docs/docspace-api.md §1.9, §1.10):
    /// private/loopback targets -> 400 "URL resolves to a blacklisted IP address", ssl=true with http -> 400.
    /// Off by default because tests and the demo receive on loopback (a portal admin lifts it with a dummy
    /// `webhooks:blacklist`, §4.12).
    bool ssrf_guard = false;
    /// Base of webUrl/viewUrl and envelope links ("https://portal.example"). Empty = the listening
    /// address, "http://host:port".
    std::string public_base_url;
    /// Token for /__emulator/* (header `X-Emulator-Token`). Empty = control API without auth.
    std::string control_token;
    /// How long a copy/move operation stays "running" before it completes and fires its webhooks
    /// (docs/docspace-api.md §2.5: operations are asynchronous and must be polled).
    std::chrono::milliseconds operation_delay{100};
    /// CA bundle that webhook deliveries and HEAD probes to `ssl: true` subscriptions trust, instead of
    /// the system's (a receiver with a test certificate). `ssl: false` never verifies (docs/docspace-api.md
    /// §1.10).
    std::string ca_file;
    /// Per-attempt delivery timeout (.NET HttpClient default 100 s, docs/docspace-api.md §1.2).
    std::chrono::milliseconds delivery_timeout{100000};
    /// HEAD probe timeout on webhook create/update/enable (docs/docspace-api.md §1.10).
    std::chrono::milliseconds probe_timeout{10000};
    /// Wall clock for timestamps (createOn, created, log times). nullptr = the system clock. Retry waits
    /// always use real time.
    const Clock* clock = nullptr;
};

/// What an injected fault does to a matching API call.
enum class FaultKind {
    kStatus,  ///< answer `status` (500, 503, 429 + Retry-After ...) with DocSpace's error envelope
    kDrop,    ///< close the connection without answering
    kSlow,    ///< sleep `delay` (past the client's timeout), then answer normally
    /// A copy/move started by the call is answered as usual but does nothing and finishes with progress
    /// 100 and no error: the portal's report after an exception it did not expect. Other calls run as
    /// usual.
    kSwallow,
};

/// One fault rule. A call matches when method and path prefix match (empty = any). The rule applies
/// to the next `count` matching calls (0 = unlimited) and, when `duration` > 0, only until it expires.
/// The control API (/__emulator/*) is never faulted.
struct FaultSpec {
    FaultKind kind = FaultKind::kStatus;
    int status = 503;
    /// For kStatus: sends `Retry-After: <seconds>` when >= 0 (use with 429/503).
    int retry_after_seconds = -1;
    int count = 1;
    std::chrono::milliseconds duration{0};
    std::string method;                  ///< "GET", "PUT", ...; empty = any
    std::string path_prefix;             ///< e.g. "/api/2.0/files/fileops"; empty = any
    std::chrono::milliseconds delay{0};  ///< for kSlow
    /// For kStatus: the call runs first (its effect happens, its webhooks fire) and only its answer is
    /// replaced by `status`, as when a gateway times out after the portal has done the work.
    bool after_effect = false;
};

/// A file put into a folder the way a person would (the portal's upload is not a REST call spacehook
/// makes, so the emulator offers it in-process and as POST /__emulator/upload).
struct UploadSpec {
    std::string user;    ///< acting user: id, userName, email or API key
    EntityId folder_id;  ///< folder or room to upload into
    std::string title;   ///< "Invoice-0042.docx"
    std::int64_t size = 1024;
    /// Chunked/UI upload fires only file.uploaded; a simple upload/insert fires file.created then
    /// file.uploaded for the same id (docs/docspace-api.md §1.12).
    bool chunked = false;
};

/// An in-memory DocSpace portal on an HTTP port. Thread-safe.
class Emulator {
public:
    explicit Emulator(Options options);
    ~Emulator();
    Emulator(const Emulator&) = delete;
    Emulator& operator=(const Emulator&) = delete;

    /// Loads the seed (kConfig on a bad fixture), binds and starts the server and the senders.
    Status Start();
    /// Stops the server, cancels pending deliveries and operations. Idempotent.
    void Stop();

    [[nodiscard]] std::uint16_t port() const;
    /// "http://127.0.0.1:<port>" (the listening address; public_base_url is only used in bodies).
    [[nodiscard]] std::string base_url() const;
    /// The API key of the seed's DocSpace owner/admin.
    [[nodiscard]] std::string admin_api_key() const;
    /// API key of a seeded user by id, userName or email; empty when unknown.
    [[nodiscard]] std::string ApiKeyOf(std::string_view user) const;
    /// User GUID by userName, email or API key; empty when unknown.
    [[nodiscard]] std::string UserIdOf(std::string_view user) const;
    /// Id of the VirtualRooms ("Rooms") section folder: `rootId` of every room payload (docs/docspace-api.md
    /// §1.6).
    [[nodiscard]] EntityId rooms_root_id() const;

    // --- state ---------------------------------------------------------------------------------------
    /// The whole portal: {"tree", "users", "groups", "webhooks", "deliveries", "operations", "counters"}
    /// (docs/emulator.md, "State dump"). Same as GET /__emulator/state.
    [[nodiscard]] Json State() const;
    /// Counters of every mutation ("rooms_created", "folders_created", "copy_operations", ...) so tests
    /// can assert that nothing happened twice. Unknown names read as 0.
    [[nodiscard]] std::map<std::string, std::int64_t> Counters() const;
    [[nodiscard]] std::int64_t Counter(std::string_view name) const;
    /// Back to the seed: tree, users, webhooks, deliveries, operations, counters and faults. Pending
    /// deliveries are abandoned.
    Status Reset();
    /// Replaces the seed (same shape as a seed file, as JSON) and resets to it.
    Status LoadSeed(const Json& seed);

    // --- webhooks sent --------------------------------------------------------------------------------
    /// The delivery log, oldest first: one entry per attempt {logId, attempt, webhookId, trigger, url,
    /// requestHeaders, requestPayload (exact body), status, error, sentAt}.
    [[nodiscard]] Json Deliveries() const;
    /// Waits until no delivery is queued or being retried and no file operation is pending, up to
    /// `timeout`. True when idle.
    bool WaitIdle(std::chrono::milliseconds timeout) const;

    // --- faults ---------------------------------------------------------------------------------------
    /// Fixed extra latency before every REST answer (0 = none).
    void SetLatency(std::chrono::milliseconds latency);
    void AddFault(FaultSpec fault);
    /// Removes every fault and the latency.
    void ClearFaults();

    // --- the sender and the portal's webhook housekeeping ------------------------------------------
    /// The next `count` deliveries (of webhook `webhook_id`; 0 = any) never reach their receiver: every
    /// attempt fails as if nothing answered (`status` 0) or the receiver answered `status`, and the
    /// sender retries and gives up as DocSpace's does, logging each row (status, body, failure).
    void GiveUpDeliveries(int count, int status = 0, std::int64_t webhook_id = 0);
    /// Disables a webhook as the portal does after three days without a successful delivery (the
    /// config stays, `enabled` false). False when there is no such webhook.
    bool DisableWebhook(std::int64_t id);

    // --- acting as a person ---------------------------------------------------------------------------
    /// Uploads a file (see UploadSpec). Returns the FileDto as GET files/file/{id} would.
    Result<Json> UploadFile(const UploadSpec& upload);
    /// An editor save: version + 1, fires file.updated. Returns the FileDto.
    Result<Json> EditFile(std::string_view user, const EntityId& file_id);
    /// The person invited at `email` accepts (POST people from the invitation link): active, with names;
    /// user.created fires, acting as the one who invited them. Returns their EmployeeFullDto.
    Result<Json> AcceptInvitation(std::string_view email, std::string_view first_name = {},
                                  std::string_view last_name = {});

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace spacehook::emulator
