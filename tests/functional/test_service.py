"""How `serve` runs as a service (docs/operations.md "Run it on a server"):

- the webhook listener serves only the webhook path and /healthz; /metrics, /readyz, /admin and the admin
  API are on the admin listener (admin.listen);
- store commands never create a store, and find serve's store through --config;
- secrets come from files (VAR_FILE, ${file:...}) and systemd credentials, and stay out of the logs;
- /metrics types: cumulative series are counters named _total, process_* and spacehook_build_info;
- --version names the version and the commit.
"""
import json
import re
import signal
import socket
import subprocess

import pytest
import requests

from conftest import spacehook_bin
from loopback import clean_env
from test_ingress import SECRET, envelope, post, signature

WEBHOOK = "/docspace/webhook"


def start_serve(procs, tmp_path, *extra, env=None, name="serve"):
    ready = tmp_path / f"{name}.ready"
    args = [spacehook_bin(), "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
            "--store", f"sqlite:{tmp_path / 'journal.db'}", "--ready-file", str(ready), *extra]
    return procs.start(args, ready, env=env if env is not None else clean_env(DOCSPACE_WEBHOOK_SECRET=SECRET),
                       log_path=tmp_path / f"{name}.log")


def run(*args, cwd=None, env=None):
    return subprocess.run([spacehook_bin(), *args], capture_output=True, text=True, timeout=60, cwd=cwd,
                          env=env if env is not None else clean_env())


# --- the two listeners --------------------------------------------------------------------------------

def test_the_webhook_listener_serves_only_the_webhook_and_healthz(procs, tmp_path):
    s = start_serve(procs, tmp_path)
    hook, admin = s.url, s.admin_url
    assert s.info["admin_port"] != s.info["port"]

    # The webhook path: HEAD (DocSpace's probe), GET, POST.
    assert requests.head(hook + WEBHOOK, timeout=10).status_code == 200
    assert requests.get(hook + WEBHOOK, timeout=10).status_code == 200
    assert post(hook, envelope(event_id=1)).status_code == 202
    assert requests.get(hook + "/healthz", timeout=10).json() == {"status": "ok"}
    # Nothing an operator's tools use answers there.
    for path in ("/metrics", "/readyz", "/admin", "/admin/", "/admin/api/events", "/admin/api/runs", "/admin/api/dlq",
                 "/admin/api/events/1"):
        r = requests.get(hook + path, timeout=10)
        assert r.status_code == 404, (path, r.status_code)
        assert r.json() == {"error": "not found"}
    assert requests.post(hook + "/admin/api/events/1/replay", timeout=10).status_code == 404
    assert requests.post(hook + "/admin/api/dlq/run/1/retry", timeout=10).status_code == 404

    # The admin listener has them all, and /healthz too.
    assert requests.get(admin + "/healthz", timeout=10).json() == {"status": "ok"}
    assert requests.get(admin + "/readyz", timeout=10).json() == {"status": "ready"}
    assert 'spacehook_deliveries_total{outcome="stored"} 1' in requests.get(admin + "/metrics", timeout=10).text
    assert requests.get(admin + "/admin", timeout=10).headers["content-type"].startswith("text/html")
    events = requests.get(admin + "/admin/api/events", timeout=10).json()["events"]
    assert [e["event_id"] for e in events] == ["1"]
    # ...but not the webhook.
    assert requests.post(admin + WEBHOOK, data=envelope(event_id=2), timeout=10,
                         headers={"x-docspace-signature-256": signature(envelope(event_id=2))}).status_code == 404
    assert s.terminate() == 0


def test_the_admin_listener_is_loopback_by_default_and_its_port_must_be_free(procs, tmp_path):
    # The default admin.listen is 127.0.0.1:9464: `check` prints nothing about it, so read it from a start
    # that cannot bind it because the webhook listener already has it.
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 9464))
        except OSError:
            pytest.skip("something on this machine listens on 127.0.0.1:9464")
    out = subprocess.run([spacehook_bin(), "serve", "--listen", "127.0.0.1:9464", "--store",
                          f"sqlite:{tmp_path / 'j.db'}"], capture_output=True, text=True, timeout=30,
                         env=clean_env(DOCSPACE_WEBHOOK_SECRET=SECRET))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "admin.listen: 127.0.0.1:9464: address already in use" in out.stderr, out.stderr

    config = tmp_path / "same.yaml"
    config.write_text("server: { listen: '127.0.0.1:7001' }\nadmin: { listen: '127.0.0.1:7001' }\n")
    same = run("check", "--config", str(config))
    assert same.returncode == 1
    assert "admin.listen (127.0.0.1:7001) and server.listen (127.0.0.1:7001) must be different ports" in same.stderr


