"""The runner end to end: `spacehook emulator` (the portal, sending signed webhooks) -> `spacehook serve`
(ingress, dispatcher, workers) -> the emulator's REST API and a real SMTP server (aiosmtpd with
src/notify/testdata/smtp_sink.py). Counts come from the emulator's counters and the sink's files, so
"nothing happened twice" is checked where the effects land.

    /usr/bin/python3 -m pytest tests/functional/test_runner.py
"""
import json
import signal
import subprocess
import sys
import time

import pytest
import requests

from conftest import spacehook_bin
import loopback
from loopback import Emulator, SmtpSink, clean_env, iso_seconds, wait_for

SECRET = "runner-Secret-0042"
OWNER_KEY = "sk-emulator-owner"
SERVICE_KEY = "sk-emulator-spacehook"
ROOM_ADMIN_KEY = "sk-emulator-roomadmin"
SERVICE_ID = "2f1b7c3a-5d4e-4c1b-9a8f-000000000002"
ROOM_ADMIN_ID = "2f1b7c3a-5d4e-4c1b-9a8f-000000000003"
# Ids of the emulator's default seed (docs/emulator.md "The default seed").
TEMPLATES_ROOM, ACME_ROOM, INCOMING, ARCHIVE_2025 = 4, 5, 6, 7
WELCOME, CHECKLIST = 1, 2

RUNNER_SETTINGS = """
runner:
  workers: 2
  lease: 2s
  retry: { base: 1s, max: 1s, multiplier: 1, jitter: 0, max_attempts: 50, budget: 5m }
  shutdown_grace: 15s
docspace:
  timeouts: { connect: 2s, total: 2s }
  operation_poll: { interval: 50ms, timeout: 30s }
"""

INTAKE_RULES = """
rules:
  - name: intake
    on: [file.created, file.uploaded]
    if: { in_folder: %(incoming)d }
    do:
      - create_room: { title: "Case {{ entity.title }}", type: custom, tags: [case] }
        id: room
      - create_folders: { in: "{{ steps.room.id }}", titles: [Documents, Notes] }
      - copy_as: { files: "%(welcome)d,%(checklist)d", to: "{{ steps.room.id }}" }
      - copy: { to: "{{ steps.create_folders.ids[0] }}" }
      - move: { to: %(archive)d }
      - mail: { to: manager@example.com, subject: "Case {{ entity.title }}", body: "{{ steps.room.webUrl }}" }
""" % {"incoming": INCOMING, "welcome": WELCOME, "checklist": CHECKLIST, "archive": ARCHIVE_2025}


@pytest.fixture
def smtp(tmp_path):
    sink = SmtpSink(tmp_path / "mail")
    yield sink
    sink.close()


class Portal(Emulator):
    """`spacehook emulator` (the default seed)."""

    def __init__(self, procs, tmp_path, operation_delay_ms=100):
        super().__init__(procs, tmp_path, retry_base=0.05, operation_delay_ms=operation_delay_ms)

    def upload(self, title, user="rachel.admin", folder=INCOMING):
        return self.control("POST", "upload", {"user": user, "folderId": folder, "title": title})

    def subscribe(self, url, secret=SECRET, ssl=False):
        return super().subscribe(url, secret, ssl)

def find(state, title):
    def walk(node):
        if node.get("title") == title:
            return node
        for key in ("folders", "files"):
            for child in node.get(key, []):
                found = walk(child)
                if found:
                    return found
        return None
    for section in state["tree"]:
        found = walk(section)
        if found:
            return found
    return None


class Serve(loopback.Serve):
    """`spacehook serve` with this module's secret and, unless told otherwise, the service account's key."""

    def __init__(self, procs, tmp_path, portal, config, smtp=None, key=SERVICE_KEY):
        super().__init__(procs, tmp_path, portal, config, secret=SECRET, key=key, smtp=smtp)

    def wait_runs(self, n, states=("done",), timeout=90):
        def settled():
            runs = self.runs()
            return runs if len(runs) >= n and all(r["state"] in states for r in runs) else None
        try:
            return wait_for(settled, timeout, f"{n} runs in {states}", interval=0.2)
        except AssertionError:
            print(json.dumps(self.runs(), indent=1), file=sys.stderr)
            print(self.proc.output()[-4000:], file=sys.stderr)
            raise

def admin_post(serve, path):
    """An action on the local admin API as the web view takes it: with the session's CSRF token (operations.md)."""
    csrf = requests.get(serve.admin_url + "/admin/api/session", timeout=10).json()["csrf_token"]
    return requests.post(serve.admin_url + path, headers={"X-Spacehook-Csrf": csrf}, timeout=10)


