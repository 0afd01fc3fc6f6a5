"""Catch-up under fire: `serve` is down far longer than the sender's retry window, so the portal gives up on
every delivery of a burst (more rows than one catch-up pass reads) and disables the webhook. `serve` comes
back to a portal whose webhook log fails in stretches (503, 429 + Retry-After), is SIGKILLed at seeded random
moments (while it catches up, and while it works the backlog off) and works the backlog off, and live uploads keep arriving meanwhile. What must
hold: every row of the portal's log is journaled exactly once (recovered or live), each upload's run is done
once, its copy and its mail happen once (a resent mail only in the documented window, same Message-ID), and
the webhook is enabled again.
"""
import threading
import time

from harness import MailCount, Portal, Spacehook, only, wait_for

SETTINGS = """
runner:
  workers: 4
  lease: 2s
  retry: { base: 200ms, max: 1s, multiplier: 2, jitter: 0.2, max_attempts: 50, budget: 5m }
docspace:
  rate_limit: { per_second: 500, burst: 500 }
  timeouts: { connect: 2s, total: 5s }
  operation_poll: { interval: 20ms, timeout: 30s }
subscription:
  check_interval: 1s
  catch_up_pages: 2
alerts:
  mail: [ops@example.com]
  throttle: 1h
"""

RULES = """
rules:
  - name: intake
    on: [file.created, file.uploaded]
    if: { in_room: %(client)d }
    do:
      - copy: { to: %(processing)d }
      - mail: { to: manager@example.com, subject: "New {{ entity.title }}", body: "{{ file.webUrl }}" }
"""

MISSED = 105  # uploads while serve is down: 210 log rows, more than one pass reads (2 pages of 100)
LIVE = 10     # uploads while serve catches up and is killed


def test_catch_up_after_a_long_outage_survives_kills_and_a_flaky_log(procs, tmp_path, smtp, rng, seed, report):
    portal = Portal(procs, tmp_path, retry_base=0.01)  # the sender gives up within ~0.3 s per delivery
    client = portal.create_room("Client")["id"]
    processing = portal.create_folder(portal.create_room("Internal", room_type=5)["id"], "Processing")["id"]
    serve = Spacehook(procs, tmp_path, portal, SETTINGS + RULES % {"client": client, "processing": processing},
                      smtp=smtp)
    hook = portal.subscribe(serve.webhook_url)
    portal.upload(client, "Before.docx")
    wait_for(lambda: [r["state"] for r in serve.runs()] == ["done"], 30, "the live run before the outage")

    assert serve.proc.terminate() == 0
    outage_started = time.monotonic()
    missed = [f"Missed-{n:03d}.docx" for n in range(MISSED)]
    for title in missed:
        portal.upload(client, title)
    portal.wait_idle(timeout=120)
    given_up = [row for row in portal.state()["webhookLog"] if row["status"] == 0]
    assert len(given_up) == 2 * MISSED
    portal.control("POST", f"webhooks/{hook['id']}/disable")
    outage = time.monotonic() - outage_started

    # The log fails in stretches while serve catches up: its first reads, and later ones.
    log_path = "/api/2.0/settings/webhooks/log"
    portal.fault(kind="status", status=503, count=2, pathPrefix=log_path)
    portal.fault(kind="status", status=429, retryAfter=1, count=1, pathPrefix=log_path)
    serve.start()
    started = time.monotonic()

    live = [f"Live-{n:02d}.docx" for n in range(LIVE)]

    def upload_live():
        for title in live:
            time.sleep(0.3)
            portal.upload(client, title)
    uploader = threading.Thread(target=upload_live)
    uploader.start()
    kills = []

    def kill(why):
        runs = serve.runs()
        kills.append({"at": round(time.monotonic() - started, 2), "why": why, "runs": len(runs),
                      "done": sum(r["state"] == "done" for r in runs),
                      "recovered": sum(e["recovered"] for e in serve.events())})
        serve.kill()
        portal.fault(kind="status", status=503, count=1, pathPrefix=log_path)
        serve.start()

    def recovered():
        return sum(e["recovered"] for e in serve.events())
    try:
        # While it journals the backlog: just after the first recovered rows appear.
        wait_for(lambda: recovered() > 0, 60, "catch-up under way")
        time.sleep(rng.uniform(0.0, 0.3))
        kill("catching up")
        # While it works the backlog off (a killed serve holds the watch lease until it expires, 30 s; the
        # runner goes on at once).
        target = rng.randint(20, MISSED - 20)
        wait_for(lambda: sum(r["state"] == "done" for r in serve.runs()) >= target, 120, f"{target} runs done")
        kill("running")
    finally:
        uploader.join(30)

    titles = ["Before.docx"] + missed + live

    def finished():
        runs = serve.runs()
        return len(runs) == len(titles) and all(r["state"] == "done" for r in runs)
    # A killed serve holds the watch lease until it expires (30 s): the restarted one waits that long.
    wait_for(finished, 180, "every upload's run done")
    portal.wait_idle(timeout=60)
    elapsed = time.monotonic() - started
    time.sleep(2.5)  # more rounds: nothing new may appear

    rows = portal.state()["webhookLog"]
    events = serve.events()
    journaled = [(e["webhook_id"], e["event_id"]) for e in events]
    assert len(journaled) == len(set(journaled)), "an event journaled twice"
    assert sorted(int(e["event_id"]) for e in events) == sorted(row["id"] for row in rows)
    # The copies' own file.copied events are ignored by the loop guard; every other event is dispatched.
    assert all(e["state"] in ("dispatched", "ignored") for e in events)
    recovered = [e for e in events if e["recovered"]]
    assert {row["id"] for row in given_up} <= {int(e["event_id"]) for e in recovered}

    runs = serve.runs()
    assert len(runs) == len(titles) and len({r["run_key"] for r in runs}) == len(titles)
    assert sorted(f["title"] for f in only(portal.state(), "Processing")["files"]) == sorted(titles)
    assert portal.state()["webhooks"][0]["enabled"]
    mail = MailCount(smtp)
    manager = sorted(s for s in mail.subjects.elements() if s.startswith("New "))
    assert manager == sorted(f"New {t}" for t in titles)
    assert not mail.conflicts, mail.conflicts
    mail.resent_copies_are_identical(smtp)
    alerts = [m for m in mail.messages if "ops@example.com" in m["rcpt_tos"]]
    assert mail.resent <= len(kills), f"{mail.resent} resent mails for {len(kills)} kills"
    status = serve.cli("status", "--json", check=False)
    assert status.returncode == 0, status.stdout + status.stderr
    report(f"seed={seed} log rows={len(rows)} given up={len(given_up)} recovered={len(recovered)} "
           f"live={len(events) - len(recovered)} journaled once each; runs={len(runs)} done once; "
           f"kills (s, while, runs, done, recovered)={[tuple(k.values()) for k in kills]}; "
           f"mails={mail.total} (+{mail.resent} resent, same Message-ID) alerts mailed={len(alerts)}; "
           f"outage {outage:.1f}s, all done {elapsed:.1f}s after the restart")
