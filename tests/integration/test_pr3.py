"""test_pr3.py - what Policy Reporter 3's clients send (spec section 12): labels, exclude and
sortBy on the filtering endpoints, the report lists and the scoped categories, through lighttpd
on the samples (whose reports carry the labels Kyverno, the Trivy operator and kube-bench
write), each body equal byte for byte to the oracle's; then the labels a report may not keep."""
import json
import os
import sys
from urllib.parse import quote

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401
import model  # noqa: E402

data = tempdir()
assert snapshot("--source", "files:" + SAMPLES, "--data", data).returncode == 0
srv = Server(data)
oracle = model.load([SAMPLES])
NS, CL = "/v1/namespaced-resources", "/v1/cluster-resources"
FILTERING = [NS + "/policies", NS + "/kinds", NS + "/sources", NS + "/categories",
             NS + "/resources", NS + "/status-counts", NS + "/results", CL + "/policies",
             CL + "/kinds", CL + "/sources", CL + "/categories", CL + "/resources",
             CL + "/status-counts", CL + "/results", "/v1/namespaces", "/v1/categories",
             "/v1/rule-status-count?policy=require-labels&rule=check-for-labels"]
LISTS = ["/v1/policy-reports", "/v1/cluster-policy-reports"]


def same(path, qs=""):
    """The answer through lighttpd equals the oracle's, byte for byte (or the status when the
    oracle fixes no body)."""
    base, _, fixed = path.partition("?")
    qs = "&".join(p for p in (fixed, qs) if p)
    r = get(srv, base + ("?" + qs if qs else ""))
    status, want = oracle.answer(base, qs)
    if want is None:
        return eq(r.status, status, "%s?%s -> %d" % (base, qs, status))
    pretty = any(p.split("=")[0] == "pretty" for p in qs.split("&"))
    return eq((r.status, r.body), (status, model.render(want, pretty)), "%s?%s" % (base, qs))


@test
def the_samples_carry_labels():
    labelled = [r for r in oracle.reports if r["labels"]]
    check(len(labelled) >= 10, "most sample reports have labels (%d)" % len(labelled))
    keys = {k for r in labelled for k in r["labels"]}
    for k in ("app.kubernetes.io/managed-by", "app.kubernetes.io/created-by",
              "trivy-operator.resource.kind", "trivy-operator.resource.name"):
        check(k in keys, "a sample report carries the label %s" % k)


@test
def report_lists_unfiltered_are_the_precomputed_files():
    for path in LISTS + [NS + "/categories", CL + "/categories"]:
        same(path)
        check(os.path.exists(os.path.join(data, "current", path.lstrip("/") + ".json")),
              "%s is precomputed" % path)


@test
def report_lists_filtered_and_paged():
    for path in LISTS:
        for qs in ("namespaces=shop-frontend", "namespaces=SHOP-FRONTEND&namespaces=argocd",
                   "sources=kyverno", "sources=Trivy&sources=kube-bench",
                   "labels=app.kubernetes.io/managed-by:kyverno",
                   "labels=app.kubernetes.io/created-by:trivy-operator-polr-adapter"
                   "&labels=trivy-operator.source:VulnerabilityReport",
                   "labels=app:kube-bench-adapter", "labels=app:nope",
                   "labels=%20app.kubernetes.io/managed-by%20:%20kyverno%20",
                   "labels=no-colon", "labels=a:b:c", "status=fail&policies=x",
                   "page=2&offset=3", "page=1&offset=4&direction=desc", "direction=desc",
                   "pagination.limit=2&pagination.offset=1",
                   "pagination.sortOption.reversed=true&pagination.limit=3", "pretty"):
            same(path, qs)


@test
def labels_on_every_filtering_endpoint():
    for path in FILTERING:
        for qs in ("labels=app.kubernetes.io/managed-by:kyverno",
                   "labels=trivy-operator.resource.kind:Deployment",
                   "labels=app.kubernetes.io/managed-by:kyverno&labels=managed-by:kyverno",
                   "labels=app.kubernetes.io/managed-by:Kyverno",  # labels are case-sensitive
                   "labels=app:kube-bench-adapter&status=fail",
                   "labels=app.kubernetes.io/managed-by:kyverno&query=" + quote("Severity:high"),
                   "labels=ignored", "labels=nope:nope"):
            same(path, qs)


@test
def exclude_on_every_filtering_endpoint():
    for path in FILTERING:
        for qs in ("exclude=kyverno:Pod", "exclude=KYVERNO:pod&exclude=Trivy:Deployment",
                   "exclude=kube-bench:Node", "exclude=kyverno", "exclude=kyverno:Pod:extra",
                   "exclude=%20kyverno%20:%20Pod", "exclude=kyverno:Pod&kinds=Pod",
                   "exclude=kyverno:Namespace&labels=app.kubernetes.io/managed-by:kyverno"):
            same(path, qs)


