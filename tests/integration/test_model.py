"""test_model.py - checks the test oracle (tests/lib/model.py) against hand-computed answers on
tiny inline reports, one rule of the spec at a time, so that the oracle can be trusted when the
other suites compare the C answers with it. Needs no binaries and no server."""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import model  # noqa: E402
from polsnap import ROOT, SAMPLES, check, eq, run, test  # noqa: E402


def report(kind="PolicyReport", ns="team-a", name="rep", results=(), api=None, **extra):
    api = api or ("openreports.io/v1alpha1" if kind in ("Report", "ClusterReport")
                  else "wgpolicyk8s.io/v1alpha2")
    meta = {"name": name}
    if ns is not None:
        meta["namespace"] = ns
    d = {"apiVersion": api, "kind": kind, "metadata": meta, "results": list(results)}
    d.update(extra)
    return d


def res(kind="Pod", name="p", ns="team-a", api="v1", uid=None):
    r = {"apiVersion": api, "kind": kind, "name": name, "namespace": ns}
    if uid:
        r["uid"] = uid
    return r


def result(policy="pol", rule="rule", status="pass", **kw):
    r = {"policy": policy, "rule": rule, "result": status}
    r.update(kw)
    return r


def snap_json(*docs, **kw):
    """One JSON file per document, loaded in the given order."""
    return model.from_texts({"f%03d.json" % i: json.dumps(d) for i, d in enumerate(docs)}, **kw)


def sha1(*fields):
    return hashlib.sha1("\x1f".join(fields).encode("utf-8")).hexdigest()


def rows(s):
    return [s.public_row(r) for r in s.rows]


# ---------------------------------------------------------------- section 1: rows

@test
def fan_out_resources_scope_and_none():
    s = snap_json(report(results=[
        result("p1", resources=[res(name="a"), res(name="b")]),
        result("p2"),
    ], scope=res("Deployment", "web", api="apps/v1")),
        report(name="noscope", results=[result("p3")]))
    got = [(r["policy"], r["kind"], r["name"], r["namespace"]) for r in rows(s)]
    eq(got, [("p1", "Pod", "a", "team-a"), ("p1", "Pod", "b", "team-a"),
             ("p2", "Deployment", "web", "team-a"), ("p3", None, None, "team-a")],
       "N resources give N rows; none uses scope; neither gives kind/name null")
    eq(list(rows(s)[0].keys()), model.ROW_KEYS, "every row has the 13 keys in order")


@test
def namespace_rules():
    s = snap_json(report(ns=None, results=[result(resources=[res(ns="from-res")])]),
                  report("ClusterPolicyReport", ns=None, name="c",
                         results=[result(resources=[res(ns="ignored")])]),
                  report(ns="meta", name="m", results=[result(resources=[res(ns="other")])]))
    eq([r["namespace"] for r in s.rows], ["from-res", None, "meta"],
       "report namespace, else resource namespace; cluster rows null")
    s = snap_json(report(ns=None, results=[result(resources=[res(ns=None)])]))
    eq(s.answer("/v1/namespaces")[1], [], "namespace null stays namespaced, left out of /namespaces")
    eq(s.answer("/v1/namespaced-resources/results")[1]["count"], 1, "... but listed as namespaced")


@test
def status_rules():
    s = snap_json(report(results=[result("a", status="FAIL"), result("b", status="unknown"),
                                  {"policy": "c", "rule": "r"}, result("d", status="Skip"),
                                  {"policy": "e", "rule": "r", "status": "warn"}]))
    eq([(r["policy"], r["status"]) for r in s.rows], [("a", "fail"), ("d", "skip"), ("e", "warn")],
       "status lower-cased; invalid and missing skipped; older status accepted")
    eq(s.warnings, 2, "two warnings for the skipped results")


@test
def severity_source_category_blank():
    s = snap_json(report(source="Top", results=[
        result("a", severity="HIGH", source="Own", category=""),
        result("b", severity="severe", message=5),
        result("c", category=["x"]),
    ]))
    eq([(r["severity"], r["source"], r["category"], r["message"]) for r in s.rows],
       [("high", "Own", None, None), (None, "Top", None, None), (None, "Top", None, None)],
       "severity folded or null; source falls back to top level; blank and non-string are null")


