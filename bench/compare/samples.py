"""The seed samples of bench/compare: extracted at run time from DocSpace's sample page
(saved as text, in the directory `--seeds` names), patched only where they
cannot run or cannot finish their own automation otherwise, and installed into a temporary directory.

Nothing here is a copy of the samples: the code is read from the seed page every run, and every change
made to it is a named `Patch` with its reason, applied by exact text (a patch that does not apply exactly
once stops the run, so a changed seed is noticed instead of silently measured differently). The list of
patches goes into the results JSON and bench/README.md.

Seed 001 ("Automatically configure room structure and permissions after room creation") holds a
Node.js/Express and a Python/Flask receiver under "Full example". The page is HTML rendered to text, so
the code has lost its indentation: JavaScript does not care, Python does (see `reindent_python`).
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

# The emulator's default users and groups (docs/emulator.md "The default seed") that stand in for the
# page's placeholders USER_ID_1..3 and GROUP_ID_HR ("Replace ... with your actual data").
MANAGER_ID = "2f1b7c3a-5d4e-4c1b-9a8f-000000000003"  # rachel.admin, a room admin: may be RoomManager
EDITOR_ID = "5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b"   # jane.doe
VIEWER_ID = "2f1b7c3a-5d4e-4c1b-9a8f-000000000005"   # gary.guest
HR_GROUP_ID = "b1f7c3a2-0000-4000-8000-000000000001"  # HR
# What "fully provisioned" means in the emulator (bench_compare.count_rooms): these members with these
# FileShare values (docs/docspace-api.md §2.4: 9 RoomManager, 10 Editing, 2 Read).
EXPECTED_MEMBERS = {MANAGER_ID: 9, EDITOR_ID: 10, VIEWER_ID: 2, HR_GROUP_ID: 2}
FOLDERS = ("Documents", "Tasks", "Archive")


@dataclass
class Patch:
    name: str
    why: str
    old: str
    new: str
    # Needed to run at all / to be configured for the emulator, as opposed to needed for the automation to
    # complete (the "as published" probe applies only the first kind).
    runtime: bool = False


@dataclass
class Sample:
    name: str             # "express" | "flask"
    source: str           # the extracted code (after re-indentation for Python)
    patches: list[Patch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def patched(self, runtime_only: bool = False) -> str:
        code = self.source
        for p in self.patches:
            if runtime_only and not p.runtime:
                continue
            count = code.count(p.old)
            if count != 1:
                raise RuntimeError(f"{self.name}: patch '{p.name}' expects its text exactly once, found {count}: "
                                   f"the seed changed; review bench/compare/samples.py")
            code = code.replace(p.old, p.new)
        return code

    def describe(self) -> list[dict]:
        return [{"name": p.name, "why": p.why, "kind": "runtime" if p.runtime else "to complete the automation",
                 "old": p.old, "new": p.new} for p in self.patches]


def _full_example(text: str) -> list[str]:
    start = text.find("Full example")
    if start < 0:
        raise RuntimeError("seed page has no 'Full example' section")
    return text[start:].splitlines()


def _block(lines: list[str], first: re.Pattern, last: re.Pattern, what: str) -> tuple[int, int]:
    """[start, end) of the first block from a line matching `first` to the next line matching `last`."""
    for i, line in enumerate(lines):
        if first.match(line):
            for j in range(i, len(lines)):
                if last.search(lines[j]):
                    return i, j + 1
            break
    raise RuntimeError(f"cannot find the {what} sample in the seed page")


def extract_express(text: str) -> str:
    lines = _full_example(text)
    start, end = _block(lines, re.compile(r'^import express from "express";'), re.compile(r"^app\.listen\("),
                        "Express")
    # app.listen(3000, () => { console.log(...); }); spans three lines.
    for k in range(end, min(end + 3, len(lines))):
        if lines[k].strip() == "});":
            return "\n".join(lines[start:k + 1]) + "\n"
    raise RuntimeError("Express sample: app.listen(...) block does not end with '});'")


# Where a block ends cannot be recovered from unindented Python by syntax alone when its last statement is
# not a return/raise/continue/break: the next line may belong to it or not. These are the block ends of
# seed 001, by function and the first line after the block, with the kind of block that line closes.
# They follow the same functions in the page's JavaScript, where braces keep the structure:
# createDefaultFolders returns true after the loop; buildAclEntries adds the HR group once, after the
# loop, and returns the entries whether or not there is a group.
PYTHON_BLOCK_ENDS = {
    ("create_default_folders", "return True"): "for",
    ("build_acl_entries", "if HR_GROUP_ID:"): "for",
    ("build_acl_entries", "return entries"): "if",
}

_TERMINAL = re.compile(r"^(return\b|raise\b|continue$|break$|pass$)")
_CONTINUATION = {"except": "try", "finally": "try", "elif": "if", "else": "if"}


def reindent_python(lines: list[str]) -> str:
    """Restores the indentation of unindented Python. A line ending in ':' (outside brackets) opens a
    block; a block ends after its terminal statement (return/raise/continue/break: code after it in the
    same block would be unreachable), at every top-level `def`/decorator/`if __name__`, and at the lines
    of PYTHON_BLOCK_ENDS; `except/finally/elif/else` continue the `try`/`if` they belong to."""
    out = []
    blocks: list[tuple[str, int]] = []   # open blocks: (keyword, indentation of the header)
    last_closed: tuple[str, int] | None = None
    depth = 0                            # brackets left open by previous lines
    function = ""

    def level() -> int:
        return blocks[-1][1] + 1 if blocks else 0

    for raw in lines:
        line = raw.strip()
        if not line:
            out.append("")
            continue
        if depth > 0:  # inside a bracket opened on an earlier line: indentation is free
            out.append("    " * (level() + (0 if line[0] in ")]}" else 1)) + line)
            depth += _bracket_delta(line)
            continue
        keyword = re.match(r"[a-z_]+", line)
        keyword = keyword.group(0) if keyword else ""
        if line.startswith(("def ", "@", "if __name__")):
            blocks.clear()
            if keyword == "def":
                function = line[4:].split("(")[0]
        if (function, line) in PYTHON_BLOCK_ENDS:
            kind = PYTHON_BLOCK_ENDS[(function, line)]
            while blocks and blocks[-1][0] not in ((kind, "while") if kind == "for" else (kind, "elif", "else")):
                blocks.pop()
            if not blocks:
                raise RuntimeError(f"re-indent: no '{kind}' block to end before '{line}' in {function}")
            blocks.pop()
        elif keyword in _CONTINUATION and line.endswith(":"):
            opener = _CONTINUATION[keyword]
            accepted = (opener, "except") if opener == "try" else (opener, "elif")
            header = None
            while blocks:  # the opener still open (its body ended without a terminal statement)
                kind, at = blocks.pop()
                if kind in accepted:
                    header = at
                    break
            if header is None and last_closed and last_closed[0] in accepted:
                header = last_closed[1]  # the opener's body ended with return/raise/...
            if header is None:
                raise RuntimeError(f"re-indent: '{line}' without its {opener} in {function}")
            out.append("    " * header + line)
            blocks.append((keyword, header))
            continue
        out.append("    " * level() + line)
        if line.startswith("#"):
            continue
        delta = _bracket_delta(line)
        if delta > 0:
            depth = delta
        elif line.endswith(":"):
            blocks.append((keyword, level()))
        elif _TERMINAL.match(line) and blocks:
            last_closed = blocks.pop()
    return "\n".join(out) + "\n"


def _bracket_delta(line: str) -> int:
    code = re.sub(r"(\"[^\"]*\"|'[^']*')", "", line.split(" #")[0])
    return sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")


def extract_flask(text: str) -> str:
    lines = _full_example(text)
    start, end = _block(lines, re.compile(r"^from flask import Flask"), re.compile(r"^app\.run\("), "Flask")
    return reindent_python(lines[start:end])


def _common_patches(lang: str) -> list[Patch]:
    q = '"'
    if lang == "js":
        users_old = ('{ userId: "USER_ID_1", role: "Manager" },\n{ userId: "USER_ID_2", role: "Editor" },\n'
                     '{ userId: "USER_ID_3", role: "Viewer" },')
        users_new = (f'{{ userId: "{MANAGER_ID}", role: "Manager" }},\n{{ userId: "{EDITOR_ID}", role: "Editor" }},\n'
                     f'{{ userId: "{VIEWER_ID}", role: "Viewer" }},')
        group_old = 'const HR_GROUP_ID = "GROUP_ID_HR";'
        group_new = f'const HR_GROUP_ID = "{HR_GROUP_ID}";'
        roles_old = "Manager: 4,\nEditor: 3,\nViewer: 1,"
        roles_new = "Manager: 9,\nEditor: 10,\nViewer: 2,"
        hr_old = "entries.push({ id: String(HR_GROUP_ID), isGroup: true, access: 1 });"
        hr_new = "entries.push({ id: String(HR_GROUP_ID), isGroup: true, access: 2 });"
        key_old = "const payload = { entries };"
        key_new = "const payload = { invitations: entries };"
    else:
        users_old = ('    {"userId": "USER_ID_1", "role": "Manager"},\n    {"userId": "USER_ID_2", "role": "Editor"},\n'
                     '    {"userId": "USER_ID_3", "role": "Viewer"},')
        users_new = (f'    {{"userId": "{MANAGER_ID}", "role": "Manager"}},\n    {{"userId": "{EDITOR_ID}", "role": "Editor"}},\n'
                     f'    {{"userId": "{VIEWER_ID}", "role": "Viewer"}},')
        group_old = 'HR_GROUP_ID = "GROUP_ID_HR"'
        group_new = f'HR_GROUP_ID = "{HR_GROUP_ID}"'
        roles_old = '    "Manager": 4,\n    "Editor": 3,\n    "Viewer": 1,'
        roles_new = '    "Manager": 9,\n    "Editor": 10,\n    "Viewer": 2,'
        hr_old = 'entries.append({"id": str(HR_GROUP_ID), "isGroup": True, "access": 1})'
        hr_new = 'entries.append({"id": str(HR_GROUP_ID), "isGroup": True, "access": 2})'
        key_old = 'payload = {"entries": entries}'
        key_new = 'payload = {"invitations": entries}'
    del q
    return [
        Patch("user and group ids",
              "the page's placeholders USER_ID_1..3 and GROUP_ID_HR, which it says to replace with your data, become "
              "the emulator's rachel.admin (manager), jane.doe (editor), gary.guest (viewer) and the HR group "
              "(configuration, not a change of behaviour; not GUIDs, the portal answers 400)",
              users_old, users_new, runtime=True),
        Patch("HR group id", "as above", group_old, group_new, runtime=True),
        Patch("share request key",
              "the sample sends PUT files/rooms/{id}/share with {\"entries\": [...]}; the portal's key is "
              "\"invitations\" (docs/docspace-api.md §2.4, §3), so as published nothing is shared and the call still answers "
              "200 {\"error\":0}: the access half of the automation never happens",
              key_old, key_new),
        Patch("access levels",
              "Manager 4 / Editor 3 / Viewer 1 and the HR group's 1 are FileShare Varies / Restrict / ReadWrite, "
              "which no room accepts (docs/docspace-api.md §2.4): with the key fixed the portal refuses the share with 403. "
              "The room roles are RoomManager 9, Editing 10, Read 2",
              roles_old, roles_new),
        Patch("HR group access", "as above: a group is Read (2), not ReadWrite (1), in a room", hr_old, hr_new),
    ]


def load(seed_file: Path) -> tuple[Sample, Sample]:
    text = seed_file.read_text()
    express = Sample("express", extract_express(text))
    express.patches = [
        Patch("listen port",
              "app.listen(3000) is fixed in the code; the benchmark gives each receiver a free port (PORT, as the "
              "Flask sample already reads)",
              "app.listen(3000, () => {", "app.listen(Number(process.env.PORT || 3000), () => {", runtime=True),
    ] + _common_patches("js")
    flask = Sample("flask", extract_flask(text))
    flask.patches = _common_patches("py")
    flask.notes.append("indentation restored (the page is HTML rendered to text): samples.reindent_python, "
                       "with the block ends of samples.PYTHON_BLOCK_ENDS")
    for s in (express, flask):
        s.notes.append("signature check: both sides lower-cased before comparing, so DocSpace's upper-case hex is "
                       "accepted as published (no hex-case patch needed; the run's probe checks it)")
    return express, flask


def check_syntax(sample: Sample, path: Path) -> None:
    if sample.name == "express":
        cmd = ["node", "--check", str(path)]
    else:
        cmd = ["/usr/bin/python3", "-m", "py_compile", str(path)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{sample.name} sample does not compile after extraction: {result.stderr[-2000:]}")
