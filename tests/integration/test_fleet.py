"""test_fleet.py - many clusters (spec section 10): edges with --cluster serving their fleet
export through the real lighttpd (one with tokens on over loopback HTTPS), a central snapshot
pulling them with --fleet, its answers against the union of the edges' answers (exact bodies)
and the oracle's merge; conditional pulls (ETag), a changed edge re-pulled, a stopped edge
stale then gone, a truncated or corrupt export never merged, ids stable across runs."""
import gzip
import hashlib
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401
import model  # noqa: E402
from fake_https import make_pki  # noqa: E402

NS, CL = "/v1/namespaced-resources", "/v1/cluster-resources"
FILES = sorted(f for f in os.listdir(SAMPLES) if f.endswith((".yaml", ".json")))
SPLIT = {"east": FILES[0::3], "west": FILES[1::3], "lab": FILES[2::3]}


def edge_dir(name, files):
    d = tempdir("polsnap-edge-%s-" % name)
    os.makedirs(os.path.join(d, "in"))
    for f in files:
        shutil.copy(os.path.join(SAMPLES, f), os.path.join(d, "in", f))
    return d


def edge_snapshot(d, name):
    r = snapshot("--source", "files:" + os.path.join(d, "in"), "--data", os.path.join(d, "data"),
                 "--cluster", name)
    assert r.returncode == 0, r.stderr


pki = tempdir("polsnap-pki-")
make_pki(pki)
TOKEN = "tok-central-reader"
tokfile = os.path.join(pki, "tokens")
with open(tokfile, "w") as f:
    for tok, name, role, nss in ((TOKEN, "central", "Reader", None),
                                 ("tok-metrics", "prom", "Metrics", None),
                                 ("tok-limited", "team", "Reader", "default")):
        f.write("%s %s %s -%s\n" % (hashlib.sha256(tok.encode()).hexdigest(), name, role,
                                    " " + nss if nss else ""))
with open(os.path.join(pki, "central.token"), "w") as f:
    f.write(TOKEN + "\n")

edges = {n: edge_dir(n, fs) for n, fs in SPLIT.items()}
for n, d in edges.items():
    edge_snapshot(d, n)
servers = {
    "east": Server(os.path.join(edges["east"], "data")),
    "west": Server(os.path.join(edges["west"], "data"),
                   env={"POLSNAP_TOKENS": tokfile,
                        "POLSNAP_TLS_CERT": os.path.join(pki, "server.crt"),
                        "POLSNAP_TLS_KEY": os.path.join(pki, "server.key")}),
    "lab": Server(os.path.join(edges["lab"], "data")),
}


def url(n):
    scheme = "https" if n == "west" else "http"
    return "%s://127.0.0.1:%d" % (scheme, servers[n].port)


def fleet_file(path, names):
    with open(path, "w") as f:
        json.dump({"edges": [dict({"name": n, "location": url(n)},
                                  **({"credentials": os.path.join(pki, "central.token"),
                                      "ca": os.path.join(pki, "ca.crt")} if n == "west" else {}))
                             for n in names]}, f)


central = tempdir("polsnap-central-")
FLEET = os.path.join(central, "fleet.json")
fleet_file(FLEET, ["east", "west", "lab"])
CDATA = os.path.join(central, "data")


def central_run(*extra):
    r = snapshot("--fleet", FLEET, "--data", CDATA, *extra)
    assert r.returncode == 0, r.stderr
    return r.stderr


def edge_get(n, path, headers=None):
    """GET from an edge; west over HTTPS with its CA and the token."""
    if n != "west":
        return get(servers[n], path, headers=headers)
    import http.client
    import ssl
    ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
    c = http.client.HTTPSConnection("127.0.0.1", servers[n].port, context=ctx, timeout=15)
    try:
        h = {"Authorization": "Bearer " + TOKEN}
        h.update(headers or {})
        c.request("GET", path, headers=h)
        r = c.getresponse()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        c.close()


def oracle(name, files=None):
    d = edges[name]
    return model.load([os.path.join(d, "in")], default=False, cluster=name)


