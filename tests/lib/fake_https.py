"""fake_https.py - a fake HTTPS server for tests: real TLS, recorded responses, scripted faults.

At start it makes a throw-away PKI with the `openssl` CLI in a temp dir (a CA, and a server
certificate for 127.0.0.1 and localhost signed by it), then serves on 127.0.0.1 on a free port,
one thread per connection, HTTP/1.1 with keep-alive. It stops by itself after `lifetime`
seconds, so a test that forgets it (or dies) never leaves it running.

    from fake_https import FakeHTTPS, resp
    with FakeHTTPS() as srv:
        srv.route("/apis", resp(json={"kind": "APIGroupList"}))
        srv.route("/list", resp(429, headers={"Retry-After": "1"}), resp(json={"items": []}))
        srv.route("/list", resp(json=page2), query={"continue": "abc"})
        ... srv.url, srv.ca_file, srv.ca_pem ...
        srv.requests  # what clients sent: [Request(method, path, query, headers, client_cn)]

Routes: a request goes to the route whose path equals the request's path and whose `query`
items are all in the request's query string; the route with the most query items wins (the
first added on a tie). No route: 404 with {"error": "no route"} (set `srv.not_found` to change
it). A route holds a script of responses: each request takes the next one, and the last one
repeats for ever. `srv.route()` again for the same path and query replaces the script.

resp(status, body=..., json=..., headers=..., delay=..., fault=..., size=..., gzip=...):
  body     bytes or str; json: any JSON value (sets Content-Type: application/json)
  delay    seconds to wait before answering (a slow server; the client may give up first)
  fault    None, "truncate" (announces the full Content-Length, sends half the body, closes),
           "drop" (closes the connection without any answer) or "huge" (announces and streams
           `size` bytes of JSON-looking filler; the client is expected to give up)
  gzip     compress the body when the client accepts gzip (Content-Encoding: gzip)

POST: the body is read (at most 8 MiB) and kept in Request.body, then routed like a GET.
`srv.validate(path, fn)` checks every POST body to path first: fn(body bytes) returns None or
why the body breaks the receiver's documented format; a bad body is answered 400 with
{"error": why} and logged in `srv.invalid` as (path, why), so a test asserts it stays empty.

Mutual TLS: FakeHTTPS(client_certs=True) asks every client for a certificate signed by its
CA (connections without one are refused during the handshake); make_client_cert(cn) issues
one, and Request.client_cn tells which one a request came with.
"""
import gzip as gzip_module
import http.server
import json as json_module
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections import namedtuple

Request = namedtuple("Request", "method path query headers client_cn body", defaults=(b"",))


def resp(status=200, body=None, json=None, headers=None, delay=0, fault=None, size=0,
         gzip=False):
    if fault not in (None, "truncate", "drop", "huge"):
        raise ValueError("unknown fault %r" % fault)
    h = dict(headers or {})
    if json is not None:
        body = json_module.dumps(json)
        h.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode("utf-8")
    return {"status": status, "body": body or b"", "headers": h, "delay": delay,
            "fault": fault, "size": size, "gzip": gzip}


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True,
                   timeout=30)


def _new_key_csr(cwd, name, cn):
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn,
             cwd=cwd)


def _sign(cwd, name, ext):
    with open(os.path.join(cwd, name + ".ext"), "w") as f:
        f.write(ext)
    _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-out", name + ".crt", "-extfile", name + ".ext",
             cwd=cwd)


