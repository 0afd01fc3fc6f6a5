#!/usr/bin/python3
"""Replicas benchmark: 1, 2 and 3 `spacehook serve` replicas on one PostgreSQL.

For each replica count it measures, on a fresh database of one throwaway PostgreSQL server (fsync on,
started by spacehook-test-postgres: initdb + postgres on a free loopback port):

1. acked deliveries/s: the replicas journal only (no rules, no portal), and one wrk per replica
   replays pre-signed room.created deliveries with distinct event ids for --duration seconds; the total
   number of connections is the same at every level (--connections, split evenly), so the levels differ
   only in how many processes share the work. Every 2xx was answered after the COMMIT holding it.
2. runs completed/s: the replicas run one rule against `spacehook emulator` (file.created -> a
   create_folder in the file's room, which looks at the room's listing first; the files are spread over
   --rooms rooms, each run holding its room's lock), --runs deliveries are sent to the replicas in turn
   by --senders threads, and the clock stops when every replica's
   spacehook_runs_total{outcome="done",rule=...} adds up to --runs. The emulator's folders_created must then
   equal --runs: nothing ran twice. The portal rate limit is set far above what the machine can do
   (--rate), so the figure is spacehook's, including the shared limiter's bucket row, which every API
   call of every replica updates.

Everything runs on this machine's cores (PostgreSQL, the replicas, wrk, the emulator): the figures say
how the pieces share a machine, not how replicas on separate machines scale. The load average before
and after every level is recorded with the results (bench/results/replicas-<date>-<time>.json).

Usage (bench/README.md): bench/replicas/run [--duration S] [--connections N] [--runs K] [--replicas 1,2,3]
"""
import argparse
import hashlib
import hmac
import http.client
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "bench-Secret-0001"
SERVICE_KEY = "sk-emulator-spacehook"
ACTOR = "66faa6e4-f133-11ea-b126-00ffeec8b4ef"  # the emulator's owner: not the service account
PATH = "/docspace/webhook"
LUA = ROOT / "bench" / "ingress" / "deliveries.lua"

RUN_CONFIG = """
runner:
  workers: {workers}
  lease: 30s
docspace:
  rate_limit: {{ per_second: {rate}, burst: {burst} }}
server:
  max_connections: 4096
rules:
  - name: bench
    on: file.created
    do:
      - create_folder: {{ in: "{{{{ room.id }}}}", title: "Bench {{{{ entity.id }}}}" }}
"""


def delivery(event_id: int) -> bytes:
    """A room.created body shaped like docs/docspace-api.md §1.6's example, compact as on the wire."""
    body = {
        "event": {"id": event_id, "createOn": "2026-06-30T10:20:00Z", "createBy": ACTOR,
                  "trigger": "room.created", "triggerId": 4194304},
        "payload": {"id": 100000 + event_id, "parentId": 1, "securityByUsers": {}, "folderIdDisplay": 1,
                    "rootId": 1, "title": f"Client {event_id}", "createBy": ACTOR, "modifiedBy": ACTOR,
                    "createOn": "2026-06-30T10:20:00Z", "modifiedOn": "2026-06-30T10:20:00Z",
                    "rootFolderType": 14, "rootCreateBy": ACTOR, "fileEntryType": 1},
        "webhook": {"id": 7, "name": "bench", "url": "https://hooks.example.com/docspace",
                    "triggers": ["room.created"]},
    }
    return json.dumps(body, separators=(",", ":")).encode()


def file_created(event_id: int, room_id: int) -> bytes:
    """A file.created body for a file in room `room_id` (the thin FileEntry of docs/docspace-api.md §1.6)."""
    body = {
        "event": {"id": event_id, "createOn": "2026-06-30T10:20:00Z", "createBy": ACTOR,
                  "trigger": "file.created", "triggerId": 1},
        "payload": {"id": 5_000_000 + event_id, "parentId": room_id, "securityByUsers": {}, "rootId": 1,
                    "title": f"bench-{event_id}.docx", "createBy": ACTOR, "modifiedBy": ACTOR,
                    "createOn": "2026-06-30T10:20:00Z", "modifiedOn": "2026-06-30T10:20:00Z",
                    "rootFolderType": 14, "rootCreateBy": ACTOR, "fileEntryType": 2, "fileType": 7},
        "webhook": {"id": 7, "name": "bench", "url": "https://hooks.example.com/docspace",
                    "triggers": ["file.created"]},
    }
    return json.dumps(body, separators=(",", ":")).encode()


