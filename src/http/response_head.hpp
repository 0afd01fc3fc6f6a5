#pragma once

#include <string_view>

#include "http/server.hpp"

namespace spacehook::http {

/// The Date header's value for now (RFC 9110 IMF-fixdate), formatted once per second per thread: a Date on
/// every response must not cost a strftime.
std::string_view CurrentHttpDate();

/// A handler-supplied header must not be able to split the response (CR/LF) or break its framing.
bool IsSafeHeader(const Header& header);

/// The handler asked for the connection to close after this answer ("Connection: close").
bool WantsClose(const Response& response);

}  // namespace spacehook::http
