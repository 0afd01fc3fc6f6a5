"""The Debian package as an operator meets it (docs/operations.md "Run it on a server"), on this machine:

- `apt-get install ./spacehook_*.deb`: the layout (binary, unit, conffiles, 0640 secrets, state
  directory, system user, man page, bash completion, examples not enabled), `systemd-analyze verify`;
- the installed /usr/bin/spacehook serving with the installed configuration layout (the unit's own
  ExecStart, as the spacehook user) against the emulator: subscribe, doctor, one automation end to end
  (a client's invoice moved to Incoming and the manager mailed), a store command through --config, a
  reload, a `.backup` of the journal, a clean stop;
- `apt-get remove` keeps configuration and journal; `apt-get purge` leaves no file behind, but the
  state directory when SPACEHOOK_KEEP_STATE=yes asks for it.

systemd is not PID 1 here, so the unit is verified, not started: the test runs its command line itself.
The tests of this module run in order on one installation.
"""
import json
import os
import pwd
import grp
import re
import shlex
import shutil
import signal
import stat
import subprocess
from pathlib import Path

import pytest

from loopback import ROOT, SmtpSink, clean_env, wait_for
from test_examples import MAIL_FROM, SECRET, SERVICE_KEY, Portal, Tree, body_text

DEB = os.environ.get("SPACEHOOK_DEB", "")
UNIT = Path("/lib/systemd/system/spacehook.service")
ETC = Path("/etc/spacehook")
STATE = Path("/var/lib/spacehook")
BIN = "/usr/bin/spacehook"
APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=300"]

if not DEB:
    pytest.skip("SPACEHOOK_DEB names no package (scripts/test package builds one)", allow_module_level=True)
if os.geteuid() != 0:
    pytest.skip("installing a package needs root", allow_module_level=True)


def sh(*args, check=True, env=None, timeout=300):
    out = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout,
                         env=env if env is not None else dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if check:
        assert out.returncode == 0, f"{args}: {out.returncode}\n{out.stdout}\n{out.stderr}"
    return out


def installed():
    out = sh("dpkg-query", "-W", "-f", "${Status}", "spacehook", check=False)
    return out.returncode == 0 and "installed" in out.stdout and "not-installed" not in out.stdout


@pytest.fixture(scope="module")
def package():
    """Installs the .deb (and purges it at the end, whatever happened in between)."""
    if installed():
        sh(*APT, "purge", "spacehook")
    shutil.rmtree(STATE, ignore_errors=True)
    sh(*APT, "install", "--no-install-recommends", DEB)
    files = sh("dpkg", "-L", "spacehook").stdout.split()
    yield {"files": files}
    if installed():
        sh(*APT, "purge", "spacehook", check=False)
    shutil.rmtree(STATE, ignore_errors=True)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_layout_of_the_installed_package(package):
    assert os.access(BIN, os.X_OK)
    version = sh(BIN, "--version").stdout.strip()
    head = sh("git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD").stdout.strip()
    assert re.fullmatch(rf"spacehook \d+\.\d+\.\d+ \(commit {head}(-dirty)?\)", version), version
    assert UNIT.is_file()
    assert Path("/usr/lib/sysusers.d/spacehook.conf").is_file()
    assert (ETC / "spacehook.yaml").is_file() and (ETC / "rules.d").is_dir()
    assert list((ETC / "rules.d").iterdir()) == []  # examples are not enabled...
    examples = sorted(p.name for p in Path("/usr/share/doc/spacehook/examples").glob("*.yaml"))
    assert examples == sorted(p.name for p in (ROOT / "examples").glob("*.yaml")) and len(examples) == 5  # ...but shipped
    # The secrets file: readable by the service's group, by nobody else.
    env = ETC / "env"
    assert mode(env) == 0o640
    assert (pwd.getpwuid(os.stat(env).st_uid).pw_name, grp.getgrgid(os.stat(env).st_gid).gr_name) == ("root", "spacehook")
    # A system user whose home is the state directory, without a login shell.
    user = pwd.getpwnam("spacehook")
    assert user.pw_uid < 1000 and user.pw_dir == str(STATE)
    assert user.pw_shell in ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false")
    conffiles = sh("dpkg-query", "-W", "-f", "${Conffiles}", "spacehook").stdout
    assert "/etc/spacehook/spacehook.yaml" in conffiles and "/etc/spacehook/env" in conffiles
    assert sh("man", "-w", "spacehook").stdout.strip() == "/usr/share/man/man1/spacehook.1.gz"
    assert "spacehook - reliable automations" in sh("man", "-P", "cat", "spacehook", env=dict(os.environ, MANWIDTH="100")).stdout
    # The man page names every command the binary has.
    man = sh("man", "-P", "cat", "spacehook", env=dict(os.environ, MANWIDTH="200")).stdout
    commands = re.findall(r"^  ([a-z][a-z-]+) ", sh(BIN, "--help").stdout.split("Subcommands:")[1], re.M)
    assert len(commands) >= 11
    for command in commands:
        assert re.search(rf"\b{command}\b", man), f"spacehook({command}) is not in the man page"
    assert Path("/usr/share/bash-completion/completions/spacehook").is_file()
    # Dependencies came from dpkg-shlibdeps.
    depends = sh("dpkg-query", "-W", "-f", "${Depends}", "spacehook").stdout
    for library in ("libc6", "libcurl4", "libsqlite3-0", "libpq5", "libsystemd0", "libyaml-cpp0.7", "libre2-9"):
        assert library in depends, depends


