"""The chaos suite's harness: `spacehook emulator` (the portal and its webhook sender), `spacehook serve` on a
store that outlives kills, and an SMTP sink, all on loopback, plus the bookkeeping that turns the emulator's
delivery log, its state dump and the sink's files into the figures the tests assert and report.

Processes, the emulator and serve wrappers (restarts on the same port and store, SIGKILL) and the SMTP sink
are shared with the functional suite (tests/support/loopback.py); the rest is what chaos needs on top:
waiting for everything to settle, ack latencies, counts per effect.
"""
import json
import sys
import time
from collections import Counter
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from loopback import (ROOT, Emulator, HttpReceiver, Proc, Serve, SmtpSink, clean_env, percentile,  # noqa: E402,F401  (re-exported)
                      spacehook_bin, wait_for)

SECRET = "chaos-Secret-0042"
OWNER_KEY = "sk-emulator-owner"
SERVICE_KEY = "sk-emulator-spacehook"
SERVICE_ID = "2f1b7c3a-5d4e-4c1b-9a8f-000000000002"
JANE_ID = "5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b"
SALES_GROUP = "b1f7c3a2-0000-4000-8000-000000000002"


class Portal(Emulator):
    """`spacehook emulator` (the default seed), with the delivery log and the suite's shortcuts."""

    def __init__(self, procs, tmp_path, retry_base=0.5, operation_delay_ms=30):
        super().__init__(procs, tmp_path, retry_base=retry_base, operation_delay_ms=operation_delay_ms, timeout=30)

    def deliveries(self):
        return self.control("GET", "deliveries")

    def clear_faults(self):
        return self.control("DELETE", "faults")

    def upload(self, folder, title, user="owner"):
        return self.control("POST", "upload", {"user": user, "folderId": folder, "title": title})

    def edit(self, file_id, user="owner"):
        return self.control("POST", "edit", {"user": user, "fileId": file_id})

    def create_room(self, title, room_type=2):
        return self.rest("POST", "files/rooms", {"title": title, "roomType": room_type})

    def create_folder(self, parent, title):
        return self.rest("POST", f"files/folder/{parent}", {"title": title})

    def create_user(self, first, last, email):
        return self.rest("POST", "people", {"firstName": first, "lastName": last, "email": email, "type": "User"})

    def subscribe(self, url, secret=SECRET, ssl=False):
        return super().subscribe(url, secret, ssl)

    def wait_idle(self, timeout=60):
        super().wait_idle(timeout)

class Spacehook(Serve):
    """`spacehook serve` as the chaos tests run it: the suite's secret and service key, text logs."""

    def __init__(self, procs, tmp_path, portal, config, smtp=None, extra_env=None, log_format="text", wrap=None):
        super().__init__(procs, tmp_path, portal, config, secret=SECRET, key=SERVICE_KEY, smtp=smtp,
                         extra_env=extra_env, log_format=log_format, wrap=wrap)

    def wait_settled(self, timeout=120):
        """Every event dispatched (or ignored) and every run done or dead; returns (events, runs)."""
        def settled():
            events = self.events()
            if any(e["state"] == "pending" for e in events):
                return None
            runs = self.runs()
            if any(r["state"] not in ("done", "dead", "dropped") for r in runs):
                return None
            return events, runs
        try:
            return wait_for(settled, timeout, "every event dispatched and every run finished", interval=0.5)
        except AssertionError:
            pending = [e for e in self.events() if e["state"] == "pending"][:5]
            open_runs = [r for r in self.runs() if r["state"] not in ("done", "dead", "dropped")][:5]
            print(json.dumps({"pending_events": pending, "open_runs": open_runs}, indent=1), file=sys.stderr)
            print(self.proc.output()[-4000:], file=sys.stderr)
            raise


# --- bookkeeping ------------------------------------------------------------------------------------------

def delivery_log(portal):
    """The sender's attempts grouped per webhook-log entry (one logical delivery, retries included):
    {log_id: {"event_id", "webhook_id", "trigger", "attempts": [...], "acked": bool}}."""
    out = {}
    for attempt in portal.deliveries():
        entry = out.setdefault(attempt["logId"], {"attempts": [], "acked": False, "trigger": attempt["trigger"]})
        body = json.loads(attempt["requestPayload"])
        entry["event_id"] = str(body["event"]["id"])
        entry["webhook_id"] = str(body["webhook"]["id"])
        entry["attempts"].append(attempt)
        if 200 <= attempt["status"] <= 299:
            entry["acked"] = True
    return out