def own_events_are_ignored(serve, actor=SERVICE_ID):
    """Every event the service's actions fired is ignored by the loop guard; returns how many there were."""
    own = [e for e in serve.events() if e["actor"] == actor]
    for event in own:
        assert event["state"] == "ignored", event
        assert "own event" in event["last_error"], event
    return len(own)


# --- the tests -----------------------------------------------------------------------------------------

def test_runs_complete_through_5xx_429_and_timeouts_without_duplicates(procs, tmp_path, smtp):
    portal = Portal(procs, tmp_path)
    serve = Serve(procs, tmp_path, portal, RUNNER_SETTINGS + INTAKE_RULES, smtp=smtp)
    portal.subscribe(serve.webhook_url)
    # A flaky portal: three 503s for room creation, a 429 with Retry-After on the file operations, and a
    # folder creation that answers after the client gave up (the folder is made all the same).
    portal.fault(kind="status", status=503, count=3, method="POST", pathPrefix="/api/2.0/files/rooms")
    portal.fault(kind="status", status=429, retryAfter=1, count=1, method="PUT", pathPrefix="/api/2.0/files/fileops")
    portal.fault(kind="slow", delayMs=2500, count=1, method="POST", pathPrefix="/api/2.0/files/folder/")
    portal.upload("Invoice-1.pdf")
    portal.upload("Invoice-2.pdf")

    runs = serve.wait_runs(2)
    assert sum(r["attempts"] for r in runs) >= 5
    counters = portal.counters()
    assert counters.get("rooms_created") == 2
    assert counters.get("folders_created") == 4
    assert counters.get("copyas") == 4
    assert counters.get("copy_operations") == 2
    assert counters.get("move_operations") == 2
    mails = smtp.messages()
    assert sorted(m["parsed"]["subject"] for m in mails) == ["Case Invoice-1.pdf", "Case Invoice-2.pdf"]
    state = portal.state()
    for title in ("Case Invoice-1.pdf", "Case Invoice-2.pdf"):
        room = find(state, title)
        assert [f["title"] for f in room["folders"]] == ["Documents", "Notes"]
        assert sorted(f["title"] for f in room["files"]) == ["Checklist.xlsx", "Welcome.docx"]
    assert {f["title"] for f in find(state, "Archive 2025")["files"]} == {"Invoice-1.pdf", "Invoice-2.pdf"}

    # file.created + file.uploaded of one upload made one run each; everything the runs did came back
    # as webhooks and was ignored.
    portal.wait_idle()
    wait_for(lambda: all(e["state"] != "pending" for e in serve.events()), 20, "every event dispatched")
    assert own_events_are_ignored(serve) >= 10
    assert len(serve.runs()) == 2
    metrics = serve.metrics()
    assert 'spacehook_runs_total{outcome="done",rule="intake"} 2' in metrics
    assert 'spacehook_docspace_errors_total{class="unavailable"}' in metrics
    assert 'spacehook_docspace_errors_total{class="rate_limited"} 1' in metrics
    assert 'spacehook_dispatch_total{outcome="own_event"}' in metrics