def merged_id(name, rid):
    return hashlib.sha1((name + "\0" + rid).encode()).hexdigest()


def union(path, qs=""):
    """The edges' own results answers, each row's id merged, in the default order."""
    items = []
    for n in servers:
        for r in edge_get(n, path + ("?" + qs if qs else "")).json()["items"]:
            items.append(dict(r, id=merged_id(n, r["id"])))
    return sorted(items, key=model.default_key)


log1 = central_run()
csrv = Server(CDATA)


@test
def edges_carry_their_cluster():
    for n in servers:
        body = edge_get(n, NS + "/results").json()
        check(body["count"] > 0 and all(r["cluster"] == n for r in body["items"]),
              "%s: every row carries cluster %s" % (n, n))
        clusters = edge_get(n, "/v1/clusters").json()
        eq([(c["name"], c["state"], c["lastPull"], c["error"]) for c in clusters],
           [(n, "up", None, None)], "%s: /v1/clusters is its own entry" % n)
        snap = edge_get(n, "/v1/snapshot").json()
        eq((clusters[0]["snapshot"], clusters[0]["rows"]), (snap["id"], snap["rows"]),
           "%s: its entry names its snapshot and rows" % n)
    o = oracle("east")
    o.snapshot_id = edge_get("east", "/v1/snapshot").json()["id"]
    o.created = edge_get("east", "/v1/snapshot").json()["createdUnix"]
    eq(edge_get("east", "/v1/clusters").json(), o.answer("/v1/clusters")[1],
       "east's /v1/clusters as the oracle says")
    eq(edge_get("east", NS + "/results").json(), o.answer(NS + "/results")[1],
       "an edge's results as the oracle says (cluster the 14th key)")


@test
def the_export_is_documented_gzip_json_lines():
    r = edge_get("east", "/v1/fleet/export")
    eq((r.status, r.header("content-type")), (200, "application/gzip"), "export: 200 gzip")
    lines = gzip.decompress(r.body).decode().split("\n")
    head = json.loads(lines[0])
    o = oracle("east")
    eq((head["format"], head["version"], head["cluster"], head["rows"], head["reports"]),
       ("polsnap-fleet", 1, "east", len(o.rows), len(o.reports)), "header line")
    eq(len(lines), 1 + head["reports"] + head["rows"] + 1, "one line each, newline-terminated")
    row = json.loads(lines[1 + head["reports"]])
    eq(sorted(row), sorted(["report", "id", "kind", "name", "apiVersion", "resourceNamespace",
                            "uid", "message", "category", "policy", "rule", "status",
                            "severity", "source", "timestamp", "scored", "properties"]),
       "a row line has every key")
    etag = r.header("etag")
    check(etag, "the export has an ETag")
    r2 = edge_get("east", "/v1/fleet/export", {"If-None-Match": etag})
    eq((r2.status, r2.body), (304, b""), "If-None-Match: 304, no body")


@test
def the_export_is_behind_the_token_check():
    port = servers["west"].port
    import http.client
    import ssl
    ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
    for tok, want in ((None, 401), ("tok-metrics", 403), ("tok-limited", 403), (TOKEN, 200)):
        c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=15)
        c.request("GET", "/v1/fleet/export",
                  headers={"Authorization": "Bearer " + tok} if tok else {})
        r = c.getresponse()
        r.read()
        c.close()
        eq(r.status, want, "west export with %s: %d" % (tok or "no token", want))
    r = edge_get("west", "/v1/fleet/export")
    etag = r.header("etag")
    eq(edge_get("west", "/v1/fleet/export", {"If-None-Match": etag or "x"}).status, 304,
       "through X-Sendfile too: ETag and 304")


def expected_central():
    entries = []
    for n in servers:
        snap = edge_get(n, "/v1/snapshot").json()
        entries.append((n, oracle(n), {"name": n, "snapshot": snap["id"], "time": snap["created"],
                                       "rows": snap["rows"], "fail": None, "state": "up",
                                       "lastPull": None, "error": None}))
    m = model.merge(entries)
    for e in m.edges:
        e["fail"] = sum(1 for r in m.rows if r["cluster"] == e["name"] and r["status"] == "fail")
    return m


