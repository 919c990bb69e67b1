"""test_kube_source.py - `--source kubernetes` against a fake API server over real HTTPS.

Every fault must end with a non-zero exit, a message a cluster admin understands, and the
previous snapshot still current; every success must publish exactly what `--source files:`
publishes for the same reports.
"""
import gzip
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from polsnap import *  # noqa: E402,F401,F403
from fake_https import resp  # noqa: E402
from fake_kube import REPORTS, FakeKube  # noqa: E402

ENV_CLEAN = {"KUBECONFIG": "", "KUBERNETES_SERVICE_HOST": "", "KUBERNETES_SERVICE_PORT": "",
             "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}  # libcurl honours proxy variables
VOLATILE_SNAPSHOT_KEYS = ("id", "created", "createdUnix", "sources")


def kube_snapshot(data, source, *extra, env=None):
    e = dict(ENV_CLEAN)
    e.update(env or {})
    return snapshot("--source", source, "--data", data, *extra, env=e, timeout=120)


def published(data):
    """{relative path: content} of DIR/current, minus what names the source or the time."""
    root = os.path.realpath(os.path.join(data, "current"))
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            if rel == "index.bin":
                continue  # binary, holds the id and time; its content is what the JSON shows
            with open(p, "rb") as fh:
                raw = fh.read()
            plain = rel[:-3] if rel.endswith(".gz") else rel
            if plain != rel:
                raw = gzip.decompress(raw)  # a gzip copy is compared by what it holds
            if plain == "v1/snapshot.json":
                doc = json.loads(raw)
                out[rel] = {k: v for k, v in doc.items() if k not in VOLATILE_SNAPSHOT_KEYS}
            elif plain == "fleet/export.jsonl":  # its header line names the snapshot
                lines = raw.decode().splitlines()
                head = {k: v for k, v in json.loads(lines[0]).items()
                        if k not in ("snapshot", "created")}
                out[rel] = [head] + lines[1:]
            elif plain == "metrics.txt":
                out[rel] = [l for l in raw.decode().splitlines()
                            if not l.startswith(("polsnap_snapshot_timestamp", "polsnap_source_up"))]
            else:
                out[rel] = raw
    return out


def current(data):
    link = os.path.join(data, "current")
    return os.readlink(link) if os.path.islink(link) else None


def baseline():
    """A data dir holding one published snapshot (of a cluster without report CRDs)."""
    data, work = tempdir(), tempdir()
    with FakeKube(wgpolicy=None, openreports=False) as kube:
        p = kube_snapshot(data, "kubernetes:" + kube.kubeconfig(work, token="t"))
    if p.returncode != 0:
        raise RuntimeError("baseline snapshot failed: " + p.stderr)
    return data


def expect_failure(name, data, before, p, *fragments):
    check(p.returncode != 0, name + ": exit status is non-zero", p.stderr)
    for f in fragments:
        check(f in p.stderr, name + ": says " + repr(f), p.stderr)
    check("no snapshot published" in p.stderr, name + ": says nothing was published", p.stderr)
    eq(current(data), before, name + ": the previous snapshot is still current")


def fault_run(name, script, *fragments, extra=(), kube_args=None):
    """Runs the source against a FakeKube that `script(kube)` broke; checks the failure.
    Returns (kube requests, seconds the run took)."""
    data = baseline()
    before = current(data)
    work = tempdir()
    with FakeKube(**(kube_args or {})) as kube:
        script(kube)
        t = time.time()
        p = kube_snapshot(data, "kubernetes:" + kube.kubeconfig(work, token="t"), *extra)
        took = time.time() - t
        requests = list(kube.srv.requests)
    expect_failure(name, data, before, p, *fragments)
    return requests, took


_files_view = None


def files_view():
    global _files_view
    if _files_view is None:
        data = tempdir()
        p = snapshot("--source", "files:" + REPORTS, "--data", data)
        if p.returncode != 0:
            raise RuntimeError("files: source failed: " + p.stderr)
        _files_view = published(data)
    return _files_view


def same_as_files(name, data):
    got, want = published(data), files_view()
    eq(sorted(got), sorted(want), name + ": the same published files as --source files:")
    diff = [k for k in want if got.get(k) != want[k]]
    eq(diff, [], name + ": every published file equal to --source files:")


def kube_ok(name, kube, kubeconfig, *extra, env=None):
    data = tempdir()
    p = kube_snapshot(data, kubeconfig, *extra, env=env)
    check(p.returncode == 0, name + ": published", p.stderr)
    if p.returncode == 0:
        same_as_files(name, data)
    return p


# ---- success paths -------------------------------------------------------------------------

@test
def kubeconfig_token_publishes_what_files_publish():
    work = tempdir()
    with FakeKube() as kube:
        kube_ok("token", kube, "kubernetes:" + kube.kubeconfig(work, token="s3cret"))
        reqs = kube.srv.requests
        paths = [r.path for r in reqs]
        check("/apis/wgpolicyk8s.io" in paths and "/apis/openreports.io" in paths,
              "discovery of both report groups", paths)
        check(all(r.headers.get("authorization") == "Bearer s3cret" for r in reqs),
              "every request carries the bearer token")
        check(all(r.headers.get("accept") == "application/json" for r in reqs),
              "every request asks for JSON")
        check(all("gzip" in r.headers.get("accept-encoding", "") for r in reqs),
              "every request accepts gzip")
        pol = kube.list_requests("policyreports")
        check(all(r.path.startswith("/apis/wgpolicyk8s.io/v1beta1/") for r in pol),
              "v1beta1 preferred over v1alpha2", [r.path for r in pol])
        eq([r.query.get("limit") for r in pol], ["500"] * len(pol), "lists in chunks of 500")
        eq([r.query.get("continue") for r in pol], [t for t, _ in kube.pages["policyreports"]],
           "follows every continue token, in order")
        check(len(pol) == 4, "7 policyreports in pages of 2: 4 requests", len(pol))
        eq(sorted(set(r.path for r in kube.list_requests("clusterreports"))),
           ["/apis/openreports.io/v1alpha1/clusterreports"], "openreports.io is listed too")


@test
def gzip_and_items_without_kind():
    work = tempdir()
    with FakeKube(strip_item_kinds=True) as kube:
        for plural, pages in kube.pages.items():
            for i, (_, r) in enumerate(pages):
                kube.fail_page(plural, i, dict(r, gzip=True))
        kube_ok("gzip, items without kind", kube,
                "kubernetes:" + kube.kubeconfig(work, token="t", ca="data"))


@test
def older_versions_only():
    work = tempdir()
    for version in ("v1alpha2", "v1alpha1"):
        with FakeKube(wgpolicy="apis-wgpolicyk8s.io-%s-only.json" % version) as kube:
            kube_ok(version, kube, "kubernetes:" + kube.kubeconfig(work, token="t"))
            pol = kube.list_requests("policyreports")
            check(pol and all("/%s/" % version in r.path for r in pol), "lists " + version,
                  [r.path for r in pol])


@test
def gone_mid_list_restarts_the_list():
    work = tempdir()
    with FakeKube() as kube:
        kube.fail_page("policyreports", 2, resp(410, json=kube.status("410.json")))
        p = kube_ok("410 once", kube, "kubernetes:" + kube.kubeconfig(work, token="t"))
        pol = [r.query.get("continue") for r in kube.list_requests("policyreports")]
        tokens = [t for t, _ in kube.pages["policyreports"]]
        eq(pol, tokens[:3] + tokens, "the list restarts from its first page after the 410")
        check(re.search(r"\b0 warnings", p.stdout), "no duplicate rows from the restart", p.stdout)


@test
def retry_after_is_honoured():
    work = tempdir()
    with FakeKube() as kube:
        kube.fail_page("clusterpolicyreports", 0,
                       resp(429, json=kube.status("429.json"), headers={"Retry-After": "1"}))
        kube.fail_page("reports", 0, resp(500, json=kube.status("500.json")))
        t = time.time()
        kube_ok("429 then 500", kube, "kubernetes:" + kube.kubeconfig(work, token="t"))
        took = time.time() - t
        eq(len(kube.list_requests("clusterpolicyreports")), 2, "429: one retry")
        eq(len(kube.list_requests("reports")), 2, "500: one retry")
        check(took >= 1.0, "waited the Retry-After second", took)


@test
def client_certificate_and_context():
    work = tempdir()
    with FakeKube(client_certs=True) as kube:
        cfg = kube.kubeconfig(work, client_cert="file")
        kube_ok("client certificate files", kube, "kubernetes:" + cfg)
        eq(sorted(set(r.client_cn for r in kube.srv.requests)), ["polsnap-test-user"],
           "every request came with the client certificate")
        cfg = kube.kubeconfig(work, name="config-data", client_cert="data", ca="data",
                              context="other-name")
        kube_ok("client certificate data, --context", kube, "kubernetes:" + cfg,
                "--context", "other-name")


@test
def token_file_and_kubeconfig_env():
    work = tempdir()
    with open(os.path.join(work, "token"), "w") as f:
        f.write("from-a-file\n")
    with FakeKube() as kube:
        cfg = kube.kubeconfig(work, token_file="token")
        kube_ok("KUBECONFIG with tokenFile", kube, "kubernetes", env={"KUBECONFIG": cfg})
        check(all(r.headers.get("authorization") == "Bearer from-a-file"
                  for r in kube.srv.requests), "the token of tokenFile (relative path) is sent")


@test
def in_cluster_rereads_the_token():
    sa = tempdir()
    # A fresh fake per run: each has its own CA, and the token file changes between runs.
    for token in ("first-token", "rotated-token"):
        with FakeKube() as kube:
            with open(os.path.join(sa, "ca.crt"), "w") as f:
                f.write(kube.ca_pem)
            with open(os.path.join(sa, "token"), "w") as f:
                f.write(token + "\n")
            env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1",
                   "KUBERNETES_SERVICE_PORT": str(kube.srv.port),
                   "POLSNAP_SERVICEACCOUNT_DIR": sa}
            kube_ok("in-cluster " + token, kube, "kubernetes", env=env)
            check(all(r.headers.get("authorization") == "Bearer " + token
                      for r in kube.srv.requests), "in-cluster sends " + token)


