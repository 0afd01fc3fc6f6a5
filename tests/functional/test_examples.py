"""The five founding automations of examples/ end to end, as they are shipped.

`spacehook emulator` seeded with tests/functional/fixtures/examples-seed.yaml (people, groups, a client
room with subfolders, an internal folder, Incoming, a Compliance folder, two templates) sends signed
webhooks exactly as it sends them to anyone; `spacehook serve` runs the unmodified example files with
their ids from the environment; the subscription is made by `spacehook subscribe` (HEAD probe
included). People act on the emulator as they would on a portal (REST calls with their own keys, the
control API for uploads and editor saves), and the tests read the results where they land: the
emulator's state (titles, folders, members and their access numbers, where files are) and the mail a
real SMTP server (aiosmtpd with src/notify/testdata/smtp_sink.py) received.

    /usr/bin/python3 -m pytest tests/functional/test_examples.py
"""
import json
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, spacehook_bin
from loopback import Emulator, SmtpSink, clean_env, wait_for

EXAMPLES = ROOT / "examples"
SEED = Path(__file__).resolve().parent / "fixtures" / "examples-seed.yaml"
SECRET = "examples-Secret-7f3a"
OWNER_KEY = "sk-examples-owner"
SERVICE_KEY = "sk-examples-spacehook"
MARIA_KEY = "sk-examples-maria"
MAIL_FROM = "DocSpace automations <automations@example.com>"

# FileShare numbers (docs/docspace-api.md §2.4).
ROOM_MANAGER, EDITOR, VIEWER = 9, 10, 2

SETTINGS = """
runner:
  workers: 4
  lease: 5s
  retry: { base: 200ms, max: 1s, multiplier: 2, jitter: 0, max_attempts: 20, budget: 5m }
docspace:
  operation_poll: { interval: 50ms, timeout: 30s }
"""


def body_text(mail):
    parts = [p for p in mail["parsed"]["parts"] if p["content_type"] == "text/plain"]
    assert len(parts) == 1, mail
    return parts[0]["text"].replace("\r\n", "\n")  # CRLF on the wire


class Portal(Emulator):
    """`spacehook emulator` on the examples' seed."""

    owner_key = OWNER_KEY

    def __init__(self, procs, tmp_path):
        super().__init__(procs, tmp_path, seed=SEED, retry_base=0.05, operation_delay_ms=50)

    def upload(self, user, folder_id, title):
        return self.control("POST", "upload", {"user": user, "folderId": folder_id, "title": title})

    def edit(self, user, file_id):
        return self.control("POST", "edit", {"user": user, "fileId": file_id})

class Tree:
    """Lookups over one GET /__emulator/state."""

    def __init__(self, state):
        self.state = state

    def _walk(self):
        def walk(node, path):
            yield node, path
            for child in node.get("folders", []):
                yield from walk(child, path + [node["title"]])
            for f in node.get("files", []):
                yield dict(f, kind="file"), path + [node["title"]]
        for section in self.state["tree"]:
            yield from walk(section, [])

    def all(self, title, kind=None):
        return [n for n, _ in self._walk() if n.get("title") == title and (kind is None or n.get("kind") == kind)]

    def one(self, title, kind=None):
        found = self.all(title, kind)
        assert len(found) == 1, f"{len(found)} entries titled {title!r}"
        return found[0]

    def folder(self, *path):
        """The folder or room at Rooms/<path...>."""
        node = next(s for s in self.state["tree"] if s["title"] == "Rooms")
        for title in path:
            matches = [f for f in node.get("folders", []) if f["title"] == title]
            assert len(matches) == 1, f"{title!r} under {node['title']!r}: {len(matches)}"
            node = matches[0]
        return node

    def files_in(self, *path):
        return sorted(f["title"] for f in self.folder(*path).get("files", []))

    def folders_in(self, *path):
        return [f["title"] for f in self.folder(*path).get("folders", [])]

    def user(self, user_name):
        return next(u for u in self.state["users"] if u["userName"] == user_name)

    def group(self, name):
        return next(g for g in self.state["groups"] if g["name"] == name)


