#!/usr/bin/python3
"""The demo's orchestration (run by scripts/demo, which installs and builds first).

Starts a DocSpace emulator seeded with tests/functional/fixtures/examples-seed.yaml, a local SMTP server
that keeps what it receives (aiosmtpd), and `spacehook serve` with the five examples/ on SQLite; makes
the portal's webhook with `spacehook subscribe`; then acts on the portal as people would and prints what
each automation did, read back from the portal and the mailbox. Everything it starts is stopped at the
end; its files live in --workdir.

    /usr/bin/python3 scripts/demo.py --bin build/release/src/app/spacehook --workdir "$(mktemp -d)"

Standard library only (plus aiosmtpd for the SMTP server), so that a fresh machine needs nothing else. The
processes, waits and the SMTP server come from spacehook_local.py beside it, which the tests use too.
"""
import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from spacehook_local import ROOT, LocalError, Proc, SmtpSink, clean_env, wait_for

SEED = ROOT / "tests" / "functional" / "fixtures" / "examples-seed.yaml"
EXAMPLES = ROOT / "examples"

# API keys of the demo portal's people (the seed's fixtures; never printed).
KEYS = {"olivia.owner": "sk-examples-owner", "spacehook": "sk-examples-spacehook", "maria.manager": "sk-examples-maria"}
MAIL_FROM = "DocSpace automations <automations@example.com>"
WAIT = 60  # seconds any one automation may take before the demo gives up

ACCESS_NAMES = {0: "none", 1: "full access", 2: "viewer", 5: "reviewer", 6: "commenter", 7: "form filler",
                9: "room manager", 10: "editor", 11: "content creator"}
ROOM_TYPES = {1: "form filling room", 2: "collaboration room", 5: "custom room", 6: "public room",
              8: "virtual data room", 9: "AI room"}


class DemoFailed(Exception):
    pass


def out(text=""):
    print(text, flush=True)


def http(method, url, body=None, headers=None, timeout=15):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as e:
        raise DemoFailed(f"{method} {url.split('?')[0]}: HTTP {e.code} {e.read()[:300].decode(errors='replace')}")
    except OSError as e:
        raise DemoFailed(f"{method} {url.split('?')[0]}: {e}")


def start(name, args, workdir, env=None, ready_file=None):
    """A process of the demo; its output goes to <name>.log in the work dir."""
    return Proc(args, ready_file=ready_file, env=env, log_path=workdir / f"{name}.log", name=name, ready_timeout=30)


class Portal:
    """The emulator: REST calls as a person (their API key), the control API, and the state dump."""

    def __init__(self, proc):
        self.url = proc.url

    def rest(self, method, path, user, body=None):
        answer = http(method, f"{self.url}/api/2.0/{path}", body, {"Authorization": f"Bearer {KEYS[user]}"})
        return answer["response"]

    def control(self, method, path, body=None):
        return http(method, f"{self.url}/__emulator/{path}", body)

    def state(self):
        return State(self.control("GET", "state"))

    def wait_idle(self):
        if not self.control("POST", "wait-idle?timeoutMs=20000").get("idle"):
            raise DemoFailed("the portal still had webhooks or file operations under way after 20 s")