@test
def insecure_skip_verify_warns():
    work = tempdir()
    with FakeKube() as kube:
        p = kube_ok("insecure", kube,
                    "kubernetes:" + kube.kubeconfig(work, token="t", ca=None, insecure=True))
        check("TLS verification is off" in p.stderr, "warns that TLS is not verified", p.stderr)


@test
def no_crds_publishes_and_healthz_says_so():
    data, work = tempdir(), tempdir()
    with FakeKube(wgpolicy=None, openreports=False) as kube:
        p = kube_snapshot(data, "kubernetes:" + kube.kubeconfig(work, token="t"))
    check(p.returncode == 0, "no CRDs: the snapshot is still published", p.stderr)
    check("no PolicyReport CRDs" in p.stderr, "no CRDs: says so", p.stderr)
    with open(os.path.join(data, "current", "v1", "snapshot.json")) as f:
        meta = json.load(f)
    eq(meta.get("noCrds"), True, "no CRDs: recorded in the snapshot")
    eq(meta.get("sources"), [{"name": "kubernetes", "up": True}], "no CRDs: the source is up")
    if os.path.exists(os.path.join(ROOT, "lighttpd.conf")):
        srv = Server(data)
        r = get(srv, "/healthz")
        eq((r.status, r.json()), (503, {"error": "No PolicyReport CRDs found"}),
           "no CRDs: /healthz answers 503")
        srv.stop()


