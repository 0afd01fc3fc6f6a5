"""Running spacehook's pieces on this machine, on loopback: what the demo (scripts/demo.py) and the test suites
(tests/support/loopback.py) share. Processes started with --ready-file, bounded waits, free ports, an
environment without the caller's DocSpace/SMTP settings, and a real SMTP server (aiosmtpd) that keeps every
message it accepts.

Standard library only (aiosmtpd is started as a program), so that the demo needs nothing else on a fresh
machine.
"""
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# smtp_sink.ParsingSink: <n>.json (envelope + parsed message) and <n>.eml per message.
SMTP_SINK_DIR = ROOT / "src" / "notify" / "testdata"


class LocalError(Exception):
    """Something started here did not come up, or a wait ran out."""


class ProcessExited(LocalError, RuntimeError):
    """A process ended while it was starting."""


class NotReady(LocalError, TimeoutError):
    """A process did not write its ready file in time."""


class WaitTimeout(LocalError, AssertionError):
    """wait_for's predicate stayed false; an AssertionError, so a test that waits fails as an assertion."""


def wait_for(predicate, timeout, what, interval=0.1):
    """predicate()'s first truthy value, asked every `interval` s and once more at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"not within {timeout} s: {what}")
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def clean_env(**extra):
    """This environment without the settings spacehook reads (DOCSPACE_*, SMTP_*, MAIL_*, the admin key,
    PORT), so that a developer's own never reach a local run; plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DOCSPACE_", "SPACEHOOK_ADMIN", "SMTP_", "MAIL_")) and k != "PORT"}
    env.update(extra)
    return env


class Proc:
    """A child process, its output in `log_path` (or discarded). With `ready_file` (spacehook's --ready-file),
    the constructor returns once the process wrote it, and `info` is what it wrote (port, pid, ...)."""

    def __init__(self, args, ready_file=None, env=None, log_path=None, name=None, ready_timeout=20.0):
        self.args = list(args)
        self.name = name or Path(str(self.args[0])).name
        self.ready_file = Path(ready_file) if ready_file else None
        self.log_path = Path(log_path) if log_path else None
        self.log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        if self.ready_file and self.ready_file.exists():
            self.ready_file.unlink()
        self.popen = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=env)
        self.info = self._wait_ready(ready_timeout) if self.ready_file else None

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_running("while starting")
            if self.ready_file.exists():
                try:
                    return json.loads(self.ready_file.read_text())
                except json.JSONDecodeError:
                    pass  # being written
            time.sleep(0.02)
        self.kill()
        raise NotReady(f"{self.name} not ready after {timeout} s ({' '.join(map(str, self.args))}):\n"
                       f"{self.tail(40)}")

    def check_running(self, when):
        if self.popen.poll() is not None:
            raise ProcessExited(f"{self.name} exited with status {self.popen.returncode} {when}:\n{self.tail(40)}")

    @property
    def port(self) -> int:
        return int(self.info["port"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        """`serve`'s admin listener (/metrics, /readyz, /admin): start it with --admin-listen 127.0.0.1:0."""
        return f"http://127.0.0.1:{int(self.info['admin_port'])}"

    def output(self) -> str:
        """Everything the process wrote so far ('' when its output is discarded)."""
        if not self.log_path:
            return ""
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def tail(self, lines=15) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def terminate(self, timeout=15.0) -> int:
        """SIGTERM, then SIGKILL after `timeout` s; the exit status (negative: the signal)."""
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

    def stop(self, timeout=15.0) -> int:
        """terminate(), and the log closed."""
        status = self.terminate(timeout)
        if self.log_path and not self.log.closed:
            self.log.close()
        return status


class SmtpSink:
    """aiosmtpd with notify's ParsingSink on a free loopback port: <n>.json per accepted message (written
    before the 250), <n>.eml with its exact bytes."""

    def __init__(self, directory, log_path=None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        env = dict(os.environ, PYTHONPATH=str(SMTP_SINK_DIR))
        self.proc = Proc(["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
                          "-c", "smtp_sink.ParsingSink", str(self.dir)], env=env, log_path=log_path, name="aiosmtpd")

        def up():
            self.proc.check_running("before it listened")
            return listening(self.port)
        try:
            wait_for(up, 15, f"aiosmtpd listening on 127.0.0.1:{self.port}")
        except LocalError:
            self.proc.stop(5)
            raise

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def messages(self):
        return [json.loads(p.read_text()) for p in sorted(self.dir.glob("*.json"), key=lambda p: int(p.stem))]

    def raw(self, message_number):
        return (self.dir / f"{message_number}.eml").read_bytes()

    def close(self):
        return self.proc.stop(5)
