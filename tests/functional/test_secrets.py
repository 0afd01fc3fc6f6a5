"""Secrets never leave the process: a full flow (emulator -> serve -> portal, SMTP with AUTH, a Slack channel
whose URL path is its credential, an admin token), with failures on every path that writes an error
somewhere (a refused chat post, a 5xx and a 401 from the portal, a bounced mail, bad deliveries, wrong admin
tokens), in text and JSON logs at debug level. Then everything an operator or a caller can read is
searched for every secret (and the encodings SMTP AUTH sends them in):

- every log line of both runs;
- every body the webhook endpoint and the admin API answered with an error (and the error bodies to a
  webhook caller are exactly the external message, nothing internal);
- /metrics, the admin API's JSON (events, each event, runs, each run, dead letters) and its HTML page;
- the CLI: `events list/show`, `runs list/show`, `dlq list` (text and --json), `check`;
- the store itself: the bytes of the SQLite files (database, WAL).

A rule's own `${VAR}` are secrets too: an `http` step sends `Authorization: Bearer ${DOCSPACE_API_KEY}`,
`X-Token: ${HOOK_TOKEN}` and the token in its query to an endpoint that echoes what it got (once with a
500). They reach that endpoint and nothing else; what is stored and shown carries the references.

    /usr/bin/python3 -m pytest tests/functional/test_secrets.py
"""
import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conftest import ROOT, spacehook_bin
from test_ingress import signature as sign_with
from loopback import HttpReceiver, clean_env, free_port, wait_for
from test_runner import Portal

sys.path.insert(0, str(ROOT / "src" / "notify" / "testdata"))
import smtp_sink  # noqa: E402  (the sink the notify tests use)

API_KEY = "sk-Secret-ApiKey-4f9c2e71d0"
WEBHOOK_SECRET = "whsec-Secret-8b3d5a"
SMTP_USER = "mailer"
SMTP_PASSWORD = "smtp-Secret-Pass-6e1a"
CHAT_PATH = "/services/T0SECRET/B0SECRET/xoxSecretPath9d2c"
ADMIN_TOKEN = "adm-Secret-Token-3c7f"
HOOK_TOKEN = "hook-Secret-Token-91b4"
INCOMING, ARCHIVE_2025 = 6, 7  # folders of the emulator's default seed

SECRETS = {
    "API key": API_KEY,
    "webhook secret": WEBHOOK_SECRET,
    "SMTP password": SMTP_PASSWORD,
    "SMTP AUTH PLAIN": base64.b64encode(f"\0{SMTP_USER}\0{SMTP_PASSWORD}".encode()).decode(),
    "SMTP AUTH LOGIN": base64.b64encode(SMTP_PASSWORD.encode()).decode(),
    "chat URL path": CHAT_PATH,
    "chat URL token": CHAT_PATH.rsplit("/", 1)[1],
    "admin token": ADMIN_TOKEN,
    "rule's token": HOOK_TOKEN,
}

CONFIG = """
log: { level: debug }
runner:
  workers: 2
  lease: 2s
  retry: { base: 200ms, max: 500ms, multiplier: 2, jitter: 0, max_attempts: 20, budget: 5m }
docspace:
  timeouts: { connect: 2s, total: 3s }
  operation_poll: { interval: 50ms, timeout: 30s }
mail:
  allow_plaintext_auth: true   # the sink below offers AUTH without STARTTLS (loopback)
chat:
  channels:
    ops: { kind: slack, url: "${OPS_CHAT_URL}" }
outbound: { allow: [127.0.0.1] }   # the chat and CRM receivers listen on loopback
rules:
  - name: intake
    on: [file.created, file.uploaded]
    if: { in_folder: %(incoming)d }
    do:
      - create_room: { title: "Case {{ file.title }}", type: custom }
        id: room
      - chat: { channel: ops, text: "New case {{ file.title }}", link: "{{ steps.room.webUrl }}" }
      - mail: { to: manager@example.com, subject: "Case {{ file.title }}", body: "{{ steps.room.webUrl }}" }
  - name: bounce
    on: [file.created, file.uploaded]
    if: { in_folder: %(archive)d }
    do:
      - mail: { to: reject5-nobody@example.com, subject: "Bounce {{ entity.title }}", body: "never delivered" }
  - name: crm
    on: [file.created, file.uploaded]
    if: { in_folder: %(incoming)d }
    do:
      - http:
          url: "${CRM_URL}?key=${HOOK_TOKEN}"
          headers: { Authorization: "Bearer ${DOCSPACE_API_KEY}", X-Token: "${HOOK_TOKEN}" }
          body: { file: "{{ entity.title }}", token: "${HOOK_TOKEN}" }
""" % {"incoming": INCOMING, "archive": ARCHIVE_2025}