def members(room):
    """{subject: access} of a room in the state dump."""
    return {m["subject"]: m["access"] for m in room.get("members", [])}


class Examples:
    """The emulator, the SMTP sink and `spacehook serve` running some of examples/*.yaml."""

    def __init__(self, procs, tmp_path, files, env_overrides=None):
        self.tmp = tmp_path
        self.bin = spacehook_bin()
        self.portal = Portal(procs, tmp_path)
        self.smtp = SmtpSink(tmp_path / "mail")
        tree = Tree(self.portal.state())
        self.ids = {
            "templates": [f["id"] for f in tree.folder("Templates")["files"]],
            "client_room": tree.folder("Client ACME")["id"],
            "internal": tree.folder("Internal", "Client uploads")["id"],
            "incoming": tree.folder("Accounting", "Incoming")["id"],
            "compliance": tree.folder("Policies", "Compliance")["id"],
            "hr": tree.group("HR")["id"],
        }
        assert len(self.ids["templates"]) == 2
        self.rule_env = {
            "TEMPLATE_FILE_IDS": ",".join(str(i) for i in self.ids["templates"]),
            "HR_GROUP_ID": self.ids["hr"],
            "ROOM_MANAGERS": tree.user("rachel.lead")["id"],
            "ROOM_EDITORS": tree.user("eddie.editor")["id"],
            "ROOM_VIEWERS": tree.user("vera.viewer")["id"],
            "CLIENT_ROOM_ID": str(self.ids["client_room"]),
            "INTERNAL_FOLDER_ID": str(self.ids["internal"]),
            "INCOMING_FOLDER_ID": str(self.ids["incoming"]),
            "MANAGER_EMAIL": tree.user("maria.manager")["email"],
            "COMPLIANCE_FOLDER_ID": str(self.ids["compliance"]),
            "DEPARTMENT_OWNER_EMAIL": tree.user("dana.compliance")["email"],
        }
        self.rule_env.update(env_overrides or {})
        self.rule_env = {k: v for k, v in self.rule_env.items() if v is not None}
        self.env = clean_env(DOCSPACE_API_HOST=self.portal.url, DOCSPACE_API_KEY=SERVICE_KEY,
                             DOCSPACE_WEBHOOK_SECRET=SECRET, SMTP_URL=self.smtp.url, MAIL_FROM=MAIL_FROM,
                             **self.rule_env)
        settings = tmp_path / "settings.yaml"
        settings.write_text(SETTINGS)
        self.configs = [str(settings)] + [str(EXAMPLES / f) for f in files]
        self.store = f"sqlite:{tmp_path / 'spacehook.db'}"
        config_args = [a for c in self.configs for a in ("--config", c)]
        self.serve = procs.start([self.bin, "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
                                  "--store", self.store, *config_args,
                                  "--ready-file", str(tmp_path / "serve.ready")],
                                 tmp_path / "serve.ready", env=self.env, log_path=tmp_path / "serve.log")
        # The subscription the real way: the triggers the rules need, the portal's HEAD probe answered
        # by serve.
        out = self.run("subscribe", "--url", self.serve.url + "/docspace/webhook", *config_args)
        assert "created" in out.stdout, out.stdout + out.stderr

    def run(self, *args, check=True):
        out = subprocess.run([self.bin, *args], capture_output=True, text=True, timeout=60, env=self.env)
        if check:
            assert out.returncode == 0, out.stdout + out.stderr
        return out

    def tree(self):
        return Tree(self.portal.state())

    def runs(self):
        return json.loads(self.run("runs", "list", "--json", "--limit", "1000", "--store", self.store).stdout)["runs"]

    def events(self):
        return json.loads(self.run("events", "list", "--json", "--limit", "10000", "--store", self.store).stdout)[
            "events"]

    def dead_letters(self):
        return json.loads(self.run("dlq", "list", "--json", "--store", self.store).stdout)["dead_letters"]

    def settle(self, runs, timeout=60):
        """Waits until the portal sent everything, every event is dispatched and `runs` runs are done."""
        def settled():
            self.portal.wait_idle()
            events = self.events()
            if not events or any(e["state"] == "pending" for e in events):
                return None
            current = self.runs()
            if len(current) != runs or any(r["state"] != "done" for r in current):
                return None
            # The runs' own actions fired webhooks too: settled once those are dispatched as well.
            self.portal.wait_idle()
            return current if all(e["state"] != "pending" for e in self.events()) else None
        try:
            result = wait_for(settled, timeout, f"{runs} runs done and every event dispatched", interval=0.2)
        except AssertionError:
            print(json.dumps(self.runs(), indent=1))
            print(self.serve.output()[-6000:])
            raise
        assert self.dead_letters() == []
        return result

    def close(self):
        self.smtp.close()


