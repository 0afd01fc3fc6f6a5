#!/usr/bin/python3
"""clang-tidy's configured checks (.clang-tidy) over every translation unit of a build, warnings as errors,
with a cache of the units that passed, so that a second run checks only what changed.

    /usr/bin/python3 scripts/tidy.py                      # every .cpp of build/debug (and the fuzz entries)
    /usr/bin/python3 scripts/tidy.py src/core/error.cpp   # one unit
    /usr/bin/python3 scripts/tidy.py src/core/error.hpp   # every unit that includes the header

A unit that passed is remembered under a key of everything its result depends on: its compile command (with
the checkout's path taken out, so every clone and worktree shares the cache), the contents of the file and of
every project header it includes (followed through `#include`s), .clang-tidy, the clang-tidy version and the
versions of the Debian packages system headers come from (-dev packages, compilers). Units with findings are never cached. The cache lives in
$SPACEHOOK_TIDY_CACHE or ~/.cache/spacehook-tidy; entries unused for 30 days are removed.

Standard library only. Needs compile_commands.json (`cmake --preset debug` writes it).
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLANG_TIDY = "clang-tidy-14"
# Findings in the project's own headers count; third-party and system headers are not ours to fix.
OWN_DIRS = "(src|fuzz|tests|bench)"
TIDY_ARGS = ["--quiet", f"--header-filter=^{re.escape(str(ROOT))}/{OWN_DIRS}/"]
# The same, as the cache key sees them: the checkout's path left out, so that every clone shares the cache.
TIDY_ARGS_KEY = ["--quiet", f"--header-filter=^<root>/{OWN_DIRS}/"]
KEEP_DAYS = 30
INCLUDE = re.compile(rb'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.MULTILINE)


def sha256(*parts):
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode())
        h.update(b"\0")
    return h.hexdigest()


def include_dirs(args, directory):
    """The -I/-iquote/-isystem directories of a command that lie inside the checkout."""
    dirs = []
    i = 0
    while i < len(args):
        arg = args[i]
        for flag in ("-I", "-iquote", "-isystem"):
            if arg == flag and i + 1 < len(args):
                dirs.append(args[i + 1])
                i += 1
                break
            if arg.startswith(flag) and len(arg) > len(flag):
                dirs.append(arg[len(flag):])
                break
        i += 1
    resolved = [(Path(directory) / d).resolve() for d in dirs]
    return [d for d in resolved if d == ROOT or ROOT in d.parents]


class Sources:
    """Contents, content hashes and project includes of the checkout's files, each read once."""

    def __init__(self):
        self.hashes = {}
        self.includes = {}

    def digest(self, path):
        if path not in self.hashes:
            data = path.read_bytes()
            self.hashes[path] = hashlib.sha256(data).hexdigest()
            self.includes[path] = [(kind == b'"', name.decode()) for kind, name in INCLUDE.findall(data)]
        return self.hashes[path]

    def closure(self, source, dirs):
        """The file and every project header it reaches, each with its content hash; every #include is
        followed whatever the preprocessor conditions, which can only make the set larger."""
        seen = {}
        todo = [source.resolve()]
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen[path] = self.digest(path)
            for quoted, name in self.includes[path]:
                candidates = ([path.parent] if quoted else []) + dirs
                for base in candidates:
                    found = (base / name).resolve()
                    if found.is_file() and (ROOT in found.parents):
                        todo.append(found)
                        break
        return seen


def relative(path):
    return str(path.relative_to(ROOT)) if ROOT in path.parents else str(path)


# Where system headers come from: the -dev packages, the compilers and their runtimes (installing a tool
# such as nginx leaves the cache valid).
HEADER_PACKAGES = re.compile(rb"^(\S+-dev|g\+\+\S*|gcc\S*|cpp\S*|clang\S*|libclang\S*|libstdc\+\+\S*|libc6\S*) ")


def system_fingerprint():
    """What the system headers (libstdc++, Boost, ...) are: the versions of the packages they come from."""
    try:
        listing = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\n"], capture_output=True,
                                 check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        listing = b"no dpkg"
    return b"\n".join(sorted(line for line in listing.splitlines() if HEADER_PACKAGES.match(line)))


def flags_of(entry):
    """The compiler flags of a compile_commands.json entry: no compiler, output or input."""
    args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    source = str((Path(entry["directory"]) / entry["file"]).resolve())
    flags = []
    skip = False
    for arg in args[1:]:
        if skip:
            skip = False
        elif arg == "-o":
            skip = True
        elif arg != "-c" and str((Path(entry["directory"]) / arg).resolve()) != source:
            flags.append(arg)
    return flags


