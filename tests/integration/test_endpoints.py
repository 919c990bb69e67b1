"""test_endpoints.py - the endpoint table (common/api.c, listed by `polsnap-fcgi --endpoints`)
is the single source of what is served: lighttpd.conf's rewrite rules, the test oracle
tests/lib/model.py and the dashboard's static fallback (www/js) must agree with it, and this
fails when one of them does not (adding an endpoint is one row plus its renderer; this test
then says what else must follow)."""
import itertools
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401
import model  # noqa: E402


def table():
    out = subprocess.run([os.path.join(BIN, "polsnap-fcgi"), "--endpoints"], check=True,
                         capture_output=True, text=True, timeout=10).stdout
    rows = []
    for line in out.splitlines():
        path, methods, ctype, f, roles, limited, public = line.split("\t")
        rows.append({"path": path, "methods": methods.split(), "type": ctype,
                     "file": None if f == "-" else f, "roles": roles.split(","),
                     "limited": limited == "limited", "public": public == "public"})
    return rows


ROWS = table()
BY_PATH = {r["path"]: r for r in ROWS}
FILES = {r["file"] for r in ROWS if r["file"]}


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


# ---- lighttpd.conf ------------------------------------------------------------------------

def rewrite_rules():
    """The (regex, target) pairs of the GET/HEAD block's url.rewrite-once, in order; the
    method condition itself."""
    conf = read("lighttpd.conf")
    block = re.search(r'\$HTTP\["request-method"\] =~ "([^"]*)" \{\s*url\.rewrite-once = \((.*?)\n  \)',
                      conf, re.S)
    rules = re.findall(r'"((?:[^"\\]|\\.)*)"\s*=>\s*((?:var\.static \+ )?"[^"]*")', block.group(2))
    out = []
    for pat, target in rules:
        static = target.startswith("var.static")
        out.append((re.compile(pat.replace("\\\\", "\\")), static, target.split('"')[1]))
    return block.group(1), out


METHODS, RULES = rewrite_rules()


def lighttpd_target(uri):
    """Where lighttpd's GET rewrite sends uri: ("static", file) or ("api", path) or None."""
    for rx, static, target in RULES:
        m = rx.match(uri)
        if m:
            dest = re.sub(r"\$(\d)", lambda g: m.group(int(g.group(1))) or "", target)
            return ("static", dest.lstrip("/")) if static else ("api", dest)
    return None


def expand(pattern):
    """Every URL path a rewrite regex of the simple form lighttpd.conf uses matches: literal
    text and groups of literal alternatives; an optional query-string group is dropped."""
    p = pattern.strip("^$").replace(r"(\?.*)?", "")
    parts = re.split(r"\(([^()]*)\)", p)
    choices = [[x] if i % 2 == 0 else x.split("|") for i, x in enumerate(parts)]
    return ["".join(c) for c in itertools.product(*choices)]


@test
def every_endpoint_reaches_its_answer_through_lighttpd():
    for r in ROWS:
        path = r["path"].replace("{id}", "some-id")
        for m in r["methods"]:
            check(re.fullmatch(METHODS, m), "%s: lighttpd's read block takes %s" % (r["path"], m))
        got = lighttpd_target(path)
        if r["file"]:
            eq(got, ("static", r["file"]), "%s: GET without parameters is its precomputed file"
               % r["path"])
        else:
            eq(got and got[0], "api", "%s: GET goes to the query server" % r["path"])
        if got and got[0] == "api":
            eq(got[1], "/_api" + path, "%s: the query server sees the same path" % r["path"])
        # with parameters: a rule to the query server, or none (lighttpd then finds no file
        # under www/ and its error handler is the query server too); never a precomputed file,
        # but for /metrics, whose parameters change nothing
        with_qs = lighttpd_target(path + "?x=1")
        check(not with_qs or with_qs[0] == "api" or r["path"] == "/metrics",
              "%s?x=1 goes to the query server (%s)" % (r["path"], with_qs))


@test
def every_precomputed_file_lighttpd_names_is_in_the_table():
    for rx, static, target in RULES:
        if not static:
            continue
        for path in expand(rx.pattern):
            got = lighttpd_target(path)
            check(got and got[1] in FILES,
                  "lighttpd serves %s as %s: a precomputed file of the table" % (path, got))
            check(path in BY_PATH and BY_PATH[path]["file"] == (got and got[1]),
                  "%s: the table's row names the same file" % path)


# ---- tests/lib/model.py -------------------------------------------------------------------

# Rows the oracle does not model: the dashboard's own endpoints, whose bodies the serve and
# browser suites check exactly, and the fleet export, which test_fleet reads back and
# compares row by row. A new row must be modelled or listed here.
NOT_MODELLED = {"/v1/summary", "/v1/snapshot", "/v1/fleet/export"}


@test
def the_oracle_answers_exactly_the_tables_paths():
    eq(sorted(model.Snapshot().route_paths()), sorted(set(BY_PATH) - NOT_MODELLED),
       "model.py's paths are the table's (but for %s)" % ", ".join(sorted(NOT_MODELLED)))
    snap = model.from_texts({})
    for r in ROWS:
        if r["path"] in NOT_MODELLED:
            continue
        status, _ = snap.answer(r["path"].replace("{id}", "no-such-id"))
        check(status != 404 or "{id}" in r["path"], "model.py routes %s" % r["path"])


# ---- the dashboard's static fallback (www/js) ----------------------------------------------

def dashboard_files():
    """The precomputed files the dashboard reads from a snapshot copy: every v1/....json it
    names, with ${scope} both scopes, plus data.js's unfiltered('<path>') and the results
    view's option lists (path + ".json")."""
    text = "".join(read("www", "js", f) for f in ("data.js", "static-worker.js"))
    text += read("www", "js", "views", "results.js")
    names = set(re.findall(r"v1/([\w${}/-]+)\.json", text))
    names |= set(re.findall(r"v1/\$\{scope\}-resources/results", text) and
                 ["${scope}-resources/results"])
    names |= set(re.findall(r"unfiltered\('([\w/-]+)'\)", text))
    opts = re.search(r"function optionSource\(key, scope\) \{(.*?)\}\[key\]", text, re.S)
    names |= set(re.findall(r"[`']([\w${}/-]+)[`']", opts.group(1)))
    out = set()
    for n in names:
        for scope in ("namespaced", "cluster"):
            out.add("v1/" + n.replace("${scope}", scope) + ".json")
    return out


@test
def the_dashboards_static_files_are_the_tables():
    files = dashboard_files()
    check(len(files) >= 8, "found the dashboard's static reads (%d)" % len(files))
    for f in sorted(files):
        check(f in FILES, "the dashboard reads %s: a precomputed file of the table" % f)
    for r in ROWS:
        if r["file"] and r["type"] == "application/json":
            eq(r["file"], r["path"].lstrip("/") + ".json",
               "%s: file named path + .json (the name a static copy is read by)" % r["path"])


@test
def the_table_is_well_formed():
    eq(len(BY_PATH), len(ROWS), "one row per path")
    for r in ROWS:
        check(r["public"] or "Admin" in r["roles"], "%s: Admin reads every non-public row"
              % r["path"])
        check(not (r["public"] and r["file"]), "%s: a public probe is never precomputed (it "
              "must answer even when no snapshot exists)" % r["path"])


run()
