"""Hostile HTTP at the real binary's edge: what a client that is not DocSpace can send to the ingress.

src/http/server_test.cpp proves the server's limits and deadlines one by one against a test router, and
test_ingress.py the webhook statuses a well-behaved sender gets. This file drives `spacehook serve` itself,
with its configured limits, journal and webhook handler behind them: header blocks too large or too many,
chunked bodies past the limit, slow, stalled, silent and half-closed connections held while others are
served, pipelined deliveries, bytes that are not UTF-8, nesting deep enough to overflow any recursive
walk, memory under a flood, and what an error body may say.

    /usr/bin/python3 -m pytest tests/functional/test_hostile_http.py
"""
import json
import resource
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

# The delivery builders and the Service wrapper of the ingress tests: one way to start and sign.
from test_ingress import SECRET, WEBHOOK_PATH, Service, envelope, post, signature

# Every body the service may send a caller with an error status: the external messages only (DESIGN.md,
# "one error vocabulary"), never a parser's, the store's or a path.
EXTERNAL_ERRORS = {
    400: "bad request",
    401: "unauthorized",
    404: "not found",
    405: "method not allowed",
    408: "request timeout",
    413: "payload too large",
    431: "request header fields too large",
    503: "temporarily unavailable",
}


@pytest.fixture
def svc(procs, tmp_path):
    return Service(procs, tmp_path)


# --- a client that sends what requests would not ------------------------------------------------------

class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"Reply({self.status}, {self.body[:80]!r})"


class RawClient:
    """One TCP connection written and read byte for byte. Every read is bounded by the socket timeout."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def send(self, data: bytes) -> bool:
        """False when the server has already closed (it may answer before reading everything)."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def _fill(self) -> bool:
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            return False
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def reply(self):
        """The next response, or None when the connection closed before a whole one arrived."""
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                return None
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            if not self._fill():
                return None
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Reply(status, headers, body)

    def closed_within(self, seconds) -> bool:
        """True once the server closed (FIN or RST) within `seconds`; whatever it sent first is kept."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                if not self._fill():
                    return True
            except socket.timeout:
                return False
        return False

    def close(self):
        self.sock.close()


def http_request(method, path, body=b"", headers=None, chunk_size=None):
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    framed = any(name.lower() in ("content-length", "transfer-encoding") for name in (headers or {}))
    if chunk_size is None:
        if (body or method in ("POST", "PUT")) and not framed:
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    lines.append("Transfer-Encoding: chunked")
    out = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    for start in range(0, len(body), chunk_size):
        piece = body[start:start + chunk_size]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def delivery(body: bytes, sig="sign", extra=None, chunk_size=None):
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if sig == "sign":
        headers["x-docspace-signature-256"] = signature(body)
    elif sig is not None:
        headers["x-docspace-signature-256"] = sig
    headers.update(extra or {})
    return http_request("POST", WEBHOOK_PATH, body, headers, chunk_size)


def assert_external_error(reply, status):
    """The body is exactly {"error": <the status's external message>}: no parser, store or path detail."""
    assert reply is not None, f"no {status} answer"
    assert reply.status == status, reply
    assert reply.headers.get("content-type", "").startswith("application/json"), reply.headers
    assert reply.json() == {"error": EXTERNAL_ERRORS[status]}, reply


ACTIVE = 'spacehook_http_connections_active{listener="webhook"}'


def metric(svc, name):
    for line in svc.metrics().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"no metric {name}")


def healthy(svc):
    return requests.get(svc.url + "/healthz", timeout=5).status_code == 200


# --- headers -----------------------------------------------------------------------------------------

def test_oversized_header_block_is_431_and_nothing_is_stored(svc):
    body = envelope()
    big = RawClient(svc.proc.port)
    big.send(delivery(body, extra={"X-Padding": "a" * 20000}))
    assert_external_error(big.reply(), 431)
    assert big.closed_within(2)
    big.close()

    # One huge header line is refused the same way, however it is split into packets.
    split = RawClient(svc.proc.port)
    request = delivery(body, extra={"Cookie": "c=" + "x" * 40000})
    for start in range(0, len(request), 1500):
        if not split.send(request[start:start + 1500]):
            break
    assert_external_error(split.reply(), 431)
    split.close()

    assert svc.events() == []
    assert metric(svc, 'spacehook_http_limit_rejections_total{listener="webhook"}') == 2
    assert post(svc.url, body).status_code == 202