def test_the_unit_verifies_clean(package):
    out = sh("systemd-analyze", "verify", str(UNIT), check=False)
    assert out.returncode == 0 and out.stdout.strip() == "" and out.stderr.strip() == "", out.stdout + out.stderr
    unit = UNIT.read_text()
    for line in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "StateDirectory=spacehook", "User=spacehook",
                 "ProtectSystem=strict", "PrivateTmp=yes", "NoNewPrivileges=yes",
                 "EnvironmentFile=-/etc/spacehook/env"):
        assert line in unit.splitlines(), line


def test_bash_completion_offers_commands_and_options(package):
    def complete(*words):
        script = ("source /usr/share/bash-completion/bash_completion; source /usr/share/bash-completion/completions/spacehook; "
                  f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)}); COMP_CWORD={len(words) - 1}; "
                  "COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}; _spacehook; printf '%s\\n' \"${COMPREPLY[@]}\"")
        return sh("bash", "-c", script).stdout.split()
    assert complete("spacehook", "do") == ["doctor"]
    assert set(complete("spacehook", "dlq", "")) >= {"list", "retry", "drop"}
    assert "--admin-listen" in complete("spacehook", "serve", "--adm")


def unit_command():
    """The unit's ExecStart, as systemd would run it."""
    line = next(line for line in UNIT.read_text().splitlines() if line.startswith("ExecStart="))
    return shlex.split(line[len("ExecStart="):])


def read_env_file(path):
    values = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def as_service_user(args):
    return ["setpriv", "--reuid=spacehook", "--regid=spacehook", "--init-groups", "--", *args]


def test_the_installed_service_runs_an_automation_end_to_end(package, procs, tmp_path):
    portal = Portal(procs, tmp_path)  # `spacehook emulator` of the installed binary (SPACEHOOK_BIN)
    smtp = SmtpSink(tmp_path / "mail")
    try:
        tree = Tree(portal.state())
        # The operator's part: secrets and ids in env, one example enabled.
        with open(ETC / "env", "a") as env:
            env.write(f"DOCSPACE_API_HOST={portal.url}\nDOCSPACE_API_KEY={SERVICE_KEY}\nDOCSPACE_WEBHOOK_SECRET={SECRET}\n"
                      f"SMTP_URL={smtp.url}\nMAIL_FROM={MAIL_FROM}\n"
                      f"CLIENT_ROOM_ID={tree.folder('Client ACME')['id']}\n"
                      f"INCOMING_FOLDER_ID={tree.folder('Accounting', 'Incoming')['id']}\n"
                      f"MANAGER_EMAIL={tree.user('maria.manager')['email']}\n")
        shutil.copy("/usr/share/doc/spacehook/examples/invoice-intake.yaml", ETC / "rules.d" / "10-invoice-intake.yaml")
        configs = ["--config", str(ETC), "--config", str(ETC / "rules.d")]
        check = sh(BIN, "check", *configs, "--env-file", str(ETC / "env"))
        assert "invoice-intake" in check.stdout

        # What systemd would do: the state directory, then the unit's command as its user, with its
        # environment file (ports of our own choosing, so nothing else on the machine is in the way).
        STATE.mkdir(mode=0o750, exist_ok=True)
        shutil.chown(STATE, "spacehook", "spacehook")
        ready = STATE / "serve.ready"
        command = unit_command() + ["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--ready-file", str(ready)]
        assert command[:2] == [BIN, "serve"]
        # Traced, to hold what it does against the unit's sandbox at the end.
        trace = tmp_path / "serve.strace"
        serve = procs.start(["strace", "-f", "-qq", "-o", str(trace), *as_service_user(command)], ready,
                            env=clean_env(**read_env_file(ETC / "env")), log_path=tmp_path / "serve.log")
        serve_pid = int(serve.info["pid"])  # serve itself, under strace
        url = f"{serve.url}/docspace/webhook"
        out = sh(BIN, "subscribe", "--url", url, *configs, "--env-file", str(ETC / "env"))
        assert "created" in out.stdout
        doctor = sh(BIN, "doctor", *configs, "--env-file", str(ETC / "env"), "--url", url, check=False)
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr

        contracts = tree.folder("Client ACME", "Contracts")["id"]
        invoice = portal.control("POST", "upload", {"user": "carl.client", "folderId": contracts,
                                                    "title": "INVOICE-2026-001.pdf"})
        wait_for(lambda: len(smtp.messages()) == 1, 60, "the manager's mail")
        mail = smtp.messages()[0]
        assert mail["rcpt_tos"] == ["maria.manager@example.com"]
        assert mail["parsed"]["subject"] == "New invoice from Client ACME: INVOICE-2026-001.pdf"
        assert "INVOICE-2026-001.pdf" in body_text(mail)
        moved = Tree(portal.state()).one("INVOICE-2026-001.pdf", kind="file")
        assert moved["id"] == invoice["id"]
        assert Tree(portal.state()).files_in("Accounting", "Incoming") == ["INVOICE-2026-001.pdf"]

        # The store commands find serve's store through the same configuration, as its user.
        runs = json.loads(sh(*as_service_user([BIN, "runs", "list", "--json", "--config", str(ETC)]),
                             env=clean_env()).stdout)["runs"]
        assert [(r["rule"], r["state"]) for r in runs] == [("invoice-intake", "done")]

        # A reload, as `systemctl reload` sends it.
        os.kill(serve_pid, signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in serve.output(), 20, "the reload")
        # A backup of the journal while it runs: sqlite3's .backup, a consistent copy.
        backup = tmp_path / "backup.db"
        sh("sqlite3", str(STATE / "spacehook.db"), f".backup '{backup}'")
        backed_up = json.loads(sh(BIN, "events", "list", "--json", "--store", f"sqlite:{backup}").stdout)["events"]
        assert any(e["trigger"].startswith("file.") for e in backed_up), backed_up
        os.kill(serve_pid, signal.SIGTERM)
        assert serve.popen.wait(60) == 0  # strace exits with its tracee's status
        check_against_the_sandbox(trace)
        log = serve.output()
        for secret in (SERVICE_KEY, SECRET):
            assert secret not in log
    finally:
        smtp.close()


