#!/usr/bin/python3
"""spacehook against the receivers users would otherwise run (seed 001's Express and Flask samples), in one
run on loopback, with a bare HTTP 202 server of spacehook's own HTTP stack as the ceiling.

Every cell starts fresh processes: a DocSpace emulator seeded with a pool of rooms, the system under test
pointed at it (DOCSPACE_API_HOST / DOCSPACE_API_KEY / DOCSPACE_WEBHOOK_SECRET), and wrk replaying
pre-signed deliveries over 64 keep-alive connections for a fixed time. Paths:

  room-setup   signed room.created deliveries, one per pooled room; each system runs seed 001's automation
               (folders Documents, Tasks, Archive + access for a manager, an editor, a viewer and the HR
               group). Measured at API latency 0 and 20 ms (the emulator's PUT /__emulator/latency).
  paced        the room-setup deliveries at a fixed offered rate (--paced-rate, default 400/s: below what
               every system sustains) at API latency 20 ms instead of as fast as each system answers:
               ack latency as a sender sees it when the machine is not saturated.
  ignored      a signed trigger no rule and no sample listens to (room.updated): verify + ack.
  bad-sig      a valid body with a wrong signature: the rejection path.
  ceiling      spacehook_bench_ceiling (http::Server answering 202, nothing behind it).

Figures per cell: acked deliveries/s (2xx over wrk's duration), ack latency p50/p99 (wrk), automations
completed/s (rooms fully provisioned in the emulator's state dump: each of the three folders once and the
four members with their access, counted after the system is frozen with SIGSTOP at the end of the load,
never assumed from acks), API calls per automation (the emulator's api_calls counter over the cell / rooms
completed), CPU ms per delivery (utime+stime of the system's process from /proc/<pid>/stat over the cell /
acked), RSS idle (VmRSS after start, before load) and peak (VmHWM), and duplicates (rooms with a folder
title twice). For spacehook, whose acks do not wait for the automation, the backlog it keeps working on
after the load stops is measured too (drain rate, --drain seconds without load).

Usage (bench/README.md): bench/compare/run [--reps N] [--duration S] [--connections C] ...
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import samples  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SECRET = "bench-Secret-0001"
WRONG_SECRET = "not-the-Secret-01"
SERVICE_KEY = "sk-emulator-spacehook"   # the emulator's service account (a DocSpace admin)
OWNER_ID = "66faa6e4-f133-11ea-b126-00ffeec8b4ef"  # event.createBy: a person, not the service account
PATH = "/docspace/webhook"
ROOM_BASE = 100000          # pooled rooms get ids ROOM_BASE..ROOM_BASE+pool-1
MISSING_BASE = 50_000_000   # room.created for rooms that do not exist (only reached if the pool runs out)
CLK_TCK = os.sysconf("SC_CLK_TCK")
SYSTEMS = ("spacehook", "express", "flask")
TRIGGER_IDS = {"room.created": 4194304, "room.updated": 8388608}


# --- deliveries ----------------------------------------------------------------------------------------

def body_for(event_id: int, room_id: int, trigger: str = "room.created") -> bytes:
    """A room.created body shaped like DocSpace's (docs/docspace-api.md §1.6), compact as on the wire."""
    body = {
        "event": {"id": event_id, "createOn": "2026-06-30T10:20:00Z", "createBy": OWNER_ID,
                  "trigger": trigger, "triggerId": TRIGGER_IDS[trigger]},
        "payload": {"id": room_id, "parentId": 1, "securityByUsers": {}, "folderIdDisplay": 1, "rootId": 1,
                    "title": f"Client {room_id}", "createBy": OWNER_ID, "modifiedBy": OWNER_ID,
                    "createOn": "2026-06-30T10:20:00Z", "modifiedOn": "2026-06-30T10:20:00Z",
                    "rootFolderType": 14, "rootCreateBy": OWNER_ID, "fileEntryType": 1},
        "webhook": {"id": 7, "name": "bench", "url": "https://hooks.example.com/docspace",
                    "triggers": ["room.created"]},
    }
    return json.dumps(body, separators=(",", ":")).encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    # DocSpace sends UPPER-case hex (docs/docspace-api.md §1.3).
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().upper()


def http_request(body: bytes, signature: str) -> bytes:
    head = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n"
            f"Content-Type: application/json; charset=utf-8\r\n"
            f"x-docspace-signature-256: {signature}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    return head + body


def write_requests(prefix: Path, kind: str, count: int, pool: int, first_event: int) -> None:
    """One file of `count` complete requests (the wrk script's format: 8-digit length + request).
    room-setup: the first `pool` target the pooled rooms in order, the rest rooms that do not exist (the
    driver reports it if anything reached them). ignored: distinct event ids. bad-sig: signed with
    another secret."""
    with open(f"{prefix}.0", "wb") as out:
        for n in range(count):
            event_id = first_event + n
            if kind == "room-setup":
                room = ROOM_BASE + n if n < pool else MISSING_BASE + n
                body = body_for(event_id, room)
                request = http_request(body, sign(body))
            elif kind == "ignored":
                body = body_for(event_id, ROOM_BASE + (n % max(pool, 1)), "room.updated")
                request = http_request(body, sign(body))
            else:  # bad-sig (and the ceiling, which reads nothing)
                body = body_for(event_id, ROOM_BASE + (n % max(pool, 1)))
                request = http_request(body, sign(body, WRONG_SECRET))
            out.write(b"%08d" % len(request))
            out.write(request)