class State:
    """One snapshot of the portal (GET /__emulator/state), with lookups by title and id."""

    def __init__(self, dump):
        self.dump = dump
        self.names = {u["id"]: f"{u['firstName']} {u['lastName']}".strip() or u["email"] for u in dump["users"]}
        self.names.update({g["id"]: f"{g['name']} (group)" for g in dump["groups"]})
        self.entries = {}  # ("file"|"folder", id) -> (node, path of titles)

        def walk(node, path):
            kind = "file" if "version" in node else "folder"
            self.entries[(kind, node["id"])] = (node, path)
            for child in node.get("folders", []) + node.get("files", []):
                walk(child, path + [node["title"]])
        for section in dump["tree"]:
            walk(section, [])

    def user(self, user_name):
        return next(u for u in self.dump["users"] if u["userName"] == user_name)

    def group(self, name):
        return next(g for g in self.dump["groups"] if g["name"] == name)

    def at(self, *titles):
        """The folder at Rooms / titles..."""
        node = next(s for s in self.dump["tree"] if s["title"] == "Rooms")
        for title in titles:
            found = [f for f in node.get("folders", []) if f["title"] == title]
            if len(found) != 1:
                raise DemoFailed(f"the portal has {len(found)} folders {title!r} in {node['title']!r}")
            node = found[0]
        return node

    def file(self, title):
        found = [n for (kind, _), (n, _) in self.entries.items() if kind == "file" and n["title"] == title]
        if len(found) != 1:
            raise DemoFailed(f"the portal has {len(found)} files titled {title!r}")
        return found[0]

    def where(self, kind, entry_id):
        """'Room / Folder' of a file or folder (the section left out)."""
        node, path = self.entries[(kind, entry_id)]
        return " / ".join(path[1:] + ([node["title"]] if kind == "folder" else []))

    def members(self, room):
        return ", ".join(f"{self.names.get(m['subject'], m['subject'])} - {ACCESS_NAMES.get(m['access'], m['access'])}"
                         for m in room.get("members", []))

    def duplicates(self):
        """Items that share a title with a sibling: what doing something twice would leave behind."""
        twice = []
        for (kind, _), (node, path) in self.entries.items():
            if kind != "folder":
                continue
            for key in ("folders", "files"):
                titles = [c["title"] for c in node.get(key, [])]
                twice += [" / ".join(path[1:] + [node["title"], t]) for t in set(titles) if titles.count(t) > 1]
        return twice


