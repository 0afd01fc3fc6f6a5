"""Fixtures of the chaos suite (tests/chaos/README.md). Run with Debian's interpreter, after the debug build
(`cmake --preset debug && cmake --build --preset debug`; SPACEHOOK_BIN picks another binary):
    /usr/bin/python3 -m pytest tests/chaos

Each test records its figures with the `report` fixture; they are printed at the end of the run (and
appended to $CHAOS_REPORT when set), passed or failed, with the seed that reproduces the run
(CHAOS_SEED=<seed>).
"""
import os
import random
import time

import pytest

import harness

_lines = []

# The functional suite's process starter: every process a test starts is stopped when it ends.
from loopback import procs  # noqa: E402,F401  (the fixture; harness put tests/support on sys.path)


@pytest.fixture
def seed(request):
    value = int(os.environ.get("CHAOS_SEED") or time.time_ns() % 1_000_000_007)
    print(f"{request.node.name}: CHAOS_SEED={value}")
    return value


@pytest.fixture
def rng(seed):
    return random.Random(seed)


@pytest.fixture
def report(request):
    def add(line):
        _lines.append(f"{request.node.name}: {line}")
    return add


@pytest.fixture
def smtp(tmp_path):
    sink = harness.SmtpSink(tmp_path / "mail")
    yield sink
    sink.close()


def pytest_terminal_summary(terminalreporter):
    if not _lines:
        return
    terminalreporter.section("chaos figures")
    for line in _lines:
        terminalreporter.write_line(line)
    path = os.environ.get("CHAOS_REPORT")
    if path:
        with open(path, "a") as out:
            out.write("\n".join(_lines) + "\n")