@test
def openreports_only():
    data, work = tempdir(), tempdir()
    with FakeKube(wgpolicy=None) as kube:
        p = kube_snapshot(data, "kubernetes:" + kube.kubeconfig(work, token="t"))
        lists = sorted(set(r.path for r in kube.srv.requests if r.path.count("/") == 4))
    check(p.returncode == 0, "OpenReports only: published", p.stderr)
    eq(lists, ["/apis/openreports.io/v1alpha1/clusterreports",
               "/apis/openreports.io/v1alpha1/reports"], "OpenReports only: lists its two kinds")
    check(re.search(r": 3 rows from 2 reports", p.stdout),
          "OpenReports only: the rows of Report and ClusterReport", p.stdout)
    with open(os.path.join(data, "current", "v1", "snapshot.json")) as f:
        eq(json.load(f).get("noCrds"), False, "OpenReports only: CRDs are there")


def with_bad_item(kube):
    _, page = kube.pages["clusterpolicyreports"][0]
    body = json.loads(page["body"])
    body["items"].append("not a report")
    kube.fail_page("clusterpolicyreports", 0, *[resp(json=body)] * 5)


@test
def invalid_item_is_skipped_with_skip_invalid():
    data, work = tempdir(), tempdir()
    with FakeKube() as kube:
        with_bad_item(kube)
        p = kube_snapshot(data, "kubernetes:" + kube.kubeconfig(work, token="t"), "--skip-invalid")
    check(p.returncode == 0, "--skip-invalid: published", p.stderr)
    check(re.search(r"\b1 warnings", p.stdout), "--skip-invalid: the bad item counts as a warning", p.stdout)


# ---- faults: the old snapshot stays -------------------------------------------------------

@test
def invalid_item_fails_without_skip_invalid():
    fault_run("invalid item", with_bad_item, "kubernetes ClusterPolicyReport (unnamed)",
              "--skip-invalid skips such reports")


@test
def unauthorized():
    def script(kube):
        kube.srv.route("/apis/wgpolicyk8s.io", resp(401, json=kube.status("401.json")))
    fault_run("401", script, "401 Unauthorized", "did not accept the credentials")


