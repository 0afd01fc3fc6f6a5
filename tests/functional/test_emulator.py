"""`spacehook emulator` over real HTTP, checked against docs/docspace-api.md.

The emulator is the stand-in for a DocSpace portal, so these tests read what it sends and answers the
way a client of a real portal would: envelopes, signed compact bodies with upper-case hex, the retry
schedule, 410, the HEAD probe, file operations that dequeue once finished, fault injection, seeds and
the process contract (--ready-file, SIGTERM).

    /usr/bin/python3 -m pytest tests/functional/test_emulator.py
"""
import hashlib
import hmac
import json
import time

import pytest
import requests

from conftest import spacehook_bin
from loopback import HttpReceiver

OWNER_KEY = "sk-emulator-owner"
ROOM_ADMIN_KEY = "sk-emulator-roomadmin"
JANE_KEY = "sk-emulator-jane"
SECRET = "func-Secret-0042"
ROOM_CREATED = 4194304
FILE_COPIED = 8192


class Receiver(HttpReceiver):
    """A webhook endpoint on port 0: HEAD answers `head_status`, POSTs answer from `script` (last repeats)."""

    def __init__(self, script=(200,), head_status=200):
        script = list(script)
        super().__init__(lambda path, body, index: script[min(index, len(script) - 1)], head_status)

@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def start_emulator(procs, tmp_path, *extra):
    ready = tmp_path / "emulator.ready"
    return procs.start([spacehook_bin(), "emulator", "--listen", "127.0.0.1:0", "--ready-file", str(ready), *extra],
                       ready, log_path=tmp_path / "emulator.log")


class Portal:
    def __init__(self, proc):
        self.proc = proc
        self.base = proc.url
        self.session = requests.Session()

    def call(self, method, path, key=OWNER_KEY, body=None, timeout=10):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return self.session.request(method, self.base + "/api/2.0/" + path, json=body, headers=headers, timeout=timeout)

    def control(self, method, path, body=None):
        return self.session.request(method, self.base + "/__emulator/" + path, json=body, timeout=30)

    def state(self):
        return self.control("GET", "state").json()

    def subscribe(self, uri, triggers, key=OWNER_KEY, name="functional"):
        r = self.call("POST", "settings/webhook", key, {"name": name, "uri": uri, "secretKey": SECRET,
                                                       "enabled": True, "triggers": triggers})
        assert r.status_code == 200, r.text
        return r.json()["response"]["id"]


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
    raise AssertionError(f"no {title} in the state dump")


def expected_signature(body):
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest().upper()


@pytest.fixture
def portal(procs, tmp_path):
    return Portal(start_emulator(procs, tmp_path, "--retry-base", "0.02", "--operation-delay-ms", "50"))


def test_ready_file_carries_port_pid_and_admin_key_and_sigterm_stops(procs, tmp_path):
    proc = start_emulator(procs, tmp_path)
    assert proc.info["pid"] == proc.popen.pid
    assert proc.info["admin_api_key"] == OWNER_KEY
    me = requests.get(proc.url + "/api/2.0/people/@self",
                      headers={"Authorization": "Bearer " + proc.info["admin_api_key"]}, timeout=5)
    assert me.json()["response"]["isOwner"] is True
    assert proc.terminate() == 0


def test_envelopes_and_auth(portal):
    r = portal.call("GET", "people/@self", key=None)
    assert r.status_code == 401
    assert r.json()["error"]["message"] == "Unauthorized"
    ok = portal.call("GET", "people/@self", key=JANE_KEY)
    body = ok.json()
    assert list(body) == ["response", "count", "links", "status", "statusCode"]
    assert body["links"] == [{"href": portal.base + "/api/2.0/people/@self", "action": "GET"}]
    missing = portal.call("GET", "files/file/424242")
    assert missing.status_code == 404
    assert set(missing.json()["error"]) == {"message", "type", "stack", "hresult"}
    invalid = portal.call("POST", "files/rooms", body={"roomType": 2})
    assert invalid.status_code == 400
    assert invalid.json()["status"] == 1 and "errors" in invalid.json()["response"]


def test_delivery_is_compact_signed_upper_hex_and_probed(portal, receiver):
    portal.subscribe(receiver.url, ROOM_CREATED, key=ROOM_ADMIN_KEY)
    assert receiver.heads == 1
    # "<" and ">" are not allowed in titles: the portal stores "_" (docs/docspace-api.md §2.5 "Titles").
    room = portal.call("POST", "files/rooms", ROOM_ADMIN_KEY, {"title": "Счёт & 'Co' <1>", "roomType": "CustomRoom"}).json()
    post = receiver.wait(1)[0]
    body = post["body"]
    assert post["headers"]["x-docspace-signature-256"] == expected_signature(body)
    assert post["headers"]["accept"] == "*/*"
    assert post["headers"]["content-type"] == "application/json; charset=utf-8"
    assert "user-agent" not in post["headers"]
    assert body.isascii()
    assert body.startswith(b'{"event":{"id":')
    assert b'"title":"\\u0421\\u0447\\u0451\\u0442 \\u0026 \\u0027Co\\u0027 _1_"' in body
    assert b": " not in body and b", " not in body
    parsed = json.loads(body)
    assert list(parsed) == ["event", "payload", "webhook"]
    assert list(parsed["event"]) == ["id", "createOn", "createBy", "trigger", "triggerId"]
    assert parsed["payload"]["id"] == room["response"]["id"]
    assert parsed["payload"]["rootId"] == portal.state()["portal"]["roomsRootId"]
    assert parsed["payload"]["securityByUsers"] == {}
    assert "webUrl" not in parsed["payload"] and "roomType" not in parsed["payload"]


