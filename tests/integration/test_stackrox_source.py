"""test_stackrox_source.py - `--source stackrox:URL` against a fake Central over real TLS:
the alerts as results in the endpoints and /metrics, paging, the detail cap, the options, and
every fault leaving the last good snapshot served."""
import atexit
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from polsnap import *  # noqa: E402,F401,F403
from fake_central import DETAIL_MAX, PAGE, FakeCentral, many, recorded  # noqa: E402
from fake_https import resp  # noqa: E402

TOKEN = "polsnap-test-token-0123456789"
os.environ.pop("ROX_API_TOKEN", None)
for k in [k for k in os.environ if k.startswith("POLSNAP_STACKROX")]:
    os.environ.pop(k)
central = FakeCentral(lifetime=600)


def take(data, *extra, token=TOKEN, ca=True):
    """One snapshot run against the fake Central; ROX_API_TOKEN=token unless token is None."""
    args = ["--source", "stackrox:" + central.url, "--data", data]
    if ca:
        args += ["--stackrox-ca", central.ca_file]
    env = {"ROX_API_TOKEN": token} if token is not None else {}
    return snapshot(*(args + list(extra)), env=env)


def good_data():
    """A data directory holding one good snapshot of the recorded alerts; its current target."""
    central.clear()
    central.serve()
    data = tempdir()
    p = take(data)
    if p.returncode != 0:
        raise RuntimeError("the good snapshot failed: " + p.stderr)
    return data, os.readlink(os.path.join(data, "current"))


def snapshot_doc(data):
    with open(os.path.join(data, "current", "v1", "snapshot.json")) as f:
        return json.load(f)


def metric_lines(srv, prefix):
    return sorted(l for l in get(srv, "/metrics").text().splitlines() if l.startswith(prefix))


def fault(name, want_err, *extra, setup, token=TOKEN, ca=True):
    """Runs a snapshot after setup() scripted the fake: it must fail with want_err in stderr
    and leave DIR/current where the last good snapshot put it."""
    data, before = good_data()
    central.clear()
    setup()
    p = take(data, *extra, token=token, ca=ca)
    check(p.returncode != 0, name + ": exits non-zero", p.stderr)
    check(want_err in p.stderr, name + ": says " + repr(want_err), p.stderr)
    eq(os.readlink(os.path.join(data, "current")), before, name + ": the old snapshot stays")
    return p


WEB_EU = {
    "id": "9f4e2b61-c8d7-4a35-b1e0-3c6a5d9f8e27", "namespace": "shop", "kind": "Deployment",
    "name": "web", "message": "Container 'web' has image with tag 'latest'",
    "category": "DevOps Best Practices", "policy": "Latest tag",
    "rule": "2e90874a-3521-44de-85c6-5720f519a701", "status": "fail", "severity": "low",
    "source": "StackRox", "timestamp": 1795608347, "cluster": None,  # no --cluster (spec 10)
    "properties": {"alertId": "9f4e2b61-c8d7-4a35-b1e0-3c6a5d9f8e27",
                   "policyId": "2e90874a-3521-44de-85c6-5720f519a701",
                   "clusterName": "prod-eu", "lifecycleStage": "DEPLOY", "state": "ACTIVE"}}