def signature(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest().upper()


def write_requests(path: Path, first_id: int, count: int):
    """`count` signed requests with event ids first_id.., in deliveries.lua's format (length-prefixed)."""
    with open(path, "wb") as out:
        for event_id in range(first_id, first_id + count):
            body = delivery(event_id)
            head = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n"
                    f"Content-Type: application/json; charset=utf-8\r\n"
                    f"x-docspace-signature-256: {signature(body)}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            request = head + body
            out.write(b"%08d" % len(request))
            out.write(request)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def scrape(url: str) -> dict:
    text = urllib.request.urlopen(url + "/metrics", timeout=30).read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


class Proc:
    """A child started with --ready-file; stopped with SIGTERM (bounded), then SIGKILL."""

    def __init__(self, args, workdir: Path, name: str, env=None):
        self.ready = workdir / f"{name}.ready"
        self.log_path = workdir / f"{name}.log"
        self.log = open(self.log_path, "wb")
        if self.ready.exists():
            self.ready.unlink()  # a previous level's: it would name a port nobody listens on any more
        self.popen = subprocess.Popen(args + ["--ready-file", str(self.ready)], stdout=self.log,
                                      stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while not self.ready.exists():
            if self.popen.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{name} did not start: {self.log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        time.sleep(0.05)
        self.info = json.loads(self.ready.read_text())
        self.url = f"http://127.0.0.1:{self.info['port']}"
        self.admin_url = f"http://127.0.0.1:{self.info['admin_port']}" if "admin_port" in self.info else None

    def stop(self):
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self.log.close()


def create_database(server_url: str, name: str) -> str:
    """A fresh database on the benchmark's server; its URL."""
    base = server_url.rsplit("/", 1)[0]
    out = subprocess.run(["psql", base + "/postgres", "-Atc", f"CREATE DATABASE {name}"], capture_output=True,
                         text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"CREATE DATABASE {name}: {out.stderr}")
    return f"{base}/{name}"


def create_room(emulator_url: str, title: str) -> int:
    request = urllib.request.Request(emulator_url + "/api/2.0/files/rooms", method="POST",
                                     data=json.dumps({"title": title, "roomType": 5}).encode(),
                                     headers={"Authorization": "Bearer sk-emulator-owner",
                                              "Content-Type": "application/json"})
    return int(json.loads(urllib.request.urlopen(request, timeout=30).read())["response"]["id"])


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCSPACE_", "SPACEHOOK_", "SMTP_", "MAIL_"))}
    env.update(extra)
    return env


def start_replicas(args, count, store_url, workdir: Path, config: Path, env, phase: str) -> list:
    replicas = []
    for i in range(count):
        replicas.append(Proc([args.bin, "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
                              "--store", store_url, "--config", str(config)], workdir, f"{phase}-{count}-replica-{i}",
                             env))
    return replicas


def ingest_level(args, count, server_url, workdir: Path) -> dict:
    """acked deliveries/s of `count` journal-only replicas under wrk."""
    store_url = create_database(server_url, f"ingest_{count}")
    config = workdir / f"ingest-{count}.yaml"
    config.write_text("server:\n  max_connections: 4096\n")
    env = clean_env(DOCSPACE_WEBHOOK_SECRET=SECRET)
    replicas = start_replicas(args, count, store_url, workdir, config, env, "ingest")
    try:
        per_replica = args.max_rate * args.duration // count
        prefixes = []
        for i in range(count):
            prefix = workdir / f"ingest-{count}-r{i}"
            write_requests(Path(f"{prefix}.0"), 1 + i * per_replica, per_replica)
            prefixes.append(prefix)
        connections = [args.connections // count + (1 if i < args.connections % count else 0) for i in range(count)]
        load_before = loadavg()
        wrks = [subprocess.Popen(["wrk", "-t", "1", "-c", str(connections[i]), "-d", f"{args.duration}s",
                                  "--timeout", "10s", "--latency", "-s", str(LUA), replicas[i].url + PATH, "--",
                                  str(prefixes[i])], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for i in range(count)]
        results = []
        for w in wrks:
            out, err = w.communicate(timeout=args.duration + 120)
            if w.returncode != 0:
                raise RuntimeError(f"wrk failed: {err}")
            line = next(l for l in out.splitlines() if l.startswith("BENCH "))
            results.append(json.loads(line[len("BENCH "):]))
        metrics = [scrape(r.admin_url) for r in replicas]
    finally:
        for r in replicas:
            r.stop()
    seconds = max(w["duration_us"] for w in results) / 1e6
    acked = sum(w["requests"] - w["errors_status"] for w in results)
    stored = sum(m.get('spacehook_deliveries_total{outcome="stored"}', 0) for m in metrics)
    commits = sum(m.get("spacehook_store_commits_total", 0) for m in metrics)
    return {
        "connections": connections,
        "duration_s": round(seconds, 3),
        "acked": acked,
        "acked_per_s": round(acked / seconds, 1),
        "non_2xx": sum(w["errors_status"] for w in results),
        "socket_errors": sum(w["errors_connect"] + w["errors_read"] + w["errors_write"] + w["errors_timeout"]
                             for w in results),
        "latency_p50_ms_per_replica": [w["latency_p50_us"] / 1000 for w in results],
        "latency_p99_ms_per_replica": [w["latency_p99_us"] / 1000 for w in results],
        "stored": int(stored),
        "store_commits": int(commits),
        "acks_per_commit": round(stored / commits, 1) if commits else None,
        "wraps": sum(w["wraps"] for w in results),
        "load_before": load_before,
        "load_after": loadavg(),
    }


def send_all(urls, bodies, senders):
    """Sends every body (keep-alive, `senders` threads, replicas in turn); returns (acked, failed)."""
    lock = threading.Lock()
    cursor = [0]
    acked = [0]
    failed = [0]

    def worker(n):
        conns = {}
        while True:
            with lock:
                i = cursor[0]
                cursor[0] += 1
            if i >= len(bodies):
                break
            url = urls[i % len(urls)]
            port = int(url.rsplit(":", 1)[1])
            body = bodies[i]
            for attempt in range(3):
                conn = conns.get(port) or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conns[port] = conn
                try:
                    conn.request("POST", PATH, body=body, headers={
                        "Content-Type": "application/json; charset=utf-8", "x-docspace-signature-256": signature(body)})
                    r = conn.getresponse()
                    r.read()
                    ok = 200 <= r.status < 300
                    break
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conns.pop(port, None)
                    ok = False
            with lock:
                if ok:
                    acked[0] += 1
                else:
                    failed[0] += 1
        for conn in conns.values():
            conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return acked[0], failed[0]


def runs_level(args, count, server_url, workdir: Path) -> dict:
    """runs completed/s of `count` replicas against the emulator."""
    store_url = create_database(server_url, f"runs_{count}")
    emulator = Proc([args.bin, "emulator", "--listen", "127.0.0.1:0", "--log-level", "warn"], workdir,
                    f"emulator-{count}", clean_env())
    replicas = []
    try:
        config = workdir / f"runs-{count}.yaml"
        config.write_text(RUN_CONFIG.format(workers=args.workers, rate=args.rate, burst=args.rate))
        env = clean_env(DOCSPACE_WEBHOOK_SECRET=SECRET, DOCSPACE_API_HOST=emulator.url, DOCSPACE_API_KEY=SERVICE_KEY)
        # The runs spread over --rooms rooms: each run holds its room's lock, and create_folder looks at
        # the room's listing before it creates (so a room must not fill with thousands of folders).
        rooms = [create_room(emulator.url, f"Bench room {i}") for i in range(args.rooms)]
        replicas = start_replicas(args, count, store_url, workdir, config, env, "runs")
        bodies = [file_created(n, rooms[n % len(rooms)]) for n in range(args.runs)]
        load_before = loadavg()
        started = time.monotonic()
        acked, failed = send_all([r.url for r in replicas], bodies, args.senders)
        sent_s = time.monotonic() - started
        deadline = started + args.timeout
        done = 0
        per_replica = []
        while time.monotonic() < deadline:
            # One series per rule (spacehook_runs_total{outcome="done",rule=...}).
            per_replica = [int(sum(v for k, v in scrape(r.admin_url).items()
                                   if k.startswith('spacehook_runs_total{outcome="done",')))
                           for r in replicas]
            done = sum(per_replica)
            if done >= args.runs:
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        counters = json.loads(urllib.request.urlopen(emulator.url + "/__emulator/counters", timeout=30).read())
    finally:
        for r in replicas:
            r.stop()
        emulator.stop()
    if done < args.runs:
        raise RuntimeError(f"{count} replicas: only {done} of {args.runs} runs done within {args.timeout}s")
    return {
        "runs": args.runs,
        "acked": acked,
        "send_failures": failed,
        "sent_in_s": round(sent_s, 2),
        "all_done_in_s": round(elapsed, 2),
        "runs_per_s": round(args.runs / elapsed, 1),
        "runs_done_per_replica": per_replica,
        "folders_created": counters.get("folders_created", 0),
        "load_before": load_before,
        "load_after": loadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=str(ROOT / "build" / "release" / "src" / "app" / "spacehook"))
    parser.add_argument("--pg-bin", default=None, help="spacehook-test-postgres (default: next to --bin's build)")
    parser.add_argument("--replicas", default="1,2,3")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per level (default 10)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections per level, split (default 64)")
    parser.add_argument("--max-rate", type=int, default=40000, help="deliveries/s the request files are sized for")
    parser.add_argument("--runs", type=int, default=2000, help="runs per level (default 2000)")
    parser.add_argument("--senders", type=int, default=16, help="threads sending the runs' deliveries")
    parser.add_argument("--workers", type=int, default=4, help="runner.workers per replica (default 4)")
    parser.add_argument("--rooms", type=int, default=50, help="rooms the runs are spread over (default 50)")
    parser.add_argument("--rate", type=int, default=100000, help="docspace.rate_limit per_second and burst")
    parser.add_argument("--timeout", type=int, default=300, help="bound on one level's runs (seconds)")
    parser.add_argument("--results", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()

    pg_bin = args.pg_bin or str(Path(args.bin).resolve().parents[1] / "store" / "spacehook-test-postgres")
    for tool, path in (("spacehook", args.bin), ("spacehook-test-postgres", pg_bin)):
        if not os.access(path, os.X_OK):
            print(f"no {tool} at {path} (bench/replicas/run builds them)", file=sys.stderr)
            return 2
    for tool in ("wrk", "psql"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed (apt-get install wrk postgresql)", file=sys.stderr)
            return 2
    levels = [int(n) for n in args.replicas.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="spacehook-bench-replicas-"))
    postgres = None
    results = []
    try:
        # fsync on: acks wait for real WAL flushes, as in production.
        postgres = Proc([pg_bin, "--durable", "--max-connections", "300", "--database", "bench"], workdir, "postgres")
        server_url = postgres.info["url"]
        print(f"PostgreSQL (fsync on) at {server_url}; load {loadavg()}", flush=True)
        for count in levels:
            ingest = ingest_level(args, count, server_url, workdir)
            print(f"  {count} replica(s): {ingest['acked_per_s']:>8.0f} acked/s  stored {ingest['stored']}/"
                  f"{ingest['acked']}  {ingest['acks_per_commit']} per commit  load {ingest['load_after']}",
                  flush=True)
            runs = runs_level(args, count, server_url, workdir)
            print(f"  {count} replica(s): {runs['runs_per_s']:>8.1f} runs/s  ({runs['runs']} in "
                  f"{runs['all_done_in_s']} s, per replica {runs['runs_done_per_replica']}, folders "
                  f"{runs['folders_created']})  load {runs['load_after']}", flush=True)
            results.append({"replicas": count, "ingest": ingest, "runs": runs})
    except Exception:
        # What the processes said is the only clue: show it before the directory goes.
        for log in sorted(workdir.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
        raise
    finally:
        if postgres:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"{'replicas':>8}  {'acked/s':>9}  {'per commit':>10}  {'runs/s':>8}  {'runs':>6}  {'folders':>7}")
    for r in results:
        print(f"{r['replicas']:>8}  {r['ingest']['acked_per_s']:>9.0f}  {str(r['ingest']['acks_per_commit']):>10}  "
              f"{r['runs']['runs_per_s']:>8.1f}  {r['runs']['runs']:>6}  {r['runs']['folders_created']:>7}")
    problems = 0
    for r in results:
        if r["ingest"]["stored"] < r["ingest"]["acked"]:
            print(f"ERROR: {r['replicas']} replicas: {r['ingest']['acked']} acked but {r['ingest']['stored']} stored")
            problems += 1
        if r["runs"]["folders_created"] != r["runs"]["runs"]:
            print(f"ERROR: {r['replicas']} replicas: {r['runs']['folders_created']} folders for {r['runs']['runs']} "
                  "runs (a run twice, or one lost)")
            problems += 1
        if r["ingest"]["wraps"]:
            print(f"warning: {r['replicas']} replicas: request files wrapped; raise --max-rate")

    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True).stdout.strip())
    built = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(os.stat(args.bin).st_mtime))
    out_dir = Path(args.results)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"replicas-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({
        "benchmark": "replicas",
        "git": rev,
        "git_dirty": dirty,
        "binary": {"path": args.bin, "built": built},
        "host": {"cpus": os.cpu_count(), "kernel": platform.release(), "load_at_end": loadavg()},
        "settings": {"duration_s": args.duration, "connections": args.connections, "runs": args.runs,
                     "senders": args.senders, "workers_per_replica": args.workers, "rate_limit": args.rate,
                     "postgres_fsync": True},
        "levels": results,
    }, indent=2) + "\n")
    print(f"\nresults: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