def test_many_headers_within_the_block_limit_are_served_past_it_431(svc):
    # 400 short headers (about 10 KiB) fit the 16 KiB header block; DocSpace sends about ten.
    body = envelope(event_id=1)
    many = {f"X-Filler-{i:04}": "v" for i in range(400)}
    client = RawClient(svc.proc.port)
    client.send(delivery(body, extra=many))
    reply = client.reply()
    assert reply is not None and reply.status == 202, reply
    assert reply.json() == {"status": "stored"}
    # The connection stays usable after a large but legal header block.
    client.send(http_request("GET", "/healthz"))
    assert client.reply().status == 200
    client.close()

    too_many = RawClient(svc.proc.port)
    too_many.send(delivery(envelope(event_id=2), extra={f"X-Filler-{i:05}": "v" for i in range(3000)}))
    assert_external_error(too_many.reply(), 431)
    assert too_many.closed_within(2)
    too_many.close()
    assert [e["event_id"] for e in svc.events()] == ["1"]


# --- bodies ------------------------------------------------------------------------------------------

def test_chunked_body_within_the_limit_is_stored_and_past_it_is_413(procs, tmp_path):
    s = Service(procs, tmp_path, config="server:\n  body_limit: 4KiB\n")
    small = envelope(event_id=1, payload={"id": 1, "title": "s" * 2500})
    client = RawClient(s.proc.port)
    client.send(delivery(small, chunk_size=300))
    reply = client.reply()
    assert reply is not None and reply.status == 202, reply
    client.close()
    shown = s.cli("events", "show", "1", "--by-event-id", "--store", s.store, "--json")
    assert json.loads(shown.stdout)["body"] == json.loads(small)

    # Growing past 4 KiB one chunk at a time, with no Content-Length to refuse up front.
    big = envelope(event_id=2, payload={"id": 2, "title": "b" * 20000})
    request = delivery(big, chunk_size=1024)
    grower = RawClient(s.proc.port)
    for start in range(0, len(request), 2048):
        if not grower.send(request[start:start + 2048]):
            break
    assert_external_error(grower.reply(), 413)
    assert grower.closed_within(2)
    grower.close()

    # One chunk claiming more than the limit is refused from its size line alone.
    liar = RawClient(s.proc.port)
    liar.send(http_request("POST", WEBHOOK_PATH, headers={"Transfer-Encoding": "chunked",
                                                          "x-docspace-signature-256": signature(b"x")})
              + b"100000\r\n" + b"x" * 100)
    assert_external_error(liar.reply(), 413)
    liar.close()

    assert [e["event_id"] for e in s.events()] == ["1"]
    assert metric(s, 'spacehook_http_limit_rejections_total{listener="webhook"}') == 2
    assert post(s.url, envelope(event_id=3)).status_code == 202