@test
def timestamps():
    s = snap_json(report(results=[
        result("a", timestamp={"seconds": 1700000000, "nanos": 5}),
        result("b", timestamp={"seconds": 1700000000.9}),
        result("c", timestamp={"seconds": "1700000001.7"}),
        result("d", timestamp={"seconds": "soon"}),
        result("e", timestamp="2023-11-14T22:13:20Z"),
        result("f"),
        result("g", timestamp={"seconds": -1.5}),
        result("h", timestamp={"seconds": "1.666094801e+09"}),
        result("i", timestamp={"seconds": 1.666094801e+09}),
    ]))
    eq([r["timestamp"] for r in s.rows],
       [1700000000, 1700000000, 1700000001, None, None, None, -1, 1666094801, 1666094801],
       "seconds as int, float, numeric text (truncated); anything else null")


@test
def properties_and_ids():
    props = {"z.key": "1", "a key": "2", "n": 3, "nested": {"x": "y"}}
    s = snap_json(report(name="r1", results=[
        result("a", properties=props, resources=[res(name="p", uid="u1")], severity="low",
               category="cat", source="src", message="msg"),
    ]))
    r = s.rows[0]
    eq(r["properties"], {"z.key": "1", "a key": "2"}, "string values only, input order")
    eq(list(r["properties"].keys()), ["z.key", "a key"], "input order kept")
    want = sha1("PolicyReport", "team-a", "r1", "v1", "team-a", "Pod", "p", "u1", "", "a", "rule",
                "pass", "low", "cat", "src", "msg", '{"z.key":"1","a key":"2"}')
    eq(r["id"], want, "id: SHA-1 over the 17 fields joined by 0x1f")
    s = snap_json(report(results=[result("a", properties={"n": 1})]))
    eq(s.rows[0]["properties"], None, "no string value left: null")
    s = snap_json(report(results=[result("a", data={"k": "v"}, status="fail")],
                         api="wgpolicyk8s.io/v1alpha1"))
    eq(s.rows[0]["properties"], {"k": "v"}, "v1alpha1 data means properties")


@test
def result_id_rules():
    s = snap_json(report(name="r1", results=[
        result("one", properties={"resultID": "rid-1"}, resources=[res(name="x")]),
        result("none", properties={"resultID": "rid-2"}),
        result("two", properties={"resultID": "rid-3"}, resources=[res(name="x"), res(name="y")]),
    ]))
    ids = [r["id"] for r in s.rows]
    eq(ids[:2], ["rid-1", "rid-2"], "resultID is the id with at most one resource")
    eq(ids[2], sha1("PolicyReport", "team-a", "r1", "v1", "team-a", "Pod", "x", "", "rid-3",
                    "two", "rule", "pass", "", "", "", "", '{"resultID":"rid-3"}'),
       "with two resources the id is hashed (resultID part of it)")
    check(ids[2] != ids[3], "the two resources get different ids")


@test
def duplicates_and_timestamp_stability():
    a = report(results=[result("a", message="m1", timestamp={"seconds": 1})])
    b = report(results=[result("a", message="m2", timestamp={"seconds": 2})])
    c = report(results=[result("a", message="m1", timestamp={"seconds": 9})])
    s = snap_json(a, b, c)
    eq([r["message"] for r in s.rows], ["m1", "m2"], "a duplicate id is dropped (first stays)")
    eq(s.rows[0]["timestamp"], 1, "the first in load order stays")
    eq(s.warnings, 1, "duplicate counted as a warning")
    eq(snap_json(a).rows[0]["id"], snap_json(c).rows[0]["id"], "id ignores the timestamp")
    s = snap_json(report(results=[result("a", properties={"resultID": "x"}),
                                  result("b", properties={"resultID": "x"})]))
    eq([r["policy"] for r in s.rows], ["a"], "resultID duplicates are dropped too")