def quiesce(portal, serve, timeout=240):
    """Waits until the sender is idle, the service has worked everything off, and nothing new was delivered
    meanwhile (the last runs' own webhooks); returns (deliveries, events, runs), the delivery log taken
    before the journal so every ack it shows is in the snapshot."""
    deadline = time.monotonic() + timeout
    while True:
        portal.wait_idle(timeout=max(10, deadline - time.monotonic()))
        deliveries = delivery_log(portal)
        events, runs = serve.wait_settled(timeout=max(10, deadline - time.monotonic()))
        portal.wait_idle(timeout=max(10, deadline - time.monotonic()))
        if len(portal.deliveries()) == sum(len(d["attempts"]) for d in deliveries.values()):
            return deliveries, events, runs
        assert time.monotonic() < deadline, "deliveries kept coming"


def unprocessed(deliveries, events, runs):
    """Acked deliveries whose event is not in the journal, still pending or failed, or has a run that is not
    done: what "every delivery that got a 2xx was processed" must leave empty."""
    journal = {(e["webhook_id"], e["event_id"]): e for e in events}
    runs_of = {}
    for run in runs:
        runs_of.setdefault(run["event_seq"], []).append(run)
    problems = []
    for log_id, d in deliveries.items():
        if not d["acked"]:
            continue
        event = journal.get((d["webhook_id"], d["event_id"]))
        if event is None:
            problems.append((log_id, d["trigger"], "not in the journal"))
        elif event["state"] not in ("dispatched", "ignored"):
            problems.append((log_id, d["trigger"], f"event {event['seq']} is {event['state']}: {event['last_error']}"))
        else:
            for run in runs_of.get(event["seq"], []):
                if run["state"] != "done":
                    problems.append((log_id, d["trigger"], f"run {run['id']} is {run['state']}: {run['last_error']}"))
    return problems


def walk(node):
    yield node
    for key in ("folders", "files"):
        for child in node.get(key, []):
            yield from walk(child)


def rooms(state):
    return [n for section in state["tree"] for n in walk(section) if n.get("kind") == "room"]


def find_all(state, title):
    return [n for section in state["tree"] for n in walk(section) if n.get("title") == title]


def only(state, title):
    found = find_all(state, title)
    assert len(found) == 1, f"{len(found)} entries titled {title!r}"
    return found[0]


class MailCount:
    """What reached the sink, by Message-ID: `distinct` ids, `total` messages, `resent` copies that repeat an
    id (the mail step's documented window, docs/runner.md "Mail"), and `conflicts`: one subject under two
    ids, which would be a real duplicate."""

    def __init__(self, sink):
        self.messages = sink.messages()
        for m in self.messages:
            assert "parse_error" not in m, m
        self.by_id = {}
        for n, m in enumerate(self.messages, start=1):
            self.by_id.setdefault(m["parsed"]["message_id"], []).append((n, m))
        self.total = len(self.messages)
        self.distinct = len(self.by_id)
        self.resent = self.total - self.distinct
        ids_per_subject = {}
        for m in self.messages:
            ids_per_subject.setdefault(m["parsed"]["subject"], set()).add(m["parsed"]["message_id"])
        self.conflicts = {s: ids for s, ids in ids_per_subject.items() if len(ids) > 1}
        self.subjects = Counter(ms[0][1]["parsed"]["subject"] for ms in self.by_id.values())

    def resent_copies_are_identical(self, sink):
        """A resent message must be the same message: every header but Date, and the body, byte for byte."""
        def without_date(raw):
            head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
            lines = [line for line in head.split(b"\n") if not line.lower().startswith(b"date:")]
            return b"\n".join(lines), body
        for copies in self.by_id.values():
            first = without_date(sink.raw(copies[0][0]))
            for n, _ in copies[1:]:
                assert without_date(sink.raw(n)) == first, f"message {n} differs from its first copy"


class Capture(HttpReceiver):
    """A webhook receiver that records every POST (headers and exact bytes). HEAD answers 200 (the portal's
    probe); a POST answers 503 while `fail_first` is set and the body is a first attempt (no
    webhook.retryCount), so every delivery also yields the sender's own re-signed retry body, then 200."""

    def __init__(self, fail_first=True):
        def answer(path, body, index):
            first = "retryCount" not in json.loads(body).get("webhook", {})
            return 503 if fail_first and first else 200
        super().__init__(answer)