def units(build_dir):
    """{file: (directory, flags)} of every unit of the build from the checkout, plus the tracked .cpp files
    the build does not compile (the libFuzzer entry points, built only by the fuzz preset), each with the
    flags of a unit of its own directory."""
    database = json.loads((build_dir / "compile_commands.json").read_text())
    out = {}
    for entry in database:
        path = (Path(entry["directory"]) / entry["file"]).resolve()
        if build_dir in path.parents or ROOT not in path.parents:
            continue  # generated by the build (app's build_info.cpp): not there before a build, not ours to lint
        out[path] = (entry["directory"], flags_of(entry))
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "*.cpp"], capture_output=True,
                             check=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        path = (ROOT / name).resolve()
        if path not in out:
            sibling = next((p for p in sorted(out) if p.parent == path.parent), None)
            if sibling is None:
                raise SystemExit(f"tidy: {name} is in no build and no unit of the build shares its directory")
            out[path] = out[sibling]
    return out


def key_of(base, path, directory, args, sources):
    """The cache key of one unit; paths of this checkout and its build directory are made relative."""
    root = str(ROOT)
    command = [a.replace(root, "<root>") for a in args]
    dirs = include_dirs(args, directory)
    files = sources.closure(path, dirs)
    listed = sorted((relative(p), digest) for p, digest in files.items())
    return sha256(base, directory.replace(root, "<root>"), *command, *[f"{p}={d}" for p, d in listed])


def selected(all_units, wanted, sources):
    if not wanted:
        return sorted(all_units)
    picked = set()
    for name in wanted:
        path = Path(name).resolve()
        if path in all_units:
            picked.add(path)
            continue
        if not path.is_file():
            raise SystemExit(f"tidy: no such file: {name}")
        users = [u for u, (directory, args) in all_units.items()
                 if path in sources.closure(u, include_dirs(args, directory))]
        if not users:
            raise SystemExit(f"tidy: no unit of the build includes {name}")
        picked.update(users)
    return sorted(picked)


def run_tidy(path, directory, flags):
    command = [CLANG_TIDY, *TIDY_ARGS, str(path), "--", *flags]
    done = subprocess.run(command, cwd=directory, capture_output=True, text=True)
    text = "\n".join(line for line in (done.stdout + done.stderr).splitlines()
                     if not re.match(r"^\d+ warnings? (and \d+ errors? )?generated\.$", line)
                     and not line.startswith(("Suppressed ", "Use -header-filter")))
    return done.returncode, text.strip()


def prune(cache):
    horizon = time.time() - KEEP_DAYS * 86400
    for stamp in cache.glob("*/*"):
        try:
            if stamp.stat().st_mtime < horizon:
                stamp.unlink()
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="units (.cpp) or headers to check; default: all")
    parser.add_argument("-p", "--build", default=str(ROOT / "build" / "debug"),
                        help="the build directory holding compile_commands.json (default: build/debug)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-cache", action="store_true", help="check every selected unit, cached or not")
    args = parser.parse_args()

    build_dir = Path(args.build).resolve()
    if not (build_dir / "compile_commands.json").is_file():
        raise SystemExit(f"tidy: {build_dir}/compile_commands.json is missing: run `cmake --preset debug` first")
    try:
        version = subprocess.run([CLANG_TIDY, "--version"], capture_output=True, text=True, check=True).stdout
    except OSError:
        raise SystemExit(f"tidy: {CLANG_TIDY} is not installed (Debian: apt-get install clang-tidy-14)")
    cache = Path(os.environ.get("SPACEHOOK_TIDY_CACHE") or Path.home() / ".cache" / "spacehook-tidy")
    cache.mkdir(parents=True, exist_ok=True)
    prune(cache)

    started = time.monotonic()
    base = sha256(version, (ROOT / ".clang-tidy").read_bytes(), *TIDY_ARGS_KEY,
                  system_fingerprint())
    sources = Sources()
    all_units = units(build_dir)
    todo, cached = [], 0
    for path in selected(all_units, args.files, sources):
        directory, command = all_units[path]
        key = key_of(base, path, directory, command, sources)
        stamp = cache / key[:2] / key
        if stamp.exists() and not args.no_cache:
            stamp.touch()
            cached += 1
        else:
            todo.append((path, directory, command, key))

    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(run_tidy, p, d, c): (p, d, c, key) for p, d, c, key in todo}
        for future in concurrent.futures.as_completed(futures):
            path, directory, command, key = futures[future]
            status, text = future.result()
            if status == 0 and not text:
                # Remembered only if no file of the unit changed while clang-tidy read it.
                if key_of(base, path, directory, command, Sources()) == key:
                    stamp = cache / key[:2] / key
                    stamp.parent.mkdir(exist_ok=True)
                    stamp.touch()
                continue
            failed.append(relative(path))
            print(f"--- {relative(path)}\n{text or f'clang-tidy exited with {status}'}", flush=True)

    total = cached + len(todo)
    print(f"clang-tidy: {total} units, {cached} unchanged since they passed (cache {cache}), {len(todo)} checked "
          f"in {time.monotonic() - started:.0f} s; {len(failed)} with findings", flush=True)
    if failed:
        print("with findings: " + " ".join(sorted(failed)), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
