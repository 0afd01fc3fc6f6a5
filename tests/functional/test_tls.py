"""In-process TLS and `server.require_https`, through the real binary and its configuration.

src/http/server_tls_test.cpp proves the TLS server (handshake, keep-alive, bad certificate files) and
src/ingress/webhook_handler_test.cpp the require_https decision (ArrivedOverHttps) on requests built in
memory. What only the binary can show is here: `server.tls` read from a config file and served, DocSpace's
sender (the emulator) delivering over HTTPS and trusting exactly the certificate it was given, and
`require_https` + `trusted_proxies` judged on the real peer address of a TCP connection (loopback has a
whole /8: a client bound to 127.0.0.2 is "the proxy", 127.0.0.1 is anyone else).

The certificate is made here with the openssl CLI: self-signed, for 127.0.0.1 and localhost.
"""
import http.client
import json
import socket
import subprocess

import pytest
import requests

from conftest import spacehook_bin
from test_ingress import SECRET, WEBHOOK_PATH, Service, envelope, signature
from loopback import wait_for
from test_runner import Portal

PROXY = "127.0.0.2"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """(cert.pem, key.pem) of a self-signed certificate for 127.0.0.1 / localhost, and another one."""
    out = {}
    for name in ("server", "other"):
        d = tmp_path_factory.mktemp(f"tls-{name}")
        cert, key = d / "cert.pem", d / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                        str(cert), "-days", "2", "-subj", f"/CN=spacehook {name}",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True, timeout=60)
        out[name] = (cert, key)
    return out


def tls_config(cert, key, extra=""):
    return f"server:\n  tls: {{ certificate: {cert}, private_key: {key} }}\n{extra}"


def https_post(port, body, cert, headers=None):
    h = {"Content-Type": "application/json; charset=utf-8", "x-docspace-signature-256": signature(body)}
    h.update(headers or {})
    return requests.post(f"https://127.0.0.1:{port}{WEBHOOK_PATH}", data=body, headers=h, verify=str(cert), timeout=10)