@test
def yaml_shapes():
    text = "\ufeff" + """---
apiVersion: wgpolicyk8s.io/v1alpha2
kind: PolicyReport
metadata: {name: y1, namespace: ns1}
summary: {pass: 99}
results:
- policy: 1.10
  rule: yes
  result: pass
  category: 0755
  scored: true
  timestamp: {seconds: 1700000000}
  resources:
  - {kind: Pod, name: "on", namespace: ns1}
---
---
apiVersion: wgpolicyk8s.io/v1alpha2
kind: PolicyReportList
items:
- metadata: {name: y2, namespace: ns2}
  results:
  - {policy: p, rule: r, result: fail, message: null}
---
apiVersion: v1
kind: List
items:
- apiVersion: openreports.io/v1alpha1
  kind: Report
  metadata: {name: o1, namespace: ns3}
  source: kyverno
  results:
  - policy: p
    rule: r
    result: warn
    description: from description
    subjects: [{kind: Service, name: s1}, {kind: Service, name: s2}]
- apiVersion: openreports.io/v1alpha1
  kind: ClusterReport
  metadata: {name: o2}
  results: [{policy: p, rule: r, result: skip, source: own}]
"""
    s = model.from_texts({"a.yaml": text})
    got = [(r["namespace"], r["kind"], r["name"], r["policy"], r["rule"], r["category"],
            r["status"], r["message"], r["source"], r["timestamp"]) for r in rows(s)]
    eq(got, [("ns1", "Pod", "on", "1.10", "yes", "0755", "pass", None, None, 1700000000),
             ("ns2", None, None, "p", "r", None, "fail", "null", None, None),
             ("ns3", "Service", "s1", "p", "r", None, "warn", "from description", "kyverno", None),
             ("ns3", "Service", "s2", "p", "r", None, "warn", "from description", "kyverno", None),
             (None, None, None, "p", "r", None, "skip", None, "own", None)],
       "BOM, multi-document, List items inherit kind, kind: List, OpenReports, scalars are text")
    eq(s.rows[0]["_scored"], True, "scored true")
    eq([(r["kind"], r["name"], r["namespace"], r["cluster"]) for r in s.reports],
       [("PolicyReport", "y1", "ns1", False), ("PolicyReport", "y2", "ns2", False),
        ("Report", "o1", "ns3", False), ("ClusterReport", "o2", None, True)],
       "report documents recorded")
    eq(s.warnings, 0, "no warnings")


@test
def invalid_documents():
    bad = {"b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
           "a.json": json.dumps(report(results=[result("ok")]))}
    try:
        model.from_texts(bad)
        check(False, "a non-report document fails the load")
    except model.LoadError:
        check(True, "a non-report document fails the load")
    s = model.from_texts(bad, skip_invalid=True)
    eq((len(s.rows), s.warnings), (1, 1), "skip_invalid: skipped and counted")
    for why, doc in [("results not a list", report(results=[]) | {"results": {"a": 1}}),
                     ("wrong group", report(api="example.com/v1")),
                     ("result not a mapping", report(results=["x"]))]:
        s = model.from_texts({"x.json": json.dumps(doc)}, skip_invalid=True)
        eq((len(s.reports), s.warnings), (0, 1), why)
    s = model.from_texts({"x.json": "{not json"}, skip_invalid=True)
    eq(s.warnings, 1, "unparsable file counted")
    s = model.from_texts({"x.json": json.dumps(report(results=[result("a")]) | {"summary": 3})})
    eq(len(s.rows), 1, "summary never read")


# ---------------------------------------------------------------- fixture for the endpoints

def fixture():
    """7 namespaced rows, 3 cluster rows; hand-ordered expectations below."""
    ns = [
        report(ns="b-ns", name="r-b", results=[
            result("pol-x", "r1", "fail", severity="high", category="Cat1", source="kyverno",
                   message="m", resources=[res(name="web", ns="b-ns"), res("Service", "web", "b-ns")],
                   timestamp={"seconds": 300}),
            result("pol-y", "r2", "pass", severity="low", category="Cat2", source="Trivy",
                   message="m", resources=[res(name="api", ns="b-ns")], timestamp={"seconds": 100}),
        ]),
        report(ns="a-ns", name="r-a", results=[
            result("pol-x", "r1", "pass", severity="high", category="Cat1", source="kyverno",
                   message="m", resources=[res(name="Zed", ns="a-ns")], timestamp={"seconds": 200}),
            result("pol-x", "r1", "warn", severity="medium", category="Cat1", source="kyverno",
                   message="m", resources=[res(name="éclair", ns="a-ns")]),
            result("pol-z", "r3", "error", category="Cat3", source="kyverno",
                   message="m", resources=[res(name="zed", ns="a-ns")], timestamp={"seconds": 50}),
            result("pol-z", "r3", "skip", severity="info", category="Cat3", source="kyverno",
                   message="m"),
        ]),
        report(ns=None, name="r-none", results=[
            result("pol-y", "r2", "fail", severity="critical", source="Trivy", message="m",
                   resources=[res(name="orphan", ns=None)]),
        ]),
    ]
    cl = report("ClusterPolicyReport", ns=None, name="c-1", results=[
        result("cpol", "c1", "fail", severity="high", category="Cat1", source="kyverno", message="m",
               resources=[res("Namespace", "a-ns", None), res("Namespace", "b-ns", None)]),
        result("bench", "1.1", "pass", source="kube-bench", message="m"),
    ])
    return snap_json(*(ns + [cl]))