# --- processes -----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / CLK_TCK  # utime, stime


def status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def machine_busy_ticks() -> tuple[int, int]:
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts[:8]) - idle, sum(parts[:8])


def busy_cpus(seconds: float = 1.0) -> float:
    """How many CPUs the whole machine kept busy over the next `seconds`."""
    b0, t0 = machine_busy_ticks()
    time.sleep(seconds)
    b1, t1 = machine_busy_ticks()
    return (b1 - b0) / max(t1 - t0, 1) * os.cpu_count()


def wait_quiet(args) -> tuple[float, float]:
    """Waits (up to --quiet-wait s) until the machine, with nothing of ours running, keeps less than
    --quiet CPUs busy. Returns (busy CPUs last seen, seconds waited)."""
    started = time.monotonic()
    while True:
        busy = busy_cpus()
        waited = time.monotonic() - started
        if busy <= args.quiet or waited >= args.quiet_wait:
            return round(busy, 2), round(waited, 1)
        time.sleep(2)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Proc:
    def __init__(self, name: str, argv: list[str], env: dict, cwd: Path, log: Path):
        self.name = name
        self.log_path = log
        self.log = open(log, "wb")
        self.popen = subprocess.Popen(argv, env=env, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self, timeout: float = 15) -> None:
        if self.alive():
            try:
                os.kill(self.pid, signal.SIGCONT)
                self.popen.send_signal(signal.SIGTERM)
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self.log.close()


def wait_ready_file(proc: Proc, path: Path, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if not proc.alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{proc.name} did not start: {proc.tail()}")
        time.sleep(0.02)
    return json.loads(path.read_text())


def wait_http(proc: Proc, url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited: {proc.tail()}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{proc.name} does not answer {url}: {proc.tail()}")
            time.sleep(0.05)


def post(url: str, body: bytes, headers: dict, timeout: float = 30) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Emulator:
    def __init__(self, args, work: Path, seed_file: Path, tag: str):
        ready = work / f"emulator-{tag}.ready"
        self.proc = Proc("emulator", [args.bin, "emulator", "--listen", "127.0.0.1:0", "--seed", str(seed_file),
                                      "--ready-file", str(ready), "--log-level", "warn"],
                         clean_env(), work, work / f"emulator-{tag}.log")
        self.url = f"http://127.0.0.1:{wait_ready_file(self.proc, ready, 120)['port']}"

    def control(self, method: str, what: str, body=None, timeout: float = 120):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/__emulator/{what}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"null")

    def latency(self, ms: int) -> None:
        self.control("PUT", "latency", {"ms": ms})

    def counters(self) -> dict:
        return self.control("GET", "counters")

    def state(self) -> dict:
        return self.control("GET", "state")

    def stop(self) -> None:
        self.proc.stop()


def clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith(("DOCSPACE_", "SPACEHOOK_", "PORT"))}


def system_env(emulator_url: str, port: int | None = None) -> dict:
    env = clean_env()
    env.update({"DOCSPACE_API_HOST": emulator_url, "DOCSPACE_API_KEY": SERVICE_KEY,
                "DOCSPACE_WEBHOOK_SECRET": SECRET, "NODE_ENV": "production"})
    if port is not None:
        env["PORT"] = str(port)
    return env


def start_system(args, system: str, work: Path, emulator_url: str, tag: str) -> tuple[Proc, str]:
    """Starts one system under test; returns it and its webhook URL."""
    if system == "spacehook":
        ready = work / f"spacehook-{tag}.ready"
        env = system_env(emulator_url)
        env.update(args.rule_env)
        argv = [args.bin, "serve", "--config", str(args.service_config), "--config", str(args.rules),
                "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
                "--store", f"sqlite:{work / f'journal-{tag}.db'}", "--ready-file", str(ready)]
        proc = Proc("spacehook", argv, env, work, work / f"spacehook-{tag}.log")
        info = wait_ready_file(proc, ready)
        proc.admin_url = f"http://127.0.0.1:{info['admin_port']}"
        return proc, f"http://127.0.0.1:{info['port']}{PATH}"
    if system == "ceiling":
        ready = work / f"ceiling-{tag}.ready"
        proc = Proc("ceiling", [args.ceiling_bin, "--listen", "127.0.0.1:0", "--ready-file", str(ready)],
                    clean_env(), work, work / f"ceiling-{tag}.log")
        port = wait_ready_file(proc, ready)["port"]
        return proc, f"http://127.0.0.1:{port}{PATH}"
    port = free_port()
    env = system_env(emulator_url, port)
    if system == "express":
        proc = Proc("express", ["node", str(args.express_file)], env, args.express_file.parent,
                    work / f"express-{tag}.log")
    else:
        proc = Proc("flask", ["/usr/bin/python3", str(args.flask_file)], env, args.flask_file.parent,
                    work / f"flask-{tag}.log")
    url = f"http://127.0.0.1:{port}{PATH}"
    wait_http(proc, url)  # both samples answer GET on the webhook path
    return proc, url


