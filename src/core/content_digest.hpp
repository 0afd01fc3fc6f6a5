#pragma once

#include <string>
#include <string_view>

#include "core/json.hpp"

namespace spacehook {

/// SHA-256 (lower-case hex) of what a DocSpace delivery says happened, apart from how it was delivered:
/// event.trigger, event.createOn, event.createBy and the payload (key order and whitespace do not matter).
/// These are the parts that stay the same when the portal sends the same event again: an automatic retry
/// (its body gains `webhook.retry*` fields and a new signature, docs/docspace-api.md §1.9), a manual retry
/// from the portal's UI (a new log row, so a new event.id, carrying the stored body, §1.13), and the copy
/// a second subscription gets (its own event.id and `webhook` block; its createOn is stamped separately,
/// so it agrees unless the two stamps fall on different seconds, §1.4). The journal keys an event that
/// has no event.id on it (ingress), and run keys are made from it where the payload has no modifiedOn
/// (rules).
std::string DeliveryContentDigest(std::string_view trigger, std::string_view create_on,
                                  std::string_view create_by, const Json& payload);

}  // namespace spacehook