def names(body):
    return [(r["namespace"], r["name"], r["kind"], r["status"]) for r in body["items"]]


DEFAULT = [(None, "orphan", "Pod", "fail"), ("a-ns", None, None, "skip"),
           ("a-ns", "Zed", "Pod", "pass"), ("a-ns", "zed", "Pod", "error"),
           ("a-ns", "éclair", "Pod", "warn"), ("b-ns", "api", "Pod", "pass"),
           ("b-ns", "web", "Pod", "fail"), ("b-ns", "web", "Service", "fail")]


@test
def lists():
    s = fixture()
    eq(s.answer("/v1/categories"), (200, ["Cat1", "Cat2", "Cat3"]), "categories over both scopes")
    eq(s.answer("/v1/namespaces"), (200, ["a-ns", "b-ns"]), "namespaces: non-null, sorted")
    eq(s.answer("/v1/namespaced-resources/policies"), (200, ["pol-x", "pol-y", "pol-z"]), "policies")
    eq(s.answer("/v1/cluster-resources/policies"), (200, ["bench", "cpol"]), "cluster policies")
    eq(s.answer("/v1/namespaced-resources/kinds"), (200, ["Pod", "Service"]), "kinds")
    eq(s.answer("/v1/cluster-resources/kinds"), (200, ["Namespace"]), "cluster kinds")
    eq(s.answer("/v1/namespaced-resources/sources"), (200, ["Trivy", "kyverno"]), "sources, byte order")
    eq(s.answer("/v1/cluster-resources/sources"), (200, ["kube-bench", "kyverno"]), "cluster sources")
    eq(s.answer("/v1/namespaced-resources/resources")[1],
       [{"kind": "Pod", "name": "Zed"}, {"kind": "Pod", "name": "api"},
        {"kind": "Pod", "name": "orphan"}, {"kind": "Pod", "name": "web"},
        {"kind": "Pod", "name": "zed"}, {"kind": "Pod", "name": "éclair"},
        {"kind": "Service", "name": "web"}], "resources distinct by kind then name, no null pair")
    eq(s.answer("/v1/cluster-resources/resources")[1],
       [{"kind": "Namespace", "name": "a-ns"}, {"kind": "Namespace", "name": "b-ns"}],
       "cluster resources")
    eq(s.answer("/v1/categories", "sources=KUBE-BENCH"), (200, []), "filter on categories")
    eq(s.answer("/v1/namespaces", "policy=pol-y"), (200, ["b-ns"]), "singular spelling")


@test
def status_counts():
    s = fixture()
    eq(s.answer("/v1/namespaced-resources/status-counts")[1], [
        {"status": "pass", "items": [{"namespace": "a-ns", "count": 1}, {"namespace": "b-ns", "count": 1}]},
        {"status": "fail", "items": [{"namespace": "b-ns", "count": 2}]},
        {"status": "warn", "items": [{"namespace": "a-ns", "count": 1}]},
        {"status": "error", "items": [{"namespace": "a-ns", "count": 1}]},
        {"status": "skip", "items": [{"namespace": "a-ns", "count": 1}]}],
       "namespaced: five statuses, null namespace and zeros left out")
    eq(s.answer("/v1/namespaced-resources/status-counts", "status=fail&status=PASS&namespaces=a-ns")[1], [
        {"status": "pass", "items": [{"namespace": "a-ns", "count": 1}]},
        {"status": "fail", "items": []}], "only the requested statuses, fixed order, empty items")
    eq(s.answer("/v1/cluster-resources/status-counts")[1], [
        {"status": "pass", "count": 1}, {"status": "fail", "count": 2}, {"status": "warn", "count": 0},
        {"status": "error", "count": 0}, {"status": "skip", "count": 0}], "cluster: zeros kept")
    eq(s.answer("/v1/cluster-resources/status-counts", "status=skip")[1],
       [{"status": "skip", "count": 0}], "cluster: selection")


