#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "config/document.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "docspace/api.hpp"
#include "httpc/client.hpp"
#include "notify/chat_poster.hpp"
#include "notify/mailer.hpp"

namespace spacehook::steps {

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
    /// Where a stored step's `${VAR}` references are read when it runs (rules::ResolveVariables):
    /// the process environment, VAR_FILE and credentials in serve.
    config::Env variables = config::ProcessEnv();

    /// The portal, or kConfig naming the setting that is missing.
    [[nodiscard]] Result<docspace::Api*> RequireApi() const;
    [[nodiscard]] TimePoint Now() const;
};

/// Where a step stands in its run.
struct StepCall {
    std::string run_key;
    int index = 0;
    /// BeginStep said kStarted: an earlier attempt died or failed inside this step, so its effect may
    /// have happened without the checkpoint. Steps whose look-before-act is not always on use it.
    bool resumed = false;
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

}  // namespace spacehook::steps