class Spacehook:
    """`spacehook serve` with the five examples, and the CLI on its store."""

    def __init__(self, binary, workdir, env, configs):
        self.bin = binary
        self.env = env
        self.store = f"sqlite:{workdir / 'spacehook.db'}"
        self.config_args = [a for c in configs for a in ("--config", str(c))]
        ready = workdir / "serve.ready"
        self.proc = start("spacehook", [binary, "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
                                        "--store", self.store, *self.config_args, "--ready-file", str(ready)],
                          workdir, env=env, ready_file=ready)
        self.url = self.proc.url

    def cli(self, *args):
        done = subprocess.run([self.bin, *args], capture_output=True, text=True, timeout=60, env=self.env,
                              stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise DemoFailed(f"spacehook {args[0]} failed ({done.returncode}): {(done.stderr or done.stdout).strip()}")
        return done.stdout

    def json(self, *args):
        return json.loads(self.cli(*args, "--json", "--store", self.store))

    def runs(self):
        return self.json("runs", "list", "--limit", "1000")["runs"]

    def steps(self, run_id):
        return {s["name"]: s["output"] for s in self.json("runs", "show", str(run_id))["steps"]}

    def events(self):
        return self.json("events", "list", "--limit", "10000")["events"]

    def dead_letters(self):
        return self.json("dlq", "list")["dead_letters"]


class Demo:
    def __init__(self, binary, workdir):
        self.bin = binary
        self.workdir = workdir
        self.children = []
        self.seen_runs = set()

    # --- start ---------------------------------------------------------------------------------------

    def start(self):
        ready = self.workdir / "emulator.ready"
        emulator = start("emulator", [self.bin, "emulator", "--listen", "127.0.0.1:0", "--seed", str(SEED),
                                      "--ready-file", str(ready)], self.workdir, ready_file=ready)
        self.children.append(emulator)
        self.portal = Portal(emulator)
        state = self.portal.state()
        out(f"Portal     a DocSpace emulator at {self.portal.url}, seeded with {len(state.dump['users'])} people, "
            f"{len(state.dump['groups'])} groups and {len(state.at().get('folders', []))} rooms")

        self.mailbox = SmtpSink(self.workdir / "mailbox", log_path=self.workdir / "smtp.log")
        self.children.append(self.mailbox.proc)
        out(f"Mail       a local SMTP server at 127.0.0.1:{self.mailbox.port} that keeps every message it gets")

        # The examples take their ids from the environment, as they would on a real portal.
        self.ids = {
            "client_room": state.at("Client ACME")["id"],
            "internal": state.at("Internal", "Client uploads")["id"],
            "incoming": state.at("Accounting", "Incoming")["id"],
            "compliance": state.at("Policies", "Compliance")["id"],
        }
        rule_env = {
            "TEMPLATE_FILE_IDS": ",".join(str(f["id"]) for f in state.at("Templates")["files"]),
            "HR_GROUP_ID": state.group("HR")["id"],
            "ROOM_MANAGERS": state.user("rachel.lead")["id"],
            "ROOM_EDITORS": state.user("eddie.editor")["id"],
            "ROOM_VIEWERS": state.user("vera.viewer")["id"],
            "CLIENT_ROOM_ID": str(self.ids["client_room"]),
            "INTERNAL_FOLDER_ID": str(self.ids["internal"]),
            "INCOMING_FOLDER_ID": str(self.ids["incoming"]),
            "MANAGER_EMAIL": state.user("maria.manager")["email"],
            "COMPLIANCE_FOLDER_ID": str(self.ids["compliance"]),
            "DEPARTMENT_OWNER_EMAIL": state.user("dana.compliance")["email"],
        }
        env = clean_env(**rule_env, DOCSPACE_API_HOST=self.portal.url, DOCSPACE_API_KEY=KEYS["spacehook"],
                        DOCSPACE_WEBHOOK_SECRET=secrets.token_hex(12),  # a fresh secret, never shown
                        SMTP_URL=self.mailbox.url, MAIL_FROM=MAIL_FROM)
        settings = self.workdir / "demo.yaml"
        settings.write_text("# The demo's service settings; the rules are examples/*.yaml.\n"
                            "docspace: { operation_poll: { interval: 50ms } }\n")
        examples = sorted(EXAMPLES.glob("*.yaml"))
        self.spacehook = Spacehook(self.bin, self.workdir, env, [settings, *examples])
        self.children.append(self.spacehook.proc)
        out(f"spacehook  listening at {self.spacehook.url}/docspace/webhook with the {len(examples)} examples "
            f"({', '.join(p.stem for p in examples)}), journal in SQLite")

        subscribed = self.spacehook.cli("subscribe", "--url", f"{self.spacehook.url}/docspace/webhook",
                                        *self.spacehook.config_args).strip().splitlines()
        out(f"Webhook    spacehook subscribe: {subscribed[0] if subscribed else 'done'}")
        hooks = self.portal.state().dump["webhooks"]
        if len(hooks) != 1 or not hooks[0]["enabled"]:
            raise DemoFailed(f"expected one enabled webhook on the portal, found {hooks}")
        out(f"           the portal probed the URL with HEAD and now sends {', '.join(hooks[0]['triggerNames'])}")
        out()

    # --- waiting -------------------------------------------------------------------------------------

    def settle(self, rules):
        """Waits until the portal delivered everything and the new runs (one per rule in `rules`) are done;
        returns those runs by rule."""
        def settled():
            self.portal.wait_idle()
            events = self.spacehook.events()
            if any(e["state"] == "pending" for e in events):
                return None
            new = [r for r in self.spacehook.runs() if r["id"] not in self.seen_runs]
            for run in new:
                if run["state"] == "dead":
                    raise DemoFailed(f"{run['rule']} failed: {run['last_error']}")
            if sorted(r["rule"] for r in new) != sorted(rules) or any(r["state"] != "done" for r in new):
                return None
            return new
        try:
            new = wait_for(settled, WAIT, f"waiting for {', '.join(rules) or 'nothing'}", interval=0.2)
        except (DemoFailed, LocalError) as e:
            runs = [f"{r['rule']} {r['state']} (step {r['next_step']}/{r['step_count']}) {r['last_error']}"
                    for r in self.spacehook.runs() if r["id"] not in self.seen_runs]
            raise DemoFailed(f"{e}; runs so far: {runs or 'none'}")
        self.seen_runs.update(r["id"] for r in new)
        by_rule = {}
        for run in new:
            by_rule.setdefault(run["rule"], []).append(run)
        return by_rule

    def mails_since(self, count):
        return self.mailbox.messages()[count:]

    def show_mail(self, mail):
        parsed = mail["parsed"]
        sender = parsed["from"][0]["address"] if parsed["from"] else mail["mail_from"]
        out(f"     mailed {', '.join(mail['rcpt_tos'])} (from {sender}):")
        out(f"       Subject: {parsed['subject']}")
        text = next(p["text"] for p in parsed["parts"] if p["content_type"] == "text/plain")
        for line in text.replace("\r\n", "\n").rstrip("\n").split("\n"):
            out(f"       | {line}".rstrip())

    # --- the five automations ------------------------------------------------------------------------

    def new_person(self):
        out("1. Olivia Owner adds Nina Newcomer (nina.newcomer@example.com) to the portal as a room admin.")
        mails = len(self.mailbox.messages())
        person = self.portal.rest("POST", "people", "olivia.owner",
                                  {"firstName": "Nina", "lastName": "Newcomer", "email": "nina.newcomer@example.com",
                                   "type": "RoomAdmin"})
        run = self.settle(["home-room"])["home-room"][0]
        steps = self.spacehook.steps(run["id"])
        state = self.portal.state()
        room = state.entries[("folder", steps["room"]["id"])][0]
        out("   home-room")
        out(f"     created the room \"{room['title']}\" ({ROOM_TYPES.get(room['roomType'], room['roomType'])})")
        out(f"     with the folders {', '.join(f['title'] for f in room.get('folders', []))}")
        out(f"     copied in from Templates: {', '.join(f['title'] for f in room.get('files', []))}")
        out(f"     gave access: {state.members(room)}")
        if not any(m["subject"] == person["id"] for m in room.get("members", [])):
            raise DemoFailed("Nina Newcomer is not a member of her home room")
        for mail in self.mails_since(mails):
            self.show_mail(mail)
        out()

    def new_room(self):
        out("2. Maria Manager creates the collaboration room \"Project Apollo\".")
        room = self.portal.rest("POST", "files/rooms", "maria.manager", {"title": "Project Apollo", "roomType": 2})
        self.settle(["room-setup"])
        state = self.portal.state()
        room = state.entries[("folder", room["id"])][0]
        out("   room-setup")
        out(f"     created the folders {', '.join(f['title'] for f in room.get('folders', []))} in Project Apollo")
        out(f"     gave access: {state.members(room)}")
        out("     (Maria Manager, who created it, stays its owner)")
        out()

    def client_uploads(self):
        state = self.portal.state()
        projects = state.at("Client ACME", "Projects")["id"]
        out("3. Carl Client uploads \"Site map.pdf\" to Client ACME / Projects.")
        plain = self.portal.control("POST", "upload", {"user": "carl.client", "folderId": projects,
                                                        "title": "Site map.pdf"})
        runs = self.settle(["copy-client-uploads"])
        self.show_copy(runs["copy-client-uploads"][0], plain)
        out()

        out("4. Carl Client uploads the invoice \"Invoice-2025-031.pdf\" to Client ACME.")
        mails = len(self.mailbox.messages())
        invoice = self.portal.control("POST", "upload", {"user": "carl.client", "folderId": self.ids["client_room"],
                                                          "title": "Invoice-2025-031.pdf"})
        runs = self.settle(["copy-client-uploads", "invoice-intake"])
        copy_run, move_run = runs["copy-client-uploads"][0], runs["invoice-intake"][0]
        # Both runs lock the client room; they run one after the other, in the order of the rule files.
        first, second = sorted([copy_run, move_run], key=lambda r: r["id"])
        out(f"   (both {first['rule']} and {second['rule']} apply; they take turns on the client room, "
            f"{first['rule']} first)")
        self.show_copy(copy_run, invoice)
        state = self.portal.state()
        if state.entries[("file", invoice["id"])][1][-1] != "Incoming":
            raise DemoFailed(f"the invoice is in {state.where('file', invoice['id'])}, not in Incoming")
        out("   invoice-intake")
        out(f"     moved {invoice['title']} from Client ACME to {state.where('file', invoice['id'])}")
        for mail in self.mails_since(mails):
            self.show_mail(mail)
        out()

    def show_copy(self, run, source):
        steps = self.spacehook.steps(run["id"])
        state = self.portal.state()
        copies = steps["copy"]["files"]
        if len(copies) != 1:
            raise DemoFailed(f"copy-client-uploads made {len(copies)} copies of {source['title']}")
        out("   copy-client-uploads")
        out(f"     copied {source['title']} to {state.where('file', copies[0]['id'])} "
            f"(the upload stays where Carl put it)")

    def compliance_edit(self):
        state = self.portal.state()
        policy = state.file("Code of conduct.docx")
        draft = state.file("Travel policy draft.docx")
        out("5. Eddie Editor saves a change to Policies / Compliance / Code of conduct.docx,")
        out("   and one to Policies / Drafts / Travel policy draft.docx (not in Compliance).")
        mails = len(self.mailbox.messages())
        self.portal.control("POST", "edit", {"user": "eddie.editor", "fileId": policy["id"]})
        self.portal.control("POST", "edit", {"user": "eddie.editor", "fileId": draft["id"]})
        self.settle(["compliance-watch"])
        out("   compliance-watch")
        new = self.mails_since(mails)
        for mail in new:
            self.show_mail(mail)
        if len(new) != 1:
            raise DemoFailed(f"expected one compliance mail, got {len(new)}")
        out("     (the draft outside Compliance: no mail)")
        out()

    # --- the end -------------------------------------------------------------------------------------

    def summary(self):
        runs = self.spacehook.runs()
        done = [r for r in runs if r["state"] == "done"]
        per_rule = {}
        for r in done:
            per_rule[r["rule"]] = per_rule.get(r["rule"], 0) + 1
        dead = self.spacehook.dead_letters()
        state = self.portal.state()
        twice = state.duplicates()
        ids = [m["parsed"]["message_id"] for m in self.mailbox.messages()]
        twice += [f"mail {i}" for i in set(ids) if ids.count(i) > 1]
        events = self.spacehook.events()
        service = state.user("spacehook")["id"]
        own = [e for e in events if e["actor"] == service]
        out("Summary")
        out(f"  runs done        {len(done)} of {len(runs)} "
            f"({', '.join(f'{rule} {n}' for rule, n in sorted(per_rule.items()))})")
        out(f"  dead letters     {len(dead)}")
        out(f"  duplicates       {len(twice)}" + (f": {', '.join(twice)}" if twice else
                                                  " (nothing was created, copied, moved or mailed twice)"))
        out(f"  mails sent       {len(ids)}")
        out(f"  webhooks         {len(events)} received, {len(own)} of them about spacehook's own actions "
            f"(ignored: the loop guard)")
        if len(done) != len(runs) or dead or twice:
            raise DemoFailed("the summary is not clean")

    def stop(self):
        failed = []
        for proc in reversed(self.children):
            code = proc.stop(20)
            if code not in (0, -signal.SIGTERM):
                failed.append(f"{proc.name} exited with {code}")
        self.children = []
        return failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="the spacehook binary")
    parser.add_argument("--workdir", required=True, help="an empty directory for logs, the journal and the mailbox")
    args = parser.parse_args()

    # Our own process group (scripts/demo ends the whole group on exit, whatever happens), and SIGTERM /
    # SIGINT end the demo through the same cleanup as a failure.
    os.setpgid(0, 0)

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)

    workdir = Path(args.workdir)
    demo = Demo(os.path.abspath(args.bin), workdir)
    status = 0
    try:
        demo.start()
        demo.new_person()
        demo.new_room()
        demo.client_uploads()
        demo.compliance_edit()
        demo.summary()
    except (DemoFailed, LocalError) as e:
        out(f"\ndemo failed: {e}")
        for proc in demo.children:
            tail = "\n".join("    " + line for line in proc.tail().splitlines())
            out(f"  last lines of {proc.log_path}:\n{tail}")
        status = 1
    except KeyboardInterrupt as e:
        out(f"\ndemo interrupted ({e}); stopping")
        status = 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        problems = demo.stop()
    if problems:
        out("stopping: " + "; ".join(problems))
        status = status or 1
    if status == 0:
        out("\nEverything stopped: the portal, the SMTP server and spacehook.")
    return status


if __name__ == "__main__":
    sys.exit(main())
