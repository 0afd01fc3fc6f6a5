"""Never miss an event: `spacehook serve` catching up from the emulator's webhook log after downtime,
keeping the subscription alive, telling a person (aiosmtpd as the mail server), and a manual retry from
the portal's UI that must not do the work twice. Counts come from the SMTP sink, the emulator and the
journal, so "exactly once" is checked where the effects land.

    SPACEHOOK_BIN=build/debug/src/app/spacehook /usr/bin/python3 -m pytest tests/functional/test_catch_up.py
"""
import json
import time

import pytest
import requests

from loopback import Emulator, HttpReceiver, Serve, SmtpSink, wait_for

SECRET = "catchup-Secret-0042"
SERVICE_KEY = "sk-emulator-spacehook"
INCOMING = 6  # "Incoming" in the emulator's default seed (docs/emulator.md)

SETTINGS = """
runner:
  workers: 2
  retry: { base: 200ms, max: 1s, jitter: 0, max_attempts: 20, budget: 5m }
subscription:
  check_interval: 1s
alerts:
  mail: [ops@example.com]
  throttle: 1h
"""

INTAKE = """
rules:
  - name: intake
    on: [file.created, file.uploaded]
    if: { in_folder: %d }
    do:
      - mail: { to: manager@example.com, subject: "Case {{ entity.title }}", body: "{{ entity.title }}" }
""" % INCOMING

MOVES = """
rules:
  - name: moved
    on: [file.moved]
    do:
      - mail: { to: manager@example.com, subject: "Moved {{ entity.title }}", body: "{{ event.id }}" }
"""


@pytest.fixture
def smtp(tmp_path):
    sink = SmtpSink(tmp_path / "mail")
    yield sink
    sink.close()


def mails_to(smtp, address):
    return [m for m in smtp.messages() if address in m["rcpt_tos"]]


def subjects(mails):
    return sorted(m["parsed"]["subject"] for m in mails)


def status(serve):
    out = serve.cli("status", "--json", check=False)
    assert out.returncode in (0, 3), out.stdout + out.stderr
    return json.loads(out.stdout)


def test_after_downtime_the_webhook_is_enabled_and_every_missed_event_runs_once(procs, tmp_path, smtp):
    portal = Emulator(procs, tmp_path, retry_base=0.05)
    serve = Serve(procs, tmp_path, portal, SETTINGS + INTAKE, secret=SECRET, key=SERVICE_KEY, smtp=smtp)
    hook = portal.subscribe(serve.webhook_url, SECRET)
    portal.control("POST", "upload", {"user": "rachel.admin", "folderId": INCOMING, "title": "Live.pdf"})
    wait_for(lambda: len(mails_to(smtp, "manager@example.com")) == 1, 30, "the live delivery's mail")

    # Down: the portal's sender gives up on every delivery (an upload fires file.created and
    # file.uploaded), and after days of that the portal disables the webhook (docs/docspace-api.md §1.9).
    serve.proc.terminate()
    missed = 3
    portal.control("POST", "sender/give-up", {"count": 2 * missed, "webhookId": hook["id"]})
    for i in range(missed):
        portal.control("POST", "upload", {"user": "rachel.admin", "folderId": INCOMING, "title": f"Missed-{i}.pdf"})
    portal.wait_idle()
    given_up = [row for row in portal.state()["webhookLog"] if row["status"] == 0]
    assert len(given_up) == 2 * missed
    portal.control("POST", f"webhooks/{hook['id']}/disable")
    assert not portal.state()["webhooks"][0]["enabled"]

    serve.start()
    wait_for(lambda: len(mails_to(smtp, "manager@example.com")) == 1 + missed, 60, "every missed automation")
    wait_for(lambda: len(mails_to(smtp, "ops@example.com")) == 1, 30, "the alert mail")
    assert portal.state()["webhooks"][0]["enabled"]

    # A few more rounds: nothing runs twice, nobody is told twice.
    time.sleep(3.5)
    assert subjects(mails_to(smtp, "manager@example.com")) == sorted(
        ["Case Live.pdf"] + [f"Case Missed-{i}.pdf" for i in range(missed)])
    runs = serve.runs()
    assert len(runs) == 1 + missed and all(r["state"] == "done" for r in runs)
    assert len({r["run_key"] for r in runs}) == len(runs)
    alerts = mails_to(smtp, "ops@example.com")
    assert len(alerts) == 1
    text = alerts[0]["parsed"]["parts"][0]["text"]
    assert alerts[0]["parsed"]["subject"].endswith(": subscription, recovered deliveries")
    assert "was disabled by the portal" in text and "re-enabled" in text
    assert f"journaled {2 * missed} deliveries" in text
    recovered = [e for e in serve.events() if e["recovered"]]
    assert sorted(int(e["event_id"]) for e in recovered) == sorted(row["id"] for row in given_up)
    assert 'spacehook_recovered_deliveries_total %d' % (2 * missed) in serve.metrics()
    assert 'spacehook_subscription_up{state="enabled"} 1' in serve.metrics()

    # `status` says what happened.
    report = status(serve)
    assert report["healthy"], report["problems"]
    watch = report["watch"]
    assert watch["portal"]["state"] == "reachable" and watch["portal"]["key_accepted"] is True
    assert watch["subscription"]["state"] == "enabled"
    assert watch["catch_up"]["recovered_total"] == 2 * missed
    assert watch["catch_up"]["last_recovery_count"] == 2 * missed
    notes = [note["text"] for note in watch["recent"]]
    assert any("re-enabled" in note for note in notes), notes
    assert any(f"journaled {2 * missed} deliveries" in note for note in notes), notes
    assert report["backlog"]["events_pending"] == 0 and report["dead_letters"] == 0
    text = serve.cli("status").stdout
    assert "spacehook: healthy" in text and "re-enabled" in text
    # The admin API answers the same.
    api = requests.get(serve.admin_url + "/admin/api/status", timeout=10)
    assert api.status_code == 200, api.text
    assert api.json()["watch"]["subscription"]["state"] == "enabled"
    assert api.json()["watch"]["catch_up"]["recovered_total"] == 2 * missed


