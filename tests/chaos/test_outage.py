"""Outage: the portal's API fails in stretches (5xx, 429 + Retry-After, answers slower than the client's
timeout, dropped connections, a file-operations-only 500) while the emulator keeps delivering a burst.

What must hold:
- the ingress never waits on the API: every delivery attempt during the whole burst is acknowledged
  with a 2xx at the first try, and the ack latency the sender measured (request to answer, every
  attempt) stays within the target below, outages or not;
- after recovery every run completes, exactly once (counters = distinct results = what was asked), and
  nothing is dead-lettered.

Latency target: every ack under 1 s (half the API timeout of 2 s configured here, so an ack that waited
on even one API call would break it) and p99 under 300 ms on a loaded 2-core CI machine; the figures are
printed either way.

The slow stretch answers after 2.5 s, past the 2 s timeout but within timeout + the shortest retry delay
(1 s base, 20 % jitter): what docs/runner.md promises ("Residual risk": a portal that finishes a call
after the retry already looked is outside the guarantee, so it is not provoked here).

Only the edit rule needs a lookup at dispatch (file.version); the others need the room path alone, which
the dispatcher caches, so their runs are made during the outages and meet them in their steps.
"""
import time
from datetime import datetime

from harness import MailCount, Portal, Spacehook, only, percentile, quiesce, rooms, unprocessed

N_UPLOADS = 70        # every fourth an invoice, the rest open a case room
N_EDITS = 16

SETTINGS = """
runner:
  workers: 4
  lease: 10s
  retry: { base: 1s, max: 2s, multiplier: 2, jitter: 0.2, max_attempts: 200, budget: 10m }
docspace:
  timeouts: { connect: 2s, total: 2s }
  operation_poll: { interval: 50ms, timeout: 60s }
  rate_limit: { per_second: 1000, burst: 1000 }
"""

RULES = """
rules:
  - name: case-room
    on: [file.created, file.uploaded]
    if: { in_room: %(client)d, title: { starts_with: Case } }
    do:
      - create_room: { title: "{{ entity.title }} room", type: custom }
        id: room
      - create_folders: { in: "{{ steps.room.id }}", titles: [Documents, Notes] }
      - copy: { to: "{{ steps.create_folders.ids[0] }}" }
      - mail: { to: manager@example.com, subject: "Case {{ entity.title }}", body: "{{ steps.room.webUrl }}" }
  - name: invoice-intake
    on: [file.created, file.uploaded]
    if: { in_room: %(client)d, title: { starts_with: Invoice } }
    do:
      - move: { to: %(invoices)d }
      - mail: { to: manager@example.com, subject: "Invoice {{ entity.title }}", body: "moved as file {{ steps.move.files[0].id }}" }
  - name: edit-watch
    on: file.updated
    if: { in_room: %(client)d }
    do:
      - mail: { to: manager@example.com, subject: "Edited {{ entity.title }} v{{ file.version }}", body: "{{ file.webUrl }}" }
"""

# (name, fault, seconds): applied one after the other, with healthy gaps between them.
STRETCHES = [
    ("5xx", {"kind": "status", "status": 503, "count": 0, "pathPrefix": "/api/2.0/"}, 3.0),
    ("429", {"kind": "status", "status": 429, "retryAfter": 1, "count": 0, "pathPrefix": "/api/2.0/"}, 3.5),
    ("slow", {"kind": "slow", "delayMs": 2500, "count": 0, "pathPrefix": "/api/2.0/"}, 3.0),
    ("drop", {"kind": "drop", "count": 0, "pathPrefix": "/api/2.0/"}, 2.0),
    ("fileops 500", {"kind": "status", "status": 500, "count": 0, "pathPrefix": "/api/2.0/files/fileops"}, 3.0),
]
GAP = 1.5