@pytest.fixture
def examples(procs, tmp_path):
    started = []

    def start(*files, env=None):
        ex = Examples(procs, tmp_path, files, env)
        started.append(ex)
        return ex
    yield start
    for ex in started:
        ex.close()


# --- one test per automation -----------------------------------------------------------------------------

def create_person(ex, first, last, email, type_="RoomAdmin"):
    return ex.portal.rest("POST", "people", body={"firstName": first, "lastName": last, "email": email,
                                                  "type": type_})


def test_home_room_for_a_new_person(examples):
    ex = examples("home-room.yaml")
    nina = create_person(ex, "Nina", "Newcomer", "nina.newcomer@example.com")

    ex.settle(runs=1)
    tree = ex.tree()
    room = tree.one("Home - Nina Newcomer", kind="room")
    assert room["roomType"] == 2
    assert tree.folders_in("Home - Nina Newcomer") == ["Documents", "Personal", "Shared with me"]
    for folder in ("Documents", "Personal", "Shared with me"):
        assert tree.folder("Home - Nina Newcomer", folder).get("files", []) == []
    # The templates, copied with their own titles; the originals stay where they were.
    assert tree.files_in("Home - Nina Newcomer") == ["First week checklist.xlsx", "Welcome to the team.docx"]
    assert tree.files_in("Templates") == ["First week checklist.xlsx", "Welcome to the team.docx"]
    assert members(room) == {nina["id"]: ROOM_MANAGER, ex.ids["hr"]: VIEWER}

    mails = ex.smtp.messages()
    assert len(mails) == 1
    mail = mails[0]
    assert mail["rcpt_tos"] == ["nina.newcomer@example.com"]
    assert mail["parsed"]["subject"] == "Welcome to DocSpace: your room Home - Nina Newcomer is ready"
    assert mail["parsed"]["from"] == [{"name": "DocSpace automations", "address": "automations@example.com"}]
    body = body_text(mail)
    assert body.startswith("Hello Nina,\n")
    link = f"{ex.portal.url}/rooms/shared/{room['id']}/filter?folder={room['id']}"
    assert f"\n  {link}\n" in body
    counters = ex.portal.counters()
    assert counters.get("rooms_created") == 1 and counters.get("copyas") == 2
    assert counters.get("folders_created") == 3


def test_home_room_for_an_invited_person_without_hr(examples):
    # HR_GROUP_ID unset: the group entry adds nothing. An invitation by e-mail makes a pending person
    # with no names yet: DocSpace's displayName is then the e-mail.
    ex = examples("home-room.yaml", env={"HR_GROUP_ID": None, "HOME_ROOM_TYPE": "5"})
    invited = ex.portal.rest("POST", "people/invite",
                             body={"invitations": [{"email": "omar.invited@example.com", "type": "RoomAdmin"}]})

    ex.settle(runs=1)
    tree = ex.tree()
    room = tree.one("Home - omar.invited@example.com", kind="room")
    assert room["roomType"] == 5
    assert tree.folders_in("Home - omar.invited@example.com") == ["Documents", "Personal", "Shared with me"]
    assert members(room) == {invited[0]["id"]: ROOM_MANAGER}
    mails = ex.smtp.messages()
    assert [m["rcpt_tos"] for m in mails] == [["omar.invited@example.com"]]
    assert body_text(mails[0]).startswith("Hello there,\n")


