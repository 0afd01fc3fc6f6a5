#pragma once

#include <string>
#include <vector>

#include "emulator/api_call.hpp"
#include "emulator/incoming.hpp"

namespace spacehook::emulator {

/// Routes /api/2.0/* to the area handlers: route match (unknown path 404, wrong method 405, no body,
/// as ASP.NET answers), then authentication (docs/docspace-api.md §2.1: `Authorization: Bearer <key>`, a bare
/// `Authorization: <key>`, or the `asc_auth_key` cookie, which wins), then the handler under the state
/// lock. A throwing handler becomes a 500 error envelope.
class ApiDispatcher {
public:
    explicit ApiDispatcher(ApiServices services);

    /// `swallow_operation`: a "swallow" fault matched (see ApiCall).
    Reply Handle(const IncomingRequest& request, const std::string& public_base_url,
                 bool swallow_operation = false);

private:
    ApiServices services_;
    std::vector<ApiRoute> routes_;
};

}  // namespace spacehook::emulator
