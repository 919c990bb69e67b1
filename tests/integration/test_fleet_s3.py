"""test_fleet_s3.py - an edge that publishes to S3 (--publish) and a central that merges it from
there (--source polsnap:s3://...): s3rver (npm) behind the signature-verifying proxy
(tests/lib/s3.mjs). The export is stored as the edge wrote it; the central's rows are the
edge's with its cluster and merged ids; an unchanged edge costs one GET of the pointer (counted
in the proxy's log); a changed one is pulled again; a missing pointer leaves the edge gone."""
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401
import model  # noqa: E402

store, edge_in, edge_data, central = tempdir(), tempdir(), tempdir(), tempdir()
proxy = subprocess.Popen(["timeout", "300", "node", os.path.join(ROOT, "tests", "lib", "s3.mjs"),
                          store], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
PORT = json.loads(proxy.stdout.readline())["proxy"]
BASE = "http://127.0.0.1:%d" % PORT
CREDS = {"AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "polsnap-test-secret",
         "AWS_SESSION_TOKEN": "", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
DEST = "s3://bucket/edges/store-9"
FILES = ["kyverno-per-resource.yaml", "kube-bench-cis.yaml"]
for f in FILES:
    shutil.copy(os.path.join(SAMPLES, f), edge_in)


def log():
    with urllib.request.urlopen(BASE + "/__proxy/log", timeout=10) as r:
        return json.loads(r.read())


def edge_publish():
    r = snapshot("--source", "files:" + edge_in, "--data", edge_data, "--cluster", "store-9",
                 "--publish", DEST, "--s3-endpoint", BASE, env=CREDS)
    assert r.returncode == 0, r.stderr
    return os.path.basename(os.readlink(os.path.join(edge_data, "current")))


def central_run():
    r = snapshot("--source", "polsnap:" + DEST, "--data", central, "--s3-endpoint", BASE,
                 env=CREDS)
    assert r.returncode == 0, r.stderr
    return r.stderr


def answer(path):
    with open(os.path.join(central, "current", path)) as f:
        return json.load(f)


sid = edge_publish()


@test
def the_export_is_stored_as_the_edge_wrote_it():
    url = BASE + "/bucket/edges/store-9/data/%s/fleet/export.jsonl.gz" % sid
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept-Encoding": "identity"}),
                                timeout=10) as r:
        body, ctype, enc = r.read(), r.headers.get("Content-Type"), r.headers.get("Content-Encoding")
    local = open(os.path.join(edge_data, "current", "fleet", "export.jsonl.gz"), "rb").read()
    eq((ctype, enc, hashlib.sha256(body).hexdigest()),
       ("application/gzip", None, hashlib.sha256(local).hexdigest()),
       "application/gzip, no Content-Encoding, the same bytes")
    check(json.loads(gzip.decompress(body).split(b"\n")[0])["cluster"] == "store-9",
          "its header names the cluster")


@test
def the_central_merges_what_the_edge_published():
    before = len(log())
    err = central_run()
    check("edge store-9: up (pulled)" in err, "pulled from S3")
    reqs = log()[before:]
    eq([(e["method"], e["key"].split("store-9/", 1)[-1]) for e in reqs],
       [("GET", "data/current.json"), ("GET", "data/%s/fleet/export.jsonl.gz" % sid)],
       "the pointer, then the export")
    edge = model.load([edge_in], default=False, cluster="store-9")
    m = model.merge([("store-9", edge, {"name": "store-9", "state": "up"})])
    for scope in ("namespaced-resources", "cluster-resources"):
        eq(answer("v1/%s/results.json" % scope), m.answer("/v1/%s/results" % scope)[1],
           "%s: the edge's rows under its cluster, ids merged" % scope)
    c = answer("v1/clusters.json")
    eq([(x["name"], x["snapshot"], x["state"], x["error"]) for x in c],
       [("store-9", sid, "up", None)], "/v1/clusters: the edge's snapshot")
    check('polsnap_source_up{source="polsnap:%s"} 1' % DEST in
          open(os.path.join(central, "current", "metrics.txt")).read(), "its source is up")


@test
def an_unchanged_edge_costs_one_small_get():
    before = len(log())
    err = central_run()
    check("edge store-9: up (unchanged)" in err, "unchanged")
    eq([(e["method"], e["key"].split("store-9/", 1)[-1]) for e in log()[before:]],
       [("GET", "data/current.json")], "only the pointer was read")
    shutil.copy(os.path.join(SAMPLES, "trivy-vulnerabilities.yaml"), edge_in)
    new = edge_publish()
    before = len(log())
    err = central_run()
    check("edge store-9: up (pulled)" in err, "a new snapshot is pulled again")
    check(any(("data/%s/fleet/export.jsonl.gz" % new) in e["key"] for e in log()[before:]),
          "its export")
    edge = model.load([edge_in], default=False, cluster="store-9")
    eq(answer("v1/namespaced-resources/results.json")["count"],
       len([r for r in edge.rows if not r["_cluster"]]), "the central follows it")


@test
def a_missing_pointer_is_an_edge_not_read():
    d = tempdir()
    r = snapshot("--source", "polsnap:s3://bucket/nobody-here", "--data", d, "--s3-endpoint",
                 BASE, env=CREDS)
    eq(r.returncode, 0, "the central run still publishes")
    c = json.load(open(os.path.join(d, "current", "v1", "clusters.json")))
    eq(c[0]["state"], "gone", "never read: gone")
    check("nothing published yet" in (c[0]["error"] or ""), "why: %s" % c[0]["error"])
    check("polsnap-test-secret" not in r.stderr and "polsnap-test-secret" not in json.dumps(c),
          "no secret in the log or the answer")


try:
    run()
finally:
    proxy.terminate()
    proxy.wait()