def test_home_room_for_a_plain_user_stops_at_the_room_manager_role(examples):
    # room_manager is for DocSpace admins and room admins only (docs/docspace-api.md §2.4): for a plain user the portal
    # refuses it, and the run goes to the dead-letter list with the portal's reason, before any mail.
    ex = examples("home-room.yaml")
    create_person(ex, "Paul", "Plain", "paul.plain@example.com", type_="User")

    def dead():
        runs = ex.runs()
        return runs if len(runs) == 1 and runs[0]["state"] == "dead" else None
    wait_for(dead, 30, "the home-room run dead-lettered")
    letters = ex.dead_letters()
    assert len(letters) == 1 and letters[0]["rule"] == "home-room"
    assert "set_access" in letters[0]["reason"] and "403" in letters[0]["reason"], letters[0]
    room = ex.tree().one("Home - Paul Plain", kind="room")
    assert room.get("members", []) == []
    assert ex.smtp.messages() == []


def test_home_room_not_for_a_guest_invited_into_a_room(examples):
    # An e-mail invitation into a room makes a Guest and fires nothing; user.created comes when the guest
    # accepts (docs/docspace-api.md §2.5). A guest may not manage a room: home-room leaves guests out.
    ex = examples("home-room.yaml")
    room = ex.tree().folder("Client Globex")
    shared = ex.portal.rest("PUT", f"files/rooms/{room['id']}/share",
                            body={"invitations": [{"email": "gina.guest@example.com", "access": VIEWER}]})
    assert shared["error"] == 0
    guest = ex.tree().user("gina.guest")
    assert guest["type"] == "guest" and guest["activationStatus"] == 2
    ex.portal.wait_idle()
    assert ex.events() == []  # no user.invited, no user.created yet
    ex.portal.control("POST", "accept-invitation",
                      {"email": "gina.guest@example.com", "firstName": "Gina", "lastName": "Guest"})
    ex.portal.wait_idle()

    def dispatched():
        events = ex.events()
        return events if events and all(e["state"] != "pending" for e in events) else None
    events = wait_for(dispatched, 30, "the guest's user.created dispatched")
    assert [(e["trigger"], e["state"]) for e in events] == [("user.created", "ignored")]
    assert ex.runs() == []
    assert ex.portal.counters().get("rooms_created") is None
    assert ex.smtp.messages() == []


def test_room_setup_for_a_new_room(examples):
    ex = examples("room-setup.yaml")
    room = ex.portal.rest("POST", "files/rooms", key=MARIA_KEY, body={"title": "Project Apollo", "roomType": 2})

    ex.settle(runs=1)
    tree = ex.tree()
    state_room = tree.folder("Project Apollo")
    assert state_room["id"] == room["id"]
    assert tree.folders_in("Project Apollo") == ["Documents", "Tasks", "Archive"]
    assert members(state_room) == {
        tree.user("rachel.lead")["id"]: ROOM_MANAGER,
        tree.user("eddie.editor")["id"]: EDITOR,
        tree.user("vera.viewer")["id"]: VIEWER,
        ex.ids["hr"]: VIEWER,
    }
    assert state_room["createdBy"] == tree.user("maria.manager")["id"]  # her room, her ownership untouched
    assert ex.smtp.messages() == []