def epoch(iso):
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_api_outages_never_slow_the_ingress_and_every_run_completes_once(procs, tmp_path, smtp, rng, seed, report):
    portal = Portal(procs, tmp_path, retry_base=0.5, operation_delay_ms=30)
    client = portal.create_room("Client")["id"]
    invoices_folder = portal.create_folder(portal.create_room("Internal", room_type=5)["id"], "Invoices In")["id"]
    serve = Spacehook(procs, tmp_path, portal, SETTINGS + RULES % {"client": client, "invoices": invoices_folder},
                      smtp=smtp)
    portal.subscribe(serve.webhook_url)
    before = portal.counters()

    titles = [f"Invoice-{n:03}.pdf" if n % 4 == 0 else f"Case-{n:03}.docx" for n in range(N_UPLOADS)]
    edited = [t for t in titles if t.startswith("Case")][:N_EDITS]
    total = sum(seconds for _, _, seconds in STRETCHES) + GAP * (len(STRETCHES) + 1)
    # Uploads spread evenly over the whole schedule (seeded jitter), edits once their file exists.
    due = sorted(rng.uniform(0, total) for _ in titles)
    schedule, t = [], GAP
    for name, fault, seconds in STRETCHES:
        schedule.append((t, "fault", (name, fault, seconds)))
        schedule.append((t + seconds, "clear", name))
        t += seconds + GAP
    schedule += [(at, "upload", title) for at, title in zip(due, titles)]
    schedule.sort(key=lambda item: item[0])

    ids, outages, edits_left = {}, [], list(edited)
    started = time.monotonic()
    for at, kind, arg in schedule:
        time.sleep(max(0.0, at - (time.monotonic() - started)))
        if kind == "fault":
            name, fault, seconds = arg
            portal.fault(**fault)
            outages.append([name, time.time(), None])
        elif kind == "clear":
            portal.clear_faults()
            outages[-1][2] = time.time()
        else:
            ids[arg] = portal.upload(client, arg)["id"]
            if edits_left and edits_left[0] in ids and rng.random() < 0.4:
                portal.edit(ids[edits_left.pop(0)])
    for title in edits_left:
        portal.edit(ids[title])
    burst_seconds = time.monotonic() - started

    deliveries, events, runs = quiesce(portal, serve, timeout=300)

    # --- the ingress: every attempt acked at once, within the latency target ------------------------
    attempts = [a for d in deliveries.values() for a in d["attempts"]]
    failed = [(a["trigger"], a["status"], a["error"]) for a in attempts if not 200 <= a["status"] <= 299]

    def during_outage(attempt):
        sent = epoch(attempt["sentAt"])
        return any(start <= sent <= end for _, start, end in outages)
    in_outage = [a["durationMs"] for a in attempts if during_outage(a)]
    everything = [a["durationMs"] for a in attempts]

    # --- the work: once each, after recovery ---------------------------------------------------------
    state = portal.state()
    after = portal.counters()
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before)}
    cases = [t for t in titles if t.startswith("Case")]
    invoices = sorted(t for t in titles if t.startswith("Invoice"))
    case_rooms = [r for r in rooms(state) if r["title"].endswith(" room")]
    duplicates = {}
    if sorted(r["title"] for r in case_rooms) != sorted(f"{t} room" for t in cases) \
            or delta.get("rooms_created", 0) != len(cases):
        duplicates["rooms"] = (delta.get("rooms_created", 0), len(case_rooms), len(cases))
    for room in case_rooms:
        folders = {f["title"]: f for f in room["folders"]}
        if sorted(f["title"] for f in room["folders"]) != ["Documents", "Notes"]:
            duplicates[room["title"]] = [f["title"] for f in room["folders"]]
        elif [f["title"] for f in folders["Documents"]["files"]] != [room["title"][:-len(" room")]]:
            duplicates[room["title"] + "/Documents"] = [f["title"] for f in folders["Documents"]["files"]]
    if delta.get("folders_created", 0) != 2 * len(cases):
        duplicates["folders"] = (delta.get("folders_created", 0), 2 * len(cases))
    if delta.get("files_copied", 0) != len(cases):
        duplicates["copies"] = (delta.get("files_copied", 0), len(cases))
    moved = sorted(f["title"] for f in only(state, "Invoices In")["files"])
    if moved != invoices or delta.get("files_moved", 0) != len(invoices):
        duplicates["moves"] = (delta.get("files_moved", 0), moved)
    mail = MailCount(smtp)
    wanted = ([f"Case {t}" for t in cases] + [f"Invoice {t}" for t in invoices] + [f"Edited {t} v2" for t in edited])
    if sorted(mail.subjects.elements()) != sorted(wanted) or mail.conflicts or mail.resent:
        duplicates["mail"] = {"missing": sorted(set(wanted) - set(mail.subjects)),
                              "unexpected": sorted(set(mail.subjects) - set(wanted)), "resent": mail.resent}

    metrics = serve.metrics()
    errors = {line.split('"')[1]: int(float(line.split()[-1])) for line in metrics.splitlines()
              if line.startswith("spacehook_docspace_errors_total{")}
    retried_runs = sum(r["attempts"] > 0 for r in runs)
    report(f"seed={seed} deliveries sent={len(deliveries)} acked={sum(d['acked'] for d in deliveries.values())} "
           f"attempts={len(attempts)} failed_attempts={len(failed)} runs={len(runs)} retried_runs={retried_runs} "
           f"duplicates={len(duplicates)} api_faults={delta.get('faults_injected', 0)} "
           f"({', '.join(f'{k} {v}' for k, v in sorted(delta.items()) if k.startswith('faults_injected.'))}) "
           f"api_errors={errors} "
           f"burst {burst_seconds:.0f}s")
    report(f"ack latency in outages: n={len(in_outage)} p50={percentile(in_outage, 50)}ms "
           f"p99={percentile(in_outage, 99)}ms max={max(in_outage)}ms; all attempts: n={len(everything)} "
           f"p50={percentile(everything, 50)}ms p99={percentile(everything, 99)}ms max={max(everything)}ms")

    assert not failed, failed[:10]
    assert len(in_outage) >= 50, f"only {len(in_outage)} deliveries fell into an outage"
    assert max(everything) < 1000 and percentile(everything, 99) < 300, sorted(everything)[-10:]
    assert not unprocessed(deliveries, events, runs)
    assert not duplicates, duplicates
    assert serve.dead_letters() == []
    # Every kind of failure reached the service (the emulator counts each faulted call as it arrives), and
    # the runs did wait them out. spacehook's error metric is no proof of that: it counts calls that failed
    # in the end, and a 429 or a timeout met while a file operation is polled is waited out inside the
    # poller, so a stretch every worker spent polling leaves no trace there.
    reached = {kind: delta.get(f"faults_injected.{kind}", 0) for kind in ("503", "429", "slow", "drop")}
    assert all(reached.values()), reached
    assert errors.get("unavailable", 0) > 0, errors
    assert retried_runs > 0
    assert any(e["attempts"] > 0 and e["state"] == "dispatched" for e in events), "no dispatch waited out a fault"
    assert serve.proc.popen.poll() is None, "serve died"