def plain_request(port, method, body=b"", headers=None, source=None):
    """One HTTP/1.1 request from `source` (an address to bind, e.g. the proxy's); returns (status, json)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                      source_address=(source, 0) if source else None)
    try:
        h = {"Content-Type": "application/json; charset=utf-8"}
        if body:
            h["x-docspace-signature-256"] = signature(body)
        h.update(headers or {})
        conn.request(method, WEBHOOK_PATH, body=body or None, headers=h)
        r = conn.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)
    finally:
        conn.close()


def test_https_deliveries_are_stored_and_plain_http_on_the_tls_port_is_not(procs, tmp_path, certificate):
    cert, key = certificate["server"]
    s = Service(procs, tmp_path, config=tls_config(cert, key))
    assert "tls=true" in s.proc.output()
    r = https_post(s.proc.port, envelope(event_id=1), cert)
    assert r.status_code == 202 and r.json() == {"status": "stored"}
    assert https_post(s.proc.port, envelope(event_id=1), cert).json() == {"status": "duplicate"}
    # The probe DocSpace sends before it saves a subscription, over TLS.
    assert requests.head(f"https://127.0.0.1:{s.proc.port}{WEBHOOK_PATH}", verify=str(cert), timeout=10).status_code == 200

    # A client that does not trust this certificate gets no answer it could mistake for the service's.
    with pytest.raises(requests.exceptions.SSLError):
        https_post(s.proc.port, envelope(event_id=2), certificate["other"][0])
    # Plain HTTP on the TLS port is never served: no HTTP response comes back, nothing is stored.
    with socket.create_connection(("127.0.0.1", s.proc.port), timeout=10) as raw:
        body = envelope(event_id=3)
        raw.sendall(b"POST /docspace/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"x-docspace-signature-256: " + signature(body).encode() + b"\r\nContent-Length: "
                    + str(len(body)).encode() + b"\r\n\r\n" + body)
        raw.settimeout(10)
        received = b""
        try:
            while chunk := raw.recv(4096):
                received += chunk
        except ConnectionResetError:
            pass
        assert not received.startswith(b"HTTP/"), received[:80]
    assert [e["event_id"] for e in s.events()] == ["1"]
    # /healthz is on the TLS listener too.
    assert requests.get(f"https://127.0.0.1:{s.proc.port}/healthz", verify=str(cert), timeout=10).json() == {"status": "ok"}


def test_the_emulator_delivers_over_https_trusting_the_given_certificate(procs, tmp_path, certificate):
    cert, key = certificate["server"]
    s = Service(procs, tmp_path, config=tls_config(cert, key, "  require_https: true\n"))
    url = f"https://127.0.0.1:{s.proc.port}{WEBHOOK_PATH}"

    # ssl: true verifies. Without being told about the certificate the portal's HEAD probe fails, so the
    # subscription is refused (docs/docspace-api.md §1.10) ...
    (tmp_path / "untrusting").mkdir()
    plain_portal = Portal(procs, tmp_path / "untrusting")
    refused = requests.post(f"{plain_portal.url}/api/2.0/settings/webhook",
                            headers={"Authorization": "Bearer sk-emulator-owner"}, timeout=30,
                            json={"name": "tls", "uri": url, "secretKey": SECRET, "enabled": True, "ssl": True})
    assert refused.status_code >= 400, refused.text

    # ... and with --ca-file it is accepted and every delivery lands over TLS.
    ready = tmp_path / "trusting.ready"
    portal = procs.start([spacehook_bin(), "emulator", "--listen", "127.0.0.1:0", "--ready-file", str(ready),
                          "--retry-base", "0.05", "--ca-file", str(cert)], ready, log_path=tmp_path / "trusting.log")
    owner = {"Authorization": "Bearer sk-emulator-owner"}
    created = requests.post(f"{portal.url}/api/2.0/settings/webhook", headers=owner, timeout=30,
                            json={"name": "tls", "uri": url, "secretKey": SECRET, "enabled": True, "ssl": True,
                                  "triggers": 0})
    assert created.status_code == 200, created.text
    for title in ("A.docx", "B.docx"):
        r = requests.post(f"{portal.url}/__emulator/upload", json={"user": "owner", "folderId": 6, "title": title},
                          timeout=30)
        assert r.status_code == 200, r.text
    assert requests.post(f"{portal.url}/__emulator/wait-idle?timeoutMs=10000", timeout=30).json()["idle"]
    attempts = requests.get(f"{portal.url}/__emulator/deliveries", timeout=30).json()
    assert len(attempts) == 4 and all(a["status"] == 202 and a["url"] == url for a in attempts), attempts
    events = wait_for(lambda: s.events() if len(s.events()) == 4 else None, 10, "4 events journaled")
    assert sorted(e["trigger"] for e in events) == ["file.created", "file.created", "file.uploaded", "file.uploaded"]


def test_require_https_believes_x_forwarded_proto_only_from_a_trusted_proxy(procs, tmp_path):
    try:
        socket.create_connection(("127.0.0.1", 1), timeout=1, source_address=(PROXY, 0)).close()
    except ConnectionRefusedError:
        pass  # bound to PROXY fine; nothing listens on port 1
    except OSError as e:
        pytest.skip(f"cannot bind {PROXY} on loopback: {e}")
    s = Service(procs, tmp_path, config=f"server:\n  require_https: true\n  trusted_proxies: [{PROXY}]\n")
    port = s.proc.port
    forwarded = {"X-Forwarded-Proto": "https"}

    # Anyone but the proxy: plain HTTP is refused, and so is the proxy's header when anyone else sends it.
    assert plain_request(port, "POST", envelope(event_id=1)) == (403, {"error": "forbidden"})
    assert plain_request(port, "POST", envelope(event_id=2), headers=forwarded) == (403, {"error": "forbidden"})
    assert plain_request(port, "HEAD", headers=forwarded)[0] == 403
    # The proxy: believed when it says the client came over HTTPS, refused when it does not say so.
    assert plain_request(port, "POST", envelope(event_id=3), source=PROXY) == (403, {"error": "forbidden"})
    assert plain_request(port, "POST", envelope(event_id=4), headers={"X-Forwarded-Proto": "http"},
                         source=PROXY) == (403, {"error": "forbidden"})
    assert plain_request(port, "POST", envelope(event_id=5), headers=forwarded, source=PROXY) == \
        (202, {"status": "stored"})
    # A chain: the last entry is the one the trusted proxy appended.
    assert plain_request(port, "POST", envelope(event_id=6), headers={"X-Forwarded-Proto": "http, https"},
                         source=PROXY)[0] == 202
    assert plain_request(port, "POST", envelope(event_id=7), headers={"X-Forwarded-Proto": "https, http"},
                         source=PROXY)[0] == 403
    assert plain_request(port, "HEAD", headers=forwarded, source=PROXY)[0] == 200

    assert sorted(e["event_id"] for e in s.events()) == ["5", "6"]
    assert 'spacehook_deliveries_total{outcome="insecure_transport"} 5' in s.metrics()
    assert "plain-HTTP delivery refused (server.require_https)" in s.proc.output()
    # /healthz stays reachable over plain HTTP (probes come from inside; /metrics is on the admin listener).
    assert requests.get(s.url + "/healthz", timeout=10).status_code == 200