def test_copy_client_uploads_anywhere_in_the_client_room_and_nothing_else(examples):
    ex = examples("copy-client-uploads.yaml")
    tree = ex.tree()
    subfolder = tree.folder("Client ACME", "Projects", "Website relaunch")["id"]
    ex.portal.upload("carl.client", subfolder, "Wireframes.pdf")
    ex.portal.upload("carl.client", ex.ids["client_room"], "Invoice-0042.pdf")
    # Outside the client room: another client's room, and the internal folder itself.
    ex.portal.upload("maria.manager", tree.folder("Client Globex", "Shared")["id"], "Globex brief.docx")
    ex.portal.upload("maria.manager", ex.ids["internal"], "Notes.docx")

    runs = ex.settle(runs=2)
    assert sorted(r["rule"] for r in runs) == ["copy-client-uploads"] * 2
    tree = ex.tree()
    assert tree.files_in("Internal", "Client uploads") == ["Invoice-0042.pdf", "Notes.docx", "Wireframes.pdf"]
    # Copies: the originals stay where the client put them.
    assert tree.files_in("Client ACME", "Projects", "Website relaunch") == ["Kick-off notes.docx", "Wireframes.pdf"]
    assert "Invoice-0042.pdf" in tree.files_in("Client ACME")
    assert tree.files_in("Client Globex", "Shared") == ["Globex brief.docx"]
    counters = ex.portal.counters()
    assert counters.get("copy_operations") == 2 and counters.get("files_copied") == 2
    assert ex.smtp.messages() == []


def test_invoice_intake_moves_invoices_and_mails_the_manager(examples):
    ex = examples("invoice-intake.yaml")
    tree = ex.tree()
    contracts = tree.folder("Client ACME", "Contracts")["id"]
    invoice = ex.portal.upload("carl.client", contracts, "INVOICE-2025-031.pdf")
    # Not invoices: "invoice" elsewhere than at the start, and an ordinary file.
    ex.portal.upload("carl.client", ex.ids["client_room"], "Reminder about invoice 30.docx")
    ex.portal.upload("carl.client", ex.ids["client_room"], "Meeting minutes.docx")
    # An invoice outside the client room.
    ex.portal.upload("maria.manager", tree.folder("Client Globex", "Shared")["id"], "Invoice-G-7.pdf")

    runs = ex.settle(runs=1)
    assert runs[0]["rule"] == "invoice-intake"
    tree = ex.tree()
    assert tree.files_in("Accounting", "Incoming") == ["INVOICE-2025-031.pdf"]
    moved = tree.one("INVOICE-2025-031.pdf", kind="file")
    assert moved["id"] == invoice["id"]  # moved, not copied
    assert tree.files_in("Client ACME", "Contracts") == []
    assert "Reminder about invoice 30.docx" in tree.files_in("Client ACME")
    assert "Meeting minutes.docx" in tree.files_in("Client ACME")
    assert tree.files_in("Client Globex", "Shared") == ["Invoice-G-7.pdf"]
    assert ex.portal.counters().get("move_operations") == 1

    mails = ex.smtp.messages()
    assert len(mails) == 1
    mail = mails[0]
    assert mail["rcpt_tos"] == ["maria.manager@example.com"]
    assert mail["parsed"]["subject"] == "New invoice from Client ACME: INVOICE-2025-031.pdf"
    body = body_text(mail)
    assert "Carl Client uploaded an invoice to Client ACME:" in body
    assert "\n  INVOICE-2025-031.pdf\n" in body
    assert f"\n  {ex.portal.url}/doceditor?fileid={invoice['id']}&version=1\n" in body
    assert "moved to Incoming" in body

    # The client sends the same invoice again: with conflict: duplicate it is moved all the same, and as
    # DocSpace never renames on a move (docs/docspace-api.md §2.5), Incoming holds two files of one title;
    # the mail links the second.
    again = ex.portal.upload("carl.client", ex.ids["client_room"], "INVOICE-2025-031.pdf")
    ex.settle(runs=2)
    incoming = ex.tree().folder("Accounting", "Incoming")["files"]
    assert sorted(f["title"] for f in incoming) == ["INVOICE-2025-031.pdf", "INVOICE-2025-031.pdf"]
    assert sorted(f["id"] for f in incoming) == sorted([invoice["id"], again["id"]])
    mails = ex.smtp.messages()
    assert len(mails) == 2
    assert mails[1]["parsed"]["subject"] == "New invoice from Client ACME: INVOICE-2025-031.pdf"
    assert f"fileid={again['id']}&" in body_text(mails[1])


