"""Shared fixtures for the functional tests: they drive the real binaries over loopback.

Run with Debian's interpreter (pyenv's python3 does not see python3-pytest / aiosmtpd):
    SPACEHOOK_BIN=build/dev/src/app/spacehook /usr/bin/python3 -m pytest tests/functional
"""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def spacehook_bin() -> str:
    path = os.environ.get("SPACEHOOK_BIN") or str(ROOT / "build" / "dev" / "src" / "app" / "spacehook")
    if not os.path.exists(path):
        pytest.skip(f"spacehook binary not built at {path}")
    return path


class Proc:
    """A child process started with --ready-file; `info` is what it wrote there (port, pid, ...)."""

    def __init__(self, args, ready_file, env=None, log_path=None):
        self.args = args
        self.ready_file = Path(ready_file)
        self.log_path = Path(log_path) if log_path else None
        self.log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        if self.ready_file.exists():
            self.ready_file.unlink()
        self.popen = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.info = self._wait_ready()

    def _wait_ready(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.args[0]} exited with {self.popen.returncode}: {self.output()[-2000:]}")
            if self.ready_file.exists():
                try:
                    return json.loads(self.ready_file.read_text())
                except json.JSONDecodeError:
                    pass  # being written
            time.sleep(0.02)
        self.kill()
        raise TimeoutError(f"{self.args} not ready after {timeout}s: {self.output()[-2000:]}")

    @property
    def port(self) -> int:
        return int(self.info["port"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        if not self.log_path:
            return ""
        if hasattr(self.log, "flush"):
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def terminate(self, timeout=15.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return self.popen.returncode

    def kill(self):
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(5)


@pytest.fixture
def procs():
    """Start processes with procs.start(...); all are stopped at the end of the test."""
    started = []

    class Starter:
        def start(self, args, ready_file, env=None, log_path=None) -> Proc:
            p = Proc(args, ready_file, env=env, log_path=log_path)
            started.append(p)
            return p

    yield Starter()
    for p in reversed(started):
        p.terminate()
        if p.log_path and hasattr(p.log, "close"):
            p.log.close()
