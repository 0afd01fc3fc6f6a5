#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "docspace/api.hpp"
#include "httpc/client.hpp"
#include "notify/chat_poster.hpp"
#include "notify/mailer.hpp"
#include "rules/step.hpp"

namespace spacehook::runner {

/// A named chat incoming webhook (`chat.channels.<name>` in the config).
struct ChatEndpoint {
    notify::ChatKind kind = notify::ChatKind::kGeneric;
    std::string url;  ///< a credential for Slack and Teams: never logged, never in a run record
};

/// "slack", "teams", "generic" (a `chat` step's `kind`, `chat.channels.<name>.kind`); nullopt otherwise.
std::optional<notify::ChatKind> ChatKindOf(std::string_view name);

/// What steps act through. A missing dependency makes the steps that need it fail permanently with a
/// message naming the setting (serve refuses to start in that case, so this is for tests and tools).
struct StepDeps {
    docspace::Api* api = nullptr;
    notify::Mailer* mailer = nullptr;
    notify::ChatPoster* chat = nullptr;
    httpc::Client* http = nullptr;
    std::map<std::string, ChatEndpoint> chat_channels;
    std::chrono::milliseconds http_timeout{30000};  ///< the whole `http` step request
    const Clock* clock = nullptr;                   ///< for Retry-After dates; nullptr = the system clock
};

/// Where a step stands in its run.
struct StepCall {
    std::string run_key;
    int index = 0;
    /// BeginStep said kStarted: an earlier attempt died or failed inside this step, so its effect may
    /// have happened without the checkpoint. Steps whose look-before-act is not always on use it.
    bool resumed = false;
};

/// Executes steps against DocSpace, SMTP, chat webhooks and HTTP endpoints. Every step that changes
/// DocSpace looks before it acts, so running it again after a crash between the effect and the
/// checkpoint does not do the work twice (docs/runner.md "Exactly once, step by step"):
///   create_room      finds the room by its run tag (RunTag) before creating one
///   create_folder(s) finds each title in the parent before creating it
///   copy_as          skips a file whose destination title is already in the destination
///   set_access       PUT share is idempotent (the same members with the same access)
///   move             skips items whose parent is already the destination
///   copy             skips items whose title is already in the destination (always with conflict
///                    skip; after a resumed attempt for overwrite/duplicate)
///   mail, chat, http cannot look: see the header comment of each in docs/runner.md
/// Errors keep the portal's own message; their code decides retry (transient) or dead letter.
/// Thread-safe when its dependencies are.
class StepExecutor {
public:
    explicit StepExecutor(StepDeps deps);

    /// Runs one step with its rendered input (rules::RenderStepInput, docs/rules.md "Rendered step
    /// inputs") and returns its output: what later steps read as steps.<id>.* (docs/runner.md "Step
    /// outputs").
    Result<Json> Execute(rules::StepKind kind, const Json& input, const StepCall& call);

private:
    Result<Json> CreateRoom(const Json& input, const StepCall& call);
    Result<Json> CreateFolder(const Json& input);
    Result<Json> CreateFolders(const Json& input);
    Result<Json> CopyAs(const Json& input);
    Result<Json> SetAccess(const Json& input);
    Result<Json> CopyOrMove(rules::StepKind kind, const Json& input, const StepCall& call);
    Result<Json> Mail(const Json& input, const StepCall& call);
    Result<Json> Chat(const Json& input, const StepCall& call);
    Result<Json> Http(const Json& input, const StepCall& call);
    Result<docspace::Api*> RequireApi() const;
    [[nodiscard]] TimePoint Now() const;

    StepDeps deps_;
};

/// The tag create_room adds to the room it creates: "spacehook-" + the first 12 hex digits of
/// SHA-256(run key). It is how a later attempt of the same run finds the room an earlier attempt made
/// (DESIGN.md "runner"); the run key itself is not readable from it.
std::string RunTag(std::string_view run_key);
/// SHA-256 hex of "<run key>/<step index>": the http step's Idempotency-Key header (and the generic chat
/// post's): the same for every attempt of one step, different for every step and run.
std::string IdempotencyKey(std::string_view run_key, int index);
/// "<run key>/<step index>": the mail step's Message-ID seed, so a re-sent mail keeps its Message-ID.
std::string MessageIdSeed(std::string_view run_key, int index);

}  // namespace spacehook::runner
