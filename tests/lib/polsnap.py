"""polsnap.py - what the integration tests share: the real lighttpd with the project's own
lighttpd.conf on a free loopback port, the real snapshot binary, HTTP on 127.0.0.1, and TAP.

A test file:
    from polsnap import *
    @test
    def namespaces_are_sorted():
        eq(get(srv, "/v1/namespaces").json(), ["a", "b"], "namespaces")
    run()
Each eq/check is one TAP line; a test that raises counts as one failure.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.environ.get("POLSNAP_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("POLSNAP_BIN") or os.path.join(ROOT, "bin")
SANITIZED = "build-san" in BIN  # the binaries under test are make SAN=1's
SAMPLES = os.path.join(ROOT, "samples")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")

_n = 0
_failed = 0
_tests = []


def _line(ok, name, detail=None):
    global _n, _failed
    _n += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (_n, name))
    if not ok:
        _failed += 1
        for l in str(detail or "").splitlines()[:40]:
            print("#   " + l)
    sys.stdout.flush()
    return ok


def check(cond, name, detail=None):
    return _line(bool(cond), name, detail)


def eq(got, want, name):
    if got == want:
        return _line(True, name)
    def show(v):
        if isinstance(v, (str, bytes)):
            return repr(v)
        return json.dumps(v, indent=1, sort_keys=True, default=lambda b: b.decode("utf-8", "replace"))
    return _line(False, name, "got:  %s\nwant: %s" % (show(got), show(want)))


def skip(name, reason):
    """One TAP line for a test that cannot run here, saying why (counted as passed)."""
    global _n
    _n += 1
    print("ok %d - %s # SKIP %s" % (_n, name, reason))
    sys.stdout.flush()


def test(fn):
    _tests.append(fn)
    return fn


def run():
    """Runs the registered tests in order, prints the TAP plan, exits 1 on any failure."""
    for fn in _tests:
        try:
            fn()
        except Exception:
            _line(False, "%s raised" % fn.__name__, traceback.format_exc())
    print("1..%d" % _n)
    Server.stop_all()
    sys.exit(1 if _failed else 0)


def make(*args, timeout=600):
    """make ARGS in the repository, as a developer would type it (not as a sub-make of the make
    test running this); the binaries under test are the ones it installs (SAN=1 when they are
    the sanitizer build). Returns CompletedProcess (text stdout/stderr)."""
    env = {k: v for k, v in os.environ.items() if k not in (
        "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DESTDIR", "PREFIX", "SYSCONFDIR", "LOCALSTATEDIR", "UNITDIR")}
    if SANITIZED:
        env["SAN"] = "1"
    return subprocess.run(["make", "--no-print-directory", "-s", "-C", ROOT] + list(args), env=env,
                          capture_output=True, text=True, timeout=timeout)


def package_version():
    """The Debian package's version, 0.1.0-1, from deploy/debian/changelog; the upstream part
    (0.1.0) tags the container image."""
    with open(os.path.join(ROOT, "deploy", "debian", "changelog")) as f:
        return f.readline().split("(")[1].split(")")[0]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tempdir(prefix="polsnap-test-"):
    return tempfile.mkdtemp(prefix=prefix)


def two_data_sets(page_limit):
    """The samples and a generated set whose answers differ everywhere, for the tests that swap
    snapshots under load: (dir A, dir B, their models, paths asked, {(path, qs): both rendered
    answers})."""
    import model
    a_dir, b_dir = os.path.relpath(SAMPLES, os.getcwd()), tempdir()
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "lib", "gen_reports.py"),
                    "--results", "3000", "--out", b_dir, "--seed", "7"], check=True,
                   capture_output=True)
    models = model.load([a_dir], default=False), model.load([b_dir], default=False)
    paths = [("/v1/namespaces", ""), ("/v1/namespaced-resources/results", ""),
             ("/v1/namespaced-resources/results", "status=fail&pagination.limit=%d" % page_limit),
             ("/v1/cluster-resources/status-counts", "pretty"),
             ("/v1/namespaced-resources/status-counts", "sources=Kyverno"),
             ("/v1/namespaced-resources/policies", "status=fail")]
    expect = {(path, qs): {model.render(m.answer(path, qs)[1], pretty=(qs == "pretty"))
                           for m in models} for path, qs in paths}
    return a_dir, b_dir, models, paths, expect


def snapshot(*args, env=None, timeout=120):
    """Runs bin/polsnap-snapshot with args; returns CompletedProcess (text stdout/stderr)."""
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([os.path.join(BIN, "polsnap-snapshot")] + list(args), env=e,
                          capture_output=True, text=True, timeout=timeout)


_faults_so = []


def fault_env(spec):
    """The environment that makes a binary's fsync() or close() fail with EIO (tests/lib/faults.c;
    spec "fsync:PATH" or "close:SUBSTRING"); the library is built once per test run."""
    if not _faults_so:
        so = os.path.join(tempfile.mkdtemp(prefix="polsnap-faults-"), "faults.so")
        subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", so,
                        os.path.join(ROOT, "tests", "lib", "faults.c"), "-ldl"], check=True)
        _faults_so.append(so)
    asan = os.environ.get("ASAN_OPTIONS", "")
    return {"LD_PRELOAD": _faults_so[0], "POLSNAP_FAULT": spec,
            "ASAN_OPTIONS": "verify_asan_link_order=0" + (":" + asan if asan else "")}


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


class Server:
    """lighttpd -D -f lighttpd.conf with POLSNAP_DATA=data on a free 127.0.0.1 port. env
    overrides the environment; a value None removes that variable. wrap prefixes the command
    (chroot into an image, for one)."""
    running = []

    def __init__(self, data, env=None, conf=None, wrap=()):
        self.data = data
        self.port = free_port()
        self.rundir = tempfile.mkdtemp(prefix="polsnap-run-")
        e = dict(os.environ)
        e.update({"POLSNAP_ROOT": ROOT, "POLSNAP_DATA": data, "POLSNAP_PORT": str(self.port),
                  "POLSNAP_BIND": "127.0.0.1", "POLSNAP_RUN": self.rundir,
                  "POLSNAP_FCGI": os.path.join(BIN, "polsnap-fcgi")})
        e.update(env or {})
        e = {k: v for k, v in e.items() if v is not None}
        self.log = open(os.path.join(self.rundir, "lighttpd.log"), "w+")
        self.proc = subprocess.Popen(list(wrap) + ["lighttpd", "-D", "-f", conf or os.path.join(ROOT, "lighttpd.conf")],
                                     env=e, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError("lighttpd exited: " + self.log.read())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise RuntimeError("lighttpd did not listen on %d" % self.port)
        Server.running.append(self)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self in Server.running:
            Server.running.remove(self)
        shutil.rmtree(self.rundir, ignore_errors=True)

    def logtext(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    @classmethod
    def stop_all(cls):
        for s in list(cls.running):
            s.stop()


def get(srv, path, method="GET", headers=None, body=None, timeout=15):
    """One HTTP request to srv (a Server or a port); returns Response. Header names lower-case."""
    port = srv.port if isinstance(srv, Server) else srv
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        c.close()


def error_body(code, message):
    """The spec's error format (section 4), as the parsed JSON a response must equal."""
    return {"code": code, "message": message, "error": message, "details": []}
