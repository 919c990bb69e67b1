"""test_serve.py - the snapshot job and lighttpd with the project's lighttpd.conf, end to end:
every unfiltered endpoint of spec section 2 and /metrics byte for byte against the oracle
(tests/lib/model.py), the no-snapshot state, methods, unknown paths, pretty, atomic swaps,
--keep, and a failed snapshot that leaves the previous one served."""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401
import model  # noqa: E402

SAMPLES_REL = os.path.relpath(SAMPLES, os.getcwd())
UNFILTERED = ["/v1/targets", "/v1/categories", "/v1/namespaces"] + [
    "/v1/%s/%s" % (scope, what)
    for scope in ("namespaced-resources", "cluster-resources")
    for what in ("policies", "kinds", "sources", "resources", "status-counts", "results")]

data = tempdir()
srv = Server(data)
oracle = model.load([SAMPLES_REL])


@test
def before_the_first_snapshot():
    eq((get(srv, "/ready").status, get(srv, "/ready").json()), (503, {"error": "no snapshot yet"}),
       "/ready is 503 before any snapshot")
    eq((get(srv, "/healthz").status, get(srv, "/healthz").json()),
       (503, {"error": "no snapshot yet"}), "/healthz is 503 before any snapshot")
    r = get(srv, "/v1/namespaces")
    eq((r.status, r.json()["code"]), (503, 14), "an endpoint answers 503 (code 14) without a snapshot")
    r = get(srv, "/v1/namespaces?sources=kyverno")
    eq((r.status, r.json()["code"]), (503, 14), "a filtered query answers 503 without a snapshot")
    eq((get(srv, "/v1/ping").status, get(srv, "/v1/ping").json()), (200, {"status": "ok"}),
       "/v1/ping answers without a snapshot")


@test
def publish_samples():
    p = snapshot("--source", "files:" + SAMPLES_REL, "--data", data)
    eq(p.returncode, 0, "snapshot of the samples exits 0")
    check("published" in p.stdout and "194 rows" in p.stdout, "one-line summary names the rows",
          p.stdout + p.stderr)
    check(os.path.islink(os.path.join(data, "current")), "DIR/current is a symlink")


@test
def health_after_publishing():
    eq((get(srv, "/ready").status, get(srv, "/ready").body), (200, b"{}"), "/ready is 200 {}")
    eq((get(srv, "/healthz").status, get(srv, "/healthz").body), (200, b"{}"), "/healthz is 200 {}")


@test
def every_unfiltered_endpoint_equals_the_oracle():
    for path in UNFILTERED:
        r = get(srv, path)
        status, want = oracle.answer(path)
        eq((r.status, r.header("content-type")), (200, "application/json"), path + " status and type")
        eq(r.body, model.render(want), path + " body, byte for byte")


@test
def metrics_equal_the_oracle():
    r = get(srv, "/metrics")
    created = get(srv, "/v1/snapshot").json()["createdUnix"]
    eq((r.status, r.header("content-type")), (200, "text/plain; version=0.0.4"), "/metrics type")
    eq(r.text(), oracle.metrics(created=created), "/metrics text equals the oracle's")


def summary_of(rows):
    """/v1/summary computed from the oracle's rows (ours: the dashboard's overview)."""
    sts = ["pass", "fail", "warn", "error", "skip"]
    sevs = ["critical", "high", "medium", "low", "info", "none"]
    counts = lambda: {s: 0 for s in sts}  # noqa: E731
    ss = {s: {v: 0 for v in sevs} for s in sts}
    ns, cluster, pol, src = {}, counts(), {}, {}
    for r in rows:
        ss[r["status"]][r["severity"] or "none"] += 1
        if r["namespace"] is None and r["_cluster"]:
            cluster[r["status"]] += 1
        elif r["namespace"] is not None:
            n = ns.setdefault(r["namespace"], dict(counts(), failSeverity={v: 0 for v in sevs}))
            n[r["status"]] += 1
            if r["status"] == "fail":
                n["failSeverity"][r["severity"] or "none"] += 1
        if r["source"] is not None:
            src.setdefault(r["source"], counts())[r["status"]] += 1
        p = pol.setdefault(r["policy"], {"scopes": set(), "c": counts(), "rules": {}})
        p["scopes"].add("cluster" if r["_cluster"] else "namespaced")
        p["c"][r["status"]] += 1
        p["rules"].setdefault(r["rule"], counts())[r["status"]] += 1
    key = lambda v: (v is not None, (v or "").encode())  # noqa: E731
    return {
        "statusSeverity": ss,
        "namespaces": [dict(namespace=n, **ns[n]) for n in sorted(ns, key=key)],
        "cluster": cluster,
        "policies": [dict(policy=p, scope="both" if len(pol[p]["scopes"]) == 2 else min(pol[p]["scopes"]),
                          **pol[p]["c"], rules=[dict(rule=r, **c) for r, c in
                                                sorted(pol[p]["rules"].items(), key=lambda x: key(x[0]))])
                     for p in sorted(pol, key=key)],
        "sources": [dict(source=s, **src[s]) for s in sorted(src, key=key)],
    }