# --- the emulator's view -------------------------------------------------------------------------------

def write_seed(path: Path, pool: int) -> None:
    seed = {
        "users": [
            {"id": OWNER_ID, "user_name": "owner", "first_name": "Olivia", "last_name": "Owner", "type": "owner",
             "api_key": "sk-emulator-owner"},
            {"id": "2f1b7c3a-5d4e-4c1b-9a8f-000000000002", "user_name": "spacehook", "first_name": "Spacehook",
             "last_name": "Service", "type": "docspace_admin", "api_key": SERVICE_KEY},
            {"id": samples.MANAGER_ID, "user_name": "rachel.admin", "first_name": "Rachel", "last_name": "Admin",
             "type": "room_admin"},
            {"id": samples.EDITOR_ID, "user_name": "jane.doe", "first_name": "Jane", "last_name": "Doe",
             "type": "user"},
            {"id": samples.VIEWER_ID, "user_name": "gary.guest", "first_name": "Gary", "last_name": "Guest",
             "type": "guest"},
        ],
        "groups": [{"id": samples.HR_GROUP_ID, "name": "HR", "manager": "rachel.admin", "members": ["rachel.admin"]}],
        "rooms": [{"id": ROOM_BASE + n, "title": f"Client {ROOM_BASE + n}", "type": "custom"} for n in range(pool)],
    }
    path.write_text(json.dumps(seed))


def count_rooms(state: dict, pool: int) -> dict:
    """Rooms of the pool by how far the automation got, from the state dump."""
    provisioned = duplicates = partial = untouched = 0
    dup_examples = []
    for section in state["tree"]:
        for room in section.get("folders", []):
            rid = room.get("id")
            if not isinstance(rid, int) or not ROOM_BASE <= rid < ROOM_BASE + pool:
                continue
            titles = [f["title"] for f in room.get("folders", [])]
            members = {m["subject"]: m["access"] for m in room.get("members", [])}
            doubled = [t for t in samples.FOLDERS if titles.count(t) > 1]
            if doubled:
                duplicates += 1
                if len(dup_examples) < 5:
                    dup_examples.append({"room": rid, "folders": titles})
            folders_ok = all(titles.count(t) >= 1 for t in samples.FOLDERS)
            access_ok = all(members.get(s) == a for s, a in samples.EXPECTED_MEMBERS.items())
            if folders_ok and access_ok:
                provisioned += 1
            elif titles or any(s in members for s in samples.EXPECTED_MEMBERS):
                partial += 1
            else:
                untouched += 1
    return {"provisioned": provisioned, "partial": partial, "untouched": untouched, "duplicates": duplicates,
            "duplicate_examples": dup_examples}


# --- one cell ------------------------------------------------------------------------------------------

def run_wrk(args, url: str, prefix: Path, work: Path, rate: float = 0) -> tuple[dict, float]:
    """wrk for args.duration seconds, as fast as the server answers or at `rate` requests/s in all;
    returns its summary and the CPU ms wrk itself used."""
    argv = ["wrk", "-t", "1", "-c", str(args.connections), "-d", f"{args.duration}s", "--timeout", "10s",
            "--latency", "-s", str(ROOT / "bench" / "ingress" / "deliveries.lua"), url, "--", str(prefix)]
    if rate > 0:
        argv.append(f"{args.connections * 1000.0 / rate:.3f}")
    out_path, err_path = work / "wrk.out", work / "wrk.err"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        p = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"wrk failed ({p.returncode}): {err_path.read_text()[-2000:]}")
    line = next(l for l in out_path.read_text().splitlines() if l.startswith("BENCH "))
    return json.loads(line[len("BENCH "):]), (usage.ru_utime + usage.ru_stime) * 1000


def scrape(url: str) -> dict:
    try:
        text = urllib.request.urlopen(url, timeout=30).read().decode()
    except (urllib.error.URLError, OSError):
        return {}
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                values[name] = float(value)
            except ValueError:
                pass
    return values


