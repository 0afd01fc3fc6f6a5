"""The web view in a real browser: an operator finds a failed run, reads why it failed, fixes the cause and
retries the dead letters in bulk; the page loads nothing from elsewhere, runs no inline code, and keeps its
layout with 200 rows.

    /usr/bin/python3 -m pytest tests/browser/test_web_view.py
"""
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from urllib.parse import urlparse

import pytest
import requests
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from conftest import WAIT
import loopback
from loopback import Emulator, HttpReceiver, wait_for

SECRET = "browser-Secret-0017"
ROOM_ADMIN_KEY = "sk-emulator-roomadmin"
ROOM_ADMIN_ID = "2f1b7c3a-5d4e-4c1b-9a8f-000000000003"
OWNER_ID = "2f1b7c3a-5d4e-4c1b-9a8f-000000000001"
# Ids of the emulator's default seed (docs/emulator.md "The default seed").
TEMPLATES_ROOM, INCOMING = 4, 6

SETTINGS = """
runner:
  workers: 2
  lease: 2s
  retry: { base: 1s, max: 1s, multiplier: 1, jitter: 0, max_attempts: 50, budget: 5m }
docspace:
  timeouts: { connect: 2s, total: 2s }
outbound: { allow: [127.0.0.1] }   # the notify rule's http receiver listens on loopback
"""

# The service account is a room admin with view access to Templates only: creating a folder there is
# refused (403, a permanent failure: a dead letter at once) until the owner gives it more.
RULES = SETTINGS + """
rules:
  - name: file-template
    description: a folder in Templates for each new file in Incoming
    on: file.created
    if: { in_folder: %(incoming)d }
    do:
      - create_folder: { in: %(templates)d, title: "For {{ entity.title }}" }
  - name: notify
    on: file.created
    if: { in_folder: %(incoming)d }
    do:
      - http: { url: "${NOTIFY_URL}", body: { file: "{{ entity.title }}" } }
"""


class Service(loopback.Serve):
    def __init__(self, procs, tmp_path, portal, config, **kwargs):
        super().__init__(procs, tmp_path, portal, config, secret=SECRET, key=ROOM_ADMIN_KEY, **kwargs)


class Page:
    """The browser on one service's web view, with bounded waits and screenshots under the test's dir."""

    def __init__(self, driver, admin_url, shots):
        self.driver = driver
        self.admin_url = admin_url
        self.shots = shots
        shots.mkdir(exist_ok=True)
        self.wait = WebDriverWait(driver, WAIT)
        driver.get_log("performance")  # what earlier tests left
        driver.get_log("browser")

    def open(self, route=""):
        self.driver.get(f"{self.admin_url}/admin#/{route}")
        self.wait_loaded()

    def go(self, route):
        self.driver.execute_script("location.hash = arguments[0]", "#/" + route)
        self.wait_loaded()

    def wait_loaded(self):
        # The view marks which route it shows once rendered: an older view's content is not the new one's.
        self.wait.until(lambda d: d.execute_script(
            "return document.readyState === 'complete' && "
            "document.getElementById('view').dataset.rendered === location.hash"))

    def find(self, css):
        return self.wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def heading(self):
        return self.find("#view h2").text

    def message(self):
        return self.driver.find_element(By.ID, "message").text

    def shot(self, name):
        path = self.shots / f"{name}.png"
        assert self.driver.save_screenshot(str(path)), path
        return path

    def requested_urls(self):
        urls = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                urls.append(message["params"]["request"]["url"])
        return urls

    def console_errors(self):
        """Script errors and policy violations; an API answer's HTTP status (a 401 before the token is typed
        in, a 404 asked for on purpose) is logged as an error too, and is not one of them."""
        return [e for e in self.driver.get_log("browser") if e["level"] == "SEVERE"
                and "Failed to load resource: the server responded with a status of" not in e["message"]]


def upload(portal, title, folder=INCOMING):
    return portal.control("POST", "upload", {"user": "owner", "folderId": folder, "title": title})


