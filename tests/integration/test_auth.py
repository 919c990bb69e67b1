"""test_auth.py - bearer tokens through lighttpd (spec section 4): every endpoint without a token,
with each role, expired, namespace-limited; the tokens file re-read while the server runs
(revoking and adding tokens), failing closed on a malformed or missing file; answers compared
with the oracle (tests/lib/model.py), and unfiltered answers shown to be the snapshot's own files
handed over by X-Sendfile."""
import copy
import hashlib
import os
import sys
import time
from urllib.parse import quote

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401
import model  # noqa: E402

SAMPLES_REL = os.path.relpath(SAMPLES, os.getcwd())
NS, CL = "/v1/namespaced-resources", "/v1/cluster-resources"
LIMITED_TO = ["payments", "argocd", "ghost"]  # ghost: a namespace without rows

data = tempdir()
assert snapshot("--source", "files:" + SAMPLES_REL, "--data", data).returncode == 0
oracle = model.load([SAMPLES_REL])
limited = copy.copy(oracle)  # what a token limited to LIMITED_TO may see
limited.rows = [r for r in oracle.rows if not r["_cluster"] and r["namespace"] in LIMITED_TO]
limited._by_id = {}

TOKENS = {  # token -> (name, role, expires, namespaces)
    "tok-admin": ("admin", "Admin", "-", None),
    "tok-reader": ("ci@example", "Reader", "2999-01-01T00:00:00Z", None),
    "tok-metrics": ("prometheus", "Metrics", "-", None),
    "tok-expired": ("old", "Reader", "2020-01-01T00:00:00+01:00", None),
    "tok-limited": ("payments-team", "Reader", "-", ",".join(LIMITED_TO)),
}


def line(token, name, role, expires, namespaces):
    h = hashlib.sha256(token.encode()).hexdigest()
    return " ".join([h, name, role, expires] + ([namespaces] if namespaces else []))


def tokens_text(tokens):
    return "# polsnap tokens: SHA256HEX NAME ROLE EXPIRES [NAMESPACES]\n\n" + "".join(
        line(t, *v) + "\n" for t, v in tokens.items())


tokdir = tempdir()
TOKFILE = os.path.join(tokdir, "tokens")


def write_tokens(text, in_place=False):
    """Replaces the tokens file: renamed over (an editor's save) or rewritten in place."""
    if in_place:
        with open(TOKFILE, "w") as f:
            f.write(text)
        return
    with open(TOKFILE + ".new", "w") as f:
        f.write(text)
    os.rename(TOKFILE + ".new", TOKFILE)


write_tokens(tokens_text(TOKENS))
srv = Server(data, env={"POLSNAP_TOKENS": TOKFILE})
created = oracle.created
CURRENT = os.path.join(data, "current")


def auth(token):
    return {"Authorization": "Bearer " + token} if token else {}


def pick(rows, cond):
    return next(r for r in rows if cond(r))


ROW_LIMITED = pick(oracle.rows, lambda r: r["namespace"] == "payments")
ROW_OTHER_NS = pick(oracle.rows, lambda r: r["namespace"] == "shop-frontend")
ROW_CLUSTER = pick(oracle.rows, lambda r: r["_cluster"])
RSC = pick(oracle.rows, lambda r: r["policy"] and r["rule"])
STATIC = {  # unfiltered endpoint -> its file in the snapshot
    "/v1/targets": "v1/targets.json", "/v1/categories": "v1/categories.json",
    "/v1/namespaces": "v1/namespaces.json", "/v1/summary": "v1/summary.json",
    "/v1/snapshot": "v1/snapshot.json", "/metrics": "metrics.txt"}
for scope in ("namespaced-resources", "cluster-resources"):
    for what in ("policies", "kinds", "sources", "resources", "status-counts", "results"):
        STATIC["/v1/%s/%s" % (scope, what)] = "v1/%s/%s.json" % (scope, what)