def run_cell(args, work: Path, system: str, path: str, latency: int, rep: int, prefixes: dict) -> dict:
    tag = f"{system}-{path}-{latency}-{rep}"
    others_before, waited = wait_quiet(args)
    emulator = Emulator(args, work, args.seed_file, tag)
    proc = None
    try:
        emulator.latency(latency)
        proc, url = start_system(args, system, work, emulator.url, tag)
        time.sleep(args.settle)
        rss_idle = status_kb(proc.pid, "VmRSS")
        busy0, total0 = machine_busy_ticks()
        cpu0, emu_cpu0 = cpu_ms(proc.pid), cpu_ms(emulator.proc.pid)
        counters0 = emulator.counters()
        load_before = loadavg()
        before_wrk = time.monotonic()
        w, wrk_cpu = run_wrk(args, url, prefixes[path], work, args.paced_rate if path == "paced" else 0)
        automation = path in ("room-setup", "paced")
        frozen = automation
        if frozen:
            os.kill(proc.pid, signal.SIGSTOP)  # nothing more is done by it while the emulator is read
        cpu1, emu_cpu1 = cpu_ms(proc.pid), cpu_ms(emulator.proc.pid)
        busy1, total1 = machine_busy_ticks()
        rss_peak = status_kb(proc.pid, "VmHWM")
        wall = time.monotonic() - before_wrk
        seconds = w["duration_us"] / 1e6
        expected_status = 401 if path == "bad-sig" else 202 if system == "ceiling" else 200
        answered_ok = w["requests"] - w["errors_status"] if expected_status != 401 else w["errors_status"]
        cell = {
            "system": system, "path": path, "latency_ms": latency, "rep": rep,
            "duration_s": round(seconds, 3),
            "requests": w["requests"],
            "acked": answered_ok,
            "acked_per_s": round(answered_ok / seconds, 1),
            "unexpected_status": w["requests"] - answered_ok,
            "socket_errors": w["errors_connect"] + w["errors_read"] + w["errors_write"] + w["errors_timeout"],
            "p50_ms": w["latency_p50_us"] / 1000, "p90_ms": w["latency_p90_us"] / 1000,
            "p99_ms": w["latency_p99_us"] / 1000, "max_ms": w["latency_max_us"] / 1000,
            "cpu_ms": round(cpu1 - cpu0, 1),
            "cpu_ms_per_delivery": round((cpu1 - cpu0) / answered_ok, 4) if answered_ok else None,
            "rss_idle_mb": round(rss_idle / 1024, 1), "rss_peak_mb": round(rss_peak / 1024, 1),
            "wraps": w["wraps"],
            "load_before": load_before,
            # What the machine did besides this cell's system and emulator (wrk included), in CPUs.
            "machine_busy_cpus": round((busy1 - busy0) / max(total1 - total0, 1) * os.cpu_count(), 2),
            # Other work on the machine: before the cell (nothing of ours running) and during it (the
            # machine's busy time minus the system's, the emulator's and wrk's CPU).
            "others_cpus_before": others_before, "quiet_wait_s": waited,
            "others_cpus_during": round(max(0.0, ((busy1 - busy0) * 1000 / CLK_TCK - (cpu1 - cpu0)
                                                  - (emu_cpu1 - emu_cpu0) - wrk_cpu) / (wall * 1000)), 2),
            "emulator_cpu_ms": round(emu_cpu1 - emu_cpu0, 1),
            "wrk_cpu_ms": round(wrk_cpu, 1),
            "wall_s": round(wall, 2),
        }
        if automation:
            counters1 = emulator.counters()
            rooms = count_rooms(emulator.state(), args.pool)
            calls = counters1.get("api_calls", 0) - counters0.get("api_calls", 0)
            cell.update({
                "automations": rooms["provisioned"],
                "automations_per_s": round(rooms["provisioned"] / seconds, 1),
                "rooms_partial": rooms["partial"], "duplicates": rooms["duplicates"],
                "duplicate_examples": rooms["duplicate_examples"],
                "api_calls": calls,
                "api_calls_by_method": {k.split(".", 1)[1]: v - counters0.get(k, 0)
                                        for k, v in counters1.items() if k.startswith("api_calls.")},
                "api_calls_per_automation": round(calls / rooms["provisioned"], 2) if rooms["provisioned"] else None,
                "pool_exhausted": rooms["provisioned"] + rooms["partial"] >= args.pool,
            })
            if system == "spacehook" and args.drain > 0:
                os.kill(proc.pid, signal.SIGCONT)
                time.sleep(args.drain)
                os.kill(proc.pid, signal.SIGSTOP)
                drained = count_rooms(emulator.state(), args.pool)
                cell["drain_s"] = args.drain
                cell["drain_automations_per_s"] = round((drained["provisioned"] - rooms["provisioned"]) / args.drain, 1)
                cell["duplicates_after_drain"] = drained["duplicates"]
                cell["pool_exhausted"] = cell["pool_exhausted"] or drained["provisioned"] + drained["partial"] >= args.pool
            os.kill(proc.pid, signal.SIGCONT)
        if system == "spacehook":
            m = scrape(proc.admin_url + "/metrics")
            cell["journal_events"] = int(m.get("spacehook_journal_events", 0))
            cell["store_commits"] = int(m.get("spacehook_store_commits_total", 0))
            cell["duplicates_answered"] = int(m.get('spacehook_deliveries_total{outcome="duplicate"}', 0))
        return cell
    finally:
        if proc is not None:
            proc.stop()
        emulator.stop()
        for journal in work.glob(f"journal-{tag}.db*"):
            journal.unlink()  # hundreds of MB per spacehook cell


# --- probes: does each system do the automation at all, as published and as measured? -----------------

