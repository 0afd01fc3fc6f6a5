"""A loopback HTTP server for notify's ChatPoster tests, standing in for Slack, Teams and generic webhooks.

Usage: chat_test_server.py READY_FILE RECORD_DIR. Binds 127.0.0.1:0 and writes {"port": N} to READY_FILE
(atomically) once listening. Every request is recorded, before it is answered, as RECORD_DIR/<n>.json:
{"method", "path", "headers" (names lower-cased), "body"}. Stopped by the test with SIGTERM.

The path says how to answer:
  /status/<code>[?retry_after=V][&body=TEXT]  that status, with Retry-After: V and TEXT as the body
  /teams-legacy-failure/<code>                200 with the body Teams' old connectors send on failure
  anything else                               200 "ok" (what Slack answers)
"""
import itertools
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_lock = threading.Lock()
_counter = itertools.count(1)


def _write_atomically(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    record_dir = None

    def log_message(self, *args):
        pass

    def _answer(self, code, body, headers=()):
        data = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with _lock:
            n = next(_counter)
        record = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        _write_atomically(os.path.join(self.record_dir, "%d.json" % n), json.dumps(record).encode("utf-8"))

        url = urlsplit(self.path)
        query = parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        if parts[0] == "status" and len(parts) > 1:
            headers = []
            if "retry_after" in query:
                headers.append(("Retry-After", query["retry_after"][0]))
            return self._answer(int(parts[1]), query.get("body", [""])[0], headers)
        if parts[0] == "teams-legacy-failure" and len(parts) > 1:
            return self._answer(200, "Webhook message delivery failed with error: Microsoft Teams endpoint "
                                     "returned HTTP error %s with ContextId tcid=0,server=test,cv=x" % parts[1])
        return self._answer(200, "ok")

    do_POST = do_PUT = _handle


def main():
    Handler.record_dir = sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ready = sys.argv[1]
    with open(ready + ".tmp", "w") as f:
        json.dump({"port": server.server_address[1], "pid": os.getpid()}, f)
    os.replace(ready + ".tmp", ready)
    server.serve_forever()


if __name__ == "__main__":
    main()
