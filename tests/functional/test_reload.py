"""SIGHUP reloads `serve`'s configuration and rules (docs/operations.md "Reload").

- a broken rule set is refused with its file:line:col and the running rules stay; a good one applies to
  events dispatched afterwards; a file added to a --config directory is picked up;
- deliveries keep being acknowledged and journaled throughout (none refused, none lost);
- a run that started before the reload finishes with the rule version that planned it;
- settings that only a restart applies are named in the log.
"""
import http.server
import json
import re
import signal
import subprocess
import threading
import time

import requests

from loopback import Emulator, clean_env, wait_for
from conftest import spacehook_bin
from test_ingress import SECRET, envelope, post, signature

SERVICE_KEY = "sk-emulator-spacehook"  # the emulator's service account (docs/emulator.md)


class Receiver:
    """An HTTP endpoint for `http` steps: records each POST (path, JSON body); a POST to /block is held
    until `release` is set (bounded), so a run can be caught inside a step."""

    def __init__(self):
        self.posts = []
        self.cond = threading.Condition()
        self.release = threading.Event()
        self.blocked = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/block":
                    outer.blocked.set()
                    outer.release.wait(30)
                with outer.cond:
                    outer.posts.append((self.path, json.loads(body) if body else None))
                    outer.cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait_for(self, predicate, what, timeout=30):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [p for p in self.posts if predicate(p)]
                if found:
                    return found
                if time.monotonic() > deadline:
                    raise AssertionError(f"not within {timeout}s: {what}; received {self.posts}")
                self.cond.wait(deadline - time.monotonic())

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def notify_rule(name, version, receiver, block=False):
    """A rule posting {rule, version, user} to the receiver for every user.created (after /block when
    `block`)."""
    steps = ""
    if block:
        steps += (f"      - id: hold\n"
                  f"        http: {{ url: \"{receiver.url}/block\", body: {{ run: \"{{{{ run.key }}}}\" }} }}\n")
    steps += (f"      - http: {{ url: \"{receiver.url}/done\", body: {{ rule: {name}, version: {version}, "
              f"user: \"{{{{ payload.id }}}}\" }} }}\n")
    return f"  - name: {name}\n    on: [user.created]\n    do:\n{steps}"


class ReloadingServe:
    """`spacehook serve --config spacehook.yaml --config rules.d` against the emulator."""

    def __init__(self, procs, tmp_path, portal, settings=""):
        self.tmp = tmp_path
        self.bin = spacehook_bin()
        self.settings = tmp_path / "spacehook.yaml"
        self.settings.write_text(settings)
        # The rules' http steps post to a receiver on loopback, which outbound.allow must name.
        self.outbound = tmp_path / "outbound.yaml"
        self.outbound.write_text("outbound: { allow: [127.0.0.1] }\n")
        self.rules = tmp_path / "rules.d"
        self.rules.mkdir()
        self.store = f"sqlite:{tmp_path / 'spacehook.db'}"
        self.env = clean_env(DOCSPACE_API_HOST=portal.url, DOCSPACE_API_KEY=SERVICE_KEY,
                             DOCSPACE_WEBHOOK_SECRET=SECRET)
        self.procs = procs

    def start(self):
        ready = self.tmp / "serve.ready"
        self.proc = self.procs.start(
            [self.bin, "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--store", self.store,
             "--config", str(self.outbound), "--config", str(self.settings), "--config", str(self.rules),
             "--ready-file", str(ready)],
            ready, env=self.env, log_path=self.tmp / "serve.log")
        self.url = self.proc.url
        return self

    def write_rules(self, name, text):
        # Written beside and renamed, as an editor or a config manager does: a reload never sees half a file.
        path = self.rules / name
        tmp = self.rules / f".{name}.tmp"
        tmp.write_text(text)
        tmp.rename(path)

    def reload(self, expect):
        """SIGHUP, then wait for the log line `expect` to appear once more than before."""
        before = self.proc.output().count(expect)
        self.proc.popen.send_signal(signal.SIGHUP)
        wait_for(lambda: self.proc.output().count(expect) > before, 20, f"'{expect}' after SIGHUP")
        assert self.proc.popen.poll() is None, "serve exited on SIGHUP"

    def cli(self, *args):
        out = subprocess.run([self.bin, *args, "--store", self.store], capture_output=True, text=True, timeout=60,
                             env=clean_env())
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    def metrics(self):
        return requests.get(self.proc.admin_url + "/metrics", timeout=10).text


def user_created(n):
    return envelope(event_id=50_000 + n, trigger="user.created", trigger_id=1,
                    payload={"id": f"00000000-0000-4000-8000-{n:012d}", "userName": f"user{n}"})


class Flood:
    """Signed deliveries no rule listens to, one after the other until stopped; every answer is kept."""

    def __init__(self, url):
        self.url = url
        self.statuses = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        session = requests.Session()
        n = 0
        while not self.stop.is_set() and n < 100_000:
            n += 1
            body = envelope(event_id=900_000 + n, trigger="group.updated", trigger_id=32,
                            payload={"id": f"g-{n}", "name": "Team"})
            try:
                r = session.post(self.url + "/docspace/webhook", data=body, timeout=10,
                                 headers={"x-docspace-signature-256": signature(body),
                                          "Content-Type": "application/json"})
                self.statuses.append(r.status_code)
            except requests.RequestException as e:  # a refused connection is a refused delivery
                self.statuses.append(repr(e))

    def finish(self):
        self.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive()
        return self.statuses


