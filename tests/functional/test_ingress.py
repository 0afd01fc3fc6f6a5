"""The ingress over real HTTP: `spacehook serve` on a fresh SQLite journal, driven like DocSpace drives it.

Every status the webhook endpoint can answer, the redelivery rules of docs/docspace-api.md §1.9, the operator routes,
the `send` and `events` commands, and "acked means stored" across a kill -9.

    /usr/bin/python3 -m pytest tests/functional/test_ingress.py
"""
import hashlib
import hmac
import json
import os
import resource
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from conftest import spacehook_bin

SECRET = "func-Secret-0042"
WEBHOOK_PATH = "/docspace/webhook"
ACTOR = "66faa6e4-f133-11ea-b126-00ffeec8b4ef"


# --- building deliveries the way DocSpace does (docs/docspace-api.md §1.3, §1.4) -----------------------------------

def envelope(event_id=4821, trigger="file.created", trigger_id=128, payload=None, webhook_id=7, retry=0,
             create_on="2026-06-30T10:15:42Z"):
    event = {}
    if event_id is not None:
        event["id"] = event_id
    if create_on is not None:
        event["createOn"] = create_on
    event["createBy"] = ACTOR
    event["trigger"] = trigger
    if trigger_id:
        event["triggerId"] = trigger_id
    webhook = {}
    if webhook_id is not None:
        webhook["id"] = webhook_id
    webhook.update({"name": "automation", "url": "https://hooks.example.com/docspace", "triggers": ["*"]})
    if retry:
        webhook.update({"lastFailureOn": "2026-06-30T10:15:43Z",
                        "lastFailureContent": "Response status code does not indicate success: 503 (Service Unavailable).",
                        "lastSuccessOn": "2026-06-29T08:00:00", "retryCount": retry, "retryOn": "2026-06-30T10:15:46Z"})
    if payload is None:
        payload = {"id": 1234, "parentId": 567, "securityByUsers": {}, "folderIdDisplay": 567, "rootId": 3,
                   "title": "Invoice-0042.docx", "createBy": ACTOR, "fileEntryType": 2}
    return json.dumps({"event": event, "payload": payload, "webhook": webhook}, separators=(",", ":")).encode()


def signature(body: bytes, secret=SECRET, upper=True) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return "sha256=" + (digest.upper() if upper else digest)


def post(url, body: bytes, sig="sign", headers=None, timeout=10):
    h = {"Content-Type": "application/json; charset=utf-8", "Accept": "*/*"}
    if sig == "sign":
        h["x-docspace-signature-256"] = signature(body)
    elif sig is not None:
        h["x-docspace-signature-256"] = sig
    h.update(headers or {})
    return requests.post(url + WEBHOOK_PATH, data=body, headers=h, timeout=timeout)


# --- the service under test --------------------------------------------------------------------------

def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DOCSPACE_", "SPACEHOOK_ADMIN", "SMTP_", "MAIL_")) and k != "PORT"}
    env.update(extra)
    return env


class Service:
    def __init__(self, procs, tmp_path: Path, *extra, secret=SECRET, config=None, env=None, wrap=None, name="serve"):
        self.bin = spacehook_bin()
        self.tmp = tmp_path
        self.db = tmp_path / "journal.db"
        self.store = f"sqlite:{self.db}"
        args = [self.bin, "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--store", self.store,
                "--ready-file", str(tmp_path / f"{name}.ready")]
        if config is not None:
            path = tmp_path / f"{name}.yaml"
            path.write_text(config)
            args += ["--config", str(path)]
        args += list(extra)
        if wrap:
            args = wrap + args
        environment = clean_env(**({"DOCSPACE_WEBHOOK_SECRET": secret} if secret else {}))
        environment.update(env or {})
        self.proc = procs.start(args, tmp_path / f"{name}.ready", env=environment, log_path=tmp_path / f"{name}.log")
        self.url = self.proc.url
        self.admin_url = self.proc.admin_url

    def cli(self, *args, check=True):
        out = subprocess.run([self.bin, *args], capture_output=True, text=True, timeout=30, env=clean_env())
        if check:
            assert out.returncode == 0, out.stderr
        return out

    def events(self, *filters):
        out = self.cli("events", "list", "--store", self.store, "--json", "--limit", "10000", *filters)
        return json.loads(out.stdout)["events"]

    def metrics(self):
        r = requests.get(self.admin_url + "/metrics", timeout=10)
        assert r.status_code == 200
        return r.text

    def counter(self, outcome):
        for line in self.metrics().splitlines():
            if line.startswith(f'spacehook_deliveries_total{{outcome="{outcome}"}} '):
                return int(line.split()[-1])
        raise AssertionError(f"no series for outcome {outcome}")