REPORTS = [  # (path, query string): everything a Reader may read, filtered or not
    (p, "") for p in STATIC if p != "/metrics"] + [
    ("/v1/rule-status-count", "policy=%s&rule=%s" % (quote(RSC["policy"]), quote(RSC["rule"]))),
    ("/v1/results/" + quote(ROW_LIMITED["id"], safe=""), ""),
    ("/v1/results/" + quote(ROW_CLUSTER["id"], safe=""), "pretty"),
    (NS + "/results", "status=fail&pagination.limit=5"),
    (NS + "/results", "query=" + quote("Namespace:pay,argo+Status:fail")),
    (CL + "/policies", "sources=kyverno"),
    ("/v1/namespaces", "pretty"), (NS + "/status-counts", "pretty=1"), (CL + "/results", "pretty"),
]
SELF = [("/v1/auth/status", ""), ("/v1/mypermissions", "")]
METRICS = [("/metrics", ""), ("/metrics", "pretty")]
EVERYTHING = REPORTS + SELF + METRICS
OPEN = ["/healthz", "/ready", "/v1/ping"]


def url(path, qs):
    return path + ("?" + qs if qs else "")


def is_pretty(qs):
    return any(p.split("=")[0] == "pretty" for p in qs.split("&") if p)


def static_bytes(path):
    with open(os.path.join(CURRENT, STATIC[path]), "rb") as f:
        return f.read()


def expect(snap, path, qs):
    """(status, body bytes or None) the oracle snap gives; None where only the file is the
    reference (/v1/summary, /v1/snapshot: not in the oracle)."""
    if path in ("/v1/summary", "/v1/snapshot"):
        return 200, None
    if path == "/metrics":
        return 200, snap.metrics(created=get_created()).encode()
    status, want = snap.answer(path, qs)
    return status, (model.render(want, pretty=is_pretty(qs)) if want is not None else None)


_created = []


def get_created():
    if not _created:
        _created.append(get(srv, "/v1/snapshot", headers=auth("tok-admin")).json()["createdUnix"])
    return _created[0]


def is_error(r, status, code, words=""):
    try:
        j = r.json()
    except ValueError:
        return False
    return (r.status == status and j.get("code") == code and j.get("message") == j.get("error")
            and j.get("details") == [] and words in j.get("message", ""))


@test
def nothing_is_served_without_a_token():
    for path, qs in EVERYTHING + [("/v1/no-such-endpoint", ""), ("/_snap/v1/namespaces.json", ""),
                                  ("/_api/v1/namespaces", "")]:
        r = get(srv, url(path, qs))
        check(is_error(r, 401, 16, "no token"), url(path, qs) + " without a token: 401 code 16", r)
        eq(r.header("www-authenticate"), 'Bearer realm="polsnap"', url(path, qs) + " says Bearer")
    r = get(srv, "/v1/namespaces", method="POST", body=b"{}")
    check(is_error(r, 401, 16), "POST without a token: 401, not 405", r)
    r = get(srv, "/v1/namespaces", method="HEAD")
    eq((r.status, r.body), (401, b""), "HEAD without a token: 401")
    for path in OPEN:
        r = get(srv, path)
        eq((r.status, r.json()), oracle.answer(path), path + " answers without a token")


@test
def wrong_tokens_are_401():
    for h, words in (({"Authorization": "Bearer tok-nobody"}, "invalid token"),
                     ({"Authorization": "Bearer " + hashlib.sha256(b"tok-admin").hexdigest()},
                      "invalid token"),
                     ({"Authorization": "Basic dG9rLWFkbWluOg=="}, "unsupported authorization"),
                     ({"Authorization": "tok-admin"}, "unsupported authorization"),
                     ({"Authorization": "Bearer"}, "unsupported authorization"),
                     ({"Authorization": "Bearer tok-admin2"}, "invalid token")):
        r = get(srv, "/v1/namespaces", headers=h)
        check(is_error(r, 401, 16, words), "%s: 401 %s" % (h["Authorization"], words), r)
    r = get(srv, "/v1/ping", headers={"Authorization": "Bearer tok-nobody"})
    eq(r.status, 200, "/v1/ping ignores a wrong token")


@test
def expired_token_is_401_saying_so():
    for path, qs in EVERYTHING:
        r = get(srv, url(path, qs), headers=auth("tok-expired"))
        check(is_error(r, 401, 16, 'token "old" expired at 2019-12-31T23:00:00Z'),
              url(path, qs) + " with an expired token: 401 saying it expired", r)


def full_access(token):
    for path, qs in REPORTS + METRICS:
        r = get(srv, url(path, qs), headers=auth(token))
        status, body = expect(oracle, path, qs)
        if body is None and path in STATIC and not qs:
            body = static_bytes(path)
        if body is None:
            eq(r.status, status, "%s %s -> %d" % (token, url(path, qs), status))
        else:
            eq((r.status, r.body), (status, body), "%s %s equals the oracle" % (token, url(path, qs)))