@test
def forbidden_list():
    def script(kube):
        kube.fail_page("policyreports", 0,
                       resp(403, json=kube.status("403-list-policyreports.json")))
    fault_run("403 list", script, "403 Forbidden listing policyreports.wgpolicyk8s.io",
              "needs 'list' on policyreports.wgpolicyk8s.io at cluster scope: "
              "apply deploy/rbac.yaml", 'User "system:serviceaccount:polsnap:polsnap"')


@test
def forbidden_discovery():
    def script(kube):
        kube.srv.route("/apis/openreports.io", resp(403, json=kube.status("403-discovery.json")))
    fault_run("403 discovery", script, "403 Forbidden discovering the API group openreports.io",
              "'get' on the discovery URLs")


@test
def gone_every_time():
    def script(kube):
        kube.fail_page("policyreports", 1, *[resp(410, json=kube.status("410.json"))] * 10)
    reqs, _ = fault_run("410 forever", script, "expired (410 Gone) 4 times")
    eq(len([r for r in reqs if r.path.endswith("/policyreports")]), 8,
       "410 forever: bounded restarts (4 x 2 requests)")


@test
def too_many_requests_forever():
    def script(kube):
        kube.srv.route(kube.list_path("policyreports"),
                       resp(429, json=kube.status("429.json"), headers={"Retry-After": "1"}))
    reqs, took = fault_run("429 forever", script, "answered 429 Too Many Requests",
                           "after 3 attempts")
    check(2.0 <= took < 20, "429 forever: waited Retry-After twice, then gave up", took)


@test
def server_errors_forever():
    def script(kube):
        kube.srv.route("/apis/wgpolicyk8s.io", resp(503, body="upstream connect error"))
    fault_run("503 forever", script, "answered 503 Service Unavailable discovering",
              "after 3 attempts")


@test
def slow_response_times_out():
    def script(kube):
        kube.fail_page("policyreports", 1, *[resp(json={}, delay=30)] * 3)
    _, took = fault_run("slow", script, "timed out", "after 3 attempts", extra=("--timeout", "1"))
    check(took < 15, "slow: bounded by --timeout and the retries", took)


@test
def truncated_body():
    def script(kube):
        _, page = kube.pages["policyreports"][1]
        kube.fail_page("policyreports", 1, *[dict(page, fault="truncate")] * 3)
    fault_run("truncated", script, "cut off before its end")


@test
def huge_body():
    def script(kube):
        kube.fail_page("policyreports", 0, resp(fault="huge", size=80 << 20))
    _, took = fault_run("huge", script, "larger than the 67108864-byte limit")
    check(took < 30, "huge: aborted early", took)


@test
def not_json():
    def script(kube):
        kube.fail_page("clusterpolicyreports", 0, resp(body="<html>proxy error</html>"))
    fault_run("not JSON", script, "is not a Kubernetes list (not JSON)")


@test
def unknown_version_only():
    fault_run("v9", lambda kube: None, "serves wgpolicyk8s.io only in version(s) v9",
              kube_args={"wgpolicy": "apis-wgpolicyk8s.io-v9-only.json"})


@test
def untrusted_server_certificate():
    data = baseline()
    before = current(data)
    work = tempdir()
    with FakeKube() as kube, FakeKube() as other:
        cfg = kube.kubeconfig(work, token="t")
        with open(os.path.join(work, "fake-ca.crt"), "w") as f:
            f.write(other.ca_pem)  # a CA that did not sign the server's certificate
        p = kube_snapshot(data, "kubernetes:" + cfg)
    expect_failure("wrong CA", data, before, p, "TLS certificate is not trusted")


@test
def nothing_listening():
    data = baseline()
    before = current(data)
    work = tempdir()
    with FakeKube() as kube:
        cfg = kube.kubeconfig(work, token="t")
    p = kube_snapshot(data, "kubernetes:" + cfg, "--timeout", "2")
    expect_failure("server down", data, before, p, "cannot connect to the server")


@test
def unsupported_kubeconfig():
    data = baseline()
    before = current(data)
    work = tempdir()
    with FakeKube() as kube:
        cfg = kube.kubeconfig(work, extra_user="    exec:\n      apiVersion: "
                              "client.authentication.k8s.io/v1beta1\n      command: aws")
        p = kube_snapshot(data, "kubernetes:" + cfg)
        expect_failure("exec plugin", data, before, p, "uses 'exec', which polsnap does not support")
        eq(kube.srv.requests, [], "exec plugin: nothing was sent")
        cfg = kube.kubeconfig(work, name="c2", token="t")
        p = kube_snapshot(data, "kubernetes:" + cfg, "--context", "missing")
        expect_failure("unknown context", data, before, p, 'no context named "missing"')
    p = kube_snapshot(data, "kubernetes")
    expect_failure("not in a pod", data, before, p, "KUBERNETES_SERVICE_HOST is not set")


run()