@pytest.fixture
def svc(procs, tmp_path):
    return Service(procs, tmp_path)


# --- statuses ----------------------------------------------------------------------------------------

def test_stored_answers_2xx_and_the_journal_has_the_exact_bytes(svc):
    body = envelope()
    r = post(svc.url, body)
    assert r.status_code == 202
    assert r.json() == {"status": "stored"}
    events = svc.events()
    assert len(events) == 1
    assert events[0]["event_id"] == "4821" and events[0]["webhook_id"] == "7"
    assert events[0]["trigger"] == "file.created" and events[0]["entity_id"] == "1234"
    shown = json.loads(svc.cli("events", "show", str(events[0]["seq"]), "--store", svc.store, "--json").stdout)
    assert shown["body"] == json.loads(body)
    assert svc.counter("stored") == 1


def test_redelivery_is_a_duplicate_even_re_signed_with_retry_fields(svc):
    assert post(svc.url, envelope()).status_code == 202
    again = post(svc.url, envelope())
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    # DocSpace re-serializes and re-signs every retry with webhook.retry* (docs/docspace-api.md §1.9).
    for n in (1, 2, 5):
        retry = envelope(retry=n)
        r = post(svc.url, retry, sig=signature(retry, upper=(n % 2 == 0)))
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "duplicate"
    assert len(svc.events()) == 1
    assert svc.counter("duplicate") == 4
    # The same event id under another webhook config is another delivery.
    assert post(svc.url, envelope(webhook_id=8)).status_code == 202
    assert len(svc.events()) == 2


def test_bad_signatures_are_401_and_store_nothing(svc):
    body = envelope()
    good = signature(body)
    cases = {
        "missing": None,
        "wrong key": signature(body, secret="another-secret"),
        "truncated": good[:-1],
        "half": good[:7 + 32],
        "no prefix": good[len("sha256="):],
        "other algorithm": "sha1=" + good[len("sha256="):],
        "not hex": good[:-1] + "Z",
        "body changed": good,
    }
    for name, sig in cases.items():
        sent = body + b" " if name == "body changed" else body
        r = post(svc.url, sent, sig=sig)
        assert r.status_code == 401, name
        assert r.json() == {"error": "unauthorized"}, name
    assert svc.events() == []
    assert svc.counter("bad_signature") == len(cases)
    assert svc.counter("stored") == 0
    # Neither the secret nor any signature reaches the log.
    log = svc.proc.output()
    assert SECRET not in log
    assert good[len("sha256="):] not in log and good[len("sha256="):].lower() not in log


def test_lower_case_signature_accepted(svc):
    body = envelope()
    assert post(svc.url, body, sig=signature(body, upper=False)).status_code == 202


def test_bad_json_or_no_trigger_is_400(svc):
    for body in [b"{", b"[]", b'"file.created"', b"null", b'{"event":{"id":5}}', b'{"payload":{"id":1}}',
                 b'{"event":{"trigger":""}}', b"\xff\xfe"]:
        r = post(svc.url, body)
        assert r.status_code == 400, body
        assert r.json() == {"error": "bad request"}, body
    assert svc.events() == []
    assert svc.counter("bad_request") == 8


def test_transport_header_contradicting_the_body_is_400(svc):
    r = post(svc.url, envelope(), headers={"x-docspace-event-id": "9999"})
    assert r.status_code == 400
    ok = post(svc.url, envelope(), headers={"x-docspace-event-id": "4821",
                                            "x-docspace-event-timestamp": "2026-06-30T10:15:42Z"})
    assert ok.status_code == 202
    assert len(svc.events()) == 1


def test_body_over_the_limit_is_413(procs, tmp_path):
    s = Service(procs, tmp_path, config="server:\n  body_limit: 4KiB\n")
    small = envelope(payload={"id": 1, "title": "x" * 1000})
    big = envelope(event_id=4822, payload={"id": 2, "title": "x" * 8000})
    assert post(s.url, small).status_code == 202
    r = post(s.url, big)
    assert r.status_code == 413
    assert [e["event_id"] for e in s.events()] == ["4821"]
    assert 'spacehook_http_limit_rejections_total{listener="webhook"} 1' in s.metrics()