@test
def admin_sees_everything():
    full_access("tok-admin")
    r = get(srv, "/v1/no-such-endpoint", headers=auth("tok-admin"))
    check(is_error(r, 404, 5), "admin: an unknown path is 404", r)
    r = get(srv, "/v1/namespaces", method="POST", body=b"{}", headers=auth("tok-admin"))
    check(is_error(r, 405, 12), "admin: POST is 405", r)
    eq(get(srv, "/v1/auth/status", headers=auth("tok-admin")).json(),
       {"userId": "auth-token:admin", "expires": None, "refreshUrl": None, "role": "Admin",
        "namespaces": None}, "admin: /v1/auth/status")
    eq(get(srv, "/v1/mypermissions", headers=auth("tok-admin")).json(),
       {"name": "Admin", "globalAccess": "READ_ACCESS",
        "resourceToAccess": {"PolicyReport": "READ_ACCESS", "ClusterPolicyReport": "READ_ACCESS",
                             "Metrics": "READ_ACCESS"}}, "admin: /v1/mypermissions")


@test
def reader_sees_every_report_and_metrics():
    full_access("tok-reader")
    r = get(srv, "/v1/auth/status", headers={"Authorization": "bearer  tok-reader "})
    eq(r.body, b'{"userId":"auth-token:ci@example","expires":"2999-01-01T00:00:00Z",'
               b'"refreshUrl":null,"role":"Reader","namespaces":null}',
       "reader: /v1/auth/status byte for byte (scheme in any case, spaces around the token)")
    eq(get(srv, "/v1/mypermissions", headers=auth("tok-reader")).json(),
       {"name": "Reader", "globalAccess": "READ_ACCESS",
        "resourceToAccess": {"PolicyReport": "READ_ACCESS", "ClusterPolicyReport": "READ_ACCESS",
                             "Metrics": "READ_ACCESS"}}, "reader: /v1/mypermissions")


@test
def metrics_role_reads_metrics_only():
    for path, qs in METRICS:
        r = get(srv, url(path, qs), headers=auth("tok-metrics"))
        eq((r.status, r.header("content-type"), r.body),
           (200, "text/plain; version=0.0.4", expect(oracle, path, qs)[1]),
           "metrics role: %s equals the oracle" % url(path, qs))
    for path, qs in REPORTS + [("/v1/no-such-endpoint", "")]:
        r = get(srv, url(path, qs), headers=auth("tok-metrics"))
        check(is_error(r, 403, 7, "role Metrics"), "metrics role: %s is 403 code 7" % url(path, qs), r)
    eq(get(srv, "/v1/auth/status", headers=auth("tok-metrics")).json(),
       {"userId": "auth-token:prometheus", "expires": None, "refreshUrl": None, "role": "Metrics",
        "namespaces": None}, "metrics role: /v1/auth/status")
    eq(get(srv, "/v1/mypermissions", headers=auth("tok-metrics")).json(),
       {"name": "Metrics", "globalAccess": "NO_ACCESS",
        "resourceToAccess": {"PolicyReport": "NO_ACCESS", "ClusterPolicyReport": "NO_ACCESS",
                             "Metrics": "READ_ACCESS"}}, "metrics role: /v1/mypermissions")