@test
def the_central_answers_are_the_union_of_the_edges():
    m = expected_central()
    for scope in (NS, CL):
        got = get(csrv, scope + "/results").json()
        eq(got["items"], union(scope + "/results"), "%s: the union of the edges' rows" % scope)
        eq(got, m.answer(scope + "/results")[1], "%s: as the oracle's merge" % scope)
    for path, qs in (("/v1/namespaces", ""), (NS + "/results", "clusters=west"),
                     (NS + "/results", "cluster=EAST&status=fail"),
                     (NS + "/results", "query=Cluster:la"),
                     (CL + "/results", "pagination.sortOption.field=Cluster&"
                      "pagination.sortOption.reversed=true&pagination.limit=7"),
                     ("/v1/namespaced-resources/status-counts", "clusters=lab"),
                     (NS + "/policies", "cluster=west"), ("/v1/policy-reports", ""),
                     ("/v1/cluster-policy-reports", "labels=app:kube-bench-adapter")):
        eq(get(csrv, path + "?" + qs if qs else path).json(), m.answer(path, qs)[1],
           "%s?%s as the oracle's merge" % (path, qs))
    check(get(csrv, "/v1/cluster-policy-reports?labels=app:kube-bench-adapter").json()["count"] > 0,
          "report labels travel with the export")
    clusters = get(csrv, "/v1/clusters").json()
    for c in clusters:
        check(c["lastPull"], "%s: lastPull set" % c["name"])
        c["lastPull"] = None
    eq(clusters, m.answer("/v1/clusters")[1], "/v1/clusters: each edge up, its snapshot, rows")
    some = m.rows[0]
    got = get(csrv, "/v1/results/" + some["id"]).json()
    want = m.detail(some)
    got.pop("firstSeen"), want.pop("firstSeen")  # this run's time: the oracle has none
    eq(got, want, "the detail of a merged id")
    metrics = get(csrv, "/metrics").text()
    check('policy_report_result{cluster="east",category=' in metrics,
          "/metrics: the cluster label comes first")
    check('polsnap_source_up{source="polsnap:%s"} 1' % url("west") in metrics,
          "/metrics: each edge is a source")
    check("tok-central-reader" not in open(os.path.join(CDATA, "fleet", os.listdir(
        os.path.join(CDATA, "fleet"))[0]), errors="replace").read(), "no token in kept state")


@test
def unchanged_edges_cost_one_small_request():
    before = get(csrv, NS + "/results").json()
    log = central_run()
    check("fleet: 3 edges, 0 pulled, 3 unchanged, 0 not read; 0 bytes received" in log,
          "second run: nothing pulled (%s)" % [line for line in log.splitlines()
                                                if "fleet:" in line])
    eq(get(csrv, NS + "/results").json(), before, "same answers, same ids")
    edges_dir = os.path.join(edges["east"], "in")
    shutil.copy(os.path.join(SAMPLES, "kyverno-cluster.json"),
                os.path.join(edges_dir, "zz-added.json"))
    edge_snapshot(edges["east"], "east")
    time.sleep(1.2)  # lighttpd's stat cache ("simple") serves a new snapshot within a second
    log = central_run()
    check("edge east: up (pulled)" in log and "edge west: up (unchanged)" in log and
          "edge lab: up (unchanged)" in log, "a changed edge is pulled again, the others not")
    after = get(csrv, NS + "/results").json()
    kept = {r["id"] for r in before["items"]} & {r["id"] for r in after["items"]}
    check(len(kept) >= len([r for r in before["items"] if r["cluster"] != "east"]),
          "ids of rows that did not change stay (permalinks survive)")
    eq(after["items"], union(NS + "/results"), "the central follows the changed edge")