def test_failing_head_probe_refuses_the_subscription(portal):
    bad = Receiver(head_status=405)
    try:
        r = portal.call("POST", "settings/webhook", body={"name": "x", "uri": bad.url, "secretKey": SECRET})
        assert r.status_code == 400
        assert r.json()["error"]["message"] == \
            "Webhook URL is not available. HEAD request is not response 200 http status."
    finally:
        bad.close()


def test_retry_schedule_and_resigned_retries(portal):
    failing = Receiver(script=(503,))
    try:
        portal.subscribe(failing.url, ROOM_CREATED)
        portal.call("POST", "files/rooms", body={"title": "R", "roomType": 2})
        posts = failing.wait(6, timeout=15)
        assert len(posts) == 6
        gaps = [(b["at"] - a["at"]) * 1000 for a, b in zip(posts, posts[1:])]
        for gap, wait in zip(gaps, (20, 40, 80, 160, 320)):
            assert wait - 5 <= gap < wait + 250, gaps
        bodies = [json.loads(p["body"]) for p in posts]
        assert len({b["event"]["id"] for b in bodies}) == 1
        assert [b["webhook"].get("retryCount") for b in bodies] == [None, 1, 2, 3, 4, 5]
        for p in posts:
            assert p["headers"]["x-docspace-signature-256"] == expected_signature(p["body"])
    finally:
        failing.close()


def test_final_410_deletes_the_subscription(portal):
    gone = Receiver(script=(410,))
    try:
        portal.subscribe(gone.url, ROOM_CREATED)
        portal.call("POST", "files/rooms", body={"title": "R", "roomType": 2})
        assert len(gone.wait(6, timeout=15)) == 6
        assert portal.control("POST", "wait-idle?timeoutMs=10000").json()["idle"] is True
        assert portal.call("GET", "settings/webhook").json()["response"] == []
    finally:
        gone.close()


def test_copy_operation_dequeues_once_finished_and_fires_file_copied(portal, receiver):
    portal.subscribe(receiver.url, FILE_COPIED)
    state = portal.state()
    start = portal.call("PUT", "files/fileops/copy", ROOM_ADMIN_KEY,
                        {"fileIds": [find(state, "Contract.docx")["id"]], "destFolderId": find(state, "Incoming")["id"],
                         "conflictResolveType": "Duplicate", "returnSingleOperation": True})
    op = start.json()["response"][0]
    assert op["Operation"] == 1 and isinstance(op["processed"], str) and op["finished"] is False
    finished = None
    for _ in range(200):
        listed = portal.call("GET", f"files/fileops?id={op['id']}", ROOM_ADMIN_KEY).json()["response"]
        if listed and listed[0]["finished"]:
            finished = listed[0]
            break
        time.sleep(0.02)
    assert finished is not None
    assert finished["progress"] == 100 and finished["processed"] == "1"
    assert portal.call("GET", f"files/fileops?id={op['id']}", ROOM_ADMIN_KEY).json()["response"] == []
    event = json.loads(receiver.wait(1)[0]["body"])
    assert event["event"]["trigger"] == "file.copied"
    assert event["payload"]["id"] == finished["files"][0]["id"]


def test_fault_injection(portal):
    assert portal.control("POST", "faults", {"status": 503, "count": 1, "pathPrefix": "/api/2.0/files"}).ok
    assert portal.call("GET", "people/@self").status_code == 200
    assert portal.call("GET", "files/rooms").status_code == 503
    assert portal.call("GET", "files/rooms").status_code == 200
    portal.control("POST", "faults", {"status": 429, "retryAfter": 3})
    limited = portal.call("GET", "people/@self")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    portal.control("POST", "faults", {"kind": "slow", "delayMs": 2000})
    with pytest.raises(requests.exceptions.Timeout):
        portal.call("GET", "people/@self", timeout=0.3)
    portal.control("DELETE", "faults")
    portal.control("POST", "faults", {"kind": "drop", "count": 0})
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(portal.base + "/api/2.0/people/@self", headers={"Authorization": "Bearer " + OWNER_KEY}, timeout=5)
    portal.control("DELETE", "faults")
    assert portal.call("GET", "people/@self").status_code == 200


def test_state_counters_and_reset(portal):
    portal.call("POST", "files/rooms", body={"title": "Once", "roomType": 2})
    counters = portal.control("GET", "counters").json()
    assert counters["rooms_created"] == 1
    assert find(portal.state(), "Once")["kind"] == "room"
    assert portal.control("POST", "reset").ok
    assert portal.control("GET", "counters").json() == {}
    with pytest.raises(AssertionError):
        find(portal.state(), "Once")


def test_yaml_seed_and_bad_seed_exit_code(procs, tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("""
users:
  - {user_name: boss, type: owner, api_key: k-boss}
  - {user_name: ann, first_name: Ann, api_key: k-ann}
rooms:
  - title: Clients
    type: collaboration
    members: [{user: ann, access: editor}]
    folders: [{title: Incoming}]
""")
    proc = start_emulator(procs, tmp_path, "--seed", str(seed))
    assert proc.info["admin_api_key"] == "k-boss"
    rooms = requests.get(proc.url + "/api/2.0/files/rooms", headers={"Authorization": "Bearer k-ann"}, timeout=5).json()
    assert [r["title"] for r in rooms["response"]["folders"]] == ["Clients"]
    assert rooms["response"]["folders"][0]["access"] == 10

    bad = tmp_path / "bad.json"
    bad.write_text('{"users": [{"user_name": "x", "type": "owner"}], "rooms": [{"title": "r", "type": "garden"}]}')
    import subprocess
    result = subprocess.run([spacehook_bin(), "emulator", "--seed", str(bad)], capture_output=True, timeout=20)
    assert result.returncode == 2
    assert b"/rooms/0/type" in result.stderr + result.stdout