@test
def snapshot_and_summary():
    meta = get(srv, "/v1/snapshot").json()
    eq(sorted(meta), ["changes", "created", "createdUnix", "cronPeriodSeconds", "id", "noCrds", "rows",
                      "sources", "uploads", "warnings"], "/v1/snapshot keys")
    eq(meta["uploads"], [], "no --publish: no uploads")
    eq((meta["rows"], meta["warnings"], meta["noCrds"], meta["sources"]),
       (194, 0, False, [{"name": "files:" + SAMPLES_REL, "up": True}]), "/v1/snapshot values")
    eq(get(srv, "/v1/summary").json(), summary_of(oracle.rows), "/v1/summary equals the rows' tallies")
    fails = [r for r in oracle.rows if r["status"] == "fail" and (r["source"] or "").lower() == "kyverno"]
    eq(get(srv, "/v1/summary?status=fail&sources=kyverno").json(), summary_of(fails),
       "/v1/summary takes the filters")


@test
def pretty_and_head():
    for path in ("/v1/namespaces", "/v1/cluster-resources/status-counts", "/v1/namespaced-resources/results"):
        r = get(srv, path + "?pretty")
        eq(r.body, model.render(oracle.answer(path)[1], pretty=True), path + "?pretty is indented")
    r = get(srv, "/v1/namespaces", method="HEAD")
    eq((r.status, r.body), (200, b""), "HEAD answers 200 without a body")
    r = get(srv, "/v1/namespaces?pretty", method="HEAD")
    eq((r.status, r.body), (200, b""), "HEAD of a query answers 200 without a body")


@test
def methods_and_unknown_paths():
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        r = get(srv, "/v1/namespaces", method=method, body=b"")
        eq((r.status, r.json()["code"]), (405, 12), method + " on a known path is 405 (code 12)")
    r = get(srv, "/v1/nothing-here")
    eq((r.status, r.json()), (404, error_body(5, "no such endpoint: /v1/nothing-here")),
       "an unknown path is 404 in the error format")
    r = get(srv, "/v1/nothing-here", method="POST", body=b"")
    eq(r.status, 404, "an unknown path is 404 whatever the method")
    for internal in ("/_snap/index.bin", "/_snap/v1/namespaces.json", "/_api/v1/namespaces"):
        eq(get(srv, internal).status, 404, internal + " is not reachable from outside")
    eq(get(srv, "/v1/namespaces/").status, 404, "a trailing slash is another (unknown) path")
    eq(get(srv, "/no-such-dir/").status, 404, "a directory without index.html is 404, not 403")


def samples_copy():
    d = tempdir()
    shutil.copytree(SAMPLES, os.path.join(d, "r"))
    return os.path.join(d, "r")


@test
def a_failed_snapshot_leaves_the_previous_one_served():
    before = os.readlink(os.path.join(data, "current"))
    broken = samples_copy()
    with open(os.path.join(broken, "zz-broken.yaml"), "w") as f:
        f.write("apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\nresults: [\n")
    p = snapshot("--source", "files:" + broken, "--data", data)
    check(p.returncode != 0, "a broken report makes the snapshot fail", p.stdout + p.stderr)
    check("zz-broken.yaml" in p.stderr, "the message names the broken file", p.stderr)
    eq(os.readlink(os.path.join(data, "current")), before, "DIR/current is unchanged")
    eq(get(srv, "/v1/namespaces").body, model.render(oracle.answer("/v1/namespaces")[1]),
       "the previous snapshot is still served")
    leftovers = [n for n in os.listdir(os.path.join(data, "snapshots")) if n.startswith(".tmp")]
    eq(leftovers, [], "no temporary directory is left behind")
    p = snapshot("--source", "files:" + broken, "--data", data, "--skip-invalid")
    eq(p.returncode, 0, "--skip-invalid publishes the rest")
    check(os.readlink(os.path.join(data, "current")) != before, "and swaps current")


