"""The package stage (scripts/test package): the .deb installed on this machine, run, and purged.

    SPACEHOOK_DEB=build/package/spacehook_0.1.0_amd64.deb /usr/bin/python3 -m pytest tests/package   # as root
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "support"))
sys.path.insert(0, str(HERE.parents[0] / "functional"))
# test_examples (imported for its seeded portal) reads ROOT and spacehook_bin from "conftest": this one.
from loopback import ROOT, Proc, procs, spacehook_bin  # noqa: E402,F401  (the fixture, and names imported from here)