def make_pki(cwd, ca_cn="polsnap-test-ca"):
    """Writes ca.{crt,key} and server.{crt,key} (for IP 127.0.0.1 and localhost) into cwd."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj",
             "/CN=" + ca_cn, "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=cwd)
    _new_key_csr(cwd, "server", "127.0.0.1")
    _sign(cwd, "server", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
          "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, so a client that
        # stalls or fails the handshake cannot block the accept loop.
        try:
            request.settimeout(30)
            tls = self.fake.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass  # clients that hang up (timeouts, size limits) are what the tests provoke


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-https"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(n, 8 << 20)) if n > 0 else b""
        self.do_GET(body)

    def do_GET(self, body=None):
        fake = self.server.fake
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        cn = None
        cert = self.connection.getpeercert()
        if cert:
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
        headers = {k.lower(): v for k, v in self.headers.items()}
        method = "GET" if body is None else "POST"
        request = Request(method, url.path, query, headers, cn, body or b"")
        why = fake._check(url.path, request)
        r = resp(400, json={"error": why}) if why else fake._take(url.path, query, request)
        self._send(r, headers)

    def _wait(self, seconds):
        end = time.time() + seconds
        while time.time() < end and not self.server.fake.stopped.is_set():
            time.sleep(0.02)

    def _send(self, r, req_headers):
        if r["delay"]:
            self._wait(r["delay"])
        if r["fault"] == "drop":
            self.close_connection = True
            return
        body = r["body"]
        headers = dict(r["headers"])
        if r["gzip"] and "gzip" in req_headers.get("accept-encoding", ""):
            body = gzip_module.compress(body)
            headers["Content-Encoding"] = "gzip"
        length = r["size"] if r["fault"] == "huge" else len(body)
        self.send_response(r["status"])
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if r["fault"] == "truncate":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif r["fault"] == "huge":
            self.close_connection = True
            self.wfile.write(b'{"items":[')
            chunk = b'{"kind":"filler"},' * 3640  # ~64 KiB
            sent = 10
            while sent + len(chunk) <= length and not self.server.fake.stopped.is_set():
                self.wfile.write(chunk)
                sent += len(chunk)
            self.wfile.write(b" " * (length - sent))
        else:
            self.wfile.write(body)


class FakeHTTPS:
    def __init__(self, lifetime=120, client_certs=False):
        self.dir = tempfile.mkdtemp(prefix="polsnap-fake-https-")
        make_pki(self.dir)
        self.ca_file = os.path.join(self.dir, "ca.crt")
        with open(self.ca_file) as f:
            self.ca_pem = f.read()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(os.path.join(self.dir, "server.crt"),
                                     os.path.join(self.dir, "server.key"))
        if client_certs:
            self.context.verify_mode = ssl.CERT_REQUIRED
            self.context.load_verify_locations(self.ca_file)
        self.not_found = resp(404, json={"error": "no route"})
        self.requests = []
        self.invalid = []
        self._validators = {}
        self._routes = []  # [path, query dict, script list, next index]
        self._lock = threading.Lock()
        self.stopped = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        self.url = "https://127.0.0.1:%d" % self.port
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()

    def route(self, path, *responses, query=None):
        if not responses:
            raise ValueError("route needs at least one response")
        query = dict(query or {})
        with self._lock:
            self._routes = [r for r in self._routes if not (r[0] == path and r[1] == query)]
            self._routes.append([path, query, list(responses), 0])

    def validate(self, path, fn):
        self._validators[path] = fn

    def _check(self, path, request):
        fn = self._validators.get(path)
        if request.method != "POST" or fn is None:
            return None
        try:
            why = fn(request.body)
        except Exception as e:  # a body the validator cannot even read is invalid too
            why = "unreadable body: %r" % e
        if why:
            with self._lock:
                self.requests.append(request)
                self.invalid.append((path, why))
        return why

    def clear(self):
        """Forgets every route and logged request."""
        with self._lock:
            self._routes = []
            self.requests = []
            self.invalid = []

    def _take(self, path, query, request):
        with self._lock:
            self.requests.append(request)
            best = None
            for r in self._routes:
                if r[0] == path and all(query.get(k) == v for k, v in r[1].items()):
                    if best is None or len(r[1]) > len(best[1]):
                        best = r
            if best is None:
                return self.not_found
            script, i = best[2], best[3]
            best[3] = min(i + 1, len(script) - 1)
            return script[i]

    def make_client_cert(self, cn):
        """Issues a client certificate signed by this server's CA; returns (cert, key) paths."""
        name = "client-" + "".join(c if c.isalnum() else "_" for c in cn)
        _new_key_csr(self.dir, name, cn)
        _sign(self.dir, name, "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
        return os.path.join(self.dir, name + ".crt"), os.path.join(self.dir, name + ".key")

    def stop(self):
        if self.stopped.is_set():
            return
        self.stopped.set()
        self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
