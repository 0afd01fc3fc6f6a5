"""Store errors during ingest, with runs in flight: for a few seconds every write `spacehook serve` makes
fails (its file-size limit, RLIMIT_FSIZE, is lowered below the size of its files, with SIGXFSZ ignored,
so each write past the limit fails with EFBIG: a disk that refuses writes). Deliveries and the runner's
checkpoints, claims and lease renewals all fail meanwhile; then the limit is lifted (the operator freed
space).

What must hold (tests/functional/test_ingress.py proves the single-delivery 503 and the "journal grows
past the disk" case; this is the same failure under load):
- deliveries refused meanwhile get 503 (DocSpace retries them), nothing else; all land afterwards;
- nothing half-written: the database passes SQLite's integrity check, every journaled body is byte for
  byte a body the sender sent, every event once, every done run has every step done;
- the service recovers by itself: every acked delivery is processed, every run completes, nothing is
  done twice (a mail whose checkpoint the store refused is sent again with the same Message-ID, the
  documented window of docs/runner.md "Mail": counted, and each such copy must be identical).
"""
import json
import resource
import sqlite3
import threading
import time

import requests

from harness import MailCount, Portal, Spacehook, only, quiesce, unprocessed

N_UPLOADS = 45
FAILING_SECONDS = 3.0

CONFIG = """
runner:
  workers: 4
  lease: 2s
  retry: { base: 200ms, max: 1s, multiplier: 2, jitter: 0.2, max_attempts: 200, budget: 10m }
docspace:
  timeouts: { connect: 2s, total: 5s }
  operation_poll: { interval: 20ms, timeout: 30s }
  rate_limit: { per_second: 1000, burst: 1000 }
rules:
  - name: client-copy
    on: [file.created, file.uploaded]
    if: { in_room: %(client)d }
    do:
      - copy: { to: %(processing)d }
  - name: invoice-intake
    on: [file.created, file.uploaded]
    if: { in_room: %(client)d, title: { starts_with: Invoice } }
    do:
      - move: { to: %(invoices)d }
      - mail: { to: manager@example.com, subject: "Invoice {{ entity.title }}", body: "{{ file.webUrl }}" }
"""


def test_store_write_failures_under_load_are_503_and_leave_nothing_half_written(procs, tmp_path, smtp, rng, seed,
                                                                                 report):
    portal = Portal(procs, tmp_path, retry_base=0.5, operation_delay_ms=30)
    client = portal.create_room("Client")["id"]
    internal = portal.create_room("Internal", room_type=5)["id"]
    processing = portal.create_folder(internal, "Processing")["id"]
    invoices_folder = portal.create_folder(internal, "Invoices In")["id"]
    serve = Spacehook(procs, tmp_path, portal,
                      CONFIG % {"client": client, "processing": processing, "invoices": invoices_folder}, smtp=smtp,
                      # SIGXFSZ ignored (inherited through exec), and the log written through a pipe so the
                      # limit refuses the store's writes but not the log lines saying what happened.
                      wrap=["/bin/bash", "-c", 'trap "" XFSZ; exec "$@" > >(exec cat) 2>&1', "bash"])
    portal.subscribe(serve.webhook_url)
    before = portal.counters()
    titles = [f"Invoice-{n:03}.pdf" if n % 3 == 0 else f"Scan-{n:03}.pdf" for n in range(N_UPLOADS)]

    def uploads():
        for title in titles:
            portal.upload(client, title)
            time.sleep(rng.uniform(0.02, 0.1))
    uploader = threading.Thread(target=uploads, daemon=True)
    uploader.start()

    # Once runs are under way, every write fails for a while.
    time.sleep(1.5)
    pid = serve.proc.popen.pid
    in_flight = sum(r["state"] in ("running", "pending") for r in serve.runs())
    failing_from = time.time()
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (1024, resource.RLIM_INFINITY))
    time.sleep(FAILING_SECONDS)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    failing_until = time.time()
    uploader.join(60)
    assert not uploader.is_alive()

    deliveries, events, runs = quiesce(portal, serve, timeout=180)
    assert requests.get(serve.admin_url + "/readyz", timeout=10).status_code == 200

    statuses = [a["status"] for d in deliveries.values() for a in d["attempts"]]
    refused = statuses.count(503)
    assert set(statuses) <= {200, 202, 503}, sorted(set(statuses))
    assert refused > 0, "no delivery met the failing store"
    assert all(d["acked"] for d in deliveries.values())
    assert not unprocessed(deliveries, events, runs)
    assert serve.dead_letters() == []
    assert all(r["state"] == "done" for r in runs)
    runs_retried = sum(r["attempts"] > 0 for r in runs)

    # Effects once.
    state = portal.state()
    after = portal.counters()
    invoices = sorted(t for t in titles if t.startswith("Invoice"))
    assert sorted(f["title"] for f in only(state, "Processing")["files"]) == sorted(titles)
    assert after.get("files_copied", 0) - before.get("files_copied", 0) == len(titles)
    assert sorted(f["title"] for f in only(state, "Invoices In")["files"]) == invoices
    assert after.get("files_moved", 0) - before.get("files_moved", 0) == len(invoices)
    mail = MailCount(smtp)
    assert sorted(mail.subjects.elements()) == sorted(f"Invoice {t}" for t in invoices)
    assert not mail.conflicts
    mail.resent_copies_are_identical(smtp)

    # Nothing half-written: a clean stop, then the database itself.
    assert serve.proc.terminate() == 0
    db = sqlite3.connect(f"file:{tmp_path / 'spacehook.db'}?mode=ro", uri=True)
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    sent_bodies = {}
    for d in deliveries.values():
        for a in d["attempts"]:
            sent_bodies.setdefault((d["webhook_id"], d["event_id"]), set()).add(a["requestPayload"])
    rows = db.execute("SELECT webhook_id, event_id, body FROM events").fetchall()
    assert len(rows) == len({(w, e) for w, e, _ in rows}) == len(deliveries)
    for webhook_id, event_id, body in rows:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        assert text in sent_bodies[(webhook_id, event_id)], (webhook_id, event_id)
        json.loads(text)
    unfinished_steps = db.execute("SELECT COUNT(*) FROM runs r JOIN steps s ON s.run_id = r.id "
                                  "WHERE r.state = 'done' AND s.status <> 'done'").fetchone()[0]
    missing_steps = db.execute("SELECT COUNT(*) FROM runs r WHERE r.state = 'done' AND r.step_count <> "
                               "(SELECT COUNT(*) FROM steps s WHERE s.run_id = r.id)").fetchone()[0]
    assert unfinished_steps == 0 and missing_steps == 0
    db.close()

    report(f"seed={seed} store refused writes for {failing_until - failing_from:.1f}s with {in_flight} runs in "
           f"flight: {refused} delivery attempts answered 503, deliveries sent={len(deliveries)} "
           f"acked={sum(d['acked'] for d in deliveries.values())} runs={len(runs)} retried_runs={runs_retried} "
           f"mails={mail.distinct} (+{mail.resent} resent, same Message-ID) duplicates=0 integrity=ok")