def test_reload_applies_a_good_set_keeps_the_old_on_error_and_never_stops_acking(procs, tmp_path):
    portal = Emulator(procs, tmp_path)
    receiver = Receiver()
    try:
        serve = ReloadingServe(procs, tmp_path, portal, settings="runner: { workers: 2 }\n")
        serve.write_rules("10-notify.yaml", "rules:\n" + notify_rule("notify", "v1", receiver))
        serve.start()
        flood = Flood(serve.url)
        wait_for(lambda: len(flood.statuses) >= 20, 20, "the flood under way")

        assert post(serve.url, user_created(1)).status_code == 202
        receiver.wait_for(lambda p: p[1]["user"].endswith("000000000001"), "the v1 run")

        # A broken set: refused with where the error is; the running rules stay.
        serve.write_rules("10-notify.yaml", "rules:\n  - name: notify\n    on: [user.created]\n    dp: []\n")
        serve.reload("reload refused")
        log = serve.proc.output()
        assert re.search(r"10-notify\.yaml:4:5: unknown key 'dp'", log), log[-3000:]
        assert "the running configuration and rules stay" in log
        assert post(serve.url, user_created(2)).status_code == 202
        second = receiver.wait_for(lambda p: p[1]["user"].endswith("000000000002"), "a run with the old rules")
        assert second[0][1]["version"] == "v1"

        # A good set, and a file added to the directory: both apply to events dispatched from now on.
        serve.write_rules("10-notify.yaml", "rules:\n" + notify_rule("notify", "v2", receiver))
        serve.write_rules("20-audit.yaml", "rules:\n" + notify_rule("audit", "a1", receiver))
        serve.reload("configuration reloaded")
        assert re.search(r"configuration reloaded.*rules=2 added=audit changed=notify removed=-", serve.proc.output())
        assert post(serve.url, user_created(3)).status_code == 202
        third = receiver.wait_for(lambda p: p[1]["user"].endswith("000000000003") and p[1]["rule"] == "audit",
                                  "the new rule's run")
        assert third[0][1]["version"] == "a1"
        notified = receiver.wait_for(lambda p: p[1]["user"].endswith("000000000003") and p[1]["rule"] == "notify",
                                     "the changed rule's run")
        assert notified[0][1]["version"] == "v2"

        statuses = flood.finish()
        # None refused: every delivery during both reloads was acknowledged as stored...
        assert statuses and set(statuses) == {202}, {s for s in statuses if s != 202}
        # ...and none lost: each is in the journal.
        events = json.loads(serve.cli("events", "list", "--json", "--limit", "10000", "--trigger",
                                      "group.updated"))["events"]
        assert len(events) == len(statuses)
        metrics = serve.metrics()
        assert 'spacehook_config_reloads_total{outcome="refused"} 1' in metrics
        assert 'spacehook_config_reloads_total{outcome="applied"} 1' in metrics
        assert serve.proc.terminate() == 0
    finally:
        receiver.close()


def test_a_run_started_before_a_reload_finishes_with_its_rule_version(procs, tmp_path):
    portal = Emulator(procs, tmp_path)
    receiver = Receiver()
    try:
        serve = ReloadingServe(procs, tmp_path, portal)
        serve.write_rules("notify.yaml", "rules:\n" + notify_rule("notify", "v1", receiver, block=True))
        serve.start()
        assert post(serve.url, user_created(1)).status_code == 202
        assert receiver.blocked.wait(30), "the run never reached its first step"

        # The run is inside its first step; its second step changes in the new version.
        serve.write_rules("notify.yaml", "rules:\n" + notify_rule("notify", "v2", receiver, block=True))
        serve.reload("configuration reloaded")
        receiver.release.set()
        first = receiver.wait_for(lambda p: p[0] == "/done" and p[1]["user"].endswith("000000000001"), "run 1 done")
        assert first[0][1]["version"] == "v1"

        assert post(serve.url, user_created(2)).status_code == 202
        second = receiver.wait_for(lambda p: p[0] == "/done" and p[1]["user"].endswith("000000000002"), "run 2")
        assert second[0][1]["version"] == "v2"

        # Each run records the version that planned it.
        runs = json.loads(serve.cli("runs", "list", "--json"))["runs"]
        assert len(runs) == 2
        versions = {}
        for run in runs:
            shown = json.loads(serve.cli("runs", "show", str(run["id"]), "--json"))
            assert shown["rule_version"] == shown["context"]["fingerprint"]
            versions[run["id"]] = shown["rule_version"]
        assert len(set(versions.values())) == 2
    finally:
        receiver.release.set()
        receiver.close()


def test_settings_that_need_a_restart_are_named_and_keep_their_running_value(procs, tmp_path):
    portal = Emulator(procs, tmp_path)
    serve = ReloadingServe(procs, tmp_path, portal, settings="runner: { workers: 2 }\nserver: { body_limit: 1MiB }\n")
    serve.start()
    serve.settings.write_text("runner: { workers: 3 }\nserver: { body_limit: 2MiB }\nlog: { level: debug }\n"
                              "store: sqlite:elsewhere.db\n")
    serve.reload("take effect only at the next restart")
    named = re.search(r"take effect only at the next restart.*settings=\"([^\"]*)\"", serve.proc.output())
    assert named, serve.proc.output()[-2000:]
    # --store on the command line still wins over the file, so the store is not among them.
    assert named.group(1) == "server.body_limit, runner"
    # A live setting applied: debug lines appear (the dispatcher logs ignored events at debug).
    assert post(serve.url, envelope(event_id=7, trigger="group.updated", trigger_id=32,
                                    payload={"id": "g", "name": "T"})).status_code == 202
    wait_for(lambda: "event ignored" in serve.proc.output(), 20, "a debug line after the reload")
    assert serve.proc.terminate() == 0
