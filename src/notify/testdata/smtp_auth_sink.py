"""An SMTP server that offers AUTH but no STARTTLS, for the test that the mailer never sends a password in
clear text unless told to (mail.allow_plaintext_auth):

    /usr/bin/python3 smtp_auth_sink.py PORT DIR

aiosmtpd on 127.0.0.1:PORT with smtp_sink.ParsingSink (messages in DIR/<n>.eml and .json) and AUTH PLAIN /
LOGIN advertised over plain text (auth_require_tls=False, which aiosmtpd's command line cannot set). Every
credential a client sends is appended to DIR/auth.jsonl ({"mechanism", "login", "password"}) before the
answer, and accepted. Runs until SIGTERM.
"""
import json
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from smtp_sink import ParsingSink


class RecordingAuthenticator:
    def __init__(self, path):
        self.path = path

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
        else:
            login, password = repr(auth_data), ""
        with open(self.path, "a") as out:
            out.write(json.dumps({"mechanism": mechanism, "login": login, "password": password}) + "\n")
            out.flush()
            os.fsync(out.fileno())
        return AuthResult(success=True)


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    controller = Controller(ParsingSink(directory), hostname="127.0.0.1", port=port, auth_require_tls=False,
                            authenticator=RecordingAuthenticator(os.path.join(directory, "auth.jsonl")))
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()


if __name__ == "__main__":
    main()