@test
def a_truncated_or_corrupt_export_is_never_merged():
    before = get(csrv, NS + "/results").json()
    export = os.path.join(edges["lab"], "data", "current", "fleet", "export.jsonl.gz")
    good = open(export, "rb").read()
    for what, bad in (("truncated", good[:len(good) // 2]),
                      ("corrupt", good[:100] + bytes(b ^ 0x55 for b in good[100:200]) + good[200:]),
                      ("not gzip", b'{"format":"polsnap-fleet"}\n')):
        with open(export, "wb") as f:
            f.write(bad)
        time.sleep(1.2)
        central_run()
        lab = [c for c in get(csrv, "/v1/clusters").json() if c["name"] == "lab"][0]
        eq(lab["state"], "stale", "%s export: lab is stale" % what)
        check(bool(lab["error"]), "%s export: the reason is given (%s)" % (what, lab["error"]))
        eq(get(csrv, NS + "/results").json(), before, "%s export: the last good rows stay, "
           "nothing of the bad one" % what)
    with open(export, "wb") as f:
        f.write(good)


@test
def a_stopped_edge_is_stale_then_gone():
    time.sleep(1.2)
    central_run()
    servers["lab"].stop()
    central_run()
    lab = [c for c in get(csrv, "/v1/clusters").json() if c["name"] == "lab"][0]
    eq(lab["state"], "stale", "stopped: stale")
    check("cannot connect" in (lab["error"] or ""), "why: %s" % lab["error"])
    check(lab["rows"] > 0 and lab["lastPull"], "stale: its rows and last good pull kept")
    rows = get(csrv, NS + "/results?clusters=lab").json()["count"]
    check(rows > 0, "the stale edge's rows are still answered")
    time.sleep(1.1)
    central_run("--fleet-max-stale", "1")
    lab = [c for c in get(csrv, "/v1/clusters").json() if c["name"] == "lab"][0]
    eq((lab["state"], lab["rows"]), ("gone", 0), "past --fleet-max-stale: gone, no rows")
    eq(get(csrv, NS + "/results?clusters=lab").json()["count"], 0, "its rows dropped")
    eq(get(csrv, "/v1/clusters").json()[0]["state"], "up", "the others stay up")


@test
def a_local_data_directory_is_an_edge_too():
    d = tempdir("polsnap-central2-")
    east_data = os.path.join(edges["east"], "data")
    r = snapshot("--source", "polsnap:" + east_data, "--data", d)
    eq(r.returncode, 0, "central from a data directory: exit 0 (%s)" % r.stderr[-300:])
    r = snapshot("--source", "polsnap:" + east_data, "--data", d)
    check("edge east: up (unchanged)" in r.stderr, "unchanged the second time")
    body = json.load(open(os.path.join(d, "current", "v1", "clusters.json")))
    eq([(c["name"], c["state"]) for c in body], [("east", "up")], "named by the edge's cluster")
    r = snapshot("--source", "polsnap:" + tempdir(), "--data", tempdir())
    eq(r.returncode, 0, "an unreadable edge does not fail the central run")
    check("gone" in r.stderr, "it is gone")


@test
def bad_names_and_options_are_refused():
    bad = os.path.join(central, "bad.json")
    for doc, why in (({"edges": [{"name": "Bad_Name", "location": "http://x"}]}, "DNS label"),
                     ({"edges": [{"name": "a", "location": "ftp://x"}]}, "location"),
                     ({"edges": [{"name": "a", "location": "/x"}, {"name": "a", "location": "/y"}]},
                      "repeats")):
        with open(bad, "w") as f:
            json.dump(doc, f)
        r = snapshot("--fleet", bad, "--data", tempdir())
        check(r.returncode == 2 and why in r.stderr, "%s: refused (%s)" % (why, r.stderr.strip()))
    r = snapshot("--source", "files:" + SAMPLES, "--data", tempdir(), "--cluster", "No")
    check(r.returncode == 2 and "DNS label" in r.stderr, "--cluster must be a DNS label")


try:
    run()
finally:
    Server.stop_all()