@test
def sort_by_on_the_results():
    for path in (NS + "/results", CL + "/results"):
        for qs in ("sortBy=resource_name", "sortBy=severity&direction=desc",
                   "sortBy=policy&sortBy=rule&sortBy=resource_name",
                   "sortBy=resource_uid", "sortBy=resource_uid&page=2&offset=5",
                   "sortBy=status&sortBy=severity&page=1&offset=7&direction=desc",
                   "sortBy=Timestamp&sortBy=category", "sortBy=SOURCE&sortBy=resource_kind",
                   "sortBy=message&status=fail&page=2&offset=2",
                   "sortBy=resource_namespace&sortBy=Report&labels=app.kubernetes.io/managed-by:kyverno",
                   "sortBy=Change&sortBy=message&exclude=kyverno:Pod"):
            same(path, qs)


def bad(path_qs, message):
    r = get(srv, path_qs)
    eq((r.status, r.json()), (400, error_body(3, message)), "%s -> 400" % path_qs[:70])


@test
def sort_by_errors():
    bad(NS + "/results?sortBy=resource_id", 'invalid sortBy "resource_id": allowed values are '
        "resource_namespace, resource_name, resource_kind, resource_uid, policy, rule, message, "
        "severity, status, source, category, Namespace, Kind, Resource, Policy, Rule, Category, "
        "Severity, Status, Source, Message, Report, Change, Timestamp")
    bad(NS + "/results?sortBy=policy&pagination.limit=5",
        "page, offset, direction and sortBy cannot be mixed with pagination.* parameters")
    bad(NS + "/results?" + "&".join(["sortBy=policy"] * 17), "too many sortBy values: at most 16")
    same(NS + "/results", "&".join(["sortBy=policy"] * 16))


@test
def a_namespace_limited_token_sees_its_reports():
    import hashlib
    tokfile = os.path.join(tempdir(), "tokens")
    with open(tokfile, "w") as f:
        f.write("%s team Reader - payments,argocd\n" % hashlib.sha256(b"tok").hexdigest())
    s = Server(data, env={"POLSNAP_TOKENS": tokfile})
    try:
        hdr = {"Authorization": "Bearer tok"}
        for qs in ("", "labels=app.kubernetes.io/managed-by:kyverno", "sources=kyverno&page=1&offset=2"):
            want = oracle.answer("/v1/policy-reports", qs + "&namespaces=payments&namespaces=argocd")[1]
            r = get(s, "/v1/policy-reports" + ("?" + qs if qs else ""), headers=hdr)
            eq((r.status, r.body), (200, model.render(want)),
               "limited token: only the reports of its namespaces (%s)" % qs)
        check(want["count"] > 0, "and some of them")
        r = get(s, "/v1/cluster-policy-reports", headers=hdr)
        eq((r.status, r.json()["code"]), (403, 7), "the cluster report list is 403 for it")
        r = get(s, "/v1/html-report/violations", headers=hdr)
        check(r.status == 200 and b"cluster scope" not in r.body and b"shop-frontend" not in r.body,
              "its violations report holds only its namespaces")
    finally:
        s.stop()


def hostile_snapshot(labels_by_report):
    """A snapshot of one report per labels value (JSON files), the oracle of the same files."""
    docs = {}
    for i, labels in enumerate(labels_by_report):
        meta = {"name": "r%d" % i, "namespace": "ns"}
        if labels is not None:
            meta["labels"] = labels
        docs["f%02d.json" % i] = json.dumps({
            "apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport", "metadata": meta,
            "results": [{"policy": "p", "rule": "r%d" % i, "result": "fail", "source": "s",
                         "resources": [{"kind": "Pod", "name": "p%d" % i}]}]})
    d = tempdir()
    for name, text in docs.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    out = tempdir()
    p = snapshot("--source", "files:" + d, "--data", out)
    return p, out, model.load([d], default=False)


@test
def labels_a_report_may_not_keep():
    cases = [
        {"ok": "yes", "empty": ""},                        # kept, "" is a value
        {"k%d" % i: "v" for i in range(64)},               # 64: the most Kubernetes allows
        {"k%d" % i: "v" for i in range(65)},               # 65: dropped
        {"x" * 63: "v", "p" * 253 + "/n": "v"},            # the longest key parts
        {"x" * 64: "v"},                                   # name part too long
        {"p" * 254 + "/n": "v"},                           # prefix too long
        {"prefix/": "v"},                                  # empty name part
        {"k": "v" * 64},                                   # value too long
        {"k": 1},                                          # not a string
        "not-a-map",
        None,
        {},
    ]
    p, out, snap = hostile_snapshot(cases)
    eq(p.returncode, 0, "the snapshot publishes")
    check("the report is kept without them" in p.stderr, "and says why labels were dropped",
          p.stderr)
    s = Server(out)
    try:
        warnings = get(s, "/v1/snapshot").json()["warnings"]
        eq(warnings, snap.warnings, "one warning per report whose labels were dropped")
        eq(warnings, 7, "seven reports lose their labels")
        for path, qs in (("/v1/policy-reports", ""), ("/v1/policy-reports", "labels=ok:yes"),
                         ("/v1/policy-reports", "labels=empty:"),
                         (NS + "/results", "labels=k63:v"), (NS + "/results", "labels=k64:v"),
                         (NS + "/results", "labels=" + "x" * 63 + ":v")):
            r = get(s, path + ("?" + qs if qs else ""))
            eq((r.status, r.body), (200, model.render(snap.answer(path, qs)[1])),
               "hostile labels: %s?%s" % (path, qs[:40]))
    finally:
        s.stop()


run()