def test_a_5xx_stretch_holds_dispatch_and_runs_back_and_loses_nothing(procs, tmp_path, smtp):
    # `{{ file.* }}` makes every event need GET files/file/{id} at dispatch (never cached), so an outage
    # of the files API holds the dispatch itself back, not only the steps.
    rules = RUNNER_SETTINGS + """
rules:
  - name: intake
    on: [file.created, file.uploaded]
    if: { in_folder: %(incoming)d }
    do:
      - create_room: { title: "Case {{ file.title }}", type: custom }
        id: room
      - create_folders: { in: "{{ steps.room.id }}", titles: [Documents] }
      - move: { to: %(archive)d }
      - mail: { to: manager@example.com, subject: "Case {{ file.title }} v{{ file.version }}", body: "{{ file.webUrl }}" }
""" % {"incoming": INCOMING, "archive": ARCHIVE_2025}
    portal = Portal(procs, tmp_path)
    # 1. The portal's people API is down while serve starts: the service account (people/@self) stays
    #    unknown, and nothing may be dispatched before the loop guard can work.
    down_from = time.time()
    portal.fault(kind="status", status=503, count=0, durationMs=4000, pathPrefix="/api/2.0/people")
    serve = Serve(procs, tmp_path, portal, rules, smtp=smtp)
    portal.subscribe(serve.webhook_url)
    portal.upload("Invoice-A.pdf")
    first = serve.wait_runs(1, timeout=60)
    assert iso_seconds(first[0]["created_at"]) >= down_from + 3.5, first  # not one dispatch in the outage
    log = serve.proc.output()
    assert "cannot reach the portal to learn the service account" in log
    assert "service account known" in log

    # 2. Now the files API is down for 3 s: the next upload's file-info lookup fails, the event is
    #    dispatched again with backoff, and its run's steps wait the rest out the same way.
    portal.fault(kind="status", status=503, count=0, durationMs=3000, pathPrefix="/api/2.0/files")
    portal.upload("Invoice-B.pdf")
    runs = serve.wait_runs(2, timeout=60)
    retried = [e for e in serve.events() if e["trigger"].startswith("file.") and e["actor"] != SERVICE_ID
               and e["attempts"] >= 1]
    assert retried and all(e["state"] == "dispatched" for e in retried), serve.events()
    assert 'spacehook_dispatch_total{outcome="retried"}' in serve.metrics()

    counters = portal.counters()
    assert counters.get("rooms_created") == 2
    assert counters.get("folders_created") == 2
    assert counters.get("move_operations") == 2
    assert sorted(m["parsed"]["subject"] for m in smtp.messages()) == ["Case Invoice-A.pdf v1",
                                                                       "Case Invoice-B.pdf v1"]
    assert {f["title"] for f in find(portal.state(), "Archive 2025")["files"]} == {"Invoice-A.pdf", "Invoice-B.pdf"}
    assert len(runs) == 2


def test_kill_9_mid_run_resumes_without_duplicates(procs, tmp_path, smtp):
    # Slow file operations keep runs in their copy and move steps long enough to be killed there.
    portal = Portal(procs, tmp_path, operation_delay_ms=700)
    serve = Serve(procs, tmp_path, portal, RUNNER_SETTINGS + INTAKE_RULES, smtp=smtp)
    portal.subscribe(serve.webhook_url)
    titles = [f"Contract-{n}.docx" for n in range(4)]
    for title in titles:
        portal.upload(title)

    # The runs share a lock (room:<ACME>), so they go one by one; kill while one is inside its copy or
    # move (each an awaited operation of 0.7 s) and others have not started.
    def mid_way():
        runs = serve.runs()
        return len(runs) == 4 and any(r["state"] == "running" and 3 <= r["next_step"] <= 4 for r in runs)
    wait_for(mid_way, 60, "a run inside its copy or move", interval=0.05)
    serve.proc.popen.send_signal(signal.SIGKILL)
    serve.proc.popen.wait(10)
    before = serve.runs()
    assert any(r["state"] == "running" for r in before), before  # leases held by the dead process

    serve.start()  # same store: runs resume once the dead leases (runner.lease 2s) expire
    runs = serve.wait_runs(4)
    assert any(r["attempts"] >= 1 for r in runs)  # the takeovers were counted
    counters = portal.counters()
    assert counters.get("rooms_created") == 4
    assert counters.get("folders_created") == 8
    assert counters.get("copyas") == 8
    assert counters.get("copy_operations") == 4
    assert counters.get("move_operations") == 4
    # SMTP cannot look before it acts: a kill between the server's 250 and the checkpoint resends the
    # identical message (same Message-ID). Anything else would be a duplicate.
    by_subject = {}
    for mail in smtp.messages():
        by_subject.setdefault(mail["parsed"]["subject"], set()).add(mail["parsed"]["message_id"])
    assert sorted(by_subject) == sorted(f"Case {t}" for t in titles)
    assert all(len(ids) == 1 for ids in by_subject.values()), by_subject


def test_loop_guard_ignores_the_services_own_events(procs, tmp_path):
    # Without the loop guard this rule would never stop: every folder it creates fires folder.created.
    rules = RUNNER_SETTINGS + """
rules:
  - name: sub-folder
    on: folder.created
    do:
      - create_folder: { in: "{{ entity.id }}", title: Inside }
"""
    portal = Portal(procs, tmp_path)
    serve = Serve(procs, tmp_path, portal, rules)
    portal.subscribe(serve.webhook_url)
    portal.rest("POST", f"files/folder/{INCOMING}", key=ROOM_ADMIN_KEY, body={"title": "Q3"})
    serve.wait_runs(1)
    portal.wait_idle()
    wait_for(lambda: len(serve.events()) >= 2 and all(e["state"] != "pending" for e in serve.events()), 20,
             "both folder.created events dispatched")
    time.sleep(1.5)  # a looping service would have made more by now
    assert portal.counters().get("folders_created") == 2  # Q3 and one Inside
    assert own_events_are_ignored(serve) == 1
    assert len(serve.runs()) == 1
    q3 = find(portal.state(), "Q3")
    assert [f["title"] for f in q3["folders"]] == ["Inside"]