@test
def rule_status_count():
    s = fixture()
    eq(s.answer("/v1/rule-status-count", "policy=pol-x&rule=r1")[1], [
        {"status": "pass", "count": 1}, {"status": "fail", "count": 2}, {"status": "warn", "count": 1},
        {"status": "error", "count": 0}, {"status": "skip", "count": 0}], "five entries")
    eq(s.answer("/v1/rule-status-count", "policies=CPOL&rule=C1")[1][1],
       {"status": "fail", "count": 2}, "cluster rows too, case-insensitive")
    eq(s.answer("/v1/rule-status-count", "policy=pol-x")[0], 400, "rule missing: 400")
    eq(s.answer("/v1/rule-status-count", "rule=r1")[0], 400, "policy missing: 400")
    eq(s.answer("/v1/rule-status-count", "policy=pol-x&rule=r1&namespaces=b-ns")[1][:2],
       [{"status": "pass", "count": 0}, {"status": "fail", "count": 2}], "other filters apply")


@test
def filters():
    s = fixture()
    R = "/v1/namespaced-resources/results"
    eq(s.answer(R)[1]["count"], 8, "all namespaced rows")
    eq(names(s.answer(R)[1]), DEFAULT, "default order: namespace, name, kind...; nulls first; bytes")
    eq(s.answer(R, "kinds=service&kind=SERVICE")[1]["count"], 1, "case-insensitive exact, OR")
    eq(s.answer(R, "kinds=Serv")[1]["count"], 0, "exact, not prefix")
    eq(s.answer(R, "resources=web&status=fail")[1]["count"], 2, "resources match the name")
    eq(s.answer(R, "namespaces=a-ns&namespace=b-ns&severities=high")[1]["count"], 3,
       "OR within (both spellings), AND across")
    eq(s.answer(R, "status=fail&status=warn&sources=kyverno")[1]["count"], 3, "status OR")
    eq(s.answer(R, "severities=info")[1]["count"], 1, "severity info")
    eq(s.answer(R, "status=broken")[0], 400, "status outside the enum: 400")
    eq(s.answer(R, "severities=urgent")[0], 400, "severity outside the enum: 400")
    eq(s.answer(R, "unknown=1&namespaces=")[1]["count"], 8, "unknown parameter and empty value ignored")
    eq(s.answer(R, "rule=R3")[1]["count"], 2, "rule filter")
    eq(s.answer(R, "categories=cat1,cat2")[1]["count"], 0, "values not split on commas")


@test
def search():
    s = fixture()
    R = "/v1/namespaced-resources/results"
    eq(s.answer(R, "search=Z")[1]["count"], 2, "prefix of name only (Zed, zed)")
    eq(names(s.answer(R, "search=ze")[1]), [("a-ns", "Zed", "Pod", "pass"), ("a-ns", "zed", "Pod", "error")],
       "case-insensitive prefix of name")
    eq(s.answer(R, "search=pol-y")[1]["count"], 2, "prefix of policy")
    eq(s.answer(R, "search=a-")[1]["count"], 4, "prefix of namespace")
    eq(s.answer(R, "search=r3")[1]["count"], 2, "prefix of rule")
    eq(s.answer(R, "search=HIGH")[1]["count"], 3, "equals severity")
    eq(s.answer(R, "search=hig")[1]["count"], 0, "severity must be equal, not a prefix")
    eq(s.answer(R, "search=error")[1]["count"], 1, "equals status")
    eq(s.answer("/v1/namespaced-resources/kinds", "search=api"), (200, ["Pod", "Service"]),
       "search is for results endpoints only")


@test
def query_language():
    s = fixture()
    R = "/v1/namespaced-resources/results"
    c = lambda qs: s.answer(R, qs)[1]["count"]
    eq(c("query=Namespace:a"), 4, "prefix")
    eq(c("query=namespace:A-NS"), 4, "field and value case-insensitive")
    eq(c("query=Resource:%22ze%22"), 0, "quoted is exact")
    eq(c("query=Resource:%22zed%22"), 2, "quoted exact, case-insensitive")
    eq(c("query=Resource:z,api"), 3, "values OR-ed")
    eq(c("query=Policy:pol-x%2BStatus:fail"), 2, "terms AND-ed (+ sent as %2B)")
    eq(c("query=Policy:pol-x+Status:fail"), 0, "a raw + is a space: one term, value 'pol-x Status:fail'")
    eq(c("query=Severity:!high"), 5, "negation includes null fields")
    eq(c("query=Kind:*"), 7, "* is any non-null")
    eq(c("query=Kind:!*"), 1, "!* is null")
    eq(c("query=Resource:r/^z"), 2, "regex, case-insensitive")
    eq(c("query=Message:r/M"), 8, "regex unanchored")
    eq(c("query=Report:r-a"), 4, "Report field is the report name")
    eq(c("query=Namespace:b,%2BRule:r1,"), 2, "trailing commas ignored")
    eq(c("query=Source:kyv&namespaces=b-ns"), 2, "AND-ed with filters")
    for bad in ["query=Bogus:x", "query=Namespace", "query=Namespace:", "query=Namespace:,",
                "query=Kind:%22Pod", "query=Kind:r/(", "query=Kind:Pod%2B", "query=Kind:!"]:
        eq(s.answer(R, bad)[0], 400, "400: " + bad)
    eq(s.answer("/v1/namespaces", "query=Source:trivy")[1], ["b-ns"], "query= on list endpoints")