def test_non_utf8_bodies_are_checked_as_bytes_and_refused_unstored(svc):
    latin1 = b'{"event":{"id":11,"trigger":"file.created"},"payload":{"id":5,"title":"R\xfcckmeldung.docx"}}'
    # The MAC is over the received bytes (docs/docspace-api.md §1.3): one computed over a decoded and re-encoded text
    # is another MAC, whichever way the text was repaired.
    transcoded = latin1.decode("latin-1").encode("utf-8")
    assert post(svc.url, latin1, sig=signature(transcoded)).status_code == 401
    # Signed over the bytes it is authentic, and still not JSON (JSON text is UTF-8, RFC 8259 §8.1).
    r = post(svc.url, latin1)
    assert r.status_code == 400 and r.json() == {"error": "bad request"}

    garbage = bytes(range(256)) * 8
    r = post(svc.url, garbage)
    assert r.status_code == 400 and r.json() == {"error": "bad request"}
    surrogate = b'{"event":{"id":12,"trigger":"file.created"},"payload":{"title":"\xed\xa0\x80"}}'
    assert post(svc.url, surrogate).status_code == 400
    # Bytes that are not ASCII in the unsigned transport headers only ever refuse.
    r = post(svc.url, envelope(event_id=13), headers={"x-docspace-event-id": "\xff\xfe".encode("latin-1")})
    assert r.status_code == 400
    assert svc.events() == []

    # Real UTF-8 (two-, three- and four-byte forms, and escapes of them) is stored as sent.
    raw = ('{"event":{"id":14,"trigger":"file.created"},'
           '"payload":{"id":6,"title":"Rückmeldung 日本 😀","escaped":"\\ud83d\\ude00"},"webhook":{"id":7}}').encode("utf-8")
    utf8 = envelope(event_id=14, payload={"id": 6, "title": "Rückmeldung 日本 😀"})  # the same, as \u escapes
    assert post(svc.url, raw).status_code == 202
    assert post(svc.url, utf8).status_code == 200  # same event id: a duplicate, whatever the bytes
    shown = json.loads(svc.cli("events", "show", "14", "--by-event-id", "--store", svc.store, "--json").stdout)
    assert shown["body"]["payload"]["title"] == "Rückmeldung 日本 😀"
    assert shown["body"]["payload"]["escaped"] == "😀"
    assert healthy(svc)


def test_deep_json_nesting_is_400_and_never_a_crash(svc):
    levels = 400_000  # 800 KB of brackets, inside the default 1 MiB body limit
    deep_arrays = b'{"event":{"trigger":"file.created"},"payload":' + b"[" * levels + b"]" * levels + b"}"
    deep_objects = (b'{"event":{"id":21,"trigger":"file.created"},"payload":' + b'{"a":' * 100_000 + b"1"
                    + b"}" * 100_000 + b"}")
    for body in (deep_arrays, deep_objects, b"[" * levels):
        r = post(svc.url, body, timeout=30)
        assert r.status_code == 400, r.status_code
        assert r.json() == {"error": "bad request"}
        assert healthy(svc)
    assert svc.events() == []
    assert "nests deeper than 64 levels" in svc.proc.output()  # the detail is logged, not sent

    # Within the bound the payload's depth does not matter, and brackets inside strings are text.
    nested = 1
    for _ in range(60):
        nested = [nested]
    within = envelope(event_id=22, payload={"id": 7, "deep": nested, "title": "[" * 100_000})
    assert post(svc.url, within).status_code == 202
    seq = svc.events()[0]["seq"]
    # Every place that re-reads and dumps the stored body: the admin API and the CLI.
    shown = requests.get(f"{svc.admin_url}/admin/api/events/{seq}", timeout=10)
    assert shown.status_code == 200 and shown.json()["body"]["payload"]["deep"] == nested
    cli = json.loads(svc.cli("events", "show", str(seq), "--store", svc.store, "--json").stdout)
    assert cli["body"]["payload"]["title"] == "[" * 100_000
    assert healthy(svc)


# --- connections -------------------------------------------------------------------------------------

