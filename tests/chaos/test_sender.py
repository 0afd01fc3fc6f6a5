"""Sender behaviour: what DocSpace's webhook sender does to a receiver, and that spacehook acts once anyway.

1. Duplicates and disorder, with the portal's real bodies: the emulator delivers a small scenario to a
   capture endpoint that refuses every first attempt, so each event exists as its first body and the
   sender's own re-serialized, re-signed retry body (webhook.retryCount, lastFailureOn, ...). Those
   bytes, with the emulator's signatures, are then delivered to spacehook newest first (file.updated
   before file.created), every event in both forms and the first form several times at once.
2. The emulator's retry schedule against a spacehook that is stopped and started again within the
   retry window: the sender's retries land, each event is journaled and acted on once.
"""
import json
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from harness import (JANE_ID, Capture, MailCount, Portal, Spacehook, only, quiesce, rooms, unprocessed,
                     wait_for)

SETTINGS = """
runner:
  workers: 2
  lease: 2s
  retry: { base: 200ms, max: 1s, multiplier: 2, jitter: 0.2, max_attempts: 50, budget: 5m }
docspace:
  timeouts: { connect: 2s, total: 5s }
  operation_poll: { interval: 20ms, timeout: 30s }
"""

RULES = """
rules:
  - name: intake
    on: [file.created, file.uploaded]
    if: { in_room: %(client)d }
    do:
      - copy: { to: %(processing)d }
      - mail: { to: manager@example.com, subject: "New {{ entity.title }}", body: "{{ file.webUrl }}" }
  - name: edit-watch
    on: file.updated
    if: { in_room: %(client)d }
    do:
      - mail: { to: manager@example.com, subject: "Edited {{ entity.title }} v{{ file.version }}", body: "{{ file.webUrl }}" }
  - name: room-provisioning
    on: room.created
    do:
      - create_folders: { in: "{{ room.id }}", titles: [Documents, Tasks] }
      - set_access: { room: "{{ room.id }}", entries: [{ user: "%(jane)s", access: editor }] }
"""

ORDER = ["file.updated", "file.uploaded", "file.created", "room.created"]


def places(portal):
    client = portal.create_room("Client")["id"]
    processing = portal.create_folder(portal.create_room("Internal", room_type=5)["id"], "Processing")["id"]
    return client, processing


def test_duplicate_resigned_and_reordered_deliveries_act_once(procs, tmp_path, smtp, report):
    portal = Portal(procs, tmp_path, retry_base=0.05)
    client, processing = places(portal)
    capture = Capture(fail_first=True)
    try:
        hook = portal.subscribe(capture.url)
        files = {title: portal.upload(client, title)["id"] for title in ("Report-A.docx", "Report-B.docx")}
        for file_id in files.values():
            portal.edit(file_id)
        portal.create_room("Project X")
        portal.wait_idle()
        captured = capture.received()
        portal.rest("DELETE", f"settings/webhook/{hook['id']}")
    finally:
        capture.close()
    # 2 uploads (created + uploaded each), 2 edits, 1 room: 7 events, each a refused first body + a retry.
    by_event = {}
    for post in captured:
        body = json.loads(post["body"])
        by_event.setdefault(body["event"]["id"], []).append((post, body))
    assert len(by_event) == 7 and all(len(posts) == 2 for posts in by_event.values()), \
        {k: len(v) for k, v in by_event.items()}
    for posts in by_event.values():
        (first, first_body), (retry, retry_body) = posts
        assert "retryCount" not in first_body["webhook"] and retry_body["webhook"]["retryCount"] == 1
        assert first["body"] != retry["body"]
        assert first["headers"]["x-docspace-signature-256"] != retry["headers"]["x-docspace-signature-256"]

    config = SETTINGS + RULES % {"client": client, "processing": processing, "jane": JANE_ID}
    serve = Spacehook(procs, tmp_path, portal, config, smtp=smtp)
    before = portal.counters()

    def deliver(post):
        headers = {name: post["headers"][name] for name in ("content-type", "x-docspace-signature-256")}
        r = requests.post(serve.webhook_url, data=post["body"], headers=headers, timeout=10)
        return r.status_code, r.json().get("status")

    answers = {}
    ordered = sorted(by_event.values(), key=lambda posts: (ORDER.index(posts[0][1]["event"]["trigger"]),
                                                           -posts[0][1]["event"]["id"]))
    with ThreadPoolExecutor(8) as pool:
        for posts in ordered:
            (first, body), (retry, _) = posts
            # The first body four times at once, then the sender's retry body, then the first again.
            burst = list(pool.map(deliver, [first] * 4))
            answers[body["event"]["id"]] = (body["event"]["trigger"], burst + [deliver(retry), deliver(first)])
    for trigger, got in answers.values():
        assert sorted(got).count((202, "stored")) == 1 and got.count((200, "duplicate")) == 5, (trigger, got)

    events, runs = serve.wait_settled(timeout=60)
    assert len(events) == 7
    assert sorted(r["rule"] for r in runs) == ["edit-watch", "edit-watch", "intake", "intake", "room-provisioning"]
    assert all(r["state"] == "done" for r in runs)
    # The edits were journaled (and their runs made) before the uploads they follow.
    seqs = {}
    for e in events:
        seqs.setdefault(e["trigger"], []).append(e["seq"])
    assert max(seqs["file.updated"]) < min(seqs["file.uploaded"]) <= max(seqs["file.uploaded"]) \
        < min(seqs["file.created"])

    after = portal.counters()
    assert after.get("files_copied", 0) - before.get("files_copied", 0) == 2
    assert after.get("folders_created", 0) - before.get("folders_created", 0) == 2
    state = portal.state()
    assert sorted(f["title"] for f in only(state, "Processing")["files"]) == sorted(files)
    assert sorted(f["title"] for f in only(state, "Project X")["folders"]) == ["Documents", "Tasks"]
    mail = MailCount(smtp)
    assert sorted(mail.subjects.elements()) == ["Edited Report-A.docx v2", "Edited Report-B.docx v2",
                                                "New Report-A.docx", "New Report-B.docx"]
    assert mail.total == 4
    duplicate_acks = sum(got.count((200, "duplicate")) for _, got in answers.values())
    report(f"deliveries sent={sum(len(g) for _, g in answers.values())} (7 events x 6: 4 concurrent, 1 re-signed "
           f"retry body, 1 late repeat, newest first) stored=7 duplicates_acked={duplicate_acks} runs={len(runs)} "
           f"duplicate_effects=0")