def test_head_and_get_probe_answer_200(svc):
    # DocSpace sends HEAD before it saves a subscription (docs/docspace-api.md §1.10).
    assert requests.head(svc.url + WEBHOOK_PATH, timeout=10).status_code == 200
    assert requests.get(svc.url + WEBHOOK_PATH, timeout=10).status_code == 200
    assert svc.events() == []


def test_omitted_fields_and_string_ids(svc):
    # Only event.trigger is required; DocSpace omits defaults (event.id 0, Guid.Empty, ...), docs/docspace-api.md §1.4.
    bare = json.dumps({"event": {"trigger": "room.created"}}).encode()
    assert post(svc.url, bare).status_code == 202
    assert post(svc.url, bare).status_code == 200  # the content key dedupes it too
    strings = envelope(event_id="5001", webhook_id="7", payload={"id": "sbox-3|/Invoice.docx", "fileEntryType": 2})
    assert post(svc.url, strings).status_code == 202
    numbers = envelope(event_id=5001, webhook_id=7, payload={"id": "sbox-3|/Invoice.docx", "fileEntryType": 2})
    assert post(svc.url, numbers).status_code == 200  # ids are compared as text (docs/docspace-api.md §1.8)
    events = {e["trigger"]: e for e in svc.events()}
    assert events["room.created"]["webhook_id"] == "" and events["room.created"]["event_id"].startswith("sha256:")
    assert events["file.created"]["event_id"] == "5001"
    assert events["file.created"]["entity_id"] == "sbox-3|/Invoice.docx"


