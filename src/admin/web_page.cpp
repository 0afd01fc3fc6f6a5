#include "admin/web_page.hpp"

namespace spacehook::admin {

const EmbeddedFile* FindAdminPageFile(std::string_view name) {
    for (const auto& file : AdminPageFiles()) {
        if (file.name == name) return &file;
    }
    return nullptr;
}

std::string_view PageContentType(std::string_view name) {
    if (name.ends_with(".html")) return "text/html; charset=utf-8";
    if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
    if (name.ends_with(".css")) return "text/css; charset=utf-8";
    if (name.ends_with(".svg")) return "image/svg+xml";
    return "application/octet-stream";
}

}  // namespace spacehook::admin