@test
def pagination_reference():
    s = fixture()
    R = "/v1/namespaced-resources/results"
    eq(names(s.answer(R, "page=2&offset=3")[1]), DEFAULT[3:6], "page 2 of 3")
    eq(s.answer(R, "page=2&offset=3")[1]["count"], 8, "count before pagination")
    eq(s.answer(R, "page=9&offset=3")[1], {"items": [], "count": 8}, "past the end")
    eq(names(s.answer(R, "page=0&offset=3")[1]), DEFAULT, "page 0: no pagination")
    eq(names(s.answer(R, "offset=3")[1]), DEFAULT, "offset alone: no pagination")
    eq(names(s.answer(R, "direction=desc")[1]), DEFAULT[::-1], "desc is the exact reverse")
    eq(names(s.answer(R, "direction=desc&page=1&offset=2")[1]), DEFAULT[::-1][:2], "desc then page")
    for bad in ["page=-1&offset=2", "page=x&offset=2", "page=1&offset=%2B2", "direction=up",
                "page=&offset=2", "page=1.0&offset=2"]:
        eq(s.answer(R, bad)[0], 400, "400: " + bad)


@test
def pagination_stackrox():
    s = fixture()
    R = "/v1/namespaced-resources/results"
    eq(names(s.answer(R, "pagination.limit=2&pagination.offset=3")[1]), DEFAULT[3:5], "limit/offset")
    eq(names(s.answer(R, "pagination.offset=6")[1]), DEFAULT[6:], "offset without limit skips")
    eq(names(s.answer(R, "pagination.sortOption.field=Severity")[1]),
       [("a-ns", "zed", "Pod", "error"), ("a-ns", None, None, "skip"), ("b-ns", "api", "Pod", "pass"),
        ("a-ns", "éclair", "Pod", "warn"), ("a-ns", "Zed", "Pod", "pass"),
        ("b-ns", "web", "Pod", "fail"), ("b-ns", "web", "Service", "fail"),
        (None, "orphan", "Pod", "fail")], "Severity by rank, null first, ties in default order")
    eq(names(s.answer(R, "pagination.sortOption.field=timestamp&pagination.sortOption.reversed=true")[1]),
       [("b-ns", "web", "Service", "fail"), ("b-ns", "web", "Pod", "fail"), ("a-ns", "Zed", "Pod", "pass"),
        ("b-ns", "api", "Pod", "pass"), ("a-ns", "zed", "Pod", "error"),
        ("a-ns", "éclair", "Pod", "warn"), ("a-ns", None, None, "skip"), (None, "orphan", "Pod", "fail")],
       "Timestamp reversed: exact reverse (nulls last)")
    eq(names(s.answer(R, "pagination.sortOption.field=Status&pagination.limit=3")[1]),
       [("a-ns", "zed", "Pod", "error"), (None, "orphan", "Pod", "fail"), ("b-ns", "web", "Pod", "fail")],
       "Status sorts as text")
    eq(names(s.answer(R, "pagination.sortOption.reversed=true")[1]), DEFAULT[::-1], "reversed default")
    for bad in ["pagination.limit=0", "pagination.limit=1001", "pagination.limit=-1",
                "pagination.offset=x", "pagination.sortOption.field=Bogus",
                "pagination.sortOption.reversed=yes", "pagination.limit=2&page=1&offset=2",
                "direction=asc&pagination.limit=5"]:
        eq(s.answer(R, bad)[0], 400, "400: " + bad)
    eq(len(s.answer(R, "pagination.limit=1000")[1]["items"]), 8, "limit 1000 accepted")


