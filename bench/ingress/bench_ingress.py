#!/usr/bin/python3
"""Ingress benchmark: durable acks per second and ack latency of `spacehook serve` under wrk.

For each connection level (default 1, 16, 64) it starts `spacehook serve` on a fresh SQLite journal (fsync
on: serve always opens the store durable), drives signed `room.created` deliveries with distinct event ids
through wrk for a bounded time, then reads how many deliveries the journal really holds. Figures are
printed as a table and written as JSON under bench/results/.

wrk's Lua has no crypto, so the deliveries are signed here beforehand (HMAC-SHA256, UPPER-case hex as
DocSpace sends, docs/docspace-api.md §1.3) and written as complete HTTP requests that deliveries.lua replays.

Usage (bench/README.md): bench/ingress/run [--duration S] [--connections 1,16,64] [--server-threads N]
"""
import argparse
import hashlib
import hmac
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "bench-Secret-0001"
ACTOR = "66faa6e4-f133-11ea-b126-00ffeec8b4ef"
PATH = "/docspace/webhook"


def delivery(event_id: int) -> bytes:
    """A room.created body shaped like docs/docspace-api.md §1.6's example, compact as on the wire."""
    body = {
        "event": {"id": event_id, "createOn": "2026-06-30T10:20:00Z", "createBy": ACTOR,
                  "trigger": "room.created", "triggerId": 4194304},
        "payload": {"id": 100000 + event_id, "parentId": 3, "securityByUsers": {}, "folderIdDisplay": 3,
                    "rootId": 3, "title": f"Client {event_id}", "createBy": ACTOR, "modifiedBy": ACTOR,
                    "createOn": "2026-06-30T10:20:00Z", "modifiedOn": "2026-06-30T10:20:00Z",
                    "rootFolderType": 14, "rootCreateBy": ACTOR, "fileEntryType": 1},
        "webhook": {"id": 7, "name": "bench", "url": "https://hooks.example.com/docspace",
                    "triggers": ["room.created"]},
    }
    return json.dumps(body, separators=(",", ":")).encode()


def write_requests(prefix: Path, count: int, threads: int) -> int:
    """Writes `count` signed requests split over one file per wrk thread; returns the mean body size."""
    per_thread = (count + threads - 1) // threads
    total_body = 0
    event_id = 0
    for t in range(threads):
        with open(f"{prefix}.{t}", "wb") as out:
            for _ in range(per_thread):
                event_id += 1
                body = delivery(event_id)
                total_body += len(body)
                sig = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest().upper()
                head = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n"
                        f"Content-Type: application/json; charset=utf-8\r\n"
                        f"x-docspace-signature-256: sha256={sig}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
                request = head + body
                out.write(b"%08d" % len(request))
                out.write(request)
    return total_body // max(event_id, 1)


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


def server_quantile(metrics: dict, q: float) -> float:
    """Quantile of spacehook_ack_latency_seconds from its buckets (upper bound of the bucket reached)."""
    buckets = sorted((float(re.search(r'le="([^"]+)"', k).group(1)), v)
                     for k, v in metrics.items() if k.startswith("spacehook_ack_latency_seconds_bucket"))
    total = buckets[-1][1] if buckets else 0
    for bound, cumulative in buckets:
        if total and cumulative >= q * total:
            return bound
    return float("nan")