@test
def skip_invalid_skips_whole_files_and_dot_files_are_ignored():
    d = tempdir()
    with open(os.path.join(SAMPLES, "kyverno-per-resource.yaml")) as f:
        good_then_bad = f.read() + "\n---\napiVersion: v1\nkind: ConfigMap\n"
    with open(os.path.join(d, "a.yaml"), "w") as f:
        f.write(good_then_bad)
    shutil.copy(os.path.join(SAMPLES, "kube-bench-cis.yaml"), os.path.join(d, ".hidden.yaml"))
    shutil.copy(os.path.join(SAMPLES, "kyverno-cluster.json"), os.path.join(d, "b.json"))
    own = tempdir()
    p = snapshot("--source", "files:" + d, "--data", own, "--skip-invalid")
    eq(p.returncode, 0, "--skip-invalid publishes")
    want = model.load([d], skip_invalid=True, default=False)
    eq(want.warnings, 1, "the oracle skips one file")
    for path in ("/v1/namespaced-resources/results", "/v1/cluster-resources/results"):
        with open(os.path.join(own, "current", path.lstrip("/") + ".json"), "rb") as f:
            eq(f.read(), model.render(want.answer(path)[1]),
               path + ": a file with one bad document is skipped whole; dot files are not read")


@test
def a_new_snapshot_is_served_within_seconds():
    smaller = tempdir()
    shutil.copy(os.path.join(SAMPLES, "kyverno-cluster.json"), smaller)
    p = snapshot("--source", "files:" + smaller, "--data", data)
    eq(p.returncode, 0, "a second snapshot publishes")
    want = model.render(model.load([smaller], default=False).answer("/v1/cluster-resources/policies")[1])
    deadline = time.time() + 3
    while time.time() < deadline and get(srv, "/v1/cluster-resources/policies").body != want:
        time.sleep(0.1)
    eq(get(srv, "/v1/cluster-resources/policies").body, want, "lighttpd serves the new snapshot")
    eq(get(srv, "/v1/cluster-resources/policies?pretty").body,
       model.render(model.load([smaller], default=False).answer("/v1/cluster-resources/policies")[1],
                    pretty=True), "the query server follows the swap too")


@test
def keep_bounds_the_snapshots_on_disk():
    for _ in range(3):
        eq(snapshot("--source", "files:" + SAMPLES_REL, "--data", data, "--keep", "2").returncode, 0,
           "snapshot with --keep 2")
    names = [n for n in os.listdir(os.path.join(data, "snapshots")) if not n.startswith(".")]
    eq(len(names), 2, "two snapshots are kept")
    eq("snapshots/" + max(names), os.readlink(os.path.join(data, "current")), "current is the newest")


@test
def static_site():
    site = os.path.join(tempdir(), "site")
    p = snapshot("--source", "files:" + SAMPLES_REL, "--data", data, "--site", site)
    eq(p.returncode, 0, "--site without --www finds the dashboard beside bin/")
    check(os.path.isfile(os.path.join(site, "index.html")), "the site has the dashboard")
    with open(os.path.join(site, "data", "v1", "namespaces.json"), "rb") as f:
        eq(f.read(), model.render(oracle.answer("/v1/namespaces")[1]), "and the snapshot's files")
    check(not os.path.exists(os.path.join(site, "data", "index.bin")), "but not the index")


@test
def usage_errors():
    p = snapshot("--data", data)
    eq(p.returncode, 2, "no --source is a usage error (exit 2)")
    p = snapshot("--source", "ftp:x", "--data", data)
    check(p.returncode == 2 and "unknown source" in p.stderr, "an unknown source kind is named", p.stderr)
    p = snapshot("--source", "files:/nonexistent/dir", "--data", data)
    check(p.returncode == 1 and "/nonexistent/dir" in p.stderr, "a missing path is named", p.stderr)
    p = snapshot("--help")
    check(p.returncode == 0 and "--skip-invalid" in p.stdout and "--keep" in p.stdout,
          "--help lists the options")


@test
def concurrent_jobs_do_not_interleave():
    lock = os.open(os.path.join(data, ".lock"), os.O_RDWR)
    import fcntl
    fcntl.flock(lock, fcntl.LOCK_EX)
    p = snapshot("--source", "files:" + SAMPLES_REL, "--data", data)
    fcntl.flock(lock, fcntl.LOCK_UN)
    os.close(lock)
    check(p.returncode == 1 and "another polsnap-snapshot" in p.stderr,
          "a second job while one runs fails fast and says why", p.stderr)


run()