def test_compliance_watch_mails_the_owner_about_changes_in_the_folder_only(examples):
    ex = examples("compliance-watch.yaml")
    tree = ex.tree()
    policy = tree.one("Data protection policy.docx")
    audit = tree.one("Audit plan.xlsx")  # in Compliance/Audits 2025: below the folder counts too
    draft = tree.one("Travel policy draft.docx")  # in Drafts, next to Compliance: does not
    ex.portal.edit("eddie.editor", policy["id"])
    ex.portal.edit("dana.compliance", audit["id"])
    ex.portal.edit("eddie.editor", draft["id"])

    runs = ex.settle(runs=2)
    assert sorted(r["rule"] for r in runs) == ["compliance-watch"] * 2
    mails = {m["parsed"]["subject"]: m for m in ex.smtp.messages()}
    assert sorted(mails) == ["Compliance: Audit plan.xlsx was changed by Dana Compliance",
                             "Compliance: Data protection policy.docx was changed by Eddie Editor"]
    mail = mails["Compliance: Data protection policy.docx was changed by Eddie Editor"]
    assert mail["rcpt_tos"] == ["dana.compliance@example.com"]
    body = body_text(mail)
    assert "File:        Data protection policy.docx (now version 2)" in body
    assert "Changed by:  Eddie Editor <eddie.editor@example.com>" in body
    assert f"Open it:     {ex.portal.url}/doceditor?fileid={policy['id']}&version=2" in body
    assert "Changed by:  Dana Compliance <dana.compliance@example.com>" in body_text(
        mails["Compliance: Audit plan.xlsx was changed by Dana Compliance"])

    # A later save of the same file is a new change: one more mail. (A change is known by the payload's
    # modifiedOn, which has whole seconds: saves of one file within one second are one change.)
    time.sleep(1.1)
    ex.portal.edit("eddie.editor", policy["id"])
    ex.settle(runs=3)
    assert len(ex.smtp.messages()) == 3
    assert "(now version 3)" in body_text(ex.smtp.messages()[-1])


# --- all five together ------------------------------------------------------------------------------------

