"""Crash: a burst of webhooks from the emulator, several rules and triggers, while `spacehook serve` is
killed with SIGKILL at random moments and restarted on the same store and port.

What must hold at the end (issue 6, "nothing lost, nothing doubled"):
- every delivery the emulator saw acknowledged with a 2xx is in the journal, dispatched (or ignored as
  the service's own), and every run it made is done;
- the emulator's sender got every delivery through (its retries, 15.5 s per delivery, outlast every
  outage here), so the expected effects are exactly what the test did;
- no room, folder, copy, move or mail happened twice: the emulator's counters equal the distinct
  results in its state dump, which equal what the test asked for, and the SMTP sink has one Message-ID
  per expected mail.

Mail and the documented window (docs/runner.md "Mail"): a kill between the SMTP server's 250 and the
step's checkpoint makes the next attempt send the message again, with the same Message-ID and content
(only Date differs). SMTP cannot be asked whether a message arrived, so this is the step's stated
guarantee, not a bug: the test counts such resends separately, requires each to be the identical
message, and allows at most one per kill. One subject under two Message-IDs would be a real duplicate
and fails the test.
"""
import json
import threading
import time

from harness import (JANE_ID, SALES_GROUP, SERVICE_ID, MailCount, Portal, Spacehook, find_all, only, quiesce,
                     rooms, unprocessed)

N_CLIENT_UPLOADS = 90     # into two client rooms; every third is an invoice
N_ROOMS = 15              # created by a person: folders + access
N_USERS = 15              # created by an admin: a home room + a welcome mail
N_EDITS = 24              # of uploaded non-invoices: a mail each
N_KILLS = 5

SETTINGS = """
runner:
  workers: 4
  lease: 2s
  retry: { base: 200ms, max: 1s, multiplier: 2, jitter: 0.2, max_attempts: 100, budget: 10m }
  shutdown_grace: 5s
docspace:
  timeouts: { connect: 2s, total: 5s }
  operation_poll: { interval: 20ms, timeout: 30s }
  rate_limit: { per_second: 1000, burst: 1000 }
"""

RULES = """
rules:
  - name: client-copy
    on: [file.created, file.uploaded]
    if: { in_room: [%(a)d, %(b)d] }
    do:
      - copy: { to: %(processing)d }
  - name: invoice-intake
    on: [file.created, file.uploaded]
    if:
      in_room: [%(a)d, %(b)d]
      title: { starts_with: invoice, ignore_case: true }
    do:
      - move: { to: %(incoming)d }
      - mail: { to: manager@example.com, subject: "Invoice {{ entity.title }}", body: "{{ file.webUrl }}" }
  - name: room-provisioning
    on: room.created
    do:
      - create_folders: { in: "{{ room.id }}", titles: [Documents, Tasks, Archive] }
      - set_access:
          room: "{{ room.id }}"
          entries:
            - { user: "%(jane)s", access: editor }
            - { group: "%(sales)s", access: viewer }
  - name: home-room
    on: user.created
    do:
      - create_room: { title: "Home {{ payload.email }}", type: collaboration }
        id: room
      - create_folders: { in: "{{ steps.room.id }}", titles: [Documents, Personal] }
      - mail: { to: "{{ payload.email }}", subject: "Welcome {{ payload.email }}", body: "{{ steps.room.webUrl }}" }
  - name: edit-watch
    on: file.updated
    if: { in_room: [%(a)d, %(b)d] }
    do:
      - mail: { to: manager@example.com, subject: "Edited {{ entity.title }} v{{ file.version }}", body: "{{ file.webUrl }}" }
"""