def test_a_permanent_4xx_is_dead_lettered_and_dlq_retry_runs_it_again(procs, tmp_path):
    # The service account is a room admin with view access to Templates only: creating a folder there is
    # refused (403) until the owner gives it more.
    rules = RUNNER_SETTINGS + """
rules:
  - name: file-template
    on: file.created
    if: { in_folder: %d }
    do:
      - create_folder: { in: %d, title: "For {{ entity.title }}" }
""" % (INCOMING, TEMPLATES_ROOM)
    portal = Portal(procs, tmp_path)
    serve = Serve(procs, tmp_path, portal, rules, key=ROOM_ADMIN_KEY)
    portal.subscribe(serve.webhook_url)
    portal.upload("Brief.docx", user="owner")

    dead = serve.wait_runs(1, states=("dead",))
    assert dead[0]["attempts"] == 1  # permanent: no retries
    letters = json.loads(serve.cli("dlq", "list", "--json").stdout)["dead_letters"]
    assert len(letters) == 1 and letters[0]["kind"] == "run" and letters[0]["rule"] == "file-template"
    assert "403" in letters[0]["reason"] and "step 0" in letters[0]["reason"], letters[0]
    shown = serve.cli("runs", "show", str(dead[0]["id"])).stdout
    assert "create_folder" in shown and "started, not finished" in shown
    assert serve.cli("dlq", "retry", "nonsense", check=False).returncode == 2
    assert serve.cli("dlq", "retry", "run:999", check=False).returncode == 1

    # Fix the cause: the owner lets the service account create in Templates; then retry from the CLI
    # (another process: serve's workers notice within a second).
    portal.rest("PUT", f"files/rooms/{TEMPLATES_ROOM}/share",
                body={"invitations": [{"id": ROOM_ADMIN_ID, "access": 11}], "notify": False})
    out = serve.cli("dlq", "retry", f"run:{dead[0]['id']}").stdout
    assert "queued again" in out
    done = serve.wait_runs(1, timeout=30)
    assert done[0]["attempts"] == 0 and done[0]["state"] == "done"
    assert find(portal.state(), "For Brief.docx") is not None
    assert portal.counters().get("folders_created") == 1
    assert json.loads(serve.cli("dlq", "list", "--json").stdout)["dead_letters"] == []


def test_dlq_retry_and_drop_all_take_every_dead_letter_the_filter_names(procs, tmp_path):
    # Two rules refused the same way (the service account may not create in Templates): their runs are
    # dead-lettered, then recovered in bulk by rule from the CLI and dropped by rule over the admin API.
    rules = RUNNER_SETTINGS + """
rules:
  - name: file-template
    on: file.created
    if: { in_folder: %(incoming)d }
    do:
      - create_folder: { in: %(templates)d, title: "For {{ entity.title }}" }
  - name: other
    on: file.created
    if: { in_folder: %(incoming)d }
    do:
      - create_folder: { in: %(templates)d, title: "Other {{ entity.title }}" }
""" % {"incoming": INCOMING, "templates": TEMPLATES_ROOM}
    portal = Portal(procs, tmp_path)
    serve = Serve(procs, tmp_path, portal, rules, key=ROOM_ADMIN_KEY)
    portal.subscribe(serve.webhook_url)
    titles = ["A.docx", "B.docx", "C.docx"]
    for title in titles:
        portal.upload(title, user="owner")
    serve.wait_runs(6, states=("dead",))

    def letters():
        return json.loads(serve.cli("dlq", "list", "--json").stdout)["dead_letters"]
    assert sorted(l["rule"] for l in letters()) == ["file-template"] * 3 + ["other"] * 3
    # Bad requests change nothing.
    for args in (["--all", "run:1"], ["run:1", "--rule", "other"], ["--all", "--kind", "rule"],
                 ["--all", "--since", "yesterday"], []):
        out = serve.cli("dlq", "retry", *args, check=False)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
    assert "0 runs of rule nobody queued again" in serve.cli("dlq", "retry", "--all", "--kind", "run",
                                                             "--rule", "nobody").stdout
    bad = admin_post(serve, "/admin/api/dlq/retry?since=yesterday")
    assert bad.status_code == 400 and "ISO-8601" in bad.text
    assert len(letters()) == 6

    # The cause fixed, one command queues the three of one rule again.
    portal.rest("PUT", f"files/rooms/{TEMPLATES_ROOM}/share",
                body={"invitations": [{"id": ROOM_ADMIN_ID, "access": 11}], "notify": False})
    out = serve.cli("dlq", "retry", "--all", "--rule", "file-template", "--since", "1h").stdout
    assert out.startswith("3 dead letters of rule file-template that failed since "), out
    wait_for(lambda: sorted(r["state"] for r in serve.runs()) == ["dead"] * 3 + ["done"] * 3, 60,
             "the retried runs done")
    for title in titles:
        assert find(portal.state(), "For " + title) is not None
        assert find(portal.state(), "Other " + title) is None
    assert sorted(l["rule"] for l in letters()) == ["other"] * 3

    # The admin API drops the rest at once.
    dropped = admin_post(serve, "/admin/api/dlq/drop?kind=run&rule=other")
    assert dropped.status_code == 200, dropped.text
    assert dropped.json() == {"status": "dropped", "count": 3}
    assert letters() == []
    assert sorted(r["state"] for r in serve.runs()) == ["done"] * 3 + ["dropped"] * 3
    assert portal.counters().get("folders_created") == 3


