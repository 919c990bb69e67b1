"""test_query_api.py - filtered, searched, sorted and paginated requests through lighttpd and
the FastCGI binary (spec sections 2 and 3), each compared with the oracle (tests/lib/model.py):
the same status, and the same body byte for byte. Error messages the spec leaves open are
checked against the ones the README documents."""
import os
import sys
from urllib.parse import quote

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401
import model  # noqa: E402

SAMPLES_REL = os.path.relpath(SAMPLES, os.getcwd())
data = tempdir()
assert snapshot("--source", "files:" + SAMPLES_REL, "--data", data).returncode == 0
srv = Server(data)
oracle = model.load([SAMPLES_REL])
oracle.created = get(srv, "/v1/snapshot").json()["createdUnix"]  # firstSeen of failing keys
NS = "/v1/namespaced-resources"
CL = "/v1/cluster-resources"


def same(path, qs, name=None):
    r = get(srv, path + "?" + qs)
    status, want = oracle.answer(path, qs)
    label = name or (path + "?" + qs)
    if want is None:
        return eq(r.status, status, label + " -> %d" % status)
    return eq((r.status, r.body), (status, model.render(want, pretty=any(p.split("=")[0] == "pretty" for p in qs.split("&")))),
              label)


@test
def filters_on_every_endpoint():
    for path in (NS + "/policies", NS + "/kinds", NS + "/resources", NS + "/sources",
                 NS + "/status-counts", NS + "/results", CL + "/policies", CL + "/kinds",
                 CL + "/resources", CL + "/sources", CL + "/status-counts", CL + "/results",
                 "/v1/namespaces", "/v1/categories"):
        for qs in ("sources=Kyverno", "source=kyverno", "sources=Kyverno&sources=Trivy",
                   "categories=Pod%20Security%20Standards%20(Baseline)", "policies=require-labels",
                   "policy=REQUIRE-LABELS", "namespaces=payments", "namespace=payments&namespace=argocd",
                   "kinds=Pod", "kind=pod&kind=Deployment", "resources=nginx", "status=fail",
                   "status=FAIL&status=warn", "severities=high", "severity=critical&severity=low",
                   "sources=kyverno&status=fail&severities=high", "sources=nobody",
                   "rule=check-for-labels", "status=", "unknown=1"):
            same(path, qs)


@test
def search_and_query_language():
    for path in (NS + "/results", CL + "/results"):
        for qs in ("search=pay", "search=FAIL", "search=high", "search=nginx", "search=zzz",
                   "search=1.1", "query=" + quote("Namespace:pay,argo"),
                   "query=" + quote("Policy:\"require-labels\""),
                   "query=" + quote("Policy:r/^require.*labels$"),
                   "query=" + quote("Severity:!high"), "query=" + quote("Source:*"),
                   "query=" + quote("Severity:*+Status:fail"),
                   "query=" + quote("Kind:Pod+Status:pass,fail+Namespace:!payments"),
                   "query=" + quote("Message:r/image.*tag"), "query=" + quote("Report:polr"),
                   "query=" + quote("Category:!\"Best Practices\""),
                   "query=" + quote("Rule:check,") + "&status=fail",
                   "query=" + quote("Resource:ngin") + "&search=pay"):
            same(path, qs)
    same("/v1/namespaces", "query=" + quote("Source:trivy"))


@test
def contains_substring_search():
    # spec section 11: a case-insensitive substring of namespace, kind, name, policy, rule or
    # message; AND-ed with the rest; ignored where the endpoint does not take it
    for path in (NS + "/results", CL + "/results"):
        for qs in ("contains=nginx", "contains=NGINX", "contains=ingress", "contains=ConfigMap",
                   "contains=label", "contains=image", "contains=cve-", "contains=zzz",
                   "contains=", "contains=a&status=fail", "contains=e&search=p",
                   "contains=" + quote("ü"), "contains=" + quote("with space"),
                   "contains=nginx&query=" + quote("Kind:!Pod"), "contains=kyverno",
                   "contains=high"):
            same(path, qs)
    same(NS + "/policies", "contains=nginx")
    same("/v1/namespaces", "contains=zzz")
    # /v1/summary takes it (the dashboard's search): its counts are those of the results
    whole = get(srv, "/v1/summary?contains=nginx").json()
    for scope, path in (("namespaced", NS), ("cluster", CL)):
        _, want = oracle.answer(path + "/results", "contains=nginx")
        got = sum(n[s] for n in whole["namespaces"] for s in model.STATUSES) if scope == "namespaced" \
            else sum(whole["cluster"].values())
        eq(got, want["count"], "summary?contains=nginx counts the %s results" % scope)
    for qs in ("contains=a&contains=b", "contains=&contains=b", "contains=" + "x" * 257):
        same(NS + "/results", qs)
        eq(get(srv, "/v1/summary?" + qs).status, 400, "summary?%s is 400" % qs[:30])
    same(NS + "/status-counts", "query=" + quote("Severity:high,critical"))


