"""An SMTP server that requires AUTH (PLAIN/LOGIN over plain text: loopback tests only), for httpc's
login check. Usage: smtp_auth_server.py PORT USER PASSWORD LOG

Each AUTH attempt is appended to LOG as "<mechanism> ok|refused"; accepted messages are discarded.
Runs until SIGTERM.
"""
import signal
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Discard:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def main():
    port, user, password, log = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3].encode(), sys.argv[4]

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == user and auth_data.password == password
        with open(log, "a") as f:
            f.write(f"{mechanism} {'ok' if ok else 'refused'}\n")
        # handled=False: aiosmtpd answers 535 itself (with the default it answers nothing at all).
        return AuthResult(success=ok, handled=False)

    controller = Controller(Discard(), hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
