#pragma once

#include <string_view>

namespace spacehook {

/// A file of the repository compiled into the binary (cmake/EmbedFiles.cmake): the admin page's HTML, JS
/// and CSS, kept as the files they are and shipped inside the one executable.
struct EmbeddedFile {
    std::string_view name;   ///< the file's name, without its directory: "app.js"
    std::string_view bytes;  ///< its content, byte for byte
};

}  // namespace spacehook
