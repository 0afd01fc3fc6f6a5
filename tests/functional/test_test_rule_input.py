"""`spacehook test-rule` reads an event file (often one taken from the journal or a portal's webhook log) and
a facts file: both are bounded like a delivery (core/json_depth.hpp), so a file nesting past 64 levels is a
clear error, never a crash of the walk that copies or prints it.

    /usr/bin/python3 -m pytest tests/functional/test_test_rule_input.py
"""
import json
import subprocess

from conftest import spacehook_bin
from loopback import clean_env

RULES = """
rules:
  - name: intake
    on: file.created
    do:
      - mail: { to: a@example.com, subject: "{{ entity.title }}", body: x }
"""


def nested(levels):
    value = 1
    for _ in range(levels):
        value = [value]
    return value


def run_test_rule(tmp_path, event_text, facts_text=None):
    config = tmp_path / "rules.yaml"
    config.write_text(RULES)
    event = tmp_path / "event.json"
    event.write_text(event_text)
    args = [spacehook_bin(), "test-rule", "--config", str(config), "--event", str(event)]
    if facts_text is not None:
        facts = tmp_path / "facts.json"
        facts.write_text(facts_text)
        args += ["--facts", str(facts)]
    return subprocess.run(args, capture_output=True, text=True, timeout=30, env=clean_env())


def envelope(payload_extra):
    return json.dumps({"event": {"id": 1, "trigger": "file.created"},
                       "payload": {"id": 5, "title": "Deep.docx", **payload_extra}})


def test_an_event_file_nesting_too_deep_is_refused_with_the_reason(tmp_path):
    deep = '{"event":{"trigger":"file.created"},"payload":{"x":' + "[" * 200_000 + "]" * 200_000 + "}}"
    out = run_test_rule(tmp_path, deep)
    assert out.returncode == 1, out.stderr
    assert "nests deeper than 64 levels" in out.stderr and "event.json" in out.stderr

    within = run_test_rule(tmp_path, envelope({"deep": nested(60)}))
    assert within.returncode == 0, within.stderr
    assert "intake" in within.stdout


def test_a_facts_file_nesting_too_deep_is_refused_with_the_reason(tmp_path):
    out = run_test_rule(tmp_path, envelope({}), facts_text='{"file":' + "{\"a\":" * 100_000 + "1" + "}" * 100_000 + "}")
    assert out.returncode == 1
    assert "nests deeper than 64 levels" in out.stderr and "facts.json" in out.stderr
    broken = run_test_rule(tmp_path, envelope({}), facts_text="{not json")
    assert broken.returncode == 1 and "not valid JSON" in broken.stderr
