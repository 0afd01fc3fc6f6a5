"""Connection floods at the ingress: more connections than `server.max_connections` (1,024 by default) held
open by one attacker, idle after a request or trickling a request that never ends, while DocSpace delivers.

1. Idle keep-alive flood: 1,100 connections, each after one `GET` of the webhook path (DocSpace's own
   probe; no auth needed), kept open and re-opened whenever the server closes one.
2. Slowloris: 1,100 connections trickling a header (three quarters) or a body (a quarter) one byte every
   half second, re-opened whenever the server closes one.

What must hold, with the defaults: every signed delivery sent during the flood, on a fresh connection as
DocSpace's sender opens them, is acknowledged with a 2xx within 1 s, and the emulator's own sender's
deliveries are acked at their first attempt, within 1 s (DocSpace retries for ~31 s only, and an idle
timeout is 60 s). The server holds its cap by closing the connections that are idle longest, then those
slowest to send their request (docs/operations.md "Limits and defaults").

The attacker connects from 127.0.0.2 to 127.0.0.6 (220 connections each, under the per-peer cap, which
exempts only 127.0.0.1 and ::1, where a local proxy would connect from), so the server-wide cap is what is
tested; DocSpace's deliveries come from 127.0.0.1. The test raises its own open-file limit (children inherit
it); `serve` raises its soft limit to its hard limit itself when max_connections needs it.
"""
import hashlib
import hmac
import json
import resource
import selectors
import socket
import threading
import time

import requests

from harness import SECRET, Portal, Spacehook, percentile, wait_for

FLOOD = 1100
SOURCES = [f"127.0.0.{n}" for n in range(2, 7)]
ACK_BOUND = 1.0
EVENT_IDS = [990_000_000 + n for n in range(6)]
REOPENS_PER_PASS = 100

CONFIG = "rules: []\n"


def raise_open_file_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft >= needed, f"RLIMIT_NOFILE {soft} (hard {hard}) is below the {needed} descriptors this test holds"


def signed_delivery(port, event_id):
    """One delivery on a fresh connection, as DocSpace's sender makes it; returns (status, seconds)."""
    body = json.dumps({"event": {"id": event_id, "createOn": "2026-06-30T10:15:42Z", "trigger": "file.created",
                                 "triggerId": 128},
                       "payload": {"id": event_id, "title": f"flood-{event_id}.docx"},
                       "webhook": {"id": 7, "name": "automation", "url": "https://hooks.example.com/docspace",
                                   "triggers": ["*"]}}).encode()
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest().upper()
    started = time.monotonic()
    with requests.Session() as session:
        r = session.post(f"http://127.0.0.1:{port}/docspace/webhook", data=body, timeout=10,
                         headers={"Content-Type": "application/json; charset=utf-8",
                                  "x-docspace-signature-256": "sha256=" + digest})
    return r.status_code, time.monotonic() - started


def metric(serve, name):
    """The metric's value; None when /metrics itself was refused (a server locked up by the flood) or has no
    such metric (a build before it)."""
    r = requests.get(serve.admin_url + "/metrics", timeout=10)
    for line in r.text.splitlines() if r.status_code == 200 else []:
        if line.startswith(name + '{listener="webhook"} '):
            return float(line.split()[-1])
    return None


class Flood:
    """`FLOOD` connections from SOURCES kept open by a thread: each is opened by `opening` (bytes sent at
    once, an answer awaited when `await_answer`), fed `trickle` bytes one at a time every `interval`, and
    re-opened when the server closes it. Counts what the server closed."""

    def __init__(self, port, opening, trickle=b"", await_answer=False, interval=0.5):
        self.port, self.opening, self.trickle = port, opening, trickle
        self.await_answer, self.interval = await_answer, interval
        self.selector = selectors.DefaultSelector()  # epoll: select() stops at 1,024 descriptors
        self.socks = {}   # socket -> (source, bytes of `trickle` sent)
        self.closed_by_server = 0
        self.reopen_failures = 0
        self.stop = threading.Event()
        for i in range(FLOOD):
            self._open(SOURCES[i % len(SOURCES)])
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _open(self, source):
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5, source_address=(source, 0))
            sock.sendall(self.opening)
            if self.await_answer:
                answer = b""
                while b"\r\n\r\n" not in answer:
                    chunk = sock.recv(4096)
                    if not chunk:
                        raise ConnectionError("closed before answering")
                    answer += chunk
            sock.setblocking(False)
        except OSError:
            self.reopen_failures += 1
            return
        self.socks[sock] = (source, 0)
        self.selector.register(sock, selectors.EVENT_READ)

    def _drop(self, sock):
        source, _ = self.socks.pop(sock)
        self.selector.unregister(sock)
        sock.close()
        self.closed_by_server += 1
        return source

    def _run(self):
        next_tick = time.monotonic()
        closed = []
        while not self.stop.is_set():
            # Whatever the server sent now is its close (a FIN, an RST or a 503 before one).
            for key, _ in self.selector.select(timeout=0.05):
                if key.fileobj in self.socks:
                    closed.append(self._drop(key.fileobj))
            # Re-opened at up to 2,000 a second: an attacker that never lets go, but one that leaves this
            # process's interpreter time to measure the deliveries.
            for source in closed[:REOPENS_PER_PASS]:
                self._open(source)
            del closed[:REOPENS_PER_PASS]
            if self.trickle and time.monotonic() >= next_tick:
                next_tick += self.interval
                for sock, (source, sent) in list(self.socks.items()):
                    try:
                        sock.send(self.trickle[sent % len(self.trickle):][:1])
                        self.socks[sock] = (source, sent + 1)
                    except OSError:
                        closed.append(self._drop(sock))

    def close(self):
        self.stop.set()
        self.thread.join(10)
        for sock in list(self.socks):
            sock.close()
        self.selector.close()