def test_slow_stalled_silent_and_half_closed_connections_end_at_their_deadlines(procs, tmp_path):
    s = Service(procs, tmp_path, config="server:\n  header_timeout: 1s\n  body_timeout: 1s\n")
    port = s.proc.port
    started = time.monotonic()
    # Slowloris: a header block trickled a few bytes at a time, never finished.
    slow = [RawClient(port) for _ in range(16)]
    # Silent: connected, never a byte (a half-open flood).
    silent = [RawClient(port) for _ in range(16)]
    # Stalled: a whole header block, 100 of the 2000 body bytes it announced.
    stalled = [RawClient(port) for _ in range(8)]
    for c in stalled:
        c.send(http_request("POST", WEBHOOK_PATH, headers={"Content-Length": "2000"}).rstrip(b"\r\n")
               + b"\r\n\r\n" + b"{" * 100)
    # Half-closed: part of a request, then the client's side shut for writing (it will never finish).
    half_closed = [RawClient(port) for _ in range(4)]
    for c in half_closed:
        c.send(b"POST /docspace/webhook HTTP/1.1\r\nHost: x\r\nContent-Le")
        c.sock.shutdown(socket.SHUT_WR)

    # While they hold their connections, deliveries are answered quickly.
    latencies = []
    line = b"POST /docspace/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    for i in range(20):
        for c in slow:
            c.send(line[i * 3:i * 3 + 3] if i * 3 < len(line) else b"a")
        t0 = time.monotonic()
        assert post(s.url, envelope(event_id=100 + i), timeout=5).status_code == 202
        latencies.append(time.monotonic() - t0)
        time.sleep(0.05)
    assert max(latencies) < 0.5, latencies

    # Each is closed at its deadline (1 s, checked from the connection's start), with a 408 or no answer.
    for c in half_closed:
        assert c.closed_within(1.0), "a half-closed connection outlived its request"
    for group, name in ((slow, "slowloris"), (silent, "silent"), (stalled, "stalled body")):
        for c in group:
            assert c.closed_within(max(0.1, started + 4.0 - time.monotonic())), f"{name} connection still open"
            assert c.buffer == b"" or c.buffer.startswith(b"HTTP/1.1 408 "), (name, c.buffer[:80])
            if c.buffer:
                assert json.loads(c.buffer.split(b"\r\n\r\n", 1)[1]) == {"error": "request timeout"}
    elapsed = time.monotonic() - started
    assert elapsed < 4.5, f"hostile connections held for {elapsed:.1f}s"
    for group in (slow, silent, stalled, half_closed):
        for c in group:
            c.close()

    deadline = time.monotonic() + 5
    # Scrapes go to the admin listener, so none of the webhook listener's connections is the scrape's own.
    while metric(s, ACTIVE) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert metric(s, ACTIVE) <= 1
    assert metric(s, 'spacehook_http_timeouts_total{listener="webhook"}') >= 16 + 16 + 8
    assert len(s.events()) == 20


def test_pipelined_deliveries_are_answered_in_order(svc):
    first, second = envelope(event_id=31), envelope(event_id=32)
    client = RawClient(svc.proc.port)
    client.send(delivery(first) + http_request("GET", "/healthz") + delivery(first) + delivery(second, sig=None)
                + delivery(second) + http_request("GET", "/nowhere") + http_request("GET", "/healthz"))
    replies = [client.reply() for _ in range(7)]
    assert [r.status for r in replies] == [202, 200, 200, 401, 202, 404, 200], replies
    assert [r.json() for r in replies[:5]] == [{"status": "stored"}, {"status": "ok"}, {"status": "duplicate"},
                                              {"error": "unauthorized"}, {"status": "stored"}]
    assert_external_error(replies[5], 404)
    # Still open for more after a 401 and a 404.
    client.send(delivery(envelope(event_id=33)))
    assert client.reply().status == 202
    client.close()
    assert sorted(e["event_id"] for e in svc.events()) == ["31", "32", "33"]


# --- memory ------------------------------------------------------------------------------------------

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class PeakRss:
    """The highest RSS (KiB) of a process, sampled every 20 ms on a thread of its own until stop()."""

    def __init__(self, pid, baseline):
        self.kib = baseline
        self._pid = pid
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stopped.is_set():
            self.kib = max(self.kib, rss_kib(self._pid))
            time.sleep(0.02)

    def stop(self):
        self._stopped.set()
        self._thread.join(5)


