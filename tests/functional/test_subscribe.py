"""`spacehook subscribe` against `spacehook emulator`: the trigger mask from the rules, and a target when every
rule names one room (docs/subscribe.md "Target"), removed again when the rules no longer allow one.

    /usr/bin/python3 -m pytest tests/functional/test_subscribe.py
"""
import subprocess

from conftest import spacehook_bin
from loopback import Emulator, HttpReceiver, clean_env

SECRET = "subscribe-Secret-77"
SERVICE_KEY = "sk-emulator-spacehook"
ACME_ROOM = 5  # the default seed's Client ACME (docs/emulator.md "The default seed")

ROOM_RULES = """
rules:
  - name: acme-renamed
    on: [room.updated, room.archived]
    if: { in_room: %d }
    do:
      - mail: { to: owner@example.com, subject: "{{ entity.title }}", body: changed }
""" % ACME_ROOM

FILE_RULES = """
rules:
  - name: acme-files
    on: file.created
    if: { in_room: %d }
    do:
      - mail: { to: owner@example.com, subject: "{{ entity.title }}", body: new }
""" % ACME_ROOM


def subscribe(portal, tmp_path, url, rules):
    config = tmp_path / "rules.yaml"
    config.write_text(rules)
    env = clean_env(DOCSPACE_API_HOST=portal.url, DOCSPACE_API_KEY=SERVICE_KEY, DOCSPACE_WEBHOOK_SECRET=SECRET)
    out = subprocess.run([spacehook_bin(), "subscribe", "--url", url, "--config", str(config)],
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def webhooks(portal):
    return [h["configs"] for h in portal.rest("GET", "settings/webhook")]


def test_a_target_when_every_rule_names_one_room_and_none_otherwise(procs, tmp_path):
    portal = Emulator(procs, tmp_path)
    receiver = HttpReceiver()
    try:
        out = subscribe(portal, tmp_path, receiver.url, ROOM_RULES)
        assert "target: 5 (only this entity's events)" in out, out
        [hook] = webhooks(portal)
        assert hook["targetId"] == "5"
        assert hook["triggers"] == (1 << 23) | (1 << 24)
        # The portal now sends that room's events only.
        portal.rest("PUT", "files/rooms/%d" % ACME_ROOM, {"title": "Client ACME Ltd"})
        portal.rest("PUT", "files/rooms/4", {"title": "Templates 2026"})
        portal.wait_idle()
        assert [p["path"] for p in receiver.posts] == ["/hook"]

        # Rules about files inside the room cannot use a target (it matches the entity's own id): removed.
        out = subscribe(portal, tmp_path, receiver.url, FILE_RULES)
        assert "target: 5 -> none" in out, out
        assert "no target: rule acme-files listens to file.created, whose entity is not a room" in out, out
        [hook] = webhooks(portal)
        assert "targetId" not in hook
    finally:
        receiver.close()