def test_sigkill_during_a_burst_loses_nothing_and_doubles_nothing(procs, tmp_path, smtp, rng, seed, report):
    portal = Portal(procs, tmp_path, retry_base=0.5, operation_delay_ms=30)
    # The places, made before the subscription exists (no webhooks for them).
    client_a = portal.create_room("Client A")["id"]
    client_b = portal.create_room("Client B")["id"]
    internal = portal.create_room("Internal", room_type=5)["id"]
    processing = portal.create_folder(internal, "Processing")["id"]
    incoming = portal.create_folder(internal, "Invoices In")["id"]
    config = SETTINGS + RULES % {"a": client_a, "b": client_b, "processing": processing, "incoming": incoming,
                                 "jane": JANE_ID, "sales": SALES_GROUP}
    serve = Spacehook(procs, tmp_path, portal, config, smtp=smtp)
    portal.subscribe(serve.webhook_url)
    before = portal.counters()

    # The burst, in a seeded random order: (kind, argument) actions.
    uploads = [(f"Invoice-{n:03}.pdf" if n % 3 == 0 else f"Report-{n:03}.docx", client_a if n % 2 else client_b)
               for n in range(N_CLIENT_UPLOADS)]
    actions = [("upload", u) for u in uploads]
    actions += [("room", f"Project {n:02}") for n in range(N_ROOMS)]
    actions += [("user", f"person{n:02}@example.com") for n in range(N_USERS)]
    rng.shuffle(actions)
    edits_wanted = [title for title, _ in uploads if not title.startswith("Invoice")][:N_EDITS]

    uploaded = {}  # title -> file id
    errors = []
    done_acting = threading.Event()

    def act():
        try:
            edit_queue = list(edits_wanted)
            for kind, arg in actions:
                if kind == "upload":
                    title, room = arg
                    uploaded[title] = portal.upload(room, title)["id"]
                elif kind == "room":
                    portal.create_room(arg)
                else:
                    portal.create_user(arg.split("@")[0].capitalize(), "Chaos", arg)
                # Edits follow their uploads at a random distance.
                if edit_queue and edit_queue[0] in uploaded and rng.random() < 0.5:
                    portal.edit(uploaded[edit_queue.pop(0)])
                time.sleep(rng.uniform(0.0, 0.09))
            for title in edit_queue:
                portal.edit(uploaded[title])
        except Exception as e:  # reported by the main thread
            errors.append(e)
        finally:
            done_acting.set()

    actor = threading.Thread(target=act, daemon=True)
    started = time.monotonic()
    actor.start()

    # Kills at random moments: during the burst and while the runs it caused are still being worked off.
    kills = []
    for n in range(N_KILLS):
        time.sleep(rng.uniform(1.5, 4.0))
        runs = serve.runs()
        kills.append({"at": round(time.monotonic() - started, 2),
                      "running": sum(r["state"] == "running" for r in runs),
                      "pending": sum(r["state"] == "pending" for r in runs)})
        serve.kill()
        time.sleep(rng.uniform(0.05, 1.0))  # down: the sender's retries wait it out
        serve.start()
    actor.join(120)
    assert done_acting.is_set() and not errors, errors

    # The sender drains its retries, then the service works everything off.
    deliveries, events, runs = quiesce(portal, serve, timeout=240)
    elapsed = time.monotonic() - started

    sent = len(deliveries)
    acked = sum(d["acked"] for d in deliveries.values())
    attempts = sum(len(d["attempts"]) for d in deliveries.values())
    retried = sum(len(d["attempts"]) > 1 for d in deliveries.values())
    problems = unprocessed(deliveries, events, runs)
    processed = acked - len({p[0] for p in problems})

    # --- effects: counters against the state dump against what the test did ----------------------------
    state = portal.state()
    after = portal.counters()
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before)}
    invoices = sorted(t for t, _ in uploads if t.startswith("Invoice"))
    duplicates = {}

    def expect(name, counted, distinct, wanted):
        if counted != distinct or distinct != wanted:
            duplicates[name] = {"counted": counted, "distinct": distinct, "wanted": wanted}

    processing_files = only(state, "Processing")["files"]
    expect("copies", delta.get("files_copied", 0), len({f["title"] for f in processing_files}), len(uploads))
    expect("copies in Processing", len(processing_files), len({f["title"] for f in processing_files}), len(uploads))
    incoming_files = only(state, "Invoices In")["files"]
    expect("moves", delta.get("files_moved", 0), len({f["title"] for f in incoming_files}), len(invoices))
    assert sorted(f["title"] for f in incoming_files) == invoices

    project_rooms = [r for r in rooms(state) if r["title"].startswith("Project ")]
    home_rooms = [r for r in rooms(state) if r["title"].startswith("Home ")]
    expect("rooms", delta.get("rooms_created", 0), len({r["title"] for r in project_rooms + home_rooms}),
           N_ROOMS + N_USERS)
    for room in project_rooms:
        titles = [f["title"] for f in room["folders"]]
        if sorted(titles) != ["Archive", "Documents", "Tasks"]:
            duplicates[f"folders of {room['title']}"] = titles
        access = {m["subject"]: m["accessName"] for m in room["members"]}
        assert access.get(JANE_ID) and access.get(SALES_GROUP), (room["title"], room["members"])
    for room in home_rooms:
        titles = [f["title"] for f in room["folders"]]
        if sorted(titles) != ["Documents", "Personal"]:
            duplicates[f"folders of {room['title']}"] = titles
    folders_made = sum(len(r["folders"]) for r in project_rooms + home_rooms)
    expect("folders", delta.get("folders_created", 0), folders_made, 3 * N_ROOMS + 2 * N_USERS)
    for name in ("users_created",):
        assert delta.get(name, 0) == N_USERS

    mail = MailCount(smtp)
    wanted_subjects = ([f"Invoice {t}" for t in invoices] + [f"Welcome {a}" for k, a in actions if k == "user"]
                       + [f"Edited {t} v2" for t in edits_wanted])
    if sorted(mail.subjects.elements()) != sorted(wanted_subjects) or mail.conflicts:
        duplicates["mail"] = {"missing": sorted(set(wanted_subjects) - set(mail.subjects)),
                              "unexpected": sorted(set(mail.subjects) - set(wanted_subjects)),
                              "one subject, several ids": mail.conflicts}
    mail.resent_copies_are_identical(smtp)

    report(f"seed={seed} deliveries sent={sent} acked={acked} processed={processed} attempts={attempts} "
           f"retried={retried} runs={len(runs)} duplicates={len(duplicates)} kills_survived={len(kills)} "
           f"mails={mail.distinct} (+{mail.resent} resent, same Message-ID) rooms={len(project_rooms) + len(home_rooms)} "
           f"folders={folders_made} copies={len(processing_files)} moves={len(incoming_files)} "
           f"copy_operations={delta.get('copy_operations', 0)} move_operations={delta.get('move_operations', 0)} "
           f"in {elapsed:.0f}s")
    report(f"kills at (s, running runs, pending runs): {[(k['at'], k['running'], k['pending']) for k in kills]}")

    assert sent >= 300, f"only {sent} deliveries in the burst"
    assert acked == sent, [(i, d["trigger"], [a["status"] for a in d["attempts"]])
                           for i, d in deliveries.items() if not d["acked"]][:10]
    assert not problems, problems[:10]
    assert not duplicates, json.dumps(duplicates, indent=1)[:4000]
    assert mail.resent <= len(kills), f"{mail.resent} resent mails for {len(kills)} kills"
    assert serve.dead_letters() == []
    # The service's own effects came back as webhooks and were all ignored by the loop guard.
    own = [e for e in events if e["actor"] == SERVICE_ID]
    assert own and all(e["state"] == "ignored" for e in own)
    assert sum(k["running"] for k in kills) > 0, "no kill hit a run in progress"
    assert len(find_all(state, "Client A")) == 1