@test
def alerts_are_results_everywhere():
    data, _ = good_data()
    lists = central.list_requests()
    eq([r.query for r in lists], [{"pagination.limit": str(PAGE), "pagination.offset": "0"}],
       "one list request, one short page")
    eq(len(central.detail_requests()), 8, "one detail request per alert")
    eq({r.headers.get("authorization") for r in central.requests}, {"Bearer " + TOKEN},
       "every request carries the bearer token")
    srv = Server(data)
    ns = get(srv, "/v1/namespaced-resources/results").json()["items"]
    eq(len(ns), 6, "six namespaced alerts")
    eq([r for r in ns if r["id"] == WEB_EU["id"]], [WEB_EU], "a deployment alert, every field")
    detail = get(srv, "/v1/results/" + WEB_EU["id"]).json()
    eq((detail["report"], detail["resource"]),
       ({"kind": "StackRoxAlerts", "name": "stackrox-prod-eu", "namespace": "shop"},
        {"apiVersion": None, "kind": "Deployment", "name": "web", "namespace": "shop",
         "uid": "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f"}),
       "detail: the report per cluster and namespace, the deployment id as uid")
    by_id = {r["id"]: r for r in ns}
    eq((by_id["5d7b3f92-4e1a-4c86-a2f9-8b0c1d3e5f74"]["status"],
        by_id["5d7b3f92-4e1a-4c86-a2f9-8b0c1d3e5f74"]["kind"]), ("warn", "Job"),
       "an ATTEMPTED alert is warn, on the real workload kind")
    eq(by_id["3a9d7c51-2e4b-4f68-9a1c-0d8e7f6b5a43"]["rule"], "Privileged containers",
       "the rule is the policy's only named section")
    eq(by_id["6c2f8e14-93ab-4d7e-8f01-5b3a9c7d2e46"]["message"],
       "Binary '/usr/bin/nc' executed with arguments '-l -p 4444' under user ID 0",
       "a runtime alert's process violation is its message")
    eq(by_id["0b5e3a71-8f2c-4d19-b6a4-2c7e9d1f3a58"]["kind"], "Secret",
       "a resource alert is on the resource")
    cl = get(srv, "/v1/cluster-resources/results").json()["items"]
    eq(sorted((r["kind"], r["name"], r["namespace"]) for r in cl),
       [("ClusterRoleBinding", "ops-admin", None), ("Node", "worker-3", None)],
       "alerts without a namespace are cluster-scoped")
    eq(get(srv, "/v1/namespaces").json(), ["jobs", "monitoring", "shop", "stackrox"],
       "namespaces")
    eq(get(srv, "/v1/namespaced-resources/sources").json(), ["StackRox"], "source")
    eq(get(srv, "/v1/categories").json(),
       ["Anomalous Activity", "DevOps Best Practices", "Docker CIS", "Kubernetes Events",
        "Network Tools", "Privileges"], "categories are the policies' first")
    eq(get(srv, "/v1/namespaced-resources/kinds").json(),
       ["DaemonSet", "Deployment", "Job", "Secret", "StatefulSet"], "kinds")
    sc = get(srv, "/v1/cluster-resources/status-counts").json()
    eq([c["count"] for c in sc if c["status"] == "fail"], [2], "cluster status counts")
    m = get(srv, "/metrics").text()
    check('cluster_policy_report_result{category="Anomalous Activity",kind="Node",'
          'name="worker-3",policy="Unauthorized Node File Access",report="stackrox-prod-eu",'
          'rule="c1e2d3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",severity="high",source="StackRox",'
          'status="fail"} 1' in m, "a node alert in cluster_policy_report_result", m)
    eq(len(metric_lines(srv, 'policy_report_result{category="DevOps Best Practices"')), 2,
       "the same deployment name in two clusters stays two series (report label)")
    check('policy_report_summary{name="stackrox-prod-us",namespace="jobs",status="Warn"} 1'
          in m, "summary per cluster and namespace", m)
    check('polsnap_source_up{source="stackrox:%s"} 1' % central.url in m, "source up", m)
    srv.stop()


@test
def ids_stay_when_an_alert_changes():
    data, _ = good_data()
    alerts = recorded()
    lst, det = alerts[5]
    lst["time"] = det["time"] = "2026-11-25T15:10:00.000Z"
    det["violations"].append({"message": "Container 'sidecar' has image with tag 'latest'",
                              "type": "GENERIC", "time": None})
    central.clear()
    central.serve(alerts)
    eq(take(data).returncode, 0, "second snapshot")
    srv = Server(data)
    ns = get(srv, "/v1/namespaced-resources/results").json()["items"]
    eq(sorted(r["id"] for r in ns), sorted(a["id"] for a, _ in alerts if
                                           a["commonEntityInfo"]["namespace"]),
       "the ids are the alert ids")
    row = [r for r in ns if r["id"] == lst["id"]]
    eq([(r["timestamp"], r["message"]) for r in row],
       [(1795619400, "Container 'web' has image with tag 'latest'; "
                     "Container 'sidecar' has image with tag 'latest'")],
       "same id, new time and messages")
    srv.stop()