def run_level(args, connections: int, prefix: Path, workdir: Path) -> dict:
    level_dir = workdir / f"c{connections}"
    level_dir.mkdir()
    config = level_dir / "bench.yaml"
    config.write_text(f"server:\n  threads: {args.server_threads}\n  max_connections: 4096\n")
    ready = level_dir / "ready.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCSPACE_", "SPACEHOOK_"))}
    env["DOCSPACE_WEBHOOK_SECRET"] = SECRET
    log = open(level_dir / "serve.log", "wb")
    serve = subprocess.Popen([args.bin, "serve", "--config", str(config), "--listen", "127.0.0.1:0",
                              "--admin-listen", "127.0.0.1:0",
                              "--store", f"sqlite:{level_dir / 'journal.db'}", "--ready-file", str(ready)],
                             stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 20
        while not ready.exists():
            if serve.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"spacehook serve did not start: {(level_dir / 'serve.log').read_text()[-2000:]}")
            time.sleep(0.05)
        time.sleep(0.05)
        info = json.loads(ready.read_text())
        url = f"http://127.0.0.1:{info['port']}"
        admin_url = f"http://127.0.0.1:{info['admin_port']}"
        load_before = loadavg()
        threads = min(args.wrk_threads, connections)
        wrk = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{args.duration}s",
                              "--timeout", "10s", "--latency", "-s", str(Path(__file__).with_name("deliveries.lua")),
                              url + PATH, "--", str(prefix)],
                             capture_output=True, text=True, timeout=args.duration + 120)
        if wrk.returncode != 0:
            raise RuntimeError(f"wrk failed: {wrk.stderr}")
        line = next(l for l in wrk.stdout.splitlines() if l.startswith("BENCH "))
        w = json.loads(line[len("BENCH "):])
        metrics = scrape(admin_url)
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(30)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait(5)
        log.close()
    seconds = w["duration_us"] / 1e6
    acked = w["requests"] - w["errors_status"]
    stored = int(metrics.get("spacehook_journal_events", 0))
    commits = metrics.get("spacehook_store_commits_total", 0)
    return {
        "connections": connections,
        "wrk_threads": threads,
        "duration_s": round(seconds, 3),
        "acked": acked,
        "acked_per_s": round(acked / seconds, 1),
        "non_2xx": w["errors_status"],
        "socket_errors": w["errors_connect"] + w["errors_read"] + w["errors_write"] + w["errors_timeout"],
        "latency_p50_ms": w["latency_p50_us"] / 1000,
        "latency_p90_ms": w["latency_p90_us"] / 1000,
        "latency_p99_ms": w["latency_p99_us"] / 1000,
        "latency_max_ms": w["latency_max_us"] / 1000,
        "stored_in_journal": stored,
        "duplicates_answered": int(metrics.get('spacehook_deliveries_total{outcome="duplicate"}', 0)),
        "store_commits": int(commits),
        "acks_per_commit": round(stored / commits, 1) if commits else None,
        "server_ack_p50_le_ms": server_quantile(metrics, 0.5) * 1000,
        "server_ack_p99_le_ms": server_quantile(metrics, 0.99) * 1000,
        "wraps": w["wraps"],
        "load_before": load_before,
        "load_after": loadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=str(ROOT / "build" / "release" / "src" / "app" / "spacehook"))
    parser.add_argument("--duration", type=int, default=10, help="seconds per level (default 10)")
    parser.add_argument("--connections", default="1,16,64", help="comma-separated levels (default 1,16,64)")
    parser.add_argument("--server-threads", type=int, default=1, help="server.threads of spacehook (default 1)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1: the CPUs are shared)")
    parser.add_argument("--max-rate", type=int, default=60000,
                        help="deliveries/s the request files are sized for (default 60000)")
    parser.add_argument("--results", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()

    if not os.access(args.bin, os.X_OK):
        print(f"no spacehook binary at {args.bin} (build the release preset, or pass --bin)", file=sys.stderr)
        return 2
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    levels = [int(c) for c in args.connections.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="spacehook-bench-"))
    try:
        prefix = workdir / "requests"
        count = args.max_rate * args.duration
        started = time.monotonic()
        body_bytes = write_requests(prefix, count, args.wrk_threads)
        print(f"{count} signed room.created deliveries ({body_bytes} B bodies) written in "
              f"{time.monotonic() - started:.1f}s; load {loadavg()}", flush=True)
        results = []
        for connections in levels:
            r = run_level(args, connections, prefix, workdir)
            results.append(r)
            print(f"  c={connections:<3} {r['acked_per_s']:>9.0f} acked/s  p50 {r['latency_p50_ms']:.2f} ms  "
                  f"p99 {r['latency_p99_ms']:.2f} ms  stored {r['stored_in_journal']}/{r['acked']}  "
                  f"{r['acks_per_commit']} per commit  load {r['load_after']}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"{'connections':>11}  {'acked/s':>9}  {'p50 ms':>7}  {'p99 ms':>7}  {'acked':>8}  {'stored':>8}  "
          f"{'non-2xx':>7}  {'per commit':>10}")
    for r in results:
        print(f"{r['connections']:>11}  {r['acked_per_s']:>9.0f}  {r['latency_p50_ms']:>7.2f}  "
              f"{r['latency_p99_ms']:>7.2f}  {r['acked']:>8}  {r['stored_in_journal']:>8}  {r['non_2xx']:>7}  "
              f"{str(r['acks_per_commit']):>10}")
    for r in results:
        if r["wraps"]:
            print(f"warning: c={r['connections']} ran out of distinct deliveries ({r['wraps']} wraps): raise --max-rate")
        if r["stored_in_journal"] < r["acked"] - r["duplicates_answered"]:
            print(f"ERROR: c={r['connections']}: {r['acked']} acked but only {r['stored_in_journal']} stored")

    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    # Other work may sit uncommitted in the checkout the binary was built from: say so.
    dirty = bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True).stdout.strip())
    built = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(os.stat(args.bin).st_mtime))
    out_dir = Path(args.results)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"ingress-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({
        "benchmark": "ingress",
        "git": rev,
        "git_dirty": dirty,
        "binary": {"path": args.bin, "built": built},
        "host": {"cpus": os.cpu_count(), "kernel": platform.release(), "load_at_end": loadavg()},
        "settings": {"duration_s": args.duration, "server_threads": args.server_threads,
                     "wrk_threads": args.wrk_threads, "fsync": True, "body_bytes": body_bytes},
        "levels": results,
    }, indent=2) + "\n")
    print(f"\nresults: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