def test_memory_stays_bounded_under_a_flood_of_big_bodies_and_connections(svc):
    """32 clients send 640 bodies of about 1 MiB (the default limit) - unsigned, wrongly signed, signed but
    not JSON, announced past the limit, and some stored - while 500 idle connections are held; then all of
    it again. The server holds at most one body per connection being read, so the peak is bounded by the
    concurrency, not by the volume: 1.25 GiB sent, and the process (RSS from /proc) grows by less than
    200 MiB at its peak, keeps less than 64 MiB of that after the first flood (glibc keeps freed memory for
    reuse), and less than 16 MiB more after the second. Measured: +45 MiB peak, +42 MiB after."""
    pid = svc.proc.popen.pid
    for i in range(5):  # warm up: threads, the journal, the first allocations
        post(svc.url, envelope(event_id=900 + i))
    baseline = rss_kib(pid)

    peak = PeakRss(pid, baseline)

    filler = b"z" * (1024 * 1024 - 300)

    def one(i):
        kind = i % 5
        with requests.Session() as session:
            url = svc.url + WEBHOOK_PATH
            if kind == 0:
                body = envelope(event_id=10_000 + i, payload={"id": i, "blob": filler[:900_000].decode()})
                return session.post(url, data=body, headers={"x-docspace-signature-256": signature(body)},
                                    timeout=60).status_code
            if kind == 1:
                return session.post(url, data=filler, timeout=60).status_code
            if kind == 2:
                return session.post(url, data=filler, headers={"x-docspace-signature-256": "sha256=" + "0" * 64},
                                    timeout=60).status_code
            if kind == 3:
                return session.post(url, data=filler, headers={"x-docspace-signature-256": signature(filler)},
                                    timeout=60).status_code
            # Announced past the limit: refused from the header, the body never buffered.
            try:
                return session.post(url, data=filler + filler, timeout=60).status_code
            except requests.exceptions.ConnectionError:
                return 413  # the server answered and closed before the upload finished

    def flood(first_id):
        idle = []
        try:
            for _ in range(500):
                idle.append(socket.create_connection(("127.0.0.1", svc.proc.port), timeout=10))
            with ThreadPoolExecutor(32) as pool:
                statuses = list(pool.map(one, range(first_id, first_id + 640)))
        finally:
            for sock in idle:
                sock.close()
        assert statuses.count(202) == 128
        assert statuses.count(401) == 256
        assert statuses.count(400) == 128
        assert statuses.count(413) == 128
        deadline = time.monotonic() + 5
        while metric(svc, ACTIVE) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        return rss_kib(pid)

    after = flood(0)
    # The same flood again: what stayed after the first is reused, not added to (no leak per request).
    after_second = flood(640)
    peak.stop()
    grown_peak, grown_after = (peak.kib - baseline) // 1024, (after - baseline) // 1024
    grown_again = (after_second - after) // 1024
    print(f"RSS baseline {baseline // 1024} MiB, peak +{grown_peak} MiB, after one flood +{grown_after} MiB, "
          f"after the second {grown_again:+} MiB more")
    assert grown_peak < 200, f"RSS grew by {grown_peak} MiB at the peak"
    assert grown_after < 64, f"RSS stayed {grown_after} MiB above the baseline"
    assert grown_again < 16, f"a second flood grew RSS by {grown_again} MiB more"
    assert healthy(svc)
    assert metric(svc, ACTIVE) <= 1
    assert len(svc.events()) == 5 + 2 * 128


def metric_or_none(svc, name):
    for line in svc.metrics().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


def raise_open_file_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (needed if hard == resource.RLIM_INFINITY else min(hard, needed), hard))
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= needed, "cannot hold enough descriptors"


