#pragma once
// Which build this binary is: `spacehook --version` and spacehook_build_info. Defined in a file
// cmake/BuildInfo.cmake writes at build time (src/app/CMakeLists.txt), linked only into the binary.

#include <string_view>

namespace spacehook::app {

/// The project version (CMakeLists.txt `project(... VERSION)`), e.g. "0.1.0".
std::string_view BuildVersion();
/// The git commit it was built from (12 hex digits, "-dirty" with uncommitted changes), or "unknown".
std::string_view BuildCommit();

}  // namespace spacehook::app