def probe(args, work: Path, system: str, express_file: Path | None = None, flask_file: Path | None = None) -> dict:
    """One room.created (upper-case hex, as DocSpace signs), one bad signature and one ignored trigger
    against a fresh emulator; what the room looks like afterwards."""
    saved = (args.express_file, args.flask_file)
    if express_file:
        args.express_file = express_file
    if flask_file:
        args.flask_file = flask_file
    tag = f"probe-{system}-{'published' if (express_file or flask_file) else 'measured'}"
    emulator = Emulator(args, work, args.probe_seed_file, tag)
    proc = None
    try:
        proc, url = start_system(args, system, work, emulator.url, tag)
        good = body_for(1, ROOM_BASE)
        ignored = body_for(2, ROOM_BASE + 1, "room.updated")
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "*/*"}
        st_good, _ = post(url, good, {**headers, "x-docspace-signature-256": sign(good)})
        st_bad, _ = post(url, good, {**headers, "x-docspace-signature-256": sign(good, WRONG_SECRET)})
        st_ign, _ = post(url, ignored, {**headers, "x-docspace-signature-256": sign(ignored)})
        deadline = time.monotonic() + 15
        rooms = count_rooms(emulator.state(), 2)
        while system == "spacehook" and rooms["provisioned"] < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
            rooms = count_rooms(emulator.state(), 2)
        room = next(r for s in emulator.state()["tree"] for r in s.get("folders", []) if r.get("id") == ROOM_BASE)
        return {"status_room_created": st_good, "status_bad_signature": st_bad, "status_ignored": st_ign,
                "room_folders": [f["title"] for f in room.get("folders", [])],
                "room_members": {m["subject"]: m["access"] for m in room.get("members", [])},
                "provisioned": rooms["provisioned"] == 1}
    finally:
        if proc is not None:
            proc.stop()
        emulator.stop()
        args.express_file, args.flask_file = saved


# --- summary -------------------------------------------------------------------------------------------

FIGURES = [  # key, label, format, higher is better
    ("acked_per_s", "acked/s", "{:.0f}", True),
    ("p50_ms", "p50 ms", "{:.2f}", False),
    ("p99_ms", "p99 ms", "{:.2f}", False),
    ("automations_per_s", "autom/s", "{:.0f}", True),
    ("drain_automations_per_s", "drain/s", "{:.0f}", True),
    ("api_calls_per_automation", "calls/aut", "{:.2f}", False),
    ("cpu_ms_per_delivery", "CPU ms/dlv", "{:.3f}", False),
    ("rss_idle_mb", "RSS idle MB", "{:.1f}", False),
    ("rss_peak_mb", "RSS peak MB", "{:.1f}", False),
    ("duplicates", "dups", "{:.0f}", False),
]


def summarize(cells: list[dict]) -> dict:
    groups: dict[str, list[dict]] = {}
    for c in cells:
        groups.setdefault(f"{c['system']}/{c['path']}/{c['latency_ms']}", []).append(c)
    out = {}
    for key, cs in groups.items():
        fig = {}
        for name, *_ in FIGURES + [("machine_busy_cpus", "", "", False), ("others_cpus_during", "", "", False), ("unexpected_status", "", "", False),
                                   ("socket_errors", "", "", False), ("wraps", "", "", False)]:
            values = [c[name] for c in cs if c.get(name) is not None]
            if values:
                fig[name] = {"median": statistics.median(values), "min": min(values), "max": max(values),
                             "n": len(values)}
        out[key] = fig
    return out


def fmt_cell(fig: dict, name: str, form: str) -> str:
    if name not in fig:
        return "-"
    f = fig[name]
    if f["n"] == 1 or f["min"] == f["max"]:
        return form.format(f["median"])
    return f"{form.format(f['median'])} [{form.format(f['min'])}-{form.format(f['max'])}]"


def ratio(a, b):
    if a is None or b in (None, 0):
        return None
    return round(a / b, 2)