def test_memory_stays_bounded_while_a_thousand_connections_hold_large_partial_bodies(procs, tmp_path):
    """1,000 connections each announce a 1 MiB body (the default body_limit), send all but 48 KiB of it and
    stall: buffered whole, that grew the process by about a gigabyte. server.body_memory_limit (64 MiB by
    default) bounds the bodies of all connections together: a body that does not fit is answered 503 with
    Retry-After (DocSpace retries) before it is read, so the process grows by the budget and per-connection
    buffers, not by a thousand bodies. Measured: +1 GB before the budget; see the printed figures."""
    raise_open_file_limit(1300)  # before serve starts: it inherits the limit
    s = Service(procs, tmp_path)
    pid = s.proc.popen.pid
    for i in range(5):
        assert post(s.url, envelope(event_id=950 + i)).status_code == 202
    baseline = rss_kib(pid)
    peak = PeakRss(pid, baseline)
    head = (f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"x-docspace-signature-256: sha256={'0' * 64}\r\nContent-Length: {1024 * 1024}\r\n\r\n").encode()
    partial = b"{" + b"z" * (1024 * 1024 - 48 * 1024 - 1)
    held = []
    try:
        for _ in range(1000):
            sock = socket.create_connection(("127.0.0.1", s.proc.port), timeout=10)
            held.append(sock)
            try:
                sock.sendall(head + partial)
            except OSError:
                pass  # answered 503 and closed while the body was still going out
        # Until the server has seen every header (1,000 x 1 MiB is a lot to read or drain for a loaded debug
        # build); bounded, since a server without the budget never refuses.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (metric_or_none(s, 'spacehook_http_body_memory_rejections_total{listener="webhook"}') or 0) < 900:
            time.sleep(0.2)
        time.sleep(0.5)
        holding = rss_kib(pid)
    finally:
        for sock in held:
            sock.close()
        peak.stop()
    grown_peak, grown_holding = (peak.kib - baseline) // 1024, (holding - baseline) // 1024
    print(f"RSS baseline {baseline // 1024} MiB; 1,000 partial 1 MiB bodies: peak +{grown_peak} MiB, "
          f"+{grown_holding} MiB while held")
    assert grown_peak < 256, f"RSS grew by {grown_peak} MiB"
    assert metric(s, 'spacehook_http_body_memory_rejections_total{listener="webhook"}') >= 900
    # The budget is given back: the service takes full-size deliveries again.
    big = envelope(event_id=960, payload={"id": 960, "blob": "b" * 900_000})
    deadline = time.monotonic() + 10
    while metric(s, 'spacehook_http_body_memory_bytes{listener="webhook"}') > 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert post(s.url, big, timeout=30).status_code == 202
    assert healthy(s)


# --- error bodies ------------------------------------------------------------------------------------

def test_error_bodies_carry_no_internal_detail(procs, tmp_path):
    s = Service(procs, tmp_path, config="server:\n  body_limit: 4KiB\n  header_timeout: 1s\n")
    port = s.proc.port
    deep = b'{"event":{"trigger":"file.created"},"payload":' + b"[" * 1000 + b"]" * 1000 + b"}"
    cases = [
        (400, delivery(b"{\"event\":")),                      # truncated JSON
        (400, delivery(deep)),                                # nested past the bound
        (400, delivery(b"\xff\xfe\x00bad")),                  # not UTF-8
        (400, b"NOT HTTP AT ALL\r\n\r\n"),                    # not HTTP
        (400, b"POST /docspace/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"),
        (401, delivery(envelope(), sig="sha256=" + "f" * 64)),
        (404, http_request("GET", "/../../etc/passwd")),
        (405, http_request("PUT", WEBHOOK_PATH, b"{}")),
        (413, delivery(envelope(payload={"title": "x" * 8000}))),
        (431, delivery(envelope(), extra={"X-Big": "h" * 20000})),
    ]
    for status, raw in cases:
        client = RawClient(port)
        client.send(raw)
        reply = client.reply()
        client.close()
        assert_external_error(reply, status)
        lowered = reply.body.lower()
        for leak in (b"json", b"nlohmann", b"pars", b"nest", b"depth", b"sqlite", b"journal", b"utf", b"::",
                     b"/", b"exception", SECRET.encode()):
            assert leak not in lowered, (status, reply.body)
    timed_out = RawClient(port)
    timed_out.send(b"POST /docspace/webhook HTTP/1.1\r\n")
    assert_external_error(timed_out.reply(), 408)
    timed_out.close()
    assert healthy(s)

    # The operator's log says why each was refused, but never the secret nor a signature a caller sent
    # (with the body, a signature is an oracle for the secret).
    good = envelope(event_id=41)
    sent = [signature(good), signature(good, upper=False), "sha256=" + "f" * 64]
    assert post(s.url, good, sig=sent[0]).status_code == 202
    assert post(s.url, good, sig=sent[1]).status_code == 200
    s.proc.terminate()
    log = s.proc.output()
    assert "refused" in log
    assert SECRET not in log
    for value in sent:
        assert value[len("sha256="):].lower() not in log.lower(), value