def test_an_operator_finds_a_failed_run_and_retries_two_dead_letters_in_bulk(procs, tmp_path, browser):
    receiver = HttpReceiver()
    portal = Emulator(procs, tmp_path)
    serve = Service(procs, tmp_path, portal, RULES % {"incoming": INCOMING, "templates": TEMPLATES_ROOM},
                    extra_env={"NOTIFY_URL": receiver.url})
    try:
        portal.subscribe(serve.webhook_url, SECRET)
        for title in ("Brief.docx", "Offer.docx", "Memo.docx"):
            upload(portal, title)
        upload(portal, "Elsewhere.docx", folder=TEMPLATES_ROOM)  # no rule for it: ignored by design
        wait_for(lambda: len([r for r in serve.runs() if r["state"] == "dead"]) == 3
                 and len([r for r in serve.runs() if r["state"] == "done"]) == 3, 60, "3 dead and 3 done runs")
        dead_ids = sorted(r["id"] for r in serve.runs() if r["state"] == "dead")
        page = Page(browser, serve.admin_url, tmp_path / "shots")

        # The overview: dead letters counted in red, and the watcher's report says they wait.
        page.open()
        assert page.heading() == "Overview"
        assert page.find(".card.bad .value").text == "3"
        assert "3 dead letters wait" in page.find("#problems").text
        page.find("svg.chart")
        page.shot("overview")

        # Filter the runs to the failed ones.
        page.open("runs")
        assert len(page.all("#view tbody tr[data-run]")) == 6
        Select(page.find("#f-runs-state")).select_by_value("dead")
        page.find("#f-runs-rule").send_keys("file-template")
        page.find("form.filters button[type=submit]").click()
        page.wait.until(lambda d: "state=dead" in d.current_url and len(page.all("#view tbody tr[data-run]")) == 3)
        states = [row.find_element(By.CSS_SELECTOR, ".state").text for row in page.all("#view tbody tr[data-run]")]
        assert states == ["dead", "dead", "dead"]
        assert "403" in page.find("#view tbody tr[data-run] td.text").text
        page.shot("runs-filtered-dead")

        # Open one: the failing step says why.
        page.all("#view tbody tr[data-run] td a")[0].click()
        page.wait.until(lambda d: page.heading().startswith(f"Run {dead_ids[-1]}"))
        failing = page.find("tr.failing")
        assert failing.get_attribute("id") == "step-0"
        assert "create_folder" in failing.text and "failed" in failing.text
        error = page.find("tr.failing .step-error").text
        assert "403" in error, error
        failing.find_element(By.CSS_SELECTOR, ".step-input summary").click()
        assert '"title": "For {{ entity.title }}"' in page.find("tr.failing .step-input pre").text
        page.shot("run-failing-step")

        # Fix the cause (the owner lets the service account create in Templates), then retry two of them.
        portal.rest("PUT", f"files/rooms/{TEMPLATES_ROOM}/share",
                    body={"invitations": [{"id": ROOM_ADMIN_ID, "access": 11}], "notify": False})
        page.go("dlq")
        rows = page.all("#view tbody tr[data-dead-letter]")
        assert sorted(r.get_attribute("data-dead-letter") for r in rows) == sorted(f"run:{i}" for i in dead_ids)
        retried = dead_ids[:2]
        for run_id in retried:
            page.find(f'#view tr[data-dead-letter="run:{run_id}"] input[type=checkbox]').click()
        # Escape backs out of a confirmation: nothing is dropped.
        next(b for b in page.all("#view .bar button") if b.text == "Drop selected (2)").click()
        page.find("dialog#confirm").send_keys(Keys.ESCAPE)
        page.wait.until(lambda d: not d.find_element(By.ID, "confirm").get_attribute("open"))
        assert len(page.all("#view tbody tr[data-dead-letter]")) == 3 and page.message() == ""
        retry = page.find("#view .bar button.primary")
        assert retry.text == "Retry selected (2)"
        retry.click()
        dialog = page.find("dialog#confirm")
        assert page.find("#confirm-title").text == "Retry 2 dead letters?"
        page.shot("dlq-confirm")
        dialog.find_element(By.ID, "confirm-ok").click()
        page.wait.until(lambda d: "2 dead letters queued again." in page.message())
        page.shot("dlq-retried")

        # The one left, taken with everything matching a filter, is dropped in one request.
        page.find("#f-dlq-rule").send_keys("file-template")
        page.find("form.filters button[type=submit]").click()
        page.wait.until(lambda d: "rule=file-template" in d.current_url
                        and [r.get_attribute("data-dead-letter") for r in page.all("#view tbody tr[data-dead-letter]")]
                        == [f"run:{dead_ids[2]}"])
        drop_all = next(b for b in page.all("#view .bar button") if b.text.startswith("Drop all"))
        assert drop_all.text == "Drop all 1 matching"
        drop_all.click()
        page.find("dialog#confirm")
        assert page.find("#confirm-title").text == "Drop 1 dead letter matching the filter?"
        page.find("#confirm-ok").click()
        page.wait.until(lambda d: "1 dead letter dropped." in page.message())

        # The two retried run again and are done; the page shows it.
        wait_for(lambda: sorted(r["state"] for r in serve.runs() if r["rule"] == "file-template")
                 == ["done", "done", "dropped"], 30, "the retried runs done")
        page.go("runs?rule=file-template&state=done")
        assert sorted(int(r.get_attribute("data-run")) for r in page.all("#view tbody tr[data-run]")) == retried
        badge = page.find("#view tbody .state")
        assert badge.text == "done" and "ok" in badge.get_attribute("class")
        page.shot("runs-done")
        page.go("dlq")
        assert page.find("#view td.empty").text == "No dead letters."

        # The event no rule wanted is grey, not red, and says why.
        elsewhere = next(e for e in serve.events() if e["state"] == "ignored" and e["trigger"] == "file.created")
        page.go(f"events/{elsewhere['seq']}")
        note = page.find("#view p.note")
        assert "no" in note.text.lower() and "bad" not in note.get_attribute("class")
        # Why, rule by rule, as test-rule tells it.
        assert "rule file-template: does not match" in page.find("#explanation").text
        page.go("events?state=ignored")
        badge = page.find("#view tbody .state")
        assert badge.text == "ignored" and "quiet" in badge.get_attribute("class")
        page.shot("events-ignored")

        # The rules view: both rules, their steps by kind, their runs counted; no input value shown.
        page.go("rules")
        text = page.find("#view table").text
        assert "file-template" in text and "notify" in text and "create_folder" in text and "http" in text
        assert "2 done" in text and "3 done" in text and "1 dropped" in text
        assert "${NOTIFY_URL}" in text and receiver.url not in page.driver.page_source
        page.shot("rules")

        # Only the service was asked anything, and nothing broke the policy or the script.
        origin = urlparse(serve.admin_url)
        network = [urlparse(url) for url in page.requested_urls()
                   if urlparse(url).scheme not in ("chrome", "data")]  # the browser's own resources
        assert network and all((u.scheme, u.hostname, u.port) == (origin.scheme, origin.hostname, origin.port)
                               for u in network), [u.geturl() for u in network]
        assert page.console_errors() == []
        # The actions are in the audit trail, with who made them and what.
        audit = [line for line in serve.logs().splitlines() if "admin action" in line]
        assert len(audit) == 3 and all("local user" in line and "status=200" in line for line in audit), audit
        assert sum(f"/admin/api/dlq/run/{i}/retry" in line for line in audit for i in retried) == 2, audit
        assert "/admin/api/dlq/drop?rule=file-template" in audit[2], audit
    finally:
        receiver.close()


