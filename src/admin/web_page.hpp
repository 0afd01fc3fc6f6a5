#pragma once

#include <span>
#include <string_view>

#include "core/embedded_file.hpp"

namespace spacehook::admin {

/// The operator's web view at /admin: src/admin/web/ (index.html, app.js, app.css), embedded at build time.
/// The page holds no data and loads nothing from elsewhere: its script reads /admin/api/* with the token
/// the operator enters (kept in sessionStorage) and inserts every value as text, never as HTML, since
/// delivery bodies are outside input.
std::span<const EmbeddedFile> AdminPageFiles();

/// One of AdminPageFiles() by name ("app.js"), or nullptr.
const EmbeddedFile* FindAdminPageFile(std::string_view name);

/// The Content-Type a page file is served with, by its extension.
std::string_view PageContentType(std::string_view name);

}  // namespace spacehook::admin
