"""An aiosmtpd handler for notify's SmtpMailer tests, loaded with
`/usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_sink.ParsingSink DIR`.

Each accepted message is written to DIR/<n>.eml (the raw bytes, dot-unstuffed by aiosmtpd) and
DIR/<n>.json: the envelope plus what Python's own mail parser (email.policy.default, an implementation
independent of ours) reads from the message: decoded headers, parts and any defects it found.
Both files are written atomically, before the server answers 250.

Recipients whose local part starts with "reject5" get a permanent 550, "reject4" a temporary 451,
so one server covers accepted, permanently and temporarily refused mail.
"""
import email
import email.policy
import itertools
import json
import os

_counter = itertools.count(1)


def _write_atomically(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def _describe(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    headers = {}
    for name, value in msg.items():
        headers.setdefault(name, []).append(str(value))
        for defect in getattr(value, "defects", ()):
            headers.setdefault("_header_defects", []).append("%s: %s" % (name, defect))
    parts = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        parts.append({
            "content_type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "transfer_encoding": part.get("Content-Transfer-Encoding"),
            "text": part.get_content(),
            "defects": [str(d) for d in part.defects],
        })

    def addresses(name):
        header = msg.get(name)
        if header is None:
            return []
        return [{"name": a.display_name, "address": a.addr_spec} for a in header.addresses]

    return {
        "headers": headers,
        "subject": str(msg.get("Subject", "")),
        "from": addresses("From"),
        "to": addresses("To"),
        "cc": addresses("Cc"),
        "reply_to": addresses("Reply-To"),
        "message_id": str(msg.get("Message-ID", "")),
        "content_type": msg.get_content_type(),
        "parts": parts,
        "defects": [str(d) for d in msg.defects],
    }


class ParsingSink:
    def __init__(self, directory):
        self.directory = directory

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("%s takes one argument: the output directory" % cls.__name__)
        return cls(args[0])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("reject5"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if local.startswith("reject4"):
            return "451 4.2.1 <%s>: Mailbox busy, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(_counter)
        base = os.path.join(self.directory, str(n))
        raw = envelope.original_content
        record = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}
        try:
            record["parsed"] = _describe(raw)
        except Exception as e:  # reported to the test, which fails on it
            record["parse_error"] = repr(e)
        _write_atomically(base + ".eml", raw)
        _write_atomically(base + ".json", json.dumps(record, ensure_ascii=False).encode("utf-8"))
        return "250 Message accepted for delivery"