def signed(body):
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_with_a_token_the_page_asks_for_it_and_holds_200_rows(procs, tmp_path, browser):
    token = "adm-browser-0123456789"
    portal = Emulator(procs, tmp_path)
    serve = Service(procs, tmp_path, portal, SETTINGS + "rules: []\n",
                    extra_env={"SPACEHOOK_ADMIN_TOKEN": token})
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for n in range(205):
        body = json.dumps({
            "event": {"id": 9000 + n, "createOn": now, "createBy": OWNER_ID, "trigger": "file.created",
                      "triggerId": 128},
            "payload": {"id": 5000 + n, "parentId": 567, "rootId": 3, "fileEntryType": 2,
                        "title": f"A rather long file title that goes on and on, number {n:03d}.docx"},
            "webhook": {"id": 7, "name": "spacehook"}}).encode()
        r = requests.post(serve.webhook_url, data=body, timeout=10,
                          headers={"Content-Type": "application/json", "x-docspace-signature-256": signed(body)})
        assert r.status_code == 202, r.text
    wait_for(lambda: all(e["state"] != "pending" for e in serve.events()), 30, "every event dispatched")

    page = Page(browser, serve.admin_url, tmp_path / "shots")
    page.open("events")
    page.wait.until(lambda d: "401" in page.message())
    assert "admin token" in page.message()
    page.shot("token-asked")
    field = page.find("#token")
    field.send_keys(token)
    field.send_keys("\t")  # change fires on leaving the field
    page.wait.until(lambda d: len(page.all("#view tbody tr")) == 50)

    Select(page.find("#f-events-limit")).select_by_value("200")
    page.find("#f-events-q").send_keys("number")
    page.find("form.filters button[type=submit]").click()
    page.wait.until(lambda d: len(page.all("#view tbody tr")) == 200)
    # No horizontal scrolling of the whole page at 200 long rows on a laptop screen.
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.shot("events-200")
    older = [b for b in page.all("#view .bar button") if b.text == "Older"]
    assert older, "a next page"
    older[0].click()
    page.wait.until(lambda d: len(page.all("#view tbody tr")) == 5)
    assert "before=" in browser.current_url
    # Every control is labelled, and a row's link opens with the keyboard.
    assert browser.execute_script(
        "return [...document.querySelectorAll('main input, main select, header input')]"
        ".every(e => e.labels.length > 0 || e.getAttribute('aria-label'))")
    first = page.find("#view tbody a")
    seq = first.text
    first.send_keys(Keys.ENTER)
    page.wait.until(lambda d: page.heading() == f"Event {seq}")
    assert page.find("#view h3").text.startswith("Runs of this event")
    assert page.console_errors() == []
    # The token typed in is kept for the tab only; the page never puts it in a URL.
    assert all(token not in url for url in page.requested_urls())