# --- store commands -----------------------------------------------------------------------------------

STORE_COMMANDS = [
    ["events", "list"], ["events", "show", "1"], ["runs", "list"], ["runs", "show", "1"], ["dlq", "list"],
    ["dlq", "retry", "run:1"], ["dlq", "drop", "event:1"], ["replay", "1"],
]


def test_store_commands_never_create_a_store(tmp_path):
    (tmp_path / "data").mkdir()
    for command in STORE_COMMANDS:
        out = run(*command, "--store", "sqlite:data/spacehok.db", cwd=tmp_path)
        assert out.returncode == 1, (command, out.stdout, out.stderr)
        assert f"no store at data/spacehok.db ({tmp_path / 'data' / 'spacehok.db'})" in out.stderr, (command, out.stderr)
        assert "never create" in out.stderr and "--config" in out.stderr
        assert "empty" not in out.stdout
    # Nor with no --store at all, from a directory without one.
    out = run("dlq", "list", cwd=tmp_path)
    assert out.returncode == 1 and "no store at spacehook.db" in out.stderr, out.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["data"]


def test_store_commands_find_serves_store_through_its_config(procs, tmp_path):
    etc = tmp_path / "etc"
    (etc / "rules.d").mkdir(parents=True)
    (etc / "spacehook.yaml").write_text(f"store: sqlite:{tmp_path / 'var' / 'spacehook.db'}\n")
    (tmp_path / "var").mkdir()
    ready = tmp_path / "etc-serve.ready"
    s = procs.start([spacehook_bin(), "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--config",
                     str(etc), "--config", str(etc / "rules.d"), "--ready-file", str(ready)], ready,
                    env=clean_env(DOCSPACE_WEBHOOK_SECRET=SECRET), log_path=tmp_path / "etc-serve.log")
    assert post(s.url, envelope(event_id=31)).status_code == 202
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for command in (["events", "list", "--json"], ["dlq", "list", "--json"], ["runs", "list", "--json"]):
        out = run(*command, "--config", str(etc), cwd=elsewhere)
        assert out.returncode == 0, (command, out.stderr)
    events = json.loads(run("events", "list", "--json", "--config", str(etc), cwd=elsewhere).stdout)["events"]
    assert [e["event_id"] for e in events] == ["31"]
    assert list(elsewhere.iterdir()) == []
    assert s.terminate() == 0


# --- secrets from files and credentials ---------------------------------------------------------------

def test_secrets_come_from_files_and_systemd_credentials(procs, tmp_path):
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "DOCSPACE_WEBHOOK_SECRET").write_text("credential-Secret-77\n")
    (credentials / "admin-token").write_text("adm-token-from-credential\n")
    token_file = tmp_path / "admin-token"
    token_file.write_text("adm-token-from-file\n")
    config = tmp_path / "spacehook.yaml"
    config.write_text("admin: { token: '${credential:admin-token}' }\n")
    env = clean_env(CREDENTIALS_DIRECTORY=str(credentials))
    s = start_serve(procs, tmp_path, "--config", str(config), env=env, name="credentials")
    body = envelope(event_id=41)
    assert post(s.url, body, sig=signature(body, secret="credential-Secret-77")).status_code == 202
    assert post(s.url, envelope(event_id=42)).status_code == 401  # the environment's usual secret is not set
    admin = s.admin_url + "/admin/api/events"
    assert requests.get(admin, timeout=10).status_code == 401  # a token is configured: no local exception
    assert requests.get(admin, headers={"Authorization": "Bearer adm-token-from-credential"},
                        timeout=10).status_code == 200
    assert s.terminate() == 0
    log = s.output()
    assert "credential-Secret-77" not in log and "adm-token-from-credential" not in log

    # VAR_FILE and ${file:...}; the file's path may be named in errors, never its contents.
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text("file-Secret-0099\n")
    config.write_text(f"admin: {{ token: '${{file:{token_file}}}' }}\n")
    s = start_serve(procs, tmp_path, "--config", str(config),
                    env=clean_env(DOCSPACE_WEBHOOK_SECRET_FILE=str(secret_file)), name="files")
    body = envelope(event_id=43)
    assert post(s.url, body, sig=signature(body, secret="file-Secret-0099")).status_code == 202
    assert requests.get(s.admin_url + "/admin/api/events", headers={"Authorization": "Bearer adm-token-from-file"},
                        timeout=10).status_code == 200
    assert s.terminate() == 0
    assert "file-Secret-0099" not in s.output()

    missing = run("check", "--config", str(config), env=clean_env(DOCSPACE_WEBHOOK_SECRET_FILE=str(tmp_path / "nope")))
    assert missing.returncode == 1
    assert f"DOCSPACE_WEBHOOK_SECRET_FILE: cannot read {tmp_path / 'nope'}" in missing.stderr
    both = run("check", "--config", str(config),
               env=clean_env(DOCSPACE_WEBHOOK_SECRET="x-secret-1", DOCSPACE_WEBHOOK_SECRET_FILE=str(secret_file)))
    assert both.returncode == 1 and "both DOCSPACE_WEBHOOK_SECRET and DOCSPACE_WEBHOOK_SECRET_FILE" in both.stderr
    assert "file-Secret-0099" not in both.stderr