def report(summary: dict, args) -> tuple[list[str], dict, list[dict]]:
    lines = []
    order = []
    for path, latencies in (("room-setup", args.latencies), ("paced", [20]), ("ignored", [0]), ("bad-sig", [0]),
                            ("ceiling", [0])):
        for latency in latencies:
            for system in (("ceiling",) if path == "ceiling" else SYSTEMS):
                key = f"{system}/{path}/{latency}"
                if key in summary:
                    order.append((path, latency, system, key))
    header = f"{'path':<11} {'API':>5} {'system':<9} " + " ".join(f"{label:>22}" for _, label, _, _ in FIGURES)
    lines.append("medians over the repetitions [min-max]")
    lines.append(header)
    for path, latency, system, key in order:
        fig = summary[key]
        row = f"{path:<11} {str(latency) + 'ms':>5} {system:<9} " + " ".join(
            f"{fmt_cell(fig, name, form):>22}" for name, _, form, _ in FIGURES)
        lines.append(row)

    # spacehook / sample, per figure, on each path and latency.
    ratios = {}
    lines.append("")
    lines.append("spacehook / sample (medians; higher is better for rates, lower for ms, MB, calls)")
    lines.append(f"{'path':<11} {'API':>5} {'vs':<9} " + " ".join(f"{label:>12}" for _, label, _, _ in FIGURES[:-1]))
    for path, latency, system, key in order:
        if system in ("spacehook", "ceiling"):
            continue
        mine = summary.get(f"spacehook/{path}/{latency}", {})
        theirs = summary[key]
        r = {}
        for name, *_ in FIGURES[:-1]:
            r[name] = ratio(mine.get(name, {}).get("median"), theirs.get(name, {}).get("median"))
        # Automations: spacehook's drain rate vs the sample's in-load rate (the sample has no backlog).
        ratios[f"{path}/{latency}/{system}"] = r
        lines.append(f"{path:<11} {str(latency) + 'ms':>5} {system:<9} " + " ".join(
            f"{('-' if r[n] is None else f'{r[n]:g}x'):>12}" for n, *_ in FIGURES[:-1]))

    ceiling = summary.get("ceiling/ceiling/0", {}).get("acked_per_s", {}).get("median")
    fractions = {}
    if ceiling:
        lines.append("")
        lines.append(f"ceiling (http::Server, 202, nothing behind it): {ceiling:.0f}/s; spacehook as a fraction of it:")
        for key in sorted(summary):
            if key.startswith("spacehook/"):
                v = summary[key].get("acked_per_s", {}).get("median")
                if v:
                    fractions[key] = round(v / ceiling, 3)
                    lines.append(f"  {key:<28} {v:>9.0f}/s  {v / ceiling:6.1%}")

    targets = []
    sh20 = summary.get("spacehook/room-setup/20", {})
    ex20 = summary.get("express/room-setup/20", {})
    exig = summary.get("express/ignored/0", {})
    shidle = [summary[k]["rss_idle_mb"]["median"] for k in summary if k.startswith("spacehook/") and "rss_idle_mb" in summary[k]]

    def target(name, value, limit, ok, note=""):
        targets.append({"target": name, "value": value, "limit": limit, "met": ok, "note": note})

    if sh20:
        p99 = sh20["p99_ms"]
        target("ack p99 < 5 ms at %d connections, API latency 20 ms (wrk as fast as answered)" % args.connections,
               p99["median"], 5.0, p99["median"] < 5.0, f"min-max {p99['min']}-{p99['max']}; "
               f"at {sh20['acked_per_s']['median']:.0f} acks/s, i.e. {args.connections} connections / throughput "
               "once the two cores are saturated")
    shpaced = summary.get("spacehook/paced/20", {})
    if shpaced:
        p99 = shpaced["p99_ms"]
        target(f"ack p99 < 5 ms at {args.connections} connections, API latency 20 ms, "
               f"offered {args.paced_rate:.0f} deliveries/s", p99["median"], 5.0, p99["median"] < 5.0,
               f"min-max {p99['min']}-{p99['max']}" + "".join(
                   f"; {s} {summary[f'{s}/paced/20']['p99_ms']['median']:.1f} ms" for s in ("express", "flask")
                   if f"{s}/paced/20" in summary))
    shig = summary.get("spacehook/ignored/0", {})
    if shig and exig:
        # Like for like: the same ignored deliveries, which spacehook journals (fsync'd) and dispatches
        # and Express only verifies. spacehook's acks on room-setup at 20 ms are given beside it.
        acks = shig["acked_per_s"]["median"]
        base = exig["acked_per_s"]["median"]
        busy = f"; on room-setup at 20 ms {sh20['acked_per_s']['median']:.0f}/s" if sh20 else ""
        target("durable acks/s >= 10x Express ignored-trigger acks/s", round(acks / base, 2), 10,
               acks >= 10 * base, f"spacehook ignored (stored) {acks:.0f}/s, Express ignored {base:.0f}/s{busy}")
    if sh20 and ex20:
        mine = sh20.get("automations_per_s", {}).get("median")
        theirs = ex20.get("automations_per_s", {}).get("median")
        dups = sh20.get("duplicates", {}).get("max", 0)
        drain = sh20.get("drain_automations_per_s", {}).get("median")
        if mine is not None and theirs:
            target("automations/s >= 3x Express at API latency 20 ms, zero duplicates", round(mine / theirs, 2), 3,
                   mine >= 3 * theirs and dups == 0,
                   f"during the load: spacehook {mine:.0f}/s vs Express {theirs:.0f}/s; duplicates max {dups}"
                   + (f"; spacehook's backlog drain after the load {drain:.0f}/s = {drain / theirs:.2f}x" if drain else ""))
    if shidle:
        v = max(shidle)
        target("idle RSS < 15 MB", v, 15, v < 15, "largest median over spacehook's cells")
    lines.append("")
    lines.append("targets (issue 7):")
    for t in targets:
        lines.append(f"  [{'met' if t['met'] else 'MISSED'}] {t['target']}: {t['value']} (limit {t['limit']}) {t['note']}")
    return lines, {"ratios": ratios, "ceiling_fraction": fractions}, targets