def test_a_manual_retry_from_the_portal_does_not_do_the_work_again(procs, tmp_path, smtp):
    portal = Emulator(procs, tmp_path, retry_base=0.05)
    serve = Serve(procs, tmp_path, portal, SETTINGS + MOVES, secret=SECRET, key=SERVICE_KEY, smtp=smtp)
    portal.subscribe(serve.webhook_url, SECRET)
    # The owner moves a file; the delivery arrives and its mail goes out.
    contract = 3  # "Contract.docx" in Client ACME
    portal.rest("PUT", "files/fileops/move", {"fileIds": [contract], "destFolderId": INCOMING,
                                             "returnSingleOperation": True})
    portal.wait_idle()
    wait_for(lambda: len(mails_to(smtp, "manager@example.com")) == 1, 30, "the move's mail")
    row = next(r for r in portal.state()["webhookLog"] if r["trigger"] == "file.moved")

    # An admin presses "retry" in the portal's UI: a new log row, a new event.id, the same body.
    retried = portal.rest("PUT", f"settings/webhook/{row['id']}/retry")
    assert retried["id"] != row["id"]
    portal.wait_idle()
    wait_for(lambda: len(serve.events()) == 2 and all(e["state"] != "pending" for e in serve.events()), 30,
             "the retried delivery journaled and dispatched")
    events = serve.events()
    assert sorted(e["event_id"] for e in events) == sorted([str(row["id"]), str(retried["id"])])
    time.sleep(2)
    assert len(serve.runs()) == 1
    assert len(mails_to(smtp, "manager@example.com")) == 1


GROUPS = """
outbound: { allow: [127.0.0.1] }   # the chat and http receivers listen on loopback
chat:
  channels:
    ops: { kind: generic, url: "%(chat)s" }
rules:
  - name: renamed
    on: [group.updated]
    do:
      - mail: { to: manager@example.com, subject: "Group {{ payload.name }}", body: "{{ event.id }}" }
      - chat: { channel: ops, text: "Group {{ payload.name }}" }
      - http: { url: "%(http)s", body: { group: "{{ payload.id }}" } }
"""


def test_a_manual_retry_of_an_event_without_modified_on_runs_no_mail_chat_or_http_again(procs, tmp_path, smtp):
    # group.updated carries no modifiedOn (docs/docspace-api.md §1.6): its run key is the event's content, which
    # the portal's retry sends again unchanged under a new event.id.
    chat, hook_target = HttpReceiver(path="/chat"), HttpReceiver(path="/call")
    try:
        portal = Emulator(procs, tmp_path, retry_base=0.05)
        config = SETTINGS + GROUPS % {"chat": chat.url, "http": hook_target.url}
        serve = Serve(procs, tmp_path, portal, config, secret=SECRET, key=SERVICE_KEY, smtp=smtp)
        portal.subscribe(serve.webhook_url, SECRET)
        sales = "b1f7c3a2-0000-4000-8000-000000000002"  # "Sales" in the default seed
        portal.control("POST", "act", {"action": "update-group", "id": sales, "title": "Sales EMEA"})
        portal.wait_idle()
        wait_for(lambda: len(hook_target.received()) == 1, 30, "the http step's call")
        assert len(chat.received()) == 1
        assert subjects(mails_to(smtp, "manager@example.com")) == ["Group Sales EMEA"]
        row = next(r for r in portal.state()["webhookLog"] if r["trigger"] == "group.updated")

        retried = portal.rest("PUT", f"settings/webhook/{row['id']}/retry")
        assert retried["id"] != row["id"]
        portal.wait_idle()
        wait_for(lambda: len(serve.events()) == 2 and all(e["state"] != "pending" for e in serve.events()), 30,
                 "the retried delivery journaled and dispatched")
        assert sorted(e["event_id"] for e in serve.events()) == sorted([str(row["id"]), str(retried["id"])])
        time.sleep(2)
        assert len(serve.runs()) == 1
        assert len(mails_to(smtp, "manager@example.com")) == 1
        assert len(chat.received()) == 1 and len(hook_target.received()) == 1

        # A real rename back is new content: it runs.
        portal.control("POST", "act", {"action": "update-group", "id": sales, "title": "Sales"})
        wait_for(lambda: len(hook_target.received()) == 2, 30, "the second rename's http call")
        assert len(serve.runs()) == 2 and len(chat.received()) == 2
    finally:
        chat.close()
        hook_target.close()
