"""test_security.py - the hardening README "Security" states, through the real lighttpd with the
project's lighttpd.conf: the security headers on every kind of answer (static, FastCGI, errors,
before the first snapshot), a dashboard with no inline script or style (what the CSP allows),
no directory listings, nothing but GET and HEAD reaching a file or a renderer, a data directory
others may write to refused, and tokens never in the logs."""
import hashlib
import html.parser
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401

HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; worker-src 'self'; "
                               "manifest-src 'self'; base-uri 'none'; form-action 'none'; "
                               "frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def security_headers(r):
    return {k: r.header(k) for k in HEADERS}


data = tempdir()
srv = Server(data)


@test
def every_answer_carries_the_security_headers():
    eq(security_headers(get(srv, "/v1/namespaces")), HEADERS, "503 before the first snapshot")
    eq(snapshot("--source", "files:" + SAMPLES, "--data", data).returncode, 0, "a snapshot")
    cases = [("/", 200), ("/app.css", 200), ("/js/app.js", 200), ("/v1/namespaces", 200),
             ("/v1/namespaces?status=fail", 200), ("/metrics", 200), ("/v1/ping", 200),
             ("/healthz", 200), ("/nope", 404), ("/v1/nope", 404), ("/v1/namespaces?page=x", 400)]
    for path, status in cases:
        r = get(srv, path)
        eq((r.status, security_headers(r)), (status, HEADERS), "%s: %d with the headers" % (path, status))
    r = get(srv, "/v1/namespaces", method="POST", body=b"")
    eq((r.status, security_headers(r)), (405, HEADERS), "a 405 too")
    r = get(srv, "/v1/namespaces", headers={"X-Big": "a" * 20000})
    eq((r.status, security_headers(r)), (431, HEADERS), "a 431 too")
    for qs in ("", "?status=fail"):
        r = get(srv, "/v1/html-report/violations" + qs)
        csp = r.header("content-security-policy") or ""
        eq((r.status, csp.startswith("default-src 'none'; style-src 'sha256-"),
            {k: r.header(k) for k in HEADERS if k != "content-security-policy"}),
           (200, True, {k: v for k, v in HEADERS.items() if k != "content-security-policy"}),
           "/v1/html-report/violations%s keeps its own stricter policy, and the others" % qs)


class Inline(html.parser.HTMLParser):
    """Collects what a CSP without 'unsafe-inline' blocks: inline scripts and styles, style
    attributes, event handler attributes, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found, self._script = [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and "src" not in a:
            self._script = True
        if tag == "style":
            self.found.append("<style>")
        for k, v in attrs:
            if k == "style" or k.startswith("on") or (v or "").strip().startswith("javascript:"):
                self.found.append("%s %s=%r" % (tag, k, v))

    def handle_data(self, d):
        if self._script and d.strip():
            self.found.append("inline script: " + d.strip()[:60])

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = False


@test
def the_dashboard_has_no_inline_script_or_style():
    pages = []
    for top, _, files in os.walk(os.path.join(ROOT, "www")):
        pages += [os.path.join(top, f) for f in files if f.endswith(".html")]
    check(pages, "www/ has pages")
    for page in pages:
        p = Inline()
        with open(page) as f:
            p.feed(f.read())
        eq(p.found, [], os.path.relpath(page, ROOT) + ": nothing the CSP would block")
    js = []
    for top, _, files in os.walk(os.path.join(ROOT, "www")):
        for f in files:
            if f.endswith(".js"):
                with open(os.path.join(top, f)) as fh:
                    text = fh.read()
                js += ["%s: %s" % (f, w) for w in ("innerHTML", "outerHTML", "insertAdjacentHTML",
                                                     "eval(", "new Function", "'style'", '"style"')
                       if w in text]
    eq(js, [], "the scripts neither write markup from strings nor set style attributes")


@test
def no_directory_listings():
    for path in ("/js/", "/_snap/", "/_snap/v1/", "/_api/", "/v1/"):
        r = get(srv, path)
        eq((r.status, r.json()["code"]), (404, 5), "%s: 404, not a listing" % path)
    r = get(srv, "/js")
    eq((r.status, r.header("location"), r.body), (301, "/js/", b""),
       "/js: lighttpd's redirect to /js/, which is a 404")


@test
def only_get_and_head_reach_anything():
    for method in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "PROPFIND"):
        body = b"" if method in ("POST", "PUT", "PATCH") else None
        r = get(srv, "/v1/namespaces", method=method, body=body)
        msg = "method %s is not allowed on /v1/namespaces: use GET" % method
        eq((r.status, r.json()), (405, error_body(12, msg)), "%s /v1/namespaces: 405" % method)
        for path in ("/app.css", "/", "/_snap/index.bin"):
            r = get(srv, path, method=method, body=body)
            eq((r.status, r.json()), (404, error_body(5, "no such endpoint: " + path)),
               "%s %s: 404, the file is not served" % (method, path))
    eq(get(srv, "/app.css", method="HEAD").status, 200, "HEAD of a file is served")


@test
def a_data_directory_others_may_write_is_refused():
    d = tempdir()
    os.chmod(d, 0o777)
    try:
        Server(d)
        check(False, "lighttpd started on a world-writable data directory")
    except RuntimeError as e:
        check("%s is writable by others (mode 777): refusing to serve it; chmod o-w %s" % (d, d)
              in str(e), "lighttpd refuses to start and says why", str(e)[-400:])
    os.chmod(d, 0o755)
    shutil.rmtree(d)


@test
def tokens_never_reach_the_logs():
    tokdir = tempdir()
    tokfile = os.path.join(tokdir, "tokens")
    with open(tokfile, "w") as f:
        f.write("%s admin Admin -\n" % hashlib.sha256(b"s3cret-admin-token").hexdigest())
    s = Server(data, env={"POLSNAP_TOKENS": tokfile})
    for token in ("s3cret-admin-token", "wr0ng-guess-token"):
        for path in ("/v1/namespaces", "/v1/namespaces?status=fail", "/v1/nope"):
            get(s, path, headers={"Authorization": "Bearer " + token})
    eq(get(s, "/v1/namespaces", headers={"Authorization": "Bearer s3cret-admin-token"}).status, 200,
       "the token works")
    log = s.logtext()
    check("s3cret-admin-token" not in log and "wr0ng-guess-token" not in log
          and "Bearer" not in log, "neither token nor the Authorization header is logged", log[-600:])
    s.stop()
    shutil.rmtree(tokdir)


run()