@test
def query_string_decoding():
    s = fixture()
    R = "/v1/namespaced-resources/results"
    eq(s.answer(R, "resources=%C3%A9clair")[1]["count"], 1, "percent-decoded UTF-8")
    eq(s.answer(R, "namespaces=a%2Dns&&")[1]["count"], 4, "empty pieces ignored")
    eq(s.answer(R, "namespaces=%zz")[0], 400, "bad percent escape: 400")
    eq(s.answer(R, "namespaces=%FF")[0], 400, "not UTF-8: 400")
    eq(s.answer(R, "search=" + "a" * 9000)[0], 414, "query string over 8192 bytes: 414")
    eq(s.answer(R, "pretty")[0], 200, "pretty without a value")


@test
def detail():
    s = fixture()
    row = [r for r in s.rows if r["name"] == "Zed"][0]
    eq(s.answer("/v1/results/" + row["id"]), (200, {
        "id": row["id"], "namespace": "a-ns", "kind": "Pod", "name": "Zed", "message": "m",
        "category": "Cat1", "policy": "pol-x", "rule": "r1", "status": "pass", "severity": "high",
        "source": "kyverno", "timestamp": "1970-01-01T00:03:20Z", "properties": None, "cluster": None,
        "report": {"kind": "PolicyReport", "name": "r-a", "namespace": "a-ns"},
        "resource": {"apiVersion": "v1", "kind": "Pod", "name": "Zed", "namespace": "a-ns", "uid": None},
        "scored": None, "change": "unchanged", "firstSeen": None}),
       "detail with report, resource, RFC 3339 time")
    bench = [r for r in s.rows if r["policy"] == "bench"][0]
    d = s.answer("/v1/results/" + bench["id"])[1]
    eq((d["resource"], d["timestamp"], d["namespace"], d["report"]),
       (None, None, None, {"kind": "ClusterPolicyReport", "name": "c-1", "namespace": None}),
       "no resource: null")
    eq(s.answer("/v1/results/nope")[0], 404, "unknown id: 404")
    s2 = snap_json(report(results=[result(properties={"resultID": "a/b c"}, scored=False)]))
    eq(s2.answer("/v1/results/a%2Fb%20c")[1]["scored"], False, "percent-decoded id; scored false")


@test
def routing_and_fixed():
    s = fixture()
    eq(s.answer("/healthz"), (200, {}), "healthz")
    eq(s.answer("/ready"), (200, {}), "ready")
    eq(s.answer("/v1/ping"), (200, {"status": "ok"}), "ping")
    eq(s.answer("/v1/targets"), (200, []), "no targets")
    eq(model.from_texts({}, no_crds=True).answer("/healthz"),
       (503, {"error": "No PolicyReport CRDs found"}), "healthz without CRDs")
    eq(s.answer("/v1/nope")[0], 404, "unknown path")
    eq(s.answer("/v1/namespaced-resources/nope")[0], 404, "unknown scope path")
    eq(s.answer("/v1/namespaces", method="POST")[0], 405, "POST: 405")
    eq(s.answer("/v1/namespaces", method="HEAD")[0], 200, "HEAD")
    eq(s.answer("/v1/mypermissions")[1]["resourceToAccess"]["Metrics"], "READ_ACCESS", "auth off")
    eq(model.render({"a": [1, "é"]}), '{"a":[1,"é"]}'.encode(), "compact rendering")
    eq(model.render({"a": 1}, True), b'{\n  "a": 1\n}', "pretty rendering")


