"""Several `spacehook serve` replicas on one PostgreSQL (docs/replicas.md), behind a load balancer.

`spacehook emulator` is the portal: it sends signed webhooks to one URL, a small load balancer in this
file, which hands them to the replicas in turn (or, to test de-duplication, to every replica at once),
as a real one in front of a scaled-out service would. The database is a throwaway PostgreSQL that
`spacehook-test-postgres` starts (initdb + postgres on a free loopback port, as a non-root user); the
tests skip cleanly where PostgreSQL's server is not installed. Effects are counted where they land: in
the emulator's counters and state dump.

    /usr/bin/python3 -m pytest tests/functional/test_replicas.py
"""
import http.client
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from conftest import spacehook_bin
from loopback import BUILD_COMMAND, Emulator, clean_env, iso_seconds, wait_for

SECRET = "replicas-Secret-0042"
OWNER_KEY = "sk-emulator-owner"
SERVICE_KEY = "sk-emulator-spacehook"
SERVICE_ID = "2f1b7c3a-5d4e-4c1b-9a8f-000000000002"

REPLICA_SETTINGS = """
runner:
  workers: 2
  lease: 2s
  retry: { base: 500ms, max: 1s, multiplier: 1, jitter: 0, max_attempts: 50, budget: 5m }
  shutdown_grace: 10s
docspace:
  timeouts: { connect: 2s, total: 5s }
  operation_poll: { interval: 50ms, timeout: 30s }
"""

# One run per uploaded file: a case folder in the file's room, a copy of the file into it (an awaited
# file operation), and a Notes folder inside. Runs in one room share its lock (room:<id>).
CASE_RULES = """
rules:
  - name: case
    on: file.created
    do:
      - create_folder: { in: "{{ room.id }}", title: "Case {{ entity.title }}" }
        id: case
      - copy: { to: "{{ steps.case.id }}" }
      - create_folder: { in: "{{ steps.case.id }}", title: Notes }
"""


def pg_server_bin() -> str:
    """spacehook-test-postgres: $SPACEHOOK_TEST_POSTGRES, else next to the spacehook binary's build."""
    path = os.environ.get("SPACEHOOK_TEST_POSTGRES")
    if not path:
        path = str(Path(spacehook_bin()).resolve().parents[1] / "store" / "spacehook-test-postgres")
    if not os.path.exists(path):
        pytest.fail(f"spacehook-test-postgres not found at {path}: build it with "
                    f"`{BUILD_COMMAND} --target spacehook_test_postgres` (or point SPACEHOOK_TEST_POSTGRES at one)",
                    pytrace=False)
    return path


@pytest.fixture
def postgres(procs, tmp_path):
    """A fresh PostgreSQL server with an empty database; its URL. Skips without PostgreSQL's server."""
    ready = tmp_path / "postgres.ready"
    log = tmp_path / "postgres.log"
    try:
        proc = procs.start([pg_server_bin(), "--ready-file", str(ready), "--database", "spacehook"], ready,
                           log_path=log)
    except RuntimeError as e:
        if "PostgreSQL server binaries not found" in str(e) and os.environ.get("SPACEHOOK_REQUIRE_PG") != "1":
            pytest.skip("PostgreSQL's server is not installed (Debian: apt-get install postgresql)")
        raise
    return proc.info["url"]


# --- the load balancer -----------------------------------------------------------------------------

