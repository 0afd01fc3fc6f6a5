#pragma once

#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "store/store.hpp"

namespace spacehook::watch {

/// What `spacehook status` prints and GET /admin/api/status answers: the watcher's last report from the
/// store (portal reachable and key accepted, the subscription's state and last failure, the last catch-up,
/// alerts firing, what happened recently), the backlog and dead letters as the store holds them now, and
/// `problems`, one line per thing an operator should look at (empty when all is well). `version` is the
/// reader's build; the report names the build that wrote it.
Result<Json> StatusJson(store::Admin& admin, store::SharedState& state, TimePoint now,
                        std::string_view version);

/// The same for people, as `spacehook status` prints it.
std::string StatusText(const Json& status);

}  // namespace spacehook::watch
