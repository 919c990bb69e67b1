"""test_query_100k.py - the same API at 100,000 results (a generated, realistic data set): the
unfiltered files and a spread of filtered, searched, sorted and paginated queries, each equal
to the oracle's answer byte for byte."""
import os
import subprocess
import sys
from urllib.parse import quote

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401
import model  # noqa: E402

reports = tempdir()
subprocess.run([sys.executable, os.path.join(ROOT, "tests", "lib", "gen_reports.py"), "--results",
                "100000", "--format", "json", "--seed", "3", "--out", reports], check=True,
               capture_output=True)
data = tempdir()
p = snapshot("--source", "files:" + reports, "--data", data, timeout=300)
oracle = model.load([reports])
srv = Server(data)
NS, CL = "/v1/namespaced-resources", "/v1/cluster-resources"


@test
def snapshot_of_100k():
    eq(p.returncode, 0, "the snapshot of 100,000 results publishes")
    check("100000 rows" in p.stdout, "and counts 100000 rows", p.stdout)


@test
def unfiltered_files():
    for path in ("/v1/namespaces", "/v1/categories", NS + "/policies", NS + "/kinds", NS + "/sources",
                 NS + "/categories", CL + "/categories", "/v1/policy-reports", "/v1/cluster-policy-reports",
                 NS + "/status-counts", CL + "/status-counts", CL + "/resources", NS + "/results",
                 CL + "/results"):
        eq(get(srv, path, timeout=60).body, model.render(oracle.answer(path)[1]), path)
    eq(get(srv, "/metrics", timeout=60).text(),
       oracle.metrics(created=get(srv, "/v1/snapshot").json()["createdUnix"]), "/metrics")


@test
def queries():
    ns = oracle.answer("/v1/namespaces")[1]
    pol = oracle.answer(NS + "/policies")[1]
    q = lambda v: quote(v, safe="")  # noqa: E731
    cases = [
        (NS + "/results", "namespaces=%s&status=fail&pagination.limit=50" % ns[0]),
        (NS + "/results", "namespaces=%s&namespaces=%s&page=3&offset=25&direction=desc" % (ns[1], ns[-1])),
        (NS + "/results", "policies=%s&severities=high&severities=critical&pagination.limit=100" % q(pol[0])),
        (NS + "/results", "search=%s&pagination.limit=20&pagination.offset=40" % ns[2][:3]),
        (NS + "/results", "query=" + quote("Policy:r/label|root+Status:fail") + "&pagination.limit=30"),
        (NS + "/results", "query=" + quote("Severity:!low+Namespace:%s" % ns[0][:4]) + "&pagination.limit=10"),
        (NS + "/results", "pagination.sortOption.field=Severity&pagination.limit=25&pagination.offset=9000"),
        (NS + "/results", "pagination.sortOption.field=Timestamp&pagination.sortOption.reversed=true&pagination.limit=25"),
        (NS + "/results", "pagination.sortOption.field=Message&pagination.limit=10&status=warn"),
        (NS + "/results", "status=skip&page=1000&offset=50"),
        (CL + "/results", "sources=kube-bench&pagination.limit=40"),
        (CL + "/results", "query=" + quote("Kind:*") + "&pagination.limit=5&pagination.offset=3"),
        (NS + "/status-counts", "sources=Kyverno"),
        (NS + "/status-counts", "status=fail&status=error&kinds=Pod"),
        (CL + "/status-counts", "severities=medium"),
        ("/v1/namespaces", "status=error"),
        ("/v1/categories", "sources=Trivy%20Vulnerability"),
        (NS + "/resources", "namespaces=%s&kinds=Deployment" % ns[0]),
        (NS + "/kinds", "policies=%s" % q(pol[-1])),
        ("/v1/rule-status-count", "policy=%s&rule=%s" % (
            q(pol[0]), q(oracle.answer(NS + "/results", "policies=" + q(pol[0]) + "&pagination.limit=1")[1]["items"][0]["rule"]))),
        # Policy Reporter 3's parameters and report lists (spec section 12)
        (NS + "/results", "labels=app.kubernetes.io/managed-by:kyverno&status=fail&page=3&offset=50"),
        (NS + "/results", "labels=trivy-operator.resource.kind:Deployment&labels=trivy-operator.source:ConfigAuditReport&sortBy=severity&sortBy=resource_name&page=2&offset=20"),
        (NS + "/results", "labels=trivy-operator.resource.namespace:%s&sortBy=resource_uid&direction=desc&page=1&offset=25" % ns[1]),
        (NS + "/results", "exclude=kyverno:Pod&exclude=Trivy%20Vulnerability:ReplicaSet&page=40&offset=25"),
        (NS + "/results", "sortBy=policy&sortBy=Timestamp&namespaces=%s&page=2&offset=30" % ns[0]),
        (CL + "/results", "labels=app:kube-bench-adapter&sortBy=status&sortBy=message&page=1&offset=15"),
        (NS + "/status-counts", "labels=app.kubernetes.io/created-by:trivy-operator-polr-adapter&exclude=Trivy%20ConfigAudit:Deployment"),
        ("/v1/namespaces", "labels=trivy-operator.source:VulnerabilityReport"),
        (NS + "/categories", "exclude=kyverno:Pod"),
        ("/v1/policy-reports", "namespaces=%s&sources=kyverno&page=2&offset=10" % ns[2]),
        ("/v1/policy-reports", "labels=trivy-operator.source:ConfigAuditReport&direction=desc&page=3&offset=20"),
        ("/v1/cluster-policy-reports", "sources=kube-bench"),
    ]
    for path, qs in cases:
        status, want = oracle.answer(path, qs)
        r = get(srv, path + "?" + qs, timeout=60)
        eq((r.status, r.body), (status, model.render(want)), path + "?" + qs)


run()