class LoadBalancer:
    """What sits in front of the replicas: every request goes to the next replica in turn; a replica
    that refuses the connection (dead) is skipped, as a load balancer with health checks would. In
    `mirror` mode every request goes to every replica at once (a redelivery landing on two replicas
    together, at its most extreme), and the first answer is returned."""

    def __init__(self, mirror=False):
        self.upstreams = []
        self.mirror = mirror
        self.forwarded = 0
        self.lock = threading.Lock()
        self.turn = itertools.count()
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                status, answer, answer_headers = balancer.forward(self.command, self.path, headers, body)
                self.send_response(status)
                for k, v in answer_headers:
                    if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer)

            do_POST = do_GET = do_HEAD = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @staticmethod
    def _send(upstream, method, path, headers, body):
        conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=30)
        try:
            conn.request(method, path, body=body if method != "HEAD" else None, headers=headers)
            r = conn.getresponse()
            return r.status, r.read(), r.getheaders()
        finally:
            conn.close()

    def forward(self, method, path, headers, body):
        with self.lock:
            self.forwarded += 1
            upstreams = list(self.upstreams)
        if self.mirror:
            with ThreadPoolExecutor(len(upstreams)) as pool:
                futures = [pool.submit(self._send, u, method, path, headers, body) for u in upstreams]
                answers = []
                for f in futures:
                    try:
                        answers.append(f.result())
                    except OSError:
                        pass
            return answers[0] if answers else (502, b"no replica answered", [])
        start = next(self.turn)
        for i in range(len(upstreams)):
            upstream = upstreams[(start + i) % len(upstreams)]
            try:
                return self._send(upstream, method, path, headers, body)
            except ConnectionRefusedError:
                continue  # a dead replica: the next one
            except OSError:
                return 502, b"replica failed mid-request", []
        return 502, b"no replica answered", []

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def balancer():
    lb = LoadBalancer()
    yield lb
    lb.close()


# --- the portal and the replicas ---------------------------------------------------------------------

class Portal(Emulator):
    """`spacehook emulator` (the default seed)."""

    def __init__(self, procs, tmp_path, operation_delay_ms=100):
        super().__init__(procs, tmp_path, retry_base=0.2, operation_delay_ms=operation_delay_ms, timeout=30)

    def create_room(self, title):
        return self.rest("POST", "files/rooms", body={"title": title, "roomType": 5})["id"]

    def upload(self, title, folder, user="owner"):
        return self.control("POST", "upload", {"user": user, "folderId": folder, "title": title})

    def subscribe(self, url, secret=SECRET, ssl=False):
        return super().subscribe(url, secret, ssl)

def find_all(state, predicate):
    found = []

    def walk(node):
        if predicate(node):
            found.append(node)
        for key in ("folders", "files"):
            for child in node.get(key, []):
                walk(child)
    for section in state["tree"]:
        walk(section)
    return found


class Replicas:
    """N `spacehook serve` processes on one PostgreSQL store, each registered with the balancer."""

    def __init__(self, procs, tmp_path, portal, store_url, balancer, count, config):
        self.bin = spacehook_bin()
        self.procs = procs
        self.tmp = tmp_path
        self.store = store_url
        self.balancer = balancer
        self.config = tmp_path / "spacehook.yaml"
        self.config.write_text(config)
        self.env = clean_env(DOCSPACE_API_HOST=portal.url, DOCSPACE_API_KEY=SERVICE_KEY,
                             DOCSPACE_WEBHOOK_SECRET=SECRET)
        # Started one after the other: the first migrates, the others find the schema in place. (The
        # migration race itself is store_pg_test's ReplicasStartingTogetherMigrateOnce.)
        self.procs_list = [self._start(i) for i in range(count)]
        balancer.upstreams = [p.port for p in self.procs_list]

    def _start(self, i):
        ready = self.tmp / f"replica-{i}.ready"
        return self.procs.start([self.bin, "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
                                 "--store", self.store, "--config", str(self.config), "--ready-file", str(ready)],
                                ready, env=self.env, log_path=self.tmp / f"replica-{i}.log")

    @property
    def webhook_url(self):
        return self.balancer.url + "/docspace/webhook"

    def cli(self, *args):
        out = subprocess.run([self.bin, *args, "--store", self.store], capture_output=True, text=True, timeout=60,
                             env=clean_env())
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    def runs(self):
        return json.loads(self.cli("runs", "list", "--json", "--limit", "1000"))["runs"]

    def steps(self, run_id):
        return json.loads(self.cli("runs", "show", str(run_id), "--json"))["steps"]

    def events(self):
        return json.loads(self.cli("events", "list", "--json", "--limit", "10000"))["events"]

    def metric(self, proc, name):
        text = requests.get(proc.admin_url + "/metrics", timeout=10).text
        return sum(float(line.rpartition(" ")[2]) for line in text.splitlines()
                   if line.startswith(name) and not line.startswith("#"))

    def wait_runs(self, n, timeout=120):
        def settled():
            runs = self.runs()
            return runs if len(runs) >= n and all(r["state"] == "done" for r in runs) else None
        try:
            return wait_for(settled, timeout, f"{n} runs done", interval=0.3)
        except AssertionError:
            print(json.dumps(self.runs(), indent=1), file=sys.stderr)
            for i, p in enumerate(self.procs_list):
                print(f"--- replica {i}\n{p.output()[-3000:]}", file=sys.stderr)
            raise