@test
def pages_and_the_detail_cap():
    alerts = many(2 * PAGE + 203)
    central.clear()
    central.serve(alerts)
    data = tempdir()
    p = take(data)
    eq(p.returncode, 0, "snapshot of %d alerts" % len(alerts))
    eq([r.query["pagination.offset"] for r in central.list_requests()], ["0", "500", "1000"],
       "pages until a short one")
    eq(len(central.detail_requests()), DETAIL_MAX, "details for the first %d only" % DETAIL_MAX)
    check("203 of 1203 alerts have no violation messages" in p.stderr, "the cap is a warning",
          p.stderr)
    doc = snapshot_doc(data)
    eq((doc["rows"], doc["warnings"]), (1203, 1), "every alert is a row, one warning")
    srv = Server(data)
    rows = {r["id"]: r for r in get(srv, "/v1/namespaced-resources/results").json()["items"]}
    rows.update({r["id"]: r for r in get(srv, "/v1/cluster-resources/results").json()["items"]})
    eq(len(rows), 1203, "all rows served")
    check(rows[alerts[DETAIL_MAX - 1][0]["id"]]["message"] is not None,
          "the last alert under the cap has its messages")
    eq(rows[alerts[DETAIL_MAX][0]["id"]]["message"], None, "past the cap: message null")
    priv = metric_lines(srv, 'policy_report_result{category="Privileges"')
    eq({l.split('rule="')[1].split('"')[0] for l in priv}, {"Privileged containers"},
       "past the cap the rule still agrees with the policy's detailed alerts")
    srv.stop()


@test
def a_full_last_page_ends_with_an_empty_one():
    central.clear()
    central.serve(many(PAGE))
    data = tempdir()
    eq(take(data).returncode, 0, "snapshot of exactly one page")
    eq([r.query["pagination.offset"] for r in central.list_requests()], ["0", "500"],
       "a full page asks for the next")
    eq(snapshot_doc(data)["rows"], PAGE, "rows")


@test
def an_alert_seen_twice_while_paging_is_one_row():
    alerts = many(PAGE)
    central.clear()
    central.serve(alerts + [alerts[-1]])  # it slid to the next page between the requests
    data = tempdir()
    p = take(data)
    eq(p.returncode, 0, "snapshot")
    doc = snapshot_doc(data)
    eq((doc["rows"], doc["warnings"]), (PAGE, 1), "the duplicate is dropped and counted")


@test
def query_narrows_the_list():
    q = "Cluster:prod-eu+Severity:HIGH_SEVERITY,CRITICAL_SEVERITY"
    central.clear()
    central.serve(query=q)  # the fake only answers when query= decodes to q exactly
    data = tempdir()
    p = take(data, "--stackrox-query", q)
    eq(p.returncode, 0, "snapshot with --stackrox-query", )
    eq([r.query.get("query") for r in central.list_requests()], [q], "query= sent URL-encoded")


@test
def a_vanished_alert_keeps_its_list_data():
    central.clear()
    alerts = central.serve()
    gone = alerts[2][0]["id"]
    central.route("/v1/alerts/" + gone, resp(404, json={"code": 5, "message": "not found"}))
    data = tempdir()
    p = take(data)
    eq(p.returncode, 0, "snapshot despite a 404 detail")
    check("alert %s was gone (404)" % gone in p.stderr, "warned", p.stderr)
    doc = snapshot_doc(data)
    eq((doc["rows"], doc["warnings"]), (8, 1), "all rows, one warning")


@test
def token_file_and_token_errors():
    central.clear()
    central.serve()
    d = tempdir()
    tf = os.path.join(d, "token")
    with open(tf, "w") as f:
        f.write("\n  file-token-42 \n")
    data = tempdir()
    p = take(data, "--stackrox-token-file", tf, token="env-token")
    eq(p.returncode, 0, "snapshot with --stackrox-token-file")
    eq({r.headers.get("authorization") for r in central.requests}, {"Bearer file-token-42"},
       "the file's token, trimmed, wins over ROX_API_TOKEN")
    cases = [
        ("no token", "no API token: set ROX_API_TOKEN", [], None),
        ("missing file", "cannot read the token file", ["--stackrox-token-file", tf + ".no"],
         TOKEN),
        ("empty file", "is empty", ["--stackrox-token-file", os.devnull], TOKEN),
        ("blank env", "ROX_API_TOKEN is empty", [], " \n"),
        ("two words", "holds a space", [], "abc def"),
    ]
    for name, want, extra, token in cases:
        fault(name, want, *extra, setup=central.serve, token=token)
        eq(central.requests, [], name + ": nothing is sent")


