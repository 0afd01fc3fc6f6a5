"""Shared fixtures for the functional tests: they drive the real binaries over loopback.

Run with Debian's interpreter (pyenv's python3 does not see python3-pytest / aiosmtpd), after the debug build
(`cmake --preset debug && cmake --build --preset debug`), whose binary is the default; SPACEHOOK_BIN picks
another. A missing binary fails the tests:
    /usr/bin/python3 -m pytest tests/functional
"""
import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from loopback import ROOT, Proc, procs, spacehook_bin  # noqa: E402,F401  (the fixture, and names the tests import from here)