def assert_cases_once(portal, titles):
    """Each upload's run did its work exactly once: one case folder holding one copy and one Notes."""
    state = portal.state()
    counters = portal.counters()
    for title in titles:
        cases = find_all(state, lambda n: n.get("title") == f"Case {title}")
        assert len(cases) == 1, (title, cases)
        assert [f["title"] for f in cases[0].get("files", [])] == [title], cases[0]
        assert [f["title"] for f in cases[0].get("folders", [])] == ["Notes"], cases[0]
    assert counters.get("folders_created") == 2 * len(titles), counters
    assert counters.get("copy_operations") == len(titles), counters


def intervals_overlap(spans):
    spans = sorted(spans)
    return any(b[0] < a[1] for a, b in zip(spans, spans[1:]))


# --- the tests ---------------------------------------------------------------------------------------

def test_a_delivery_reaching_every_replica_at_once_is_journaled_and_run_once(procs, tmp_path, postgres):
    lb = LoadBalancer(mirror=True)
    try:
        portal = Portal(procs, tmp_path)
        replicas = Replicas(procs, tmp_path, portal, postgres, lb, 2, REPLICA_SETTINGS + CASE_RULES)
        portal.subscribe(replicas.webhook_url)
        room = portal.create_room("Mirrored")
        titles = [f"Mirror-{n}.docx" for n in range(6)]
        for title in titles:
            portal.upload(title, room)
        replicas.wait_runs(len(titles))
        portal.wait_idle()
        wait_for(lambda: all(e["state"] != "pending" for e in replicas.events()), 30, "every event dispatched")

        # Every delivery reached both replicas; each (webhook, event) is in the journal once.
        events = replicas.events()
        keys = [(e["webhook_id"], e["event_id"]) for e in events]
        assert len(keys) == len(set(keys)), events
        assert len([e for e in events if e["trigger"] == "file.created" and e["actor"] != SERVICE_ID]) == len(titles)
        stored = sum(replicas.metric(p, 'spacehook_deliveries_total{outcome="stored"}') for p in replicas.procs_list)
        duplicates = sum(replicas.metric(p, 'spacehook_deliveries_total{outcome="duplicate"}')
                         for p in replicas.procs_list)
        assert stored == len(events), (stored, len(events))
        assert duplicates >= len(events), (duplicates, len(events))  # the other replica's copy of each
        assert len(replicas.runs()) == len(titles)
        assert_cases_once(portal, titles)
    finally:
        lb.close()


def test_three_replicas_share_a_burst_and_run_nothing_twice(procs, tmp_path, postgres, balancer):
    portal = Portal(procs, tmp_path)
    replicas = Replicas(procs, tmp_path, portal, postgres, balancer, 3, REPLICA_SETTINGS + CASE_RULES)
    portal.subscribe(replicas.webhook_url)
    rooms = [portal.create_room(f"Team {c}") for c in "ABC"]
    titles = []
    for n in range(18):
        title = f"Burst-{n}.docx"
        titles.append(title)
        portal.upload(title, rooms[n % len(rooms)])

    runs = replicas.wait_runs(len(titles))
    assert len(runs) == len(titles)
    assert_cases_once(portal, titles)
    # The work was shared: runs finished on more than one replica.
    done_per_replica = [replicas.metric(p, 'spacehook_runs_total{outcome="done",') for p in replicas.procs_list]
    assert sum(done_per_replica) == len(titles), done_per_replica
    assert sum(1 for d in done_per_replica if d > 0) >= 2, done_per_replica
    # Per-room serialization held across replicas: the runs of one room never overlapped in time.
    by_room = {}
    for run in runs:
        steps = replicas.steps(run["id"])
        assert len(steps) == 3 and all(s["status"] == "done" for s in steps), steps
        span = (iso_seconds(steps[0]["started_at"]), iso_seconds(steps[-1]["finished_at"]))
        by_room.setdefault(run["lock_key"], []).append(span)
    assert sorted(by_room) == sorted(f"room:{r}" for r in rooms), by_room.keys()
    for key, spans in by_room.items():
        assert not intervals_overlap(spans), (key, sorted(spans))