@test
def namespace_limited_token_sees_its_namespaces_only():
    h = auth("tok-limited")
    for path, qs in REPORTS + METRICS:
        r = get(srv, url(path, qs), headers=h)
        label = "limited: " + url(path, qs)
        if path.startswith(CL) or path == "/metrics" or path == "/v1/results/" + quote(
                ROW_CLUSTER["id"], safe=""):
            if path.startswith("/v1/results/"):
                check(is_error(r, 404, 5), label + " (a cluster row) is 404", r)
            else:
                check(is_error(r, 403, 7, "limited to namespaces"), label + " is 403 code 7", r)
            continue
        if path == "/v1/snapshot":
            eq((r.status, r.body), (200, static_bytes(path)), label + " (no rows in it)")
            continue
        if path == "/v1/summary":
            j = r.json()
            eq(sorted(n["namespace"] for n in j["namespaces"]), ["argocd", "payments"],
               label + " counts its namespaces only")
            eq(sum(j["cluster"].values()), 0, label + " counts no cluster rows")
            continue
        status, body = expect(limited, path, qs)
        eq((r.status, r.body), (status, body), label + " equals the oracle over its rows")
    eq(get(srv, "/v1/namespaces", headers=h).json(), ["argocd", "payments"],
       "limited: /v1/namespaces lists only its own")
    check(len(get(srv, NS + "/results", headers=h).json()["items"]) == len(limited.rows) > 0,
          "limited: the namespaced results are exactly its rows")
    r = get(srv, "/v1/results/" + quote(ROW_OTHER_NS["id"], safe=""), headers=h)
    check(is_error(r, 404, 5), "limited: a row of another namespace is 404 (not even 403)", r)
    eq(get(srv, NS + "/results?namespaces=shop-frontend", headers=h).json(),
       {"items": [], "count": 0}, "limited: filtering for another namespace finds nothing")
    eq(get(srv, "/v1/auth/status", headers=h).json(),
       {"userId": "auth-token:payments-team", "expires": None, "refreshUrl": None,
        "role": "Reader", "namespaces": LIMITED_TO}, "limited: /v1/auth/status lists them")
    eq(get(srv, "/v1/mypermissions", headers=h).json(),
       {"name": "Reader", "globalAccess": "NO_ACCESS",
        "resourceToAccess": {"PolicyReport": "READ_ACCESS", "ClusterPolicyReport": "NO_ACCESS",
                             "Metrics": "NO_ACCESS"}}, "limited: /v1/mypermissions")


@test
def unfiltered_answers_are_the_files_sent_by_lighttpd():
    for path in STATIC:
        r = get(srv, path, headers=auth("tok-reader"))
        body = static_bytes(path)
        eq((r.status, r.body, r.header("content-length")), (200, body, str(len(body))),
           path + ": the snapshot's file, with lighttpd's Content-Length")
        check(r.header("x-sendfile") is None, path + ": X-Sendfile does not reach the client")
        check(r.header("etag") and r.header("last-modified"),
              path + ": lighttpd sent the file (its ETag and Last-Modified)", r.headers)
    r = get(srv, "/v1/namespaces?pretty", headers=auth("tok-reader"))
    check(r.status == 200 and r.header("etag") is None, "a rendered answer has no ETag", r.headers)
    r = get(srv, "/v1/namespaces", headers=auth("tok-limited"))
    check(r.status == 200 and r.header("etag") is None,
          "a namespace-limited token's answer is rendered (no ETag)", r.headers)
    etag = get(srv, "/v1/namespaces", headers=auth("tok-reader")).header("etag")
    r = get(srv, "/v1/namespaces", headers=dict(auth("tok-reader"), **{"If-None-Match": etag}))
    eq((r.status, r.body), (304, b""), "a conditional request with a token: 304")
    r = get(srv, "/v1/namespaces", headers={"If-None-Match": etag})
    eq(r.status, 401, "the same conditional request without a token: 401, not 304")
    r = get(srv, NS + "/results", method="HEAD", headers=auth("tok-admin"))
    eq((r.status, r.body), (200, b""), "HEAD of an unfiltered endpoint: 200 without a body")
    # Prove the file is what is sent: change it (same length, so no cache can tell) and look.
    target = os.path.join(CURRENT, "v1", "targets.json")
    original = static_bytes("/v1/targets")
    eq(original, b"[]", "targets.json holds []")
    os.chmod(target, 0o644)
    with open(target, "wb") as f:
        f.write(b"{}")
    try:
        eq(get(srv, "/v1/targets", headers=auth("tok-admin")).body, b"{}",
           "a full-view token gets the file itself (X-Sendfile), not a re-render")
        eq(get(srv, "/v1/targets", headers=auth("tok-limited")).body, b"[]",
           "a namespace-limited token gets a rendered answer")
        eq(get(srv, "/v1/targets?pretty", headers=auth("tok-admin")).body, b"[]",
           "a request with parameters is rendered")
    finally:
        with open(target, "wb") as f:
            f.write(original)
    # A snapshot missing a file (never published like that, but damaged) is still answered.
    cat = os.path.join(CURRENT, "v1", "categories.json")
    os.rename(cat, cat + ".away")
    try:
        r = get(srv, "/v1/categories", headers=auth("tok-admin"))
        eq((r.status, r.body), (200, model.render(oracle.answer("/v1/categories")[1])),
           "a missing precomputed file is rendered instead")
    finally:
        os.rename(cat + ".away", cat)


