"""A small HTTP/1.1 server for httpc's tests: keep-alive, a connection counter, echo, sleep, drop.

Usage: http_test_server.py READY_FILE. Binds 127.0.0.1:0 and writes {"port": N} to READY_FILE
(atomically) once listening. Stopped by the test with SIGTERM.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

lock = threading.Lock()
connections = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        global connections
        with lock:
            connections += 1
        super().setup()

    def log_message(self, *args):
        pass

    def _answer(self, code, body=b"", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path == "/conns":
            with lock:
                n = connections
            return self._answer(200, json.dumps({"connections": n}).encode())
        if url.path == "/sleep":
            time.sleep(int(query.get("ms", ["1000"])[0]) / 1000.0)
            return self._answer(200, b"{}")
        if url.path == "/drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if url.path == "/status":
            code = int(query.get("code", ["200"])[0])
            headers = [("X-Test-Header", "Mixed Case Value")]
            if "location" in query:
                headers.append(("Location", query["location"][0]))
            return self._answer(code, b'{"status":"given"}', headers)
        echo = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        return self._answer(200, json.dumps(echo).encode(), [("X-Echo", "yes")])

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ready = sys.argv[1]
    with open(ready + ".tmp", "w") as f:
        json.dump({"port": server.server_address[1], "pid": os.getpid()}, f)
    os.replace(ready + ".tmp", ready)
    server.serve_forever()


if __name__ == "__main__":
    main()