@test
def pagination_both_styles():
    for path in (NS + "/results", CL + "/results"):
        for qs in ("page=1&offset=5", "page=2&offset=5", "page=100&offset=5", "page=0&offset=5",
                   "page=1&offset=0", "page=3&offset=7&direction=desc", "direction=desc",
                   "direction=DESC&status=fail", "pagination.limit=3", "pagination.limit=4&pagination.offset=4",
                   "pagination.offset=10", "pagination.limit=1000&pagination.offset=100000",
                   "pagination.sortOption.field=Severity", "pagination.sortOption.field=severity&pagination.sortOption.reversed=true",
                   "pagination.sortOption.field=Timestamp&pagination.limit=5",
                   "pagination.sortOption.field=Policy&pagination.sortOption.reversed=false&pagination.limit=7",
                   "pagination.sortOption.field=Namespace&pagination.limit=3&pagination.offset=2",
                   "pagination.sortOption.field=Message", "pagination.sortOption.reversed=true",
                   "pagination.sortOption.field=Status&status=fail&status=pass"):
            same(path, qs)


@test
def pretty_on_queries():
    same(NS + "/results", "status=fail&pagination.limit=2&pretty")
    same(NS + "/status-counts", "pretty=1")
    same("/v1/rule-status-count", "policy=require-labels&rule=check-for-labels&pretty")


@test
def rule_status_count():
    for qs in ("policy=require-labels&rule=check-for-labels", "policies=require-labels&rule=check-for-labels",
               "policy=nope&rule=nope", "policy=require-labels&rule=check-for-labels&namespaces=payments"):
        same("/v1/rule-status-count", qs)
    for qs, missing in (("rule=x", "policy"), ("policy=x", "rule"), ("", "policy")):
        r = get(srv, "/v1/rule-status-count?" + qs)
        eq((r.status, r.json()), (400, error_body(3, 'missing required parameter "%s"' % missing)),
           "rule-status-count without %s is 400" % missing)


def bad(path_qs, status, message):
    r = get(srv, path_qs)
    eq((r.status, r.header("content-type"), r.json()), (status, "application/json",
                                                        error_body({400: 3, 414: 3}[status], message)),
       "%s -> %d %s" % (path_qs[:60], status, message[:50]))


@test
def errors_with_their_messages():
    bad(NS + "/results?status=bogus", 400,
        'invalid status "bogus": allowed values are pass, fail, warn, error, skip')
    bad(NS + "/status-counts?severities=urgent", 400,
        'invalid severity "urgent": allowed values are critical, high, medium, low, info')
    bad(NS + "/results?page=x&offset=1", 400, "page must be a non-negative integer")
    bad(NS + "/results?page=-1&offset=1", 400, "page must be a non-negative integer")
    bad(NS + "/results?direction=down", 400, 'invalid direction "down": allowed values are asc, desc')
    bad(NS + "/results?pagination.limit=0", 400, "pagination.limit must be an integer from 1 to 1000")
    bad(NS + "/results?pagination.limit=1001", 400, "pagination.limit must be an integer from 1 to 1000")
    bad(NS + "/results?page=1&offset=1&pagination.limit=2", 400,
        "page, offset, direction and sortBy cannot be mixed with pagination.* parameters")
    bad(NS + "/results?pagination.sortOption.reversed=yes", 400,
        'invalid pagination.sortOption.reversed "yes": allowed values are true, false')
    bad(NS + "/results?query=Foo%3Abar", 400, 'query: unknown field "Foo" in term "Foo:bar"')
    bad(NS + "/results?query=Namespace", 400, 'query: missing \':\' in term "Namespace"')
    bad(NS + "/results?query=Kind%3A%22Pod", 400, 'query: unterminated quote in term "Kind:"Pod"')
    bad(NS + "/results?query=Kind%3Ar%2F(a", 400,
        'query: bad regex "(a" (Unmatched ( or \\() in term "Kind:r/(a"')
    bad(NS + "/results?contains=a&contains=b", 400, 'parameter "contains" given more than once')
    bad(NS + "/results?contains=" + "x" * 257, 400, "contains is longer than 256 bytes")
    bad(NS + "/results?status=%zz", 400, 'invalid percent-encoding in "status=%zz"')
    bad(NS + "/results?x=%c3%28", 400, 'invalid UTF-8 in "x=%c3%28"')
    for ctrl in ("%00", "%7f", "%ff"):  # lighttpd refuses these before the query server sees them
        bad(NS + "/results?x=" + ctrl, 400,
            "malformed request: the URL holds a control character or a byte lighttpd refuses (400)")
    bad(NS + "/results?q=" + "a" * 8200, 414, "query string too long: 8202 bytes (at most 8192)")


@test
def unicode_and_encoded_commas():
    same(NS + "/results", "policies=" + quote("require-labels,disallow-latest-tag"))
    same(NS + "/results", "search=" + quote("ü"))
    same(NS + "/results", "namespaces=" + quote("naïve"))


@test
def detail_of_every_row():
    rows = oracle.answer(NS + "/results")[1]["items"] + oracle.answer(CL + "/results")[1]["items"]
    for row in rows:
        r = get(srv, "/v1/results/" + quote(row["id"], safe=""))
        status, want = oracle.answer("/v1/results/" + row["id"])
        eq((r.status, r.body), (status, model.render(want)), "detail of " + row["id"])
    r = get(srv, "/v1/results/does-not-exist")
    eq((r.status, r.json()), (404, error_body(5, "no result with id does-not-exist")), "unknown id is 404")


run()