def test_store_failure_is_503_then_recovers(procs, tmp_path):
    """A full disk, for real: the file-size limit (RLIMIT_FSIZE) of the running process is lowered to what
    its files hold now, so the next commit that grows the journal fails with EFBIG; raising it again is
    the operator freeing space. SIGXFSZ is ignored (set before exec) so the write fails instead of the
    process dying."""
    s = Service(procs, tmp_path, wrap=["/bin/sh", "-c", 'trap "" XFSZ; exec "$@"', "sh"])
    pid = s.proc.popen.pid
    assert post(s.url, envelope(event_id=1)).status_code == 202
    sizes = [p.stat().st_size for p in tmp_path.glob("journal.db*")]
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (max(sizes), resource.RLIM_INFINITY))

    statuses = []
    for i in range(2, 60):
        r = post(s.url, envelope(event_id=i, payload={"id": i, "title": "y" * 16000}))
        statuses.append(r.status_code)
        assert r.status_code in (202, 503), r.text
        if r.status_code == 503:
            assert r.json() == {"error": "temporarily unavailable"}
            break
    assert statuses[-1] == 503, statuses
    failed_id = len(statuses) + 1
    assert str(failed_id) not in {e["event_id"] for e in s.events()}
    assert s.counter("store_unavailable") >= 1
    assert "EFBIG" not in r.text and "journal.db" not in r.text

    resource.prlimit(pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    # DocSpace's retry of the refused delivery now lands.
    deadline = time.monotonic() + 10
    while True:
        r = post(s.url, envelope(event_id=failed_id, payload={"id": failed_id, "title": "y" * 16000}))
        if r.status_code == 202 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert r.status_code == 202, r.text
    assert str(failed_id) in {e["event_id"] for e in s.events()}
    assert requests.get(s.admin_url + "/readyz", timeout=10).status_code == 200


def test_slow_client_is_cut_off_while_others_are_served(procs, tmp_path):
    s = Service(procs, tmp_path, config="server:\n  header_timeout: 1s\n")
    slow = socket.create_connection(("127.0.0.1", s.proc.port), timeout=10)
    slow.sendall(b"POST /docspace/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl")
    started = time.monotonic()
    # Others are served while the slow client holds its connection.
    for i in range(5):
        assert post(s.url, envelope(event_id=100 + i), timeout=2).status_code == 202
    slow.settimeout(5)
    data = b""
    try:
        while True:
            chunk = slow.recv(4096)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    elapsed = time.monotonic() - started
    slow.close()
    assert elapsed < 4, f"slow connection held for {elapsed:.1f}s"
    assert data == b"" or data.startswith(b"HTTP/1.1 408"), data[:100]
    assert len(s.events()) == 5


def test_health_readiness_and_metrics(svc):
    assert requests.get(svc.url + "/healthz", timeout=10).json() == {"status": "ok"}
    assert requests.get(svc.admin_url + "/healthz", timeout=10).json() == {"status": "ok"}
    assert requests.get(svc.admin_url + "/readyz", timeout=10).json() == {"status": "ready"}
    post(svc.url, envelope())
    post(svc.url, envelope())
    post(svc.url, envelope(), sig=None)
    text = svc.metrics()
    assert 'spacehook_deliveries_total{outcome="stored"} 1' in text
    assert 'spacehook_deliveries_total{outcome="duplicate"} 1' in text
    assert 'spacehook_deliveries_total{outcome="bad_signature"} 1' in text
    assert "# TYPE spacehook_ack_latency_seconds histogram" in text
    assert "spacehook_ack_latency_seconds_count 2" in text
    assert "spacehook_journal_events 1" in text
    assert "spacehook_journal_events_pending 1" in text
    assert 'spacehook_runs{state="pending"} 0' in text
    assert "spacehook_dead_letters 0" in text
    assert "spacehook_store_bytes " in text
    # Metrics carry no secrets and no ids.
    assert SECRET not in text and "4821" not in text and ACTOR not in text


def test_admin_api_is_local_only_or_needs_the_token(procs, tmp_path):
    s = Service(procs, tmp_path)
    post(s.url, envelope())
    listed = requests.get(s.admin_url + "/admin/api/events", timeout=10)
    assert listed.status_code == 200 and listed.json()["events"][0]["event_id"] == "4821"
    assert requests.get(s.admin_url + "/admin", timeout=10).headers["content-type"].startswith("text/html")
    s.proc.terminate()

    token = "adm-token-0123456789"
    t = Service(procs, tmp_path, env={"SPACEHOOK_ADMIN_TOKEN": token}, name="serve-token")
    assert requests.get(t.admin_url + "/admin/api/events", timeout=10).status_code == 401
    ok = requests.get(t.admin_url + "/admin/api/events", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert ok.status_code == 200 and len(ok.json()["events"]) == 1
    assert requests.get(t.url + "/healthz", timeout=10).status_code == 200
    assert token not in t.proc.output()


# --- commands ----------------------------------------------------------------------------------------

def test_send_round_trip(svc, tmp_path):
    payload = tmp_path / "room.json"
    payload.write_text(json.dumps({"id": 890, "parentId": 3, "title": "Client ACME", "fileEntryType": 1}))
    url = svc.url + WEBHOOK_PATH
    base = [svc.bin, "send", "--url", url, "--trigger", "room.created", "--payload", str(payload),
            "--event-id", "6001", "--actor", ACTOR]
    env = clean_env(DOCSPACE_WEBHOOK_SECRET=SECRET)
    first = subprocess.run(base, capture_output=True, text=True, timeout=30, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0] == "HTTP 202"
    retry = subprocess.run(base + ["--retry-count", "2", "--lower-case-signature"], capture_output=True, text=True,
                           timeout=30, env=env)
    assert retry.returncode == 0 and retry.stdout.splitlines()[0] == "HTTP 200", retry.stdout
    wrong = subprocess.run(base[:-4] + ["--secret", "not-the-secret"], capture_output=True, text=True, timeout=30,
                           env=clean_env())
    assert wrong.returncode == 1 and wrong.stdout.splitlines()[0] == "HTTP 401"

    shown = json.loads(svc.cli("events", "show", "6001", "--by-event-id", "--store", svc.store, "--json").stdout)
    body = shown["body"]
    assert body["event"] == {"id": 6001, "createOn": body["event"]["createOn"], "createBy": ACTOR,
                             "trigger": "room.created", "triggerId": 4194304}
    assert body["payload"]["title"] == "Client ACME"
    assert body["webhook"]["triggers"] == ["room.created"]


def test_events_list_and_show(svc):
    for i, trigger in enumerate(["file.created", "room.created", "file.created"]):
        post(svc.url, envelope(event_id=7000 + i, trigger=trigger))
    table = svc.cli("events", "list", "--store", svc.store).stdout.splitlines()
    assert table[0].split()[:3] == ["SEQ", "RECEIVED", "TRIGGER"]
    assert len(table) == 4
    assert table[1].split()[0] == "3"  # newest first
    assert [e["event_id"] for e in svc.events("--trigger", "file.created")] == ["7002", "7000"]
    assert len(svc.events("--state", "pending")) == 3
    assert svc.cli("events", "list", "--store", svc.store, "--state", "lost", check=False).returncode == 2

    text = svc.cli("events", "show", "2", "--store", svc.store).stdout
    assert "room.created" in text and '"createBy"' in text
    by_id = svc.cli("events", "show", "7002", "--store", svc.store).stdout  # no seq 7002: the event id
    assert "7002" in by_id
    missing = svc.cli("events", "show", "99999", "--store", svc.store, check=False)
    assert missing.returncode == 1 and "no event" in missing.stderr


# --- startup and shutdown ----------------------------------------------------------------------------

def test_refuses_to_start_without_a_secret(tmp_path):
    out = subprocess.run([spacehook_bin(), "serve", "--listen", "127.0.0.1:0", "--store",
                          f"sqlite:{tmp_path / 'j.db'}"], capture_output=True, text=True, timeout=30, env=clean_env())
    assert out.returncode == 2
    assert "no webhook secret" in out.stderr and "--insecure-no-signature" in out.stderr


def test_insecure_flag_warns_at_every_start(procs, tmp_path):
    for n in range(2):
        s = Service(procs, tmp_path, "--insecure-no-signature", secret=None, name=f"insecure-{n}")
        assert "INSECURE" in s.proc.output()
        assert post(s.url, envelope(event_id=8000 + n), sig=None).status_code == 202
        assert s.proc.terminate() == 0


def test_port_env_sets_the_port_and_the_ready_file_names_it(procs, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ready = tmp_path / "ready.json"
    p = procs.start([spacehook_bin(), "serve", "--store", f"sqlite:{tmp_path / 'j.db'}", "--ready-file", str(ready),
                     "--admin-listen", "127.0.0.1:0"],
                    ready, env=clean_env(DOCSPACE_WEBHOOK_SECRET=SECRET, PORT=str(port)),
                    log_path=tmp_path / "serve.log")
    assert p.info == {"port": port, "admin_port": p.info["admin_port"], "pid": p.popen.pid}
    assert p.info["admin_port"] not in (0, port)
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200


def test_json_log_lines(procs, tmp_path):
    s = Service(procs, tmp_path, "--log-format", "json")
    post(s.url, envelope(), sig=signature(envelope(), secret="wrong-secret-1"))
    assert s.proc.terminate() == 0
    lines = [json.loads(line) for line in s.proc.output().splitlines() if line.strip()]
    assert any(l["msg"] == "listening" and l.get("port") == s.proc.port for l in lines)
    assert any(l["level"] == "warn" and l["component"] == "ingress" for l in lines)
    assert all({"ts", "level", "component", "msg"} <= l.keys() for l in lines)


def test_sigterm_drains_and_exits_0(svc):
    assert post(svc.url, envelope()).status_code == 202
    assert svc.proc.terminate() == 0
    assert "stopped" in svc.proc.output()


def test_acked_means_stored_across_kill_9(procs, tmp_path):
    """A burst of concurrent deliveries while spacehook is killed with SIGKILL: every delivery that got a
    2xx must be in the journal after a restart on the same store."""
    s = Service(procs, tmp_path)
    acked, lock = set(), threading.Lock()
    stop = threading.Event()

    def sender(worker):
        session = requests.Session()
        n = 0
        while not stop.is_set():
            n += 1
            event_id = worker * 1_000_000 + n
            body = envelope(event_id=event_id, payload={"id": event_id, "title": f"doc-{event_id}"})
            try:
                r = session.post(s.url + WEBHOOK_PATH, data=body, timeout=5,
                                 headers={"x-docspace-signature-256": signature(body)})
            except requests.RequestException:
                continue  # the process is gone: no answer, no promise
            if 200 <= r.status_code < 300:
                with lock:
                    acked.add(str(event_id))

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(sender, w) for w in range(1, 17)]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with lock:
                if len(acked) >= 300:
                    break
            time.sleep(0.02)
        os.kill(s.proc.popen.pid, signal.SIGKILL)
        s.proc.popen.wait(10)
        time.sleep(0.3)
        stop.set()
        for f in futures:
            f.result(timeout=30)

    assert len(acked) >= 300, f"only {len(acked)} acks before the kill"
    restarted = Service(procs, tmp_path, name="restarted")
    journal = {e["event_id"] for e in restarted.events()}
    missing = acked - journal
    assert not missing, f"{len(missing)} acked deliveries lost, e.g. {sorted(missing)[:5]}"
