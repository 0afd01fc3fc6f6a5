#pragma once

#include <string_view>

namespace spacehook::admin {

/// The HTML of the status page at /admin: one self-contained document (inline CSS and script, no external
/// assets, so it works on an offline host and under a strict CSP). It holds no data: its script reads
/// /admin/api/* with the token the operator enters (kept in sessionStorage) and renders recent events,
/// runs and dead letters with retry/drop/replay buttons. Every value is inserted as text, never as
/// HTML: delivery bodies are outside input.
std::string_view StatusPageHtml();

}  // namespace spacehook::admin