@test
def metrics_text():
    s = snap_json(
        report(ns="ns1", name="r1", results=[
            result("p", "r", "fail", severity="high", category='C"1', source="kyverno",
                   resources=[res(name="a\\b", ns="ns1")]),
            result("p", "r", "pass", resources=[res(name="b", ns="ns1")]),
            result("p", "r", "bogus")]),
        report("ClusterPolicyReport", ns=None, name="c1", results=[
            result("q", "s", "warn", message="line1\nline2")]),
        sources=[("files:x", True), ("kubernetes", False)], created=1700000000)
    want = """# HELP cluster_policy_report_result List of all ClusterPolicyReport Results
# TYPE cluster_policy_report_result gauge
cluster_policy_report_result{category="",kind="",name="",policy="q",report="c1",rule="s",severity="",source="",status="warn"} 1

# HELP cluster_policy_report_summary Summary of all ClusterPolicyReports
# TYPE cluster_policy_report_summary gauge
cluster_policy_report_summary{name="c1",status="Error"} 0
cluster_policy_report_summary{name="c1",status="Fail"} 0
cluster_policy_report_summary{name="c1",status="Pass"} 0
cluster_policy_report_summary{name="c1",status="Skip"} 0
cluster_policy_report_summary{name="c1",status="Warn"} 1

# HELP policy_report_result List of all PolicyReport Results
# TYPE policy_report_result gauge
policy_report_result{category="C\\"1",kind="Pod",name="a\\\\b",namespace="ns1",policy="p",report="r1",rule="r",severity="high",source="kyverno",status="fail"} 1
policy_report_result{category="",kind="Pod",name="b",namespace="ns1",policy="p",report="r1",rule="r",severity="",source="",status="pass"} 1

# HELP policy_report_summary Summary of all PolicyReports
# TYPE policy_report_summary gauge
policy_report_summary{name="r1",namespace="ns1",status="Error"} 0
policy_report_summary{name="r1",namespace="ns1",status="Fail"} 1
policy_report_summary{name="r1",namespace="ns1",status="Pass"} 1
policy_report_summary{name="r1",namespace="ns1",status="Skip"} 0
policy_report_summary{name="r1",namespace="ns1",status="Warn"} 0

# HELP polsnap_snapshot_timestamp_seconds Unix time the served snapshot was taken
# TYPE polsnap_snapshot_timestamp_seconds gauge
polsnap_snapshot_timestamp_seconds 1700000000

# HELP polsnap_snapshot_rows Rows (result and resource pairs) in the served snapshot
# TYPE polsnap_snapshot_rows gauge
polsnap_snapshot_rows 3

# HELP polsnap_snapshot_warnings Warnings while building the served snapshot
# TYPE polsnap_snapshot_warnings gauge
polsnap_snapshot_warnings 1

# HELP polsnap_source_up Whether the source was read completely for the served snapshot
# TYPE polsnap_source_up gauge
polsnap_source_up{source="files:x"} 1
polsnap_source_up{source="kubernetes"} 0
"""
    eq(s.metrics(), want, "metrics text, families, order, escaping, recomputed summaries")
    eq(s.answer("/metrics"), (200, want), "/metrics answers the same")


# ---------------------------------------------------------------- the bundled samples and generator

@test
def samples_load_clean():
    s = model.load([SAMPLES], default=False)
    eq(s.warnings, 0, "samples: no warnings, no duplicates")
    check(150 <= len(s.rows) <= 300, "samples: 150-300 rows", len(s.rows))
    eq(sorted({r["status"] for r in s.rows}), sorted(model.STATUSES), "samples: every status")
    eq(sorted({r["severity"] or "" for r in s.rows}), ["", "critical", "high", "info", "low", "medium"],
       "samples: every severity and none")
    nss = s.answer("/v1/namespaces")[1]
    check(4 <= len(nss) <= 6, "samples: 4-6 namespaces", nss)
    check(any(r["_cluster"] for r in s.rows), "samples: cluster rows")
    check(s.answer("/v1/cluster-resources/results", "query=Kind:!*")[1]["count"] > 0,
          "samples: cluster rows without a resource")


@test
def generator_exact_and_deterministic():
    gen = os.path.join(ROOT, "tests", "lib", "gen_reports.py")
    outs = []
    for fmt in ("yaml", "json", "yaml"):
        d = tempfile.mkdtemp(prefix="polsnap-gen-")
        subprocess.run([sys.executable, gen, "--results", "1234", "--out", d, "--seed", "3",
                        "--namespaces", "4", "--format", fmt], check=True, capture_output=True,
                       timeout=60)
        outs.append(d)
    sy, sj = model.load([outs[0]], default=False), model.load([outs[1]], default=False)
    eq((len(sy.rows), sy.warnings), (1234, 0), "yaml: exactly N rows, no warnings")
    eq(sorted(r["id"] for r in sy.rows), sorted(r["id"] for r in sj.rows), "json holds the same rows")
    eq(len(sy.answer("/v1/namespaces")[1]), 4, "K namespaces")
    same = subprocess.run(["diff", "-r", outs[0], outs[2]], capture_output=True).returncode == 0
    check(same, "same seed, same bytes")
    for d in outs:
        subprocess.run(["rm", "-rf", d])


run()
