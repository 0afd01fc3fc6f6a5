"""`spacehook doctor` against the emulator and a real SMTP server with AUTH (aiosmtpd): a deployment that
works, and each way it can be broken, with the exit code of each outcome (docs/operations.md "doctor")."""
import re
import subprocess

import pytest

from conftest import spacehook_bin
from loopback import Emulator, HttpReceiver, clean_env, free_port
from test_secrets import SMTP_PASSWORD, SMTP_USER, AuthSmtp

SERVICE_KEY = "sk-emulator-spacehook"  # a DocSpace admin in the emulator's default seed
JANE_KEY = "sk-emulator-jane"          # a plain user
SECRET = "doctor-Secret-01"

RULES = """
rules:
  - name: welcome
    on: [user.created]
    do:
      - mail: { to: "{{ payload.email }}", subject: "Welcome", body: "Hello" }
  - name: intake
    on: [file.created, file.uploaded]
    do:
      - http: { url: "http://127.0.0.1:9/hook", body: { file: "{{ payload.id }}" } }
"""

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture
def smtp(tmp_path):
    sink = AuthSmtp(tmp_path / "mail")
    yield sink
    sink.close()


@pytest.fixture
def deployment(procs, tmp_path, smtp):
    """The emulator with a subscription named spacehook (to an endpoint that answers DocSpace's HEAD probe), the
    rules in a directory, and an environment file holding every secret."""
    portal = Emulator(procs, tmp_path)
    endpoint = HttpReceiver(path="/docspace/webhook")
    portal.subscribe(endpoint.url, SECRET)
    etc = tmp_path / "etc"
    (etc / "rules.d").mkdir(parents=True)
    # The test's SMTP server offers AUTH without STARTTLS (loopback): plaintext login is allowed by name.
    (etc / "spacehook.yaml").write_text("log: { level: info }\nmail: { allow_plaintext_auth: true }\n")
    (etc / "rules.d" / "10-rules.yaml").write_text(RULES)
    env_file = etc / "env"
    env_file.write_text(f"# secrets\nDOCSPACE_API_HOST={portal.url}\nDOCSPACE_API_KEY='{SERVICE_KEY}'\n"
                        f"DOCSPACE_WEBHOOK_SECRET=\"{SECRET}\"\nSMTP_URL=smtp://127.0.0.1:{smtp.port}\n"
                        f"SMTP_USERNAME={SMTP_USER}\nSMTP_PASSWORD={SMTP_PASSWORD}\n"
                        "MAIL_FROM=spacehook <bot@example.com>\n")
    yield {"portal": portal, "etc": etc, "env_file": env_file, "endpoint": endpoint, "smtp": smtp}
    endpoint.close()


def doctor(d, *extra, **env):
    out = subprocess.run([spacehook_bin(), "doctor", "--config", str(d["etc"]), "--config", str(d["etc"] / "rules.d"),
                          "--env-file", str(d["env_file"]), *extra],
                         capture_output=True, text=True, timeout=90, env=clean_env(**env))
    return out.returncode, out.stdout + out.stderr


def verdict(output, check):
    m = re.search(rf"^(ok  |warn|FAIL|skip)  {check}\s+(.*)$", output, re.M)
    assert m, f"no {check} line in:\n{output}"
    return m.group(1).strip(), m.group(2)


def test_a_working_deployment(deployment):
    code, out = doctor(deployment, "--url", deployment["endpoint"].url)
    assert code == 0, out
    assert verdict(out, "config") == ("ok", "2 rules (2 enabled) from 2 files")
    assert verdict(out, "portal")[0] == "ok" and "Spacehook Service" in verdict(out, "portal")[1]
    assert verdict(out, "role") [0] == "ok" and "DocSpace admin" in verdict(out, "role")[1]
    assert verdict(out, "triggers")[0] == "ok"
    assert "user.created, file.created, file.uploaded" in verdict(out, "triggers")[1]
    state, text = verdict(out, "subscription")
    assert state == "ok" and "enabled" in text and deployment["endpoint"].url in text
    assert verdict(out, "smtp") == ("ok", f"smtp://127.0.0.1:{deployment['smtp'].port} accepts the login of {SMTP_USER}")
    assert "no problems" in out
    # It logged in, and sent nothing.
    assert deployment["smtp"].logins and all(ok for _, ok in deployment["smtp"].logins)
    assert deployment["smtp"].messages() == []
    # Secrets never printed.
    for secret in (SERVICE_KEY, SMTP_PASSWORD, SECRET):
        assert secret not in out


def test_a_refused_api_key(deployment):
    code, out = doctor(deployment, DOCSPACE_API_KEY="sk-not-a-key-at-all")
    assert code == 4, out
    state, text = verdict(out, "portal")
    assert state == "FAIL" and "refused the API key" in text
    assert "Developer Tools > API keys" in out
    assert verdict(out, "triggers")[0] == "skip"
    assert verdict(out, "smtp")[0] == "ok"  # later checks still run
    assert "sk-not-a-key-at-all" not in out