def test_the_senders_retries_land_when_spacehook_is_briefly_down(procs, tmp_path, smtp, report):
    # Retries after 0.2, 0.4, 0.8, 1.6 and 3.2 s: a window of 6.2 s per delivery.
    portal = Portal(procs, tmp_path, retry_base=0.2)
    client, processing = places(portal)
    config = SETTINGS + RULES % {"client": client, "processing": processing, "jane": JANE_ID}
    serve = Spacehook(procs, tmp_path, portal, config, smtp=smtp)
    portal.subscribe(serve.webhook_url)
    portal.upload(client, "Before.docx")
    serve.wait_settled(timeout=30)
    portal.wait_idle()

    assert serve.proc.terminate() == 0  # stopped: nothing listens on its port
    down_at = time.monotonic()
    titles = [f"While-down-{n}.docx" for n in range(6)]
    for title in titles:
        portal.upload(client, title)
    portal.create_room("Project Y")
    # Wait until the sender saw the failures, then come back well inside the window. The sender works on
    # 10 deliveries at once and retries inline (docs/docspace-api.md §1.9), so 10 of the 13 are refused now and the
    # other 3 wait for a free sender.
    wait_for(lambda: len({a["logId"] for a in portal.deliveries() if a["status"] == 0}) >= 10, 5,
             "10 deliveries refused")
    time.sleep(max(0.0, 1.2 - (time.monotonic() - down_at)))
    serve.start()
    downtime = time.monotonic() - down_at

    deliveries, events, runs = quiesce(portal, serve)
    late = {i: d for i, d in deliveries.items() if d["attempts"][0]["status"] == 0}
    assert len(late) >= 10, {i: d["trigger"] for i, d in late.items()}
    for d in late.values():
        statuses = [a["status"] for a in d["attempts"]]
        assert d["acked"] and statuses[-1] == 202 and set(statuses[:-1]) == {0}, statuses
        retry_bodies = [json.loads(a["requestPayload"]) for a in d["attempts"][1:]]
        assert [b["webhook"]["retryCount"] for b in retry_bodies] == list(range(1, len(d["attempts"])))
        # The schedule: base x 1, 2, 4, ... between attempts.
        gaps = [b["monotonicMs"] - a["monotonicMs"] for a, b in zip(d["attempts"], d["attempts"][1:])]
        for n, gap in enumerate(gaps):
            assert gap >= 200 * 2 ** n - 5, gaps
    assert all(d["acked"] for d in deliveries.values())
    assert not unprocessed(deliveries, events, runs)

    journaled = [(e["webhook_id"], e["event_id"]) for e in events]
    assert len(journaled) == len(set(journaled))
    mine = [r for r in runs if r["rule"] == "intake"]
    assert len(mine) == 7 and all(r["state"] == "done" for r in mine)
    state = portal.state()
    assert sorted(f["title"] for f in only(state, "Processing")["files"]) == sorted(titles + ["Before.docx"])
    assert sorted(f["title"] for f in only(state, "Project Y")["folders"]) == ["Documents", "Tasks"]
    assert len([r for r in rooms(state) if r["title"] == "Project Y"]) == 1
    mail = MailCount(smtp)
    assert sorted(mail.subjects.elements()) == sorted(f"New {t}" for t in titles + ["Before.docx"])
    assert mail.total == len(titles) + 1
    attempts = [len(d["attempts"]) for d in late.values()]
    report(f"down {downtime:.1f}s: {len(late)} deliveries refused at first, landed after {min(attempts) - 1}.."
           f"{max(attempts) - 1} sender retries; journaled once each, runs={len(mine)} intake + 1 provisioning, "
           f"duplicate effects=0")