def test_replay_does_the_work_again(procs, tmp_path):
    rules = RUNNER_SETTINGS + """
rules:
  - name: case-room
    on: file.created
    if: { in_folder: %d }
    do:
      - create_room: { title: "Case {{ entity.title }}", type: custom }
""" % INCOMING
    portal = Portal(procs, tmp_path)
    serve = Serve(procs, tmp_path, portal, rules)
    portal.subscribe(serve.webhook_url)
    portal.upload("Deal.docx")
    first = serve.wait_runs(1)
    created = [e for e in serve.events() if e["trigger"] == "file.created" and e["state"] == "dispatched"]
    assert len(created) == 1
    out = serve.cli("replay", str(created[0]["seq"])).stdout
    assert "replay 1" in out
    runs = serve.wait_runs(2, timeout=30)
    assert sorted(r["run_key"] for r in runs) == sorted([first[0]["run_key"], first[0]["run_key"] + "/replay:1"])
    assert portal.counters().get("rooms_created") == 2
    table = serve.cli("runs", "list", "--rule", "case-room").stdout.splitlines()
    assert table[0].split()[:4] == ["ID", "CREATED", "RULE", "STATE"] and len(table) == 3


def test_sigterm_lets_the_step_finish_and_the_next_start_completes_the_run(procs, tmp_path, smtp):
    portal = Portal(procs, tmp_path, operation_delay_ms=1500)
    serve = Serve(procs, tmp_path, portal, RUNNER_SETTINGS + INTAKE_RULES, smtp=smtp)
    portal.subscribe(serve.webhook_url)
    portal.upload("Lease.docx")
    wait_for(lambda: any(r["next_step"] == 3 and r["state"] == "running" for r in serve.runs()), 60,
             "the run in its copy step", interval=0.05)
    assert serve.proc.terminate(timeout=30) == 0
    run = serve.runs()[0]
    assert run["state"] == "pending" and run["attempts"] == 0, run  # released, not failed
    assert run["next_step"] >= 4  # the copy in progress finished and was checkpointed
    assert "shutting down: run released between steps" in serve.proc.output()

    serve.start()
    serve.wait_runs(1)
    counters = portal.counters()
    assert counters.get("copy_operations") == 1 and counters.get("move_operations") == 1
    assert counters.get("rooms_created") == 1
    assert len(smtp.messages()) == 1


def test_serve_refuses_rules_it_cannot_carry_out(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(INTAKE_RULES)
    base = [spacehook_bin(), "serve", "--listen", "127.0.0.1:0", "--store", f"sqlite:{tmp_path / 'j.db'}",
            "--config", str(config)]
    no_smtp = subprocess.run(base, capture_output=True, text=True, timeout=30,
                             env=clean_env(DOCSPACE_WEBHOOK_SECRET=SECRET, DOCSPACE_API_HOST="http://127.0.0.1:9",
                                           DOCSPACE_API_KEY="k"))
    assert no_smtp.returncode == 1
    assert "rule intake sends mail, but no SMTP server is set" in no_smtp.stderr
    no_portal = subprocess.run(base, capture_output=True, text=True, timeout=30,
                               env=clean_env(DOCSPACE_WEBHOOK_SECRET=SECRET, SMTP_URL="smtp://127.0.0.1:9"))
    assert no_portal.returncode == 1
    assert "docspace.api_host" in no_portal.stderr