@test
def http_statuses_fail_clearly():
    fault("401", "StackRox rejected the API token (401): check ROX_API_TOKEN: credentials not "
          "found", setup=lambda: central.route("/v1/alerts", central.error(401)))
    fault("403", 'the token\'s role needs read access to Alert: not authorized: "READ_ACCESS" '
          'for "Alert"', setup=lambda: central.route("/v1/alerts", central.error(403)))
    fault("5xx", "Central answered 500, still after 3 attempts: failed to query alerts",
          setup=lambda: central.route("/v1/alerts", central.error(500)))
    eq(len(central.list_requests()), 3, "5xx: retried, then given up")
    fault("404", "is %s StackRox Central's API address?" % central.url,
          setup=lambda: central.route("/v1/alerts", resp(404, body="404 page not found")))
    fault("detail 401", "StackRox rejected the API token (401)",
          setup=lambda: (central.serve(),
                         central.route("/v1/alerts/" + recorded()[3][0]["id"],
                                       central.error(401))))


@test
def broken_answers_fail_clearly():
    page = {"alerts": [a for a, _ in recorded()]}
    fault("truncated list", "GET %s/v1/alerts" % central.url,
          setup=lambda: central.route("/v1/alerts", resp(json=page, fault="truncate")))
    fault("invalid JSON", "the answer is not a JSON object",
          setup=lambda: central.route("/v1/alerts", resp(body='{"alerts": [{"id": "a"')))
    fault("not Central", 'no "alerts" list',
          setup=lambda: central.route("/v1/alerts", resp(json={"items": []})))
    fault("truncated detail", "GET %s/v1/alerts/" % central.url,
          setup=lambda: (central.serve(),
                         central.route("/v1/alerts/" + recorded()[0][0]["id"],
                                       resp(json=recorded()[0][1], fault="truncate"))))
    fault("alert without id", "alert without an id (--skip-invalid skips such alerts)",
          setup=lambda: central.route("/v1/alerts", resp(json={"alerts": [{"policy": {}}]})))
    fault("enormous list", "the response is larger than the 33554432-byte limit",
          setup=lambda: central.route("/v1/alerts", resp(fault="huge", size=40 << 20)))
    fault("slow Central", "GET %s/v1/alerts" % central.url, "--timeout", "1",
          setup=lambda: central.route("/v1/alerts", resp(json=page, delay=3)))


@test
def a_recovered_5xx_and_skip_invalid_succeed():
    central.clear()
    central.serve()
    q = {"pagination.limit": str(PAGE), "pagination.offset": "0"}
    central.route("/v1/alerts", central.error(503), resp(json={"alerts": [a for a, _ in recorded()]}),
                  query=q)
    data = tempdir()
    eq(take(data).returncode, 0, "a 503 retried into a 200")
    eq(snapshot_doc(data)["rows"], 8, "all rows")
    central.route("/v1/alerts", resp(json={"alerts": [{"policy": {}}] + [a for a, _ in recorded()]}),
                  query=q)
    data = tempdir()
    p = take(data, "--skip-invalid")
    eq(p.returncode, 0, "--skip-invalid skips an alert without id")
    doc = snapshot_doc(data)
    eq((doc["rows"], doc["warnings"]), (8, 1), "counted as a warning")


@test
def tls_trust():
    fault("unknown CA", "GET %s/v1/alerts" % central.url, setup=central.serve, ca=False)
    eq(central.requests, [], "no request reaches a server that is not trusted")
    fault("unreadable CA", "cannot read the CA bundle", "--stackrox-ca", "/nonexistent/ca.pem",
          setup=central.serve, ca=False)
    central.clear()
    central.serve()
    data = tempdir()
    p = take(data, "--stackrox-insecure", ca=False)
    eq(p.returncode, 0, "--stackrox-insecure reaches it")
    check("--stackrox-insecure: the certificate of %s is not verified" % central.url in p.stderr,
          "and warns", p.stderr)
    p = snapshot("--source", "stackrox:" + central.url, "--data", tempdir(),
                 "--stackrox-ca", central.ca_file,
                 env={"ROX_API_TOKEN": TOKEN, "POLSNAP_STACKROX_INSECURE": "1"})
    check(p.returncode == 0 and "is not verified" in p.stderr,
          "POLSNAP_STACKROX_INSECURE=1 warns on every run too", p.stderr)


@test
def bad_urls():
    for url, want in [("http://127.0.0.1:1", "must start with https://"),
                      ("central.example.com", "must start with https://"),
                      ("https://central.example.com/?x=1", "no spaces, query or fragment"),
                      ("", "needs Central's address")]:
        data = tempdir()
        p = snapshot("--source", "stackrox:" + url, "--data", data,
                     env={"ROX_API_TOKEN": TOKEN})
        check(p.returncode != 0 and want in p.stderr, "stackrox:%s refused" % url, p.stderr)
        check(not os.path.exists(os.path.join(data, "current")), "nothing published")


atexit.register(central.stop)
run()
