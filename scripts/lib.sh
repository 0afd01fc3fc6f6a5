# Shared by scripts/demo, scripts/test and .ci/run. Source it; do not run it.
set -euo pipefail

SPACEHOOK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SPACEHOOK_ROOT

# Debian bookworm packages only (see docs/DEVELOPING.md). Boost strictly by its 1.81 names: the
# unversioned libboost-dev pulls 1.74, which conflicts.
BUILD_PACKAGES=(cmake ninja-build g++ ccache lld pkg-config
  libboost1.81-dev libssl-dev libcurl4-openssl-dev nlohmann-json3-dev libyaml-cpp-dev libsqlite3-dev
  libpq-dev libfmt-dev libcli11-dev libre2-dev libexpected-dev libgtest-dev libgmock-dev libsystemd-dev)
RUN_PACKAGES=(python3 python3-aiosmtpd python3-yaml openssl)
# chromium + chromium-driver + python3-selenium: the browser stage drives the web view in headless Chromium.
TEST_PACKAGES=(python3-pytest python3-requests postgresql clang-14 libfuzzer-14-dev libclang-rt-14-dev wrk
  clang-format-14 clang-tidy-14 chromium chromium-driver python3-selenium)
# scripts/package (dpkg-shlibdeps, dpkg-buildflags; `file` is how CPack finds the ELF files) and the
# package stage of scripts/test (lintian; bash-completion and sqlite3 for the installed files' checks;
# systemd-analyze; strace to hold the service's system calls and writes against the unit's sandbox).
PACKAGE_PACKAGES=(dpkg-dev file)
PACKAGE_TEST_PACKAGES=(lintian bash-completion sqlite3 systemd man-db strace)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# install_packages PKG... : installs what is missing, nothing else (apt-get update only when needed).
install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# configure PRESET : configures one CMake preset unless done (build/PRESET, with compile_commands.json).
configure() {
  local preset=$1
  cd "$SPACEHOOK_ROOT"
  if [ ! -f "build/$preset/build.ninja" ]; then
    log "configuring $preset"
    cmake --preset "$preset" >/dev/null
  fi
}

# build PRESET [TARGET...] : configure (once) and build one CMake preset with ccache.
build() {
  local preset=$1; shift
  export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
  # Paths under the checkout hash as relative and the build directory not at all, so another clone (CI's
  # fresh one, a worktree) hits the same cache; only debuggers see the first clone's paths in debug info.
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$SPACEHOOK_ROOT}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
  configure "$preset"
  log "building $preset ${*:-}"
  # Beast translation units need ~0.6 GB each; two jobs fit any machine this runs on.
  cmake --build "build/$preset" -j "${SPACEHOOK_JOBS:-$(nproc)}" ${1:+--target "$@"}
}

# Debian's interpreter: pyenv's python3 on PATH does not see python3-pytest / aiosmtpd.
PY=/usr/bin/python3