def test_check_loads_all_five_examples():
    env = clean_env(TEMPLATE_FILE_IDS="1,2", ROOM_MANAGERS="", ROOM_EDITORS="", ROOM_VIEWERS="", CLIENT_ROOM_ID="5",
                    INTERNAL_FOLDER_ID="12", INCOMING_FOLDER_ID="14", MANAGER_EMAIL="m@example.com",
                    COMPLIANCE_FOLDER_ID="17", DEPARTMENT_OWNER_EMAIL="d@example.com")
    files = sorted(str(p) for p in EXAMPLES.glob("*.yaml"))
    assert [Path(f).name for f in files] == ["compliance-watch.yaml", "copy-client-uploads.yaml", "home-room.yaml",
                                              "invoice-intake.yaml", "room-setup.yaml"]
    out = subprocess.run([spacehook_bin(), "check", *[a for f in files for a in ("--config", f)]],
                         capture_output=True, text=True, timeout=30, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "5 rules; triggers: 4195203 (user.created, user.invited, file.created, file.uploaded, file.updated, " \
           "room.created)" in out.stdout
    # A variable the examples need and that is not set is named with its place.
    del env["CLIENT_ROOM_ID"]
    missing = subprocess.run([spacehook_bin(), "check", *[a for f in files for a in ("--config", f)]],
                             capture_output=True, text=True, timeout=30, env=env)
    assert missing.returncode != 0
    assert "CLIENT_ROOM_ID" in missing.stdout + missing.stderr


def test_all_five_examples_in_one_serve(examples):
    ex = examples(*sorted(p.name for p in EXAMPLES.glob("*.yaml")))
    tree = ex.tree()
    nina = create_person(ex, "Nina", "Newcomer", "nina.newcomer@example.com")
    apollo = ex.portal.rest("POST", "files/rooms", key=MARIA_KEY, body={"title": "Project Apollo", "roomType": 2})
    plain = ex.portal.upload("carl.client", tree.folder("Client ACME", "Projects")["id"], "Site map.pdf")
    invoice = ex.portal.upload("carl.client", ex.ids["client_room"], "invoice_0043.xlsx")
    ex.portal.edit("eddie.editor", tree.one("Code of conduct.docx")["id"])
    ex.portal.edit("eddie.editor", tree.one("Travel policy draft.docx")["id"])  # outside Compliance

    runs = ex.settle(runs=6)
    by_rule = {}
    for r in runs:
        by_rule.setdefault(r["rule"], []).append(r)
    assert {rule: len(rs) for rule, rs in by_rule.items()} == {
        "home-room": 1, "room-setup": 1, "copy-client-uploads": 2, "invoice-intake": 1, "compliance-watch": 1}

    tree = ex.tree()
    # home-room; room-setup left the home room alone (spacehook made it: its own event).
    home = tree.one("Home - Nina Newcomer", kind="room")
    assert tree.folders_in("Home - Nina Newcomer") == ["Documents", "Personal", "Shared with me"]
    assert members(home) == {nina["id"]: ROOM_MANAGER, ex.ids["hr"]: VIEWER}
    # room-setup
    assert tree.folders_in("Project Apollo") == ["Documents", "Tasks", "Archive"]
    assert members(tree.folder("Project Apollo"))[ex.ids["hr"]] == VIEWER
    assert tree.folder("Project Apollo")["id"] == apollo["id"]
    # copy-client-uploads and invoice-intake: the invoice is copied and moved, the plain file copied.
    assert tree.files_in("Internal", "Client uploads") == ["Site map.pdf", "invoice_0043.xlsx"]
    assert tree.files_in("Accounting", "Incoming") == ["invoice_0043.xlsx"]
    incoming = tree.folder("Accounting", "Incoming")["files"][0]
    assert incoming["id"] == invoice["id"]
    assert "invoice_0043.xlsx" not in tree.files_in("Client ACME")
    assert tree.files_in("Client ACME", "Projects") == ["Site map.pdf"]
    assert plain["id"] in [f["id"] for f in tree.folder("Client ACME", "Projects")["files"]]
    # The invoice's two runs share the client room's lock and ran in the order of the rule files: the
    # copy (copy-client-uploads.yaml) before the move (invoice-intake.yaml).
    invoice_runs = sorted((r for r in runs if r["rule"] in ("copy-client-uploads", "invoice-intake")
                           and r["run_key"].endswith(f"file:{invoice['id']}")), key=lambda r: r["id"])
    assert [r["rule"] for r in invoice_runs] == ["copy-client-uploads", "invoice-intake"]
    assert invoice_runs[0]["lock_key"] == invoice_runs[1]["lock_key"] == f"room:{ex.ids['client_room']}"

    mails = sorted((m["rcpt_tos"][0], m["parsed"]["subject"]) for m in ex.smtp.messages())
    assert mails == [
        ("dana.compliance@example.com", "Compliance: Code of conduct.docx was changed by Eddie Editor"),
        ("maria.manager@example.com", "New invoice from Client ACME: invoice_0043.xlsx"),
        ("nina.newcomer@example.com", "Welcome to DocSpace: your room Home - Nina Newcomer is ready"),
    ]
    # Nothing twice: each effect once, and everything spacehook's own actions fired was ignored.
    counters = ex.portal.counters()
    assert counters.get("rooms_created") == 2  # the home room and Project Apollo
    assert counters.get("folders_created") == 6
    assert counters.get("copyas") == 2
    assert counters.get("copy_operations") == 2 and counters.get("move_operations") == 1
    service_id = tree.user("spacehook")["id"]
    own = [e for e in ex.events() if e["actor"] == service_id]
    assert own and all(e["state"] == "ignored" for e in own)
