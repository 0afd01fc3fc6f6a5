"""What the functional tests (tests/functional) and the chaos suite (tests/chaos) share on top of
scripts/spacehook_local.py (processes with ready files, bounded waits, free ports, the clean environment, the
SMTP sink; the demo uses it too): the binary under test, the `procs` fixture that stops what a test started,
and wrappers of the emulator, `serve` and an HTTP receiver.

Each suite's conftest puts this directory on sys.path.
"""
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from spacehook_local import ROOT, Proc, SmtpSink, clean_env, free_port, wait_for  # noqa: E402,F401  (re-exported)

BUILD_COMMAND = "cmake --preset debug && cmake --build --preset debug"


def spacehook_bin() -> str:
    """$SPACEHOOK_BIN, else what `cmake --preset debug` builds; a missing binary fails the test."""
    path = os.environ.get("SPACEHOOK_BIN") or str(ROOT / "build" / "debug" / "src" / "app" / "spacehook")
    if not os.path.exists(path):
        pytest.fail(f"spacehook binary not found at {path}: build it with `{BUILD_COMMAND} --target spacehook` "
                    "(or point SPACEHOOK_BIN at one)", pytrace=False)
    return path


def iso_seconds(text):
    """Epoch seconds of the admin API's times ("2026-11-23T10:41:13.433Z")."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def percentile(values, p):
    """Nearest-rank percentile of a non-empty list (p in 0..100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


class Emulator:
    """`spacehook emulator` started for one test (stopped by `procs`), with its REST API, called as
    `owner_key` unless told otherwise, and its control API. Suites subclass it for their own shortcuts."""

    owner_key = "sk-emulator-owner"  # the default seed's owner (docs/emulator.md)

    def __init__(self, procs, tmp_path, *, seed=None, retry_base=0.05, operation_delay_ms=100, timeout=15):
        ready = tmp_path / "emulator.ready"
        args = [spacehook_bin(), "emulator", "--listen", "127.0.0.1:0", "--ready-file", str(ready),
                "--retry-base", str(retry_base), "--operation-delay-ms", str(operation_delay_ms)]
        if seed:
            args += ["--seed", str(seed)]
        self.proc = procs.start(args, ready, log_path=tmp_path / "emulator.log")
        self.url = self.proc.url
        self.timeout = timeout
        self.session = requests.Session()

    def rest(self, method, path, body=None, key=None):
        r = self.session.request(method, f"{self.url}/api/2.0/{path}", json=body, timeout=self.timeout,
                                 headers={"Authorization": f"Bearer {key or self.owner_key}"})
        assert r.status_code < 300, (method, path, r.status_code, r.text[:500])
        return r.json()["response"]

    def control(self, method, path, body=None, timeout=None):
        r = self.session.request(method, f"{self.url}/__emulator/{path}", json=body, timeout=timeout or self.timeout)
        assert r.status_code < 300, (method, path, r.status_code, r.text[:500])
        return r.json()

    def counters(self):
        return self.control("GET", "counters")

    def state(self):
        return self.control("GET", "state")

    def fault(self, **fault):
        return self.control("POST", "faults", fault)

    def subscribe(self, url, secret, ssl=False):
        # The HEAD probe reaches serve, which answers it (docs/docspace-api.md §1.10); 0 = every trigger.
        return self.rest("POST", "settings/webhook", {"name": "spacehook", "uri": url, "secretKey": secret,
                                                      "enabled": True, "ssl": ssl, "triggers": 0})

    def wait_idle(self, timeout=20):
        """Until no delivery or file operation is pending (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.control("POST", "wait-idle?timeoutMs=5000", timeout=15)["idle"]:
                return
        raise AssertionError(f"emulator not idle within {timeout}s")


class Serve:
    """`spacehook serve` with one config file on one SQLite store that outlives restarts; every restart
    listens on the port of the first start, where the portal keeps delivering. Its CLI runs on the same
    store. Suites subclass it for their waits."""

    def __init__(self, procs, tmp_path, portal, config, *, secret, key, smtp=None, extra_env=None,
                 log_format=None, wrap=None):
        self.bin = spacehook_bin()
        self.procs = procs
        self.tmp = tmp_path
        self.store = f"sqlite:{tmp_path / 'spacehook.db'}"
        self.config = tmp_path / "spacehook.yaml"
        self.config.write_text(config)
        self.env = clean_env(DOCSPACE_API_HOST=portal.url, DOCSPACE_API_KEY=key, DOCSPACE_WEBHOOK_SECRET=secret)
        if smtp:
            self.env.update(SMTP_URL=smtp.url, MAIL_FROM="spacehook <bot@example.com>")
        self.env.update(extra_env or {})
        self.log_format = log_format
        self.wrap = list(wrap or [])  # a command the serve command line is appended to
        self.port = 0  # the first start picks a free port
        self.starts = 0
        self.proc = None
        self.start()

    def start(self, timeout=20.0):
        self.starts += 1
        name = f"serve-{self.starts}"
        ready = self.tmp / f"{name}.ready"
        args = self.wrap + [self.bin, "serve", "--listen", f"127.0.0.1:{self.port}", "--admin-listen", "127.0.0.1:0",
                            "--store", self.store, "--config", str(self.config), "--ready-file", str(ready)]
        if self.log_format:
            args += ["--log-format", self.log_format]
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.proc = self.procs.start(args, ready, env=self.env, log_path=self.tmp / f"{name}.log")
                break
            except RuntimeError:
                # The port of a killed process may take a moment to be free again.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.port = self.proc.port
        return self.proc

    def kill(self):
        """SIGKILL: no drain, no release, leases left to expire."""
        self.proc.popen.send_signal(signal.SIGKILL)
        self.proc.popen.wait(10)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self):
        return self.proc.admin_url

    @property
    def webhook_url(self):
        return self.url + "/docspace/webhook"

    def logs(self):
        """Every start's log, in order."""
        return "".join((self.tmp / f"serve-{n}.log").read_text(errors="replace") for n in range(1, self.starts + 1)
                       if (self.tmp / f"serve-{n}.log").exists())

    def cli(self, *args, check=True):
        out = subprocess.run([self.bin, *args, "--store", self.store], capture_output=True, text=True, timeout=60,
                             env=clean_env())
        if check:
            assert out.returncode == 0, out.stdout + out.stderr
        return out

    def runs(self):
        return json.loads(self.cli("runs", "list", "--json", "--limit", "10000").stdout)["runs"]

    def events(self):
        return json.loads(self.cli("events", "list", "--json", "--limit", "10000").stdout)["events"]

    def dead_letters(self):
        return json.loads(self.cli("dlq", "list", "--json", "--limit", "10000").stdout)["dead_letters"]

    def metrics(self):
        return requests.get(self.admin_url + "/metrics", timeout=10).text


class HttpReceiver:
    """An HTTP endpoint on 127.0.0.1, port 0, standing in for a webhook receiver or a chat service.

    Every POST is recorded in `posts` (arrival time, path, lower-cased headers, the exact body bytes, the
    status answered) and answered by `answer(path, body, index)`, which returns a status or (status, text);
    HEAD (DocSpace's probe) answers `head_status` and is counted in `heads`."""

    def __init__(self, answer=lambda path, body, index: 200, head_status=200, path="/hook"):
        self.answer = answer
        self.head_status = head_status
        self.path = path
        self.posts = []
        self.heads = 0
        self.cond = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_HEAD(self):
                with outer.cond:
                    outer.heads += 1
                self.send_response(outer.head_status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.cond:
                    answered = outer.answer(self.path, body, len(outer.posts))
                    status, text = answered if isinstance(answered, tuple) else (answered, "")
                    outer.posts.append({"at": time.monotonic(), "path": self.path, "body": body, "status": status,
                                        "headers": {k.lower(): v for k, v in self.headers.items()}})
                    outer.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(text.encode())))
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"

    def received(self):
        with self.cond:
            return list(self.posts)

    def wait(self, n, timeout=10.0):
        """The posts once there are `n` (or all there are after `timeout` s)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.posts) < n and time.monotonic() < deadline:
                self.cond.wait(deadline - time.monotonic())
            return list(self.posts)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


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
        p.stop()