# --- main ----------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=str(ROOT / "build" / "release" / "src" / "app" / "spacehook"))
    parser.add_argument("--ceiling-bin", default=str(ROOT / "build" / "release" / "bench" / "spacehook_bench_ceiling"))
    parser.add_argument("--seeds", default=os.environ.get("SPACEHOOK_SEED_PAGES"),
                        help="directory holding DocSpace's sample page 001_*.txt, saved as text (the page is "
                             "not in this repository; default: $SPACEHOOK_SEED_PAGES)")
    parser.add_argument("--rules", default=str(ROOT / "examples" / "room-setup.yaml"),
                        help="room-setup rules file (default: examples/room-setup.yaml)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of every cell (default 3)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per cell (default 10)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--latencies", default="0,20", help="API latencies of the room-setup path, ms")
    parser.add_argument("--paths", default="room-setup,paced,ignored,bad-sig,ceiling")
    parser.add_argument("--paced-rate", type=float, default=400,
                        help="offered deliveries/s of the paced path (default 400)")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--pool", type=int, default=0,
                        help="rooms in the emulator (default 3000 x duration: more than any system provisions)")
    parser.add_argument("--max-rate", type=int, default=50000,
                        help="deliveries/s the request files are sized for (default 50000)")
    parser.add_argument("--drain", type=float, default=5, help="seconds spacehook keeps working after the load")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds between start and idle RSS / load")
    parser.add_argument("--quiet", type=float, default=0.3,
                        help="wait before each cell until other work keeps fewer CPUs busy than this (default 0.3)")
    parser.add_argument("--quiet-wait", type=float, default=180, help="but at most this long, s (default 180)")
    parser.add_argument("--workers", type=int, default=64,
                        help="spacehook runner.workers (default 64: as many API calls in flight as the samples "
                             "get from wrk's 64 connections; spacehook's own default, 4, suits a real portal's "
                             "rate limit)")
    parser.add_argument("--results", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--work", default="", help="keep the temporary directory here (logs, journals)")
    args = parser.parse_args()
    args.service_config_text = None

    args.latencies = [int(x) for x in args.latencies.split(",")]
    paths = args.paths.split(",")
    systems = args.systems.split(",")
    args.pool = args.pool or 3000 * args.duration
    args.bin, args.ceiling_bin = str(Path(args.bin).resolve()), str(Path(args.ceiling_bin).resolve())
    for b in (args.bin, args.ceiling_bin):
        if not os.access(b, os.X_OK):
            print(f"missing binary {b} (bench/compare/run builds it)", file=sys.stderr)
            return 2
    for tool in ("wrk", "node", "npm"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 2

    args.rules = Path(args.rules)
    if not args.rules.exists():
        print(f"missing rules file {args.rules}", file=sys.stderr)
        return 2
    # The variables examples/room-setup.yaml reads: the same people and group the samples are given.
    args.rule_env = {"ROOM_MANAGERS": samples.MANAGER_ID, "ROOM_EDITORS": samples.EDITOR_ID,
                     "ROOM_VIEWERS": samples.VIEWER_ID, "HR_GROUP_ID": samples.HR_GROUP_ID}

    if not args.seeds:
        print("the published samples are read from DocSpace's sample page 001 saved as text, which this "
              "repository does not carry: pass --seeds DIR or set SPACEHOOK_SEED_PAGES", file=sys.stderr)
        return 2
    seed_page = next(iter(sorted(Path(args.seeds).glob("001_*.txt"))), None)
    if seed_page is None:
        print(f"no seed 001 in {args.seeds}", file=sys.stderr)
        return 2

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="spacehook-compare-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    load_at_start = loadavg()
    try:
        print(f"work dir {work}; load {loadavg()}; {os.cpu_count()} CPUs", flush=True)
        # Samples: extracted, patched, installed into the work dir.
        express, flask = samples.load(seed_page)
        node_dir = work / "express"
        node_dir.mkdir(exist_ok=True)
        (node_dir / "package.json").write_text(json.dumps({"name": "seed-001-express", "private": True,
                                                            "type": "module"}))
        args.express_file = node_dir / "server.mjs"
        args.express_file.write_text(express.patched())
        (node_dir / "published.mjs").write_text(express.patched(runtime_only=True))
        if "express" in systems:
            npm = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "express"],
                                 cwd=node_dir, capture_output=True, text=True)
            if npm.returncode != 0:
                raise RuntimeError(f"npm install express failed: {npm.stderr[-2000:]}")
        express_version = json.loads((node_dir / "node_modules/express/package.json").read_text())["version"] \
            if (node_dir / "node_modules/express").exists() else None
        flask_dir = work / "flask"
        flask_dir.mkdir(exist_ok=True)
        args.flask_file = flask_dir / "app.py"
        args.flask_file.write_text(flask.patched())
        (flask_dir / "published.py").write_text(flask.patched(runtime_only=True))
        samples.check_syntax(express, args.express_file)
        samples.check_syntax(flask, args.flask_file)
        flask_version = subprocess.run(["/usr/bin/python3", "-c", "import importlib.metadata as m; "
                                        "print(m.version('flask'), m.version('werkzeug'), m.version('requests'))"],
                                       capture_output=True, text=True).stdout.split()
        node_version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()

        # spacehook's settings: what an operator running this load would set. The portal rate limit is lifted
        # (the samples have none; the default 20 calls/s would cap spacehook at 4 automations/s) and the
        # workers raised to the samples' concurrency (--workers).
        args.service_config = work / "spacehook-bench.yaml"
        workers = f"\n  workers: {args.workers}" if args.workers else ""
        args.service_config.write_text(
            "server:\n  threads: 1\n  max_connections: 4096\n"
            "docspace:\n  rate_limit: { per_second: 100000, burst: 100000 }\n"
            f"runner:\n  shutdown_grace: 1s{workers}\n")
        args.service_config_text = args.service_config.read_text()  # the work dir is gone when results are written

        args.seed_file = work / "seed.json"
        write_seed(args.seed_file, args.pool)
        args.probe_seed_file = work / "probe-seed.json"
        write_seed(args.probe_seed_file, 2)

        t = time.monotonic()
        prefixes = {}
        big = args.max_rate * args.duration
        for path, count in (("room-setup", max(big, args.pool)), ("ignored", big), ("bad-sig", 20000)):
            if path in paths or (path == "room-setup" and "paced" in paths):
                prefixes[path] = work / f"requests-{path}"
                write_requests(prefixes[path], path, count, args.pool, 1)
        if "paced" in paths:
            prefixes["paced"] = prefixes["room-setup"]  # the same deliveries, offered at a fixed rate
        if "ceiling" in paths:
            prefixes["ceiling"] = prefixes.get("bad-sig") or work / "requests-bad-sig"
            if "bad-sig" not in paths:
                write_requests(prefixes["ceiling"], "bad-sig", 20000, args.pool, 1)
        print(f"requests signed in {time.monotonic() - t:.1f}s; pool {args.pool} rooms; rules {args.rules}", flush=True)

        probes = {}
        for system in systems:
            probes[f"{system}/measured"] = probe(args, work, system)
            if system == "express":
                probes["express/as-published"] = probe(args, work, system, express_file=node_dir / "published.mjs")
            if system == "flask":
                probes["flask/as-published"] = probe(args, work, system, flask_file=flask_dir / "published.py")
        for name, p in probes.items():
            print(f"probe {name:<22} room.created {p['status_room_created']}  bad signature {p['status_bad_signature']}"
                  f"  ignored {p['status_ignored']}  folders {p['room_folders']}  members {len(p['room_members'])}"
                  f"  provisioned {p['provisioned']}", flush=True)
            if name.endswith("/measured") and not p["provisioned"]:
                raise RuntimeError(f"{name}: one delivery did not provision its room; nothing to measure")

        cells = []
        plan = []
        for path in paths:
            if path == "ceiling":
                plan.append(("ceiling", path, 0))
                continue
            for latency in (args.latencies if path == "room-setup" else [20] if path == "paced" else [0]):
                for system in systems:
                    plan.append((system, path, latency))
        for rep in range(1, args.reps + 1):
            for system, path, latency in plan:
                cell = run_cell(args, work, system, path, latency, rep, prefixes)
                cells.append(cell)
                extra = ""
                if path in ("room-setup", "paced"):
                    extra = (f"  autom/s {cell['automations_per_s']:.0f}"
                             + (f" (drain {cell['drain_automations_per_s']:.0f}/s)" if "drain_automations_per_s" in cell else "")
                             + f"  calls/aut {cell['api_calls_per_automation']}  dups {cell['duplicates']}"
                             + ("  POOL EXHAUSTED" if cell["pool_exhausted"] else ""))
                print(f"[{rep}/{args.reps}] {path:<10} {latency:>2}ms {system:<9} {cell['acked_per_s']:>8.0f}/s  "
                      f"p50 {cell['p50_ms']:.2f}  p99 {cell['p99_ms']:.2f} ms  cpu {cell['cpu_ms_per_delivery']} ms/dlv  "
                      f"rss {cell['rss_idle_mb']}/{cell['rss_peak_mb']} MB{extra}  "
                      f"unexpected {cell['unexpected_status']}  others {cell['others_cpus_before']}/{cell['others_cpus_during']} CPUs"
                      f"  load {cell['load_before']}",
                      flush=True)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)

    summary = summarize(cells)
    lines, derived, targets = report(summary, args)
    print()
    print("\n".join(lines))
    for c in cells:
        if c.get("wraps") and c["path"] in ("room-setup", "paced", "ignored"):
            print(f"warning: {c['system']}/{c['path']} rep {c['rep']} ran out of distinct deliveries: raise --max-rate")
        if c.get("pool_exhausted"):
            print(f"warning: {c['system']}/{c['path']}/{c['latency_ms']} rep {c['rep']}: the room pool ran out: raise --pool")

    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True).stdout.strip())
    cpu_model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                      if l.startswith("model name")), "")
    out_dir = Path(args.results)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"compare-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({
        "benchmark": "compare",
        "git": rev, "git_dirty": dirty,
        "binary": {"path": args.bin, "built": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(os.stat(args.bin).st_mtime))},
        "host": {"nproc": os.cpu_count(), "cpu": cpu_model, "kernel": platform.release(),
                 "load_at_start": load_at_start, "load_at_end": loadavg(), "minutes": round((time.time() - started) / 60, 1)},
        "settings": {"reps": args.reps, "duration_s": args.duration, "connections": args.connections,
                     "wrk_threads": 1, "latencies_ms": args.latencies, "pool_rooms": args.pool, "drain_s": args.drain,
                     "spacehook_config": args.service_config_text,
                     "rules": str(args.rules.relative_to(ROOT) if args.rules.is_relative_to(ROOT) else args.rules),
                     "fsync": True},
        "versions": {"node": node_version, "express": express_version,
                     "flask_werkzeug_requests": flask_version, "seed_page": seed_page.name},
        "samples": {"express": {"patches": express.describe(), "notes": express.notes},
                    "flask": {"patches": flask.describe(), "notes": flask.notes}},
        "probes": probes,
        "summary": summary,
        **derived,
        "targets": targets,
        "table": lines,
        "cells": cells,
    }, indent=1) + "\n")
    print(f"\nresults: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