class AuthSmtp:
    """aiosmtpd in this process: AUTH required (plain-text loopback, so over no TLS), notify's ParsingSink."""

    def __init__(self, directory: Path):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword
        self.logins = []

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode()
                  and auth_data.password == SMTP_PASSWORD.encode())
            self.logins.append((mechanism, ok))
            # handled=False: aiosmtpd answers 535 to a refused login itself (by default it answers nothing).
            return AuthResult(success=ok, handled=False)

        directory.mkdir()
        self.dir = directory
        self.port = free_port()
        self.controller = Controller(smtp_sink.ParsingSink(str(directory)), hostname="127.0.0.1", port=self.port,
                                     authenticator=authenticate, auth_required=True, auth_require_tls=False)
        self.controller.start()

    def messages(self):
        return [json.loads(p.read_text()) for p in self.dir.glob("*.json")]

    def close(self):
        self.controller.stop()


class SlackHook(HttpReceiver):
    """A Slack incoming webhook at CHAT_PATH: the first post fails (500), the rest answer "ok"."""

    def __init__(self):
        def answer(path, body, index):
            if path != CHAT_PATH:
                return 404, "no_service"
            return (500, "internal_error") if index == 0 else (200, "ok")
        super().__init__(answer, path=CHAT_PATH)

class EchoCrm(HttpReceiver):
    """An endpoint that answers with what it was sent (a 500 the first time): a careless server echoing a
    token in its error page or answer."""

    def __init__(self):
        super().__init__(lambda path, body, index: (500 if index == 0 else 200, path + " " + body.decode()),
                         path="/crm")


@pytest.fixture
def crm():
    hook = EchoCrm()
    yield hook
    hook.close()


@pytest.fixture
def smtp_auth(tmp_path):
    sink = AuthSmtp(tmp_path / "mail")
    yield sink
    sink.close()