def deliveries_during(flood, serve, portal, room, name):
    """Signed deliveries on fresh connections and the emulator's own, while `flood` holds its connections;
    returns (status and seconds per delivery, the sender's attempts, connections open on the server, a line
    on what was held)."""
    acks = []
    for event_id in EVENT_IDS:
        acks.append(signed_delivery(serve.port, event_id))
        time.sleep(0.3)
    full = metric(serve, "spacehook_http_connections_active")
    for n in range(3):
        portal.upload(room, f"{name}-{n}.docx")
    portal.wait_idle(timeout=30)
    held = len(flood.socks)
    sender = [a for a in portal.deliveries() if a["trigger"] in ("file.created", "file.uploaded")]
    return acks, sender, full, f"{held} attacker connections open, server at {count(full)} connections"


def journaled(serve):
    ids = {e["event_id"] for e in serve.events()}
    return all(str(event_id) in ids for event_id in EVENT_IDS)


def count(value):
    return "?" if value is None else f"{value:.0f}"


def check_and_report(acks, sender, full, held, serve, report, name):
    statuses = [status for status, _ in acks]
    seconds = [s for _, s in acks]
    first_attempts = {}
    for attempt in sender:
        first_attempts.setdefault(attempt["logId"], attempt)
    sender_ms = [a["durationMs"] for a in first_attempts.values()]
    evicted_idle = metric(serve, "spacehook_http_connections_evicted_idle_total")
    evicted_slow = metric(serve, "spacehook_http_connections_evicted_slow_total")
    report(f"{name}: {held}, deliveries {statuses} in max {max(seconds):.3f}s "
           f"(p50 {percentile(seconds, 50):.3f}s), sender first attempts "
           f"{sorted(a['status'] for a in first_attempts.values())} in max {max(sender_ms, default=0)} ms, "
           f"evicted idle {count(evicted_idle)}, slow {count(evicted_slow)}")
    assert statuses == [202] * len(acks), acks
    assert max(seconds) < ACK_BOUND, acks
    assert first_attempts, "the emulator delivered nothing"
    for attempt in first_attempts.values():
        assert 200 <= attempt["status"] <= 299, attempt
        assert attempt["durationMs"] < ACK_BOUND * 1000, attempt
    assert full is not None and full >= 1000, f"{full} connections open: the flood did not fill the server"
    return evicted_idle, evicted_slow


def start(procs, tmp_path):
    raise_open_file_limit(FLOOD + 512)
    portal = Portal(procs, tmp_path)
    room = portal.create_room("Flooded")["id"]
    serve = Spacehook(procs, tmp_path, portal, CONFIG)
    portal.subscribe(serve.webhook_url)
    return portal, room, serve


def test_idle_keepalive_flood_never_locks_deliveries_out(procs, tmp_path, report):
    portal, room, serve = start(procs, tmp_path)
    probe = b"GET /docspace/webhook HTTP/1.1\r\nHost: spacehook\r\n\r\n"
    flood = Flood(serve.port, probe, await_answer=True)
    try:
        acks, sender, full, held = deliveries_during(flood, serve, portal, room, "idle")
    finally:
        flood.close()
    evicted_idle, _ = check_and_report(acks, sender, full, held, serve, report, "idle keep-alive flood")
    assert evicted_idle is not None and evicted_idle >= FLOOD - 1024, "the cap was never reached"
    wait_for(lambda: journaled(serve), 10, "every acked delivery journaled")


def test_slowloris_flood_never_locks_deliveries_out(procs, tmp_path, report):
    portal, room, serve = start(procs, tmp_path)
    header = b"POST /docspace/webhook HTTP/1.1\r\nHost: spacehook\r\n"
    trickled_header = b"X-Slow: " + b"a" * 4000
    body = (b"POST /docspace/webhook HTTP/1.1\r\nHost: spacehook\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000\r\n\r\n{")

    class Mixed(Flood):
        # Every fourth connection trickles a body (its header complete), the others a header.
        def _open(self, source):
            self.opening = body if len(self.socks) % 4 == 0 else header
            super()._open(source)

    flood = Mixed(serve.port, header, trickle=trickled_header)
    try:
        time.sleep(2.5)  # every one of them well into its request: the 10 s header deadline is far
        acks, sender, full, held = deliveries_during(flood, serve, portal, room, "slow")
    finally:
        flood.close()
    _, evicted_slow = check_and_report(acks, sender, full, held, serve, report, "slowloris flood")
    assert evicted_slow is not None and evicted_slow >= 1
    wait_for(lambda: journaled(serve), 10, "every acked delivery journaled")
