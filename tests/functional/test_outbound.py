"""Where requests that rules aim may go (docs/configuration.md "outbound"): `http` and `chat` steps reach no
loopback, link-local or private address unless outbound.allow names it, and never spacehook's own admin
API, which trusts loopback, whatever the allow-list says.

    /usr/bin/python3 -m pytest tests/functional/test_outbound.py
"""
import socket

import loopback
from loopback import Emulator, HttpReceiver, wait_for

SECRET = "outbound-Secret-0042"
SERVICE_KEY = "sk-emulator-spacehook"
INCOMING = 6  # the default seed's Incoming folder (docs/emulator.md)

SETTINGS = """
runner:
  workers: 2
  retry: { base: 200ms, max: 200ms, multiplier: 1, jitter: 0, max_attempts: 5, budget: 5m }
"""


def serve_with(procs, tmp_path, portal, config):
    serve = loopback.Serve(procs, tmp_path, portal, config, secret=SECRET, key=SERVICE_KEY)
    portal.subscribe(serve.webhook_url, SECRET)
    return serve


def dead_runs(serve, n):
    def dead():
        runs = [r for r in serve.runs() if r["state"] == "dead"]
        return runs if len(runs) >= n else None
    return wait_for(dead, 60, f"{n} dead runs", interval=0.2)


def upload(portal, title):
    portal.control("POST", "upload", {"user": "rachel.admin", "folderId": INCOMING, "title": title})


def test_http_and_chat_steps_reach_no_loopback_address_by_default(procs, tmp_path):
    receiver = HttpReceiver()
    try:
        portal = Emulator(procs, tmp_path)
        config = SETTINGS + f"""
chat:
  channels:
    ops: {{ kind: generic, url: "{receiver.url}" }}
rules:
  - name: crm
    on: [file.uploaded]
    do:
      - http: {{ url: "{receiver.url}", body: {{ file: "{{{{ entity.title }}}}" }} }}
  - name: tell
    on: [file.uploaded]
    do:
      - chat: {{ channel: ops, text: "new file {{{{ entity.title }}}}" }}
"""
        serve = serve_with(procs, tmp_path, portal, config)
        upload(portal, "Invoice-1.pdf")
        dead = dead_runs(serve, 2)
        for run in dead:
            assert "127.0.0.1 is a loopback address" in run["last_error"], run
            assert "outbound.allow" in run["last_error"], run
            assert run["attempts"] == 1, run  # permanent: a retry would go to the same place
        assert receiver.received() == []
    finally:
        receiver.close()


class ServeOnAdminPort(loopback.Serve):
    """serve with its admin listener on a port picked before it starts, so a rule can name it."""

    def __init__(self, *args, admin_port, **kwargs):
        self.admin_port = admin_port
        super().__init__(*args, **kwargs)

    def start(self, timeout=20.0):
        self.starts += 1
        ready = self.tmp / "serve-1.ready"
        args = [self.bin, "serve", "--listen", "127.0.0.1:0", "--admin-listen", f"127.0.0.1:{self.admin_port}",
                "--store", self.store, "--config", str(self.config), "--ready-file", str(ready)]
        self.proc = self.procs.start(args, ready, env=self.env, log_path=self.tmp / "serve-1.log")
        self.port = self.proc.port
        return self.proc


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_rule_url_never_reaches_the_admin_api_even_with_loopback_allowed(procs, tmp_path):
    receiver = HttpReceiver()
    try:
        portal = Emulator(procs, tmp_path)
        admin_port = free_port()
        # A request that would replay event 1 through the admin API, which trusts loopback; by a name
        # too, which resolves to loopback after the check of the URL's text could have passed it.
        config = SETTINGS + f"""
outbound: {{ allow: [127.0.0.1, localhost] }}
rules:
  - name: hook
    on: [file.uploaded]
    do:
      - http: {{ url: "http://127.0.0.1:{admin_port}/admin/api/events/1/replay" }}
  - name: named
    on: [file.uploaded]
    do:
      - http: {{ url: "http://localhost:{admin_port}/admin/api/events/1/replay" }}
  - name: allowed
    on: [file.uploaded]
    do:
      - http: {{ url: "{receiver.url}/{{{{ entity.title }}}}?q={{{{ entity.title }}}}" }}
"""
        serve = ServeOnAdminPort(procs, tmp_path, portal, config, secret=SECRET, key=SERVICE_KEY,
                                 admin_port=admin_port)
        portal.subscribe(serve.webhook_url, SECRET)
        upload(portal, "a b&c.pdf")
        dead = dead_runs(serve, 2)
        for run in dead:
            assert "own admin listener" in run["last_error"], run
        # The allowed receiver got its post, the title encoded as data in the path and the query.
        posts = receiver.wait(1)
        assert len(posts) == 1, posts
        assert posts[0]["path"] == "/hook/a%20b%26c.pdf?q=a%20b%26c.pdf"
        # Nothing was replayed: no request reached the admin API.
        assert all(e["replay_generation"] == 0 for e in serve.events()), serve.events()
    finally:
        receiver.close()