@pytest.fixture
def slack():
    hook = SlackHook()
    yield hook
    hook.close()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_no_secret_reaches_logs_errors_metrics_admin_api_or_cli(procs, tmp_path, smtp_auth, slack, crm):
    portal = Portal(procs, tmp_path)
    portal.control("POST", "api-keys", {"user": "spacehook", "key": API_KEY})
    config = tmp_path / "spacehook.yaml"
    config.write_text(CONFIG)
    store = f"sqlite:{tmp_path / 'spacehook.db'}"
    env = clean_env(DOCSPACE_API_HOST=portal.url, DOCSPACE_API_KEY=API_KEY, DOCSPACE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                    SMTP_URL=f"smtp://127.0.0.1:{smtp_auth.port}", SMTP_USERNAME=SMTP_USER,
                    SMTP_PASSWORD=SMTP_PASSWORD, MAIL_FROM="spacehook <bot@example.com>",
                    SPACEHOOK_ADMIN_TOKEN=ADMIN_TOKEN, OPS_CHAT_URL=slack.url, HOOK_TOKEN=HOOK_TOKEN,
                    CRM_URL=crm.url)
    texts = {}  # where -> text, every place searched at the end
    error_bodies = []

    def serve(name, log_format, port=0):
        ready = tmp_path / f"{name}.ready"
        return procs.start([spacehook_bin(), "serve", "--listen", f"127.0.0.1:{port}", "--admin-listen", "127.0.0.1:0",
                            "--store", store, "--config", str(config), "--ready-file", str(ready),
                            "--log-format", log_format],
                           ready, env=env, log_path=tmp_path / f"{name}.log")

    def admin(proc, path, method="GET", token=ADMIN_TOKEN):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = requests.request(method, proc.admin_url + path, headers=headers, timeout=10)
        texts[f"admin {method} {path} ({'token' if token == ADMIN_TOKEN else 'no/wrong token'})"] = r.text
        if r.status_code >= 400:
            error_bodies.append((f"admin {path}", r.status_code, r.text))
        return r

    def hostile(proc):
        """What a caller that is not DocSpace gets: errors only, each exactly the external message."""
        url = proc.url + "/docspace/webhook"
        body = json.dumps({"event": {"id": 99, "trigger": "file.created"}, "payload": {"id": 1}}).encode()
        cases = [
            ("bad signature", requests.post(url, data=body, timeout=10,
                                            headers={"x-docspace-signature-256": sign_with(body, "not-the-secret")}), 401,
             "unauthorized"),
            ("unsigned", requests.post(url, data=body, timeout=10), 401, "unauthorized"),
            ("not JSON", requests.post(url, data=b"{nope", timeout=10,
                                       headers={"x-docspace-signature-256": sign_with(b"{nope", WEBHOOK_SECRET)}),
             400, "bad request"),
            ("unknown path", requests.get(proc.url + "/nowhere", timeout=10), 404, "not found"),
            ("wrong method", requests.put(url, data=b"{}", timeout=10), 405, "method not allowed"),
        ]
        for name, r, status, message in cases:
            assert r.status_code == status, (name, r.status_code, r.text)
            assert r.json() == {"error": message}, (name, r.text)
            error_bodies.append((name, r.status_code, r.text))
        for token in (None, "adm-wrong-token", ADMIN_TOKEN[:-1]):
            assert admin(proc, "/admin/api/runs", token=token).status_code == 401

    # --- run 1: text logs ----------------------------------------------------------------------------
    first = serve("serve-text", "text")
    hook = portal.subscribe(first.url + "/docspace/webhook", WEBHOOK_SECRET)
    # The portal fails a room creation (5xx: the run waits) and refuses the key once (401: that event's
    # dispatch is a dead letter; its twin file.uploaded plans the same run).
    portal.fault(kind="status", status=503, count=1, method="POST", pathPrefix="/api/2.0/files/rooms")
    portal.upload("Alpha.docx", user="owner", folder=INCOMING)
    portal.upload("Bounce.docx", user="owner", folder=ARCHIVE_2025)
    portal.wait_idle()
    wait_for(lambda: len(smtp_auth.messages()) >= 1, 30, "the first mail")
    portal.fault(kind="status", status=401, count=1, method="GET", pathPrefix="/api/2.0/files/file/")
    portal.upload("Beta.docx", user="owner", folder=INCOMING)
    hostile(first)

    def settled():
        runs = json.loads(admin(first, "/admin/api/runs").text)["runs"]
        done = [r for r in runs if r["rule"] == "intake" and r["state"] == "done"]
        dead = [r for r in runs if r["rule"] == "bounce" and r["state"] == "dead"]
        sent = [r for r in runs if r["rule"] == "crm" and r["state"] == "done"]
        return runs if len(done) == 2 and len(dead) == 1 and len(sent) == 2 else None
    runs = wait_for(settled, 60, "two intake and crm runs done and the bounce dead-lettered", interval=0.3)
    events = json.loads(admin(first, "/admin/api/events").text)["events"]
    assert any(e["state"] == "failed" for e in events), events  # the 401 dispatch
    for e in events:
        admin(first, f"/admin/api/events/{e['seq']}")
    for r in runs:
        shown = admin(first, f"/admin/api/runs/{r['id']}")
        if r["rule"] == "crm":
            # The stored definition carries the references, resolved only to send.
            assert "Bearer ${DOCSPACE_API_KEY}" in shown.text and "${HOOK_TOKEN}" in shown.text, shown.text
    dead = json.loads(admin(first, "/admin/api/dlq").text)["dead_letters"]
    assert {d["kind"] for d in dead} == {"run", "event"}, dead
    assert any("550" in d["reason"] for d in dead) and any("401" in d["reason"] for d in dead), dead
    admin(first, "/admin")
    texts["metrics"] = requests.get(first.admin_url + "/metrics", timeout=10).text
    port = first.port
    assert first.terminate() == 0

    # --- run 2: JSON logs, same store and port -------------------------------------------------------
    second = serve("serve-json", "json", port=port)
    portal.upload("Gamma.docx", user="owner", folder=INCOMING)
    hostile(second)
    wait_for(lambda: len([r for r in json.loads(admin(second, "/admin/api/runs").text)["runs"]
                          if r["rule"] in ("intake", "crm") and r["state"] == "done"]) == 6, 60,
             "the third intake and crm runs")
    texts["metrics (json run)"] = requests.get(second.admin_url + "/metrics", timeout=10).text
    assert second.terminate() == 0
    portal.rest("DELETE", f"settings/webhook/{hook['id']}")

    # --- the CLI -------------------------------------------------------------------------------------
    def cli(*args):
        out = subprocess.run([spacehook_bin(), *args], capture_output=True, text=True, timeout=30, env=env)
        texts[f"cli {' '.join(args)}"] = out.stdout + out.stderr
        return out
    assert "Bearer ${DOCSPACE_API_KEY}" in cli("check", "--config", str(config)).stdout
    for fmt in ([], ["--json"]):
        cli("events", "list", "--store", store, *fmt)
        cli("runs", "list", "--store", store, *fmt)
        cli("dlq", "list", "--store", store, *fmt)
        for e in events:
            cli("events", "show", str(e["seq"]), "--store", store, *fmt)
        for r in runs:
            cli("runs", "show", str(r["id"]), "--store", store, *fmt)
    assert "550" in texts["cli dlq list --store " + store] and "401" in texts["cli dlq list --store " + store]

    for db in tmp_path.glob("spacehook.db*"):  # the database and its WAL, as bytes
        texts[f"store file {db.name}"] = db.read_bytes().decode("latin-1")
    texts["log (text)"] = (tmp_path / "serve-text.log").read_text()
    texts["log (json)"] = (tmp_path / "serve-json.log").read_text()
    json_lines = [json.loads(line) for line in texts["log (json)"].splitlines() if line.strip()]
    assert json_lines and all({"ts", "level", "msg"} <= line.keys() for line in json_lines)
    for body in error_bodies:
        texts[f"error body {body[0]} ({body[1]})"] = body[2]

    # The flow did what it should, through every path searched: AUTH, the chat retry, the bounce.
    assert smtp_auth.logins and all(ok for _, ok in smtp_auth.logins)
    assert sorted(m["parsed"]["subject"] for m in smtp_auth.messages()) == \
        ["Case Alpha.docx", "Case Beta.docx", "Case Gamma.docx"]
    assert [post["path"] for post in slack.received()].count(CHAT_PATH) == 4  # one refused, three sent
    # The rule's secrets reached their endpoint, and only there: one refused post, three sent.
    posts = crm.received()
    assert [p["status"] for p in posts].count(200) == 3 and len(posts) == 4, posts
    for post in posts:
        assert post["path"] == f"/crm?key={HOOK_TOKEN}"
        assert post["headers"]["authorization"] == f"Bearer {API_KEY}"
        assert post["headers"]["x-token"] == HOOK_TOKEN
        assert json.loads(post["body"])["token"] == HOOK_TOKEN
    assert "slack webhook answered 500" in texts["log (text)"]
    assert '"level":"debug"' in texts["log (json)"].replace(" ", "")

    leaks = [(what, where) for what, secret in SECRETS.items() for where, text in texts.items() if secret in text]
    assert not leaks, leaks
    # Error bodies a caller gets name no internals either.
    for name, status, body in error_bodies:
        for word in ("sqlite", "journal", "exception", "nlohmann", "::", "/api/2.0", "127.0.0.1"):
            assert word not in body.lower(), (name, status, body)
    print(f"searched {len(texts)} outputs ({sum(len(t) for t in texts.values())} bytes) for {len(SECRETS)} secrets")