# --- metrics and version ------------------------------------------------------------------------------

def families(text):
    """name -> type from the # TYPE lines."""
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))


def test_metric_types_process_series_and_build_info(procs, tmp_path):
    s = start_serve(procs, tmp_path)
    post(s.url, envelope(event_id=51))
    text = requests.get(s.admin_url + "/metrics", timeout=10).text
    types = families(text)
    for name, kind in types.items():
        # Prometheus naming: a counter ends in _total, and nothing else does.
        assert (kind == "counter") == name.endswith("_total"), (name, kind)
    # The seven cumulative series that were typed gauge.
    for name in ("spacehook_http_connections_accepted_total", "spacehook_http_connections_rejected_total",
                 "spacehook_http_requests_total", "spacehook_http_timeouts_total",
                 "spacehook_http_limit_rejections_total", "spacehook_http_handler_timeouts_total",
                 "spacehook_store_commits_total"):
        assert types.get(name) == "counter", name
    assert types.get("spacehook_http_connections_active") == "gauge"
    for listener in ("webhook", "admin"):
        assert re.search(rf'^spacehook_http_requests_total{{listener="{listener}"}} \d+', text, re.M), listener
    assert types.get("process_cpu_seconds_total") == "counter"
    for name in ("process_resident_memory_bytes", "process_open_fds", "process_max_fds", "process_start_time_seconds"):
        assert types.get(name) == "gauge", name
        value = float(re.search(rf"^{name} (\S+)$", text, re.M).group(1))
        assert value > 0, (name, value)

    version = run("--version").stdout.strip()
    m = re.fullmatch(r"spacehook (\d+\.\d+\.\d+) \(commit ([0-9a-f]{12}(?:-dirty)?|unknown)\)", version)
    assert m, version
    assert f'spacehook_build_info{{version="{m.group(1)}",commit="{m.group(2)}"}} 1' in text
    assert s.terminate() == 0


def test_sighup_does_not_kill_serve(procs, tmp_path):
    s = start_serve(procs, tmp_path)
    s.popen.send_signal(signal.SIGHUP)
    assert post(s.url, envelope(event_id=61)).status_code == 202
    assert s.popen.poll() is None
    assert s.terminate() == 0
    assert "SIGHUP: reloading the configuration" in s.output()


def test_serve_tells_systemd_where_it_stands(procs, tmp_path):
    """sd_notify over $NOTIFY_SOCKET, as a Type=notify unit's manager reads it: READY=1 once listening,
    RELOADING=1 (with MONOTONIC_USEC) then READY=1 around a reload, STOPPING=1 at the drain."""
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(20)
    try:
        s = start_serve(procs, tmp_path, env=clean_env(DOCSPACE_WEBHOOK_SECRET=SECRET, NOTIFY_SOCKET=path))

        def message():
            fields = dict(line.split("=", 1) for line in sock.recv(4096).decode().splitlines() if "=" in line)
            return fields

        ready = message()
        assert ready["READY"] == "1"
        assert ready["STATUS"] == f"receiving on 127.0.0.1:{s.info['port']}, admin on 127.0.0.1:{s.info['admin_port']}"
        s.popen.send_signal(signal.SIGHUP)
        reloading = message()
        assert reloading["RELOADING"] == "1" and int(reloading["MONOTONIC_USEC"]) > 0
        reloaded = message()
        assert reloaded["READY"] == "1" and reloaded["STATUS"].endswith("; configuration reloaded")
        s.popen.send_signal(signal.SIGTERM)
        assert message()["STOPPING"] == "1"
        assert s.popen.wait(20) == 0
    finally:
        sock.close()