def syscall_set(group):
    """The syscalls of a systemd syscall group, nested groups expanded (systemd-analyze syscall-filter)."""
    groups, current = {}, None
    for line in sh("systemd-analyze", "syscall-filter").stdout.splitlines():
        if line.startswith("@"):
            current = line.split()[0]
            groups[current] = []
        elif current and line.strip() and not line.strip().startswith("#"):
            groups[current].append(line.strip())

    def expand(name, seen):
        out = set()
        for member in groups.get(name, []):
            if member.startswith("@"):
                if member not in seen:
                    seen.add(member)
                    out |= expand(member, seen)
            else:
                out.add(member)
        return out
    return expand(group, {group})


def check_against_the_sandbox(trace):
    """What the service did, as the spacehook user, fits the unit's sandbox: every system call in its
    SystemCallFilter= (@system-service without @privileged), and files written only where ProtectSystem=strict
    leaves it room (the state directory, its private /tmp, /dev/null). The unit itself cannot be started
    here (systemd is not PID 1), so this is what stands in for it."""
    lines = trace.read_text(errors="replace").splitlines()
    start = next(i for i, line in enumerate(lines) if re.search(rf'execve\("{BIN}"', line))
    unit = UNIT.read_text()
    assert "SystemCallFilter=@system-service" in unit and "SystemCallFilter=~@privileged" in unit
    allowed = syscall_set("@system-service") - syscall_set("@privileged")
    used, written = set(), set()
    for line in lines[start + 1:]:
        m = re.match(r"^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]", line)
        if not m or " resumed>" in line:  # counted where the call began
            continue
        used.add(m.group(1))
        opened = re.match(r'^\d+\s+openat\([^,]+, "([^"]+)", ([A-Z_|]+)', line)
        if opened and re.search(r"O_WRONLY|O_RDWR|O_CREAT", opened.group(2)) and "= -1" not in line:
            written.add(opened.group(1))
    assert used and used <= allowed, f"system calls outside the unit's filter: {sorted(used - allowed)}"
    outside = sorted(p for p in written if not p.startswith((str(STATE) + "/", "/tmp/", "/dev/null")))
    assert not outside, f"files written outside the state directory: {outside}"


def leftovers(files):
    """Files of the package (directories shared with others aside) still on disk."""
    return [f for f in files if os.path.lexists(f) and not os.path.isdir(f)]


def test_remove_keeps_the_configuration_and_the_journal(package):
    sh(*APT, "remove", "spacehook")
    assert not os.path.exists(BIN) and not UNIT.exists()
    assert (ETC / "spacehook.yaml").is_file() and (ETC / "rules.d" / "10-invoice-intake.yaml").is_file()
    assert (STATE / "spacehook.db").is_file()


def test_purge_leaves_nothing_but_the_state_directory_when_asked(package):
    sh(*APT, "purge", "spacehook", env=dict(os.environ, DEBIAN_FRONTEND="noninteractive", SPACEHOOK_KEEP_STATE="yes"))
    assert not installed()
    assert leftovers(package["files"]) == []
    assert not ETC.exists()
    assert (STATE / "spacehook.db").is_file()

    # Again without asking: the state directory goes too.
    sh(*APT, "install", "--no-install-recommends", DEB)
    assert (STATE / "spacehook.db").is_file()  # an install never touches the journal
    sh(*APT, "purge", "spacehook")
    assert not installed()
    assert leftovers(package["files"]) == []
    assert not ETC.exists() and not STATE.exists()