def test_a_trigger_the_keys_user_may_not_subscribe_to(deployment):
    code, out = doctor(deployment, DOCSPACE_API_KEY=JANE_KEY)
    assert code == 5, out
    assert verdict(out, "role")[0] == "warn" and "user" in verdict(out, "role")[1]
    state, text = verdict(out, "triggers")
    assert state == "FAIL" and "user.created" in text and "file.created" not in text
    assert "5 (triggers)" in out


def test_no_subscription_or_a_disabled_one(deployment):
    portal = deployment["portal"]
    hook = portal.rest("GET", "settings/webhook")[0]["configs"]
    code, out = doctor(deployment, "--name", "another-name")
    assert code == 6, out
    state, text = verdict(out, "subscription")
    assert state == "FAIL" and "no webhook named 'another-name'" in text
    assert "spacehook subscribe --url" in out

    portal.rest("PUT", "settings/webhook/enable", {"id": hook["id"], "name": hook["name"], "uri": hook["uri"],
                                                   "enabled": False})
    code, out = doctor(deployment)
    assert code == 6, out
    state, text = verdict(out, "subscription")
    assert state == "FAIL" and "DISABLED" in text and "--enable" in out


def test_a_subscription_that_misses_a_needed_trigger(deployment):
    portal = deployment["portal"]
    hook = portal.rest("GET", "settings/webhook")[0]["configs"]
    portal.rest("PUT", "settings/webhook", {"id": hook["id"], "name": hook["name"], "uri": hook["uri"], "enabled": True,
                                            "ssl": False, "triggers": 128 | 256})  # file.created, file.uploaded
    code, out = doctor(deployment)
    assert code == 6, out
    state, text = verdict(out, "subscription")
    assert state == "FAIL" and "does not send user.created" in text


def test_an_smtp_login_failure(deployment):
    code, out = doctor(deployment, SMTP_PASSWORD="wrong-password-9")
    assert code == 7, out
    state, text = verdict(out, "smtp")
    assert state == "FAIL" and "535" in text
    assert "SMTP_USERNAME / SMTP_PASSWORD" in out
    assert "wrong-password-9" not in out


def test_credentials_in_smtp_url_are_used_for_the_login_as_serve_uses_them(deployment):
    env = deployment["env_file"]
    text = env.read_text()
    port = deployment["smtp"].port
    text = text.replace(f"SMTP_URL=smtp://127.0.0.1:{port}\n", f"SMTP_URL=smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{port}\n")
    text = text.replace(f"SMTP_USERNAME={SMTP_USER}\nSMTP_PASSWORD={SMTP_PASSWORD}\n", "")
    assert "SMTP_USERNAME" not in text and f"{SMTP_USER}:{SMTP_PASSWORD}@" in text
    env.write_text(text)
    code, out = doctor(deployment)
    assert code == 0, out
    assert verdict(out, "smtp")[0] == "ok", out
    assert deployment["smtp"].logins and all(ok for _, ok in deployment["smtp"].logins)
    assert SMTP_PASSWORD not in out


def test_a_server_without_starttls_gets_no_password_unless_allowed(deployment):
    (deployment["etc"] / "spacehook.yaml").write_text("log: { level: info }\n")
    code, out = doctor(deployment)
    assert code == 7, out
    state, text = verdict(out, "smtp")
    assert state == "FAIL" and "mail.allow_plaintext_auth" in text, out
    assert not any(ok for _, ok in deployment["smtp"].logins)
    assert SMTP_PASSWORD not in out


def test_an_unreachable_portal_and_a_broken_config(deployment, tmp_path):
    code, out = doctor(deployment, DOCSPACE_API_HOST=f"http://127.0.0.1:{free_port()}")
    assert code == 3, out
    assert verdict(out, "portal")[0] == "FAIL" and "cannot reach" in out

    (deployment["etc"] / "rules.d" / "20-broken.yaml").write_text("rules:\n  - name: x\n    on: [file.created]\n    dp: []\n")
    code, out = doctor(deployment)
    assert code == 2, out
    assert re.search(r"20-broken\.yaml:4:5: unknown key 'dp'", out), out
    bad_env = tmp_path / "bad.env"
    bad_env.write_text("NOT A PAIR\n")
    out = subprocess.run([spacehook_bin(), "doctor", "--config", str(deployment["etc"]), "--env-file", str(bad_env)],
                         capture_output=True, text=True, timeout=60, env=clean_env())
    assert out.returncode == 2 and f"{bad_env}:1: expected KEY=VALUE" in out.stdout