def test_a_replica_killed_mid_burst_leaves_its_runs_to_the_others(procs, tmp_path, postgres, balancer):
    # Slow file operations keep runs inside their copy step long enough to kill a replica there.
    portal = Portal(procs, tmp_path, operation_delay_ms=600)
    replicas = Replicas(procs, tmp_path, portal, postgres, balancer, 3, REPLICA_SETTINGS + CASE_RULES)
    portal.subscribe(replicas.webhook_url)
    rooms = [portal.create_room(f"Desk {c}") for c in "ABC"]
    titles = [f"Kill-{n}.docx" for n in range(9)]
    for n, title in enumerate(titles):
        portal.upload(title, rooms[n % len(rooms)])

    # The victim: a replica holding a run's lease while the run is inside its copy (step 1).
    pids = {p.info["pid"]: p for p in replicas.procs_list}

    def victim():
        for run in replicas.runs():
            if run["state"] == "running" and run["next_step"] == 1 and run["lease_owner"]:
                pid = int(run["lease_owner"].split(":")[-2])
                if pid in pids:
                    return pid, run["id"]
        return None
    pid, run_id = wait_for(victim, 60, "a run inside its copy step", interval=0.05)
    pids[pid].popen.send_signal(signal.SIGKILL)
    pids[pid].popen.wait(10)
    held = [r for r in replicas.runs() if r["state"] == "running" and f":{pid}:" in r["lease_owner"]]
    assert any(r["id"] == run_id for r in held), held  # the dead replica's lease is still in the database

    # The others take its runs over once the leases (runner.lease 2s) expire, and finish everything.
    runs = replicas.wait_runs(len(titles))
    taken = next(r for r in runs if r["id"] == run_id)
    assert taken["attempts"] >= 1, taken  # the takeover was counted
    assert_cases_once(portal, titles)
    survivors = [p for p in replicas.procs_list if p.info["pid"] != pid]
    assert sum(replicas.metric(p, 'spacehook_runs_total{outcome="done",') for p in survivors) >= 1
    assert all(p.popen.poll() is None for p in survivors)


def psql(url, sql):
    out = subprocess.run(["psql", url, "-Atc", sql], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_replicas_share_the_portals_rate_limit_and_a_429_pauses_them_all(procs, tmp_path, postgres, balancer):
    if not shutil.which("psql"):
        pytest.skip("psql not installed")
    settings = REPLICA_SETTINGS + "  rate_limit: { per_second: 20, burst: 5 }\n"
    portal = Portal(procs, tmp_path)
    replicas = Replicas(procs, tmp_path, portal, postgres, balancer, 2, settings + CASE_RULES)
    portal.subscribe(replicas.webhook_url)
    for p in replicas.procs_list:
        assert "shared by replicas (store)" in p.output(), p.output()[-2000:]
    # The portal's limiter answers the first case-folder creation with a 429 and Retry-After: 3.
    portal.control("POST", "faults", {"kind": "status", "status": 429, "retryAfter": 3, "count": 1,
                                      "method": "POST", "pathPrefix": "/api/2.0/files/folder/"})
    rooms = [portal.create_room(f"Limited {c}") for c in "AB"]
    titles = [f"Limited-{n}.docx" for n in range(4)]
    started = time.time()
    for n, title in enumerate(titles):
        portal.upload(title, rooms[n % 2])
    replicas.wait_runs(len(titles))
    assert_cases_once(portal, titles)
    assert portal.counters().get("faults_injected") == 1

    # One bucket for the portal, in the shared database, and the 429's pause is in it: every replica
    # read it before its next call, not only the one that got the 429.
    rows = psql(postgres, "SELECT key, paused_until FROM rate_limits").splitlines()
    assert len(rows) == 1, rows
    key, paused_until = rows[0].split("|")
    assert key == "docspace:" + portal.url.lower()
    assert started + 2.5 <= int(paused_until) / 1000 <= time.time() + 1, (started, paused_until)