def statuses(token, path="/v1/namespaces", n=6):
    """The statuses of n requests (lighttpd spreads them over its FastCGI processes)."""
    return {get(srv, path, headers=auth(token)).status for _ in range(n)}


@test
def tokens_file_is_reread_when_it_changes():
    without_reader = dict(TOKENS)
    del without_reader["tok-reader"]
    write_tokens(tokens_text(without_reader))
    eq(statuses("tok-reader"), {401}, "a revoked token is refused at once, by every process")
    eq(statuses("tok-admin"), {200}, "the other tokens still work")
    with_new = dict(without_reader, **{"tok-new": ("new", "Reader", "-", None)})
    write_tokens(tokens_text(with_new), in_place=True)
    eq(statuses("tok-new"), {200}, "a token added by editing the file in place works at once")
    eq(statuses("tok-reader"), {401}, "and the revoked one stays revoked")
    write_tokens(tokens_text(TOKENS))
    eq(statuses("tok-reader"), {200}, "restored")


def log_lines(words):
    return [l for l in srv.logtext().splitlines() if words in l]


@test
def malformed_or_missing_file_fails_closed():
    before = len(log_lines("tokens file unusable"))
    write_tokens(tokens_text(TOKENS) + "0123 broken Admin -\n")
    for path, qs in EVERYTHING:
        for token in ("tok-admin", None):
            r = get(srv, url(path, qs), headers=auth(token))
            check(is_error(r, 503, 14, "tokens file cannot be used"),
                  "malformed file: %s %s: 503 code 14" % (url(path, qs), token or "no token"), r)
    for path in OPEN:
        eq(get(srv, path).status, 200, "malformed file: %s still answers" % path)
    time.sleep(0.2)
    lines = log_lines("tokens file unusable")[before:]
    check(1 <= len(lines) <= 2 and all("line 8: the first field must be" in l for l in lines),
          "one log line per FastCGI process says why (not one per request)", "\n".join(lines))
    os.rename(TOKFILE, TOKFILE + ".away")
    r = get(srv, "/v1/namespaces", headers=auth("tok-admin"))
    check(is_error(r, 503, 14), "a missing tokens file: 503", r)
    check(any("No such file" in l for l in log_lines("tokens file unusable")),
          "the log says the file is missing")
    os.rename(TOKFILE + ".away", TOKFILE)
    write_tokens(tokens_text(TOKENS))
    eq(statuses("tok-admin"), {200}, "a fixed file is used again without a restart")
    check(log_lines("tokens file %s: 5 tokens" % TOKFILE), "the log says how many tokens")


@test
def relative_tokens_path_is_found():
    other = Server(data, env={"POLSNAP_TOKENS": os.path.relpath(TOKFILE)})
    try:
        eq(get(other, "/v1/namespaces", headers=auth("tok-admin")).status, 200,
           "POLSNAP_TOKENS relative to lighttpd's directory works")
    finally:
        other.stop()


@test
def new_token_script_makes_a_working_token():
    import subprocess
    p = subprocess.run([os.path.join(ROOT, "cgi", "new-token.sh"), "robot", "Reader",
                        "2999-01-01T00:00:00Z", "payments"], capture_output=True, text=True,
                       timeout=30)
    out = p.stdout.splitlines()
    eq((p.returncode, len(out)), (0, 2), "new-token.sh prints the token and the line")
    token, entry = out
    check(token.startswith("polsnap_") and len(token) > 40, "the token is long and random", token)
    eq(entry, line(token, "robot", "Reader", "2999-01-01T00:00:00Z", "payments"),
       "the line holds the token's SHA-256, never the token")
    write_tokens(tokens_text(TOKENS) + entry + "\n")
    eq(get(srv, "/v1/namespaces", headers=auth(token)).json(), ["payments"],
       "the new token works, limited to its namespace")
    p2 = subprocess.run([os.path.join(ROOT, "cgi", "new-token.sh"), "robot", "Reader"],
                        capture_output=True, text=True, timeout=30)
    check(p2.stdout.splitlines()[0] != token, "every run makes a different token")
    bad = subprocess.run([os.path.join(ROOT, "cgi", "new-token.sh"), "robot", "reader"],
                         capture_output=True, text=True, timeout=30)
    check(bad.returncode == 2 and "ROLE must be" in bad.stderr and not bad.stdout,
          "a bad role is refused, no token printed", bad.stderr)
    write_tokens(tokens_text(TOKENS))


run()
