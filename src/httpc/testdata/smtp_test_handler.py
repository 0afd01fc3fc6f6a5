"""aiosmtpd handlers for httpc's SendMail tests, loaded with `python3 -m aiosmtpd -c`.

SaveToDir(DIR): accepts every recipient and writes each message's raw content to DIR/<n>.eml
  (atomically), with the envelope in DIR/<n>.json.
RejectRcpt(DIR): refuses every RCPT with 550, so the mail is never accepted.
Busy(DIR): answers RCPT with 451 (a transient refusal, like greylisting).
"""
import itertools
import json
import os

_counter = itertools.count(1)


class SaveToDir:
    def __init__(self, directory):
        self.directory = directory

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("%s takes one argument: the output directory" % cls.__name__)
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        n = next(_counter)
        base = os.path.join(self.directory, str(n))
        with open(base + ".json.tmp", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        os.replace(base + ".json.tmp", base + ".json")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.replace(base + ".eml.tmp", base + ".eml")
        return "250 Message accepted for delivery"


class RejectRcpt(SaveToDir):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address


class Busy(SaveToDir):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "451 4.7.1 Please try again later"
