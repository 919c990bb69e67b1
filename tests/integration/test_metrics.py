"""test_metrics.py - /metrics in Policy Reporter's three modes (--metrics-mode detailed, simple,
custom with --metrics-labels) and with its include/exclude filters (--metrics-filter), each
with the exact expected text of its result families, through lighttpd; promtool accepts the
samples' exposition in every mode; bad values are usage errors."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401


def result(policy, rule, status, severity, category, source, kind=None, name=None):
    r = {"policy": policy, "rule": rule, "result": status, "severity": severity,
         "category": category, "source": source}
    if kind:
        r["resources"] = [{"apiVersion": "v1", "kind": kind, "name": name}]
    return r


def report(kind, name, namespace, results):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": kind, "metadata": meta,
            "results": results}


BP, SEC = "Best Practices", "Security"
reports = tempdir()
with open(os.path.join(reports, "reports.json"), "w") as f:
    json.dump({"apiVersion": "v1", "kind": "List", "items": [
        report("PolicyReport", "polr-shop", "shop", [
            result("require-labels", "check-team", "fail", "medium", BP, "Kyverno", "Deployment", "web"),
            result("require-labels", "check-team", "pass", "medium", BP, "Kyverno", "Deployment", "api"),
            result("disallow-latest", "tag", "fail", "high", SEC, "Kyverno", "Pod", "web-1")]),
        report("PolicyReport", "polr-kube-system", "kube-system", [
            result("require-labels", "check-team", "skip", "medium", BP, "Kyverno", "Deployment", "coredns")]),
        report("ClusterPolicyReport", "cis", None, [
            result("CIS", "1.1", "warn", "low", "Control Plane", "kube-bench"),
            result("CIS", "1.2", "warn", "low", "Control Plane", "kube-bench")]),
    ]}, f)


def metrics(*opts, env=None, source=reports):
    """The /metrics text lighttpd serves after a job with opts."""
    data = tempdir()
    p = snapshot("--source", "files:" + source, "--data", data, *opts, env=env)
    eq(p.returncode, 0, "the job with %s publishes" % (" ".join(opts) or env or "the defaults"))
    srv = Server(data)
    try:
        return get(srv, "/metrics").text()
    finally:
        srv.stop()


def families(text, *names):
    """The blocks (HELP, TYPE and lines) of the named families, in the order given."""
    blocks = {b.split("\n")[0].split(" ")[2]: b for b in text.strip("\n").split("\n\n")}
    return "\n\n".join(blocks[n] for n in names) + "\n"


RESULTS = ("cluster_policy_report_result", "policy_report_result")
SIMPLE_HELP = ("# HELP cluster_policy_report_result Gauge of ClusterPolicyReportResults by Policy\n"
               "# TYPE cluster_policy_report_result gauge\n")
NS_HELP = "# HELP policy_report_result Gauge of Results by Policy\n# TYPE policy_report_result gauge\n"
detailed = metrics()


@test
def simple_counts_by_six_labels():
    text = metrics("--metrics-mode", "simple")
    eq(families(text, *RESULTS), SIMPLE_HELP +
       'cluster_policy_report_result{category="Control Plane",policy="CIS",severity="low",source="kube-bench",status="warn"} 2\n'
       "\n" + NS_HELP +
       'policy_report_result{category="Best Practices",namespace="kube-system",policy="require-labels",severity="medium",source="Kyverno",status="skip"} 1\n'
       'policy_report_result{category="Best Practices",namespace="shop",policy="require-labels",severity="medium",source="Kyverno",status="fail"} 1\n'
       'policy_report_result{category="Best Practices",namespace="shop",policy="require-labels",severity="medium",source="Kyverno",status="pass"} 1\n'
       'policy_report_result{category="Security",namespace="shop",policy="disallow-latest",severity="high",source="Kyverno",status="fail"} 1\n',
       "simple: one line per label set, the value its rows")
    check("_summary" not in text, "no summary families (Policy Reporter writes them in detailed mode only)")
    rest = lambda t: [l for l in t[t.index("# HELP polsnap_"):].splitlines()  # noqa: E731
                      if not l.startswith("polsnap_snapshot_timestamp_seconds ")]
    eq(rest(text), rest(detailed), "the polsnap_* lines are the detailed mode's (but the time)")


@test
def custom_counts_by_the_labels_named():
    text = metrics("--metrics-mode", "custom", "--metrics-labels", "status,policy")
    eq(families(text, *RESULTS), SIMPLE_HELP +
       'cluster_policy_report_result{policy="CIS",status="warn"} 2\n'
       "\n" + NS_HELP +
       'policy_report_result{policy="disallow-latest",status="fail"} 1\n'
       'policy_report_result{policy="require-labels",status="fail"} 1\n'
       'policy_report_result{policy="require-labels",status="pass"} 1\n'
       'policy_report_result{policy="require-labels",status="skip"} 1\n',
       "custom: the labels named, alphabetically, the value the rows")
    text = metrics(env={"POLSNAP_METRICS_MODE": "custom", "POLSNAP_METRICS_LABELS": "namespace,report"})
    eq(families(text, "policy_report_result"), NS_HELP +
       'policy_report_result{namespace="kube-system",report="polr-kube-system"} 1\n'
       'policy_report_result{namespace="shop",report="polr-shop"} 3\n',
       "the environment twins, and the report label")


@test
def filters_in_detailed_mode():
    text = metrics("--metrics-filter", "status!=pass", "--metrics-filter", "namespaces=sh*")
    line = ('{category="%s",kind="%s",name="%s",%spolicy="%s",report="%s",rule="%s",severity="%s",'
            'source="%s",status="%s"} 1\n')
    eq(families(text, *RESULTS),
       "# HELP cluster_policy_report_result List of all ClusterPolicyReport Results\n"
       "# TYPE cluster_policy_report_result gauge\n"
       "cluster_policy_report_result" + line % ("Control Plane", "", "", "", "CIS", "cis", "1.1", "low", "kube-bench", "warn") +
       "cluster_policy_report_result" + line % ("Control Plane", "", "", "", "CIS", "cis", "1.2", "low", "kube-bench", "warn") +
       "\n# HELP policy_report_result List of all PolicyReport Results\n# TYPE policy_report_result gauge\n"
       "policy_report_result" + line % (BP, "Deployment", "web", 'namespace="shop",', "require-labels", "polr-shop", "check-team", "medium", "Kyverno", "fail") +
       "policy_report_result" + line % (SEC, "Pod", "web-1", 'namespace="shop",', "disallow-latest", "polr-shop", "tag", "high", "Kyverno", "fail"),
       "status!=pass drops passes; namespaces=sh* keeps shop and the rows without a namespace")
    eq(families(text, "policy_report_summary"), families(detailed, "policy_report_summary"),
       "the summaries are not filtered")


@test
def include_wins_over_exclude():
    text = metrics("--metrics-mode", "simple",
                   env={"POLSNAP_METRICS_FILTER": "sources=Kyv* sources!=Kyverno kinds!=Pod"})
    eq(families(text, *RESULTS), SIMPLE_HELP + "\n" + NS_HELP +
       'policy_report_result{category="Best Practices",namespace="kube-system",policy="require-labels",severity="medium",source="Kyverno",status="skip"} 1\n'
       'policy_report_result{category="Best Practices",namespace="shop",policy="require-labels",severity="medium",source="Kyverno",status="fail"} 1\n'
       'policy_report_result{category="Best Practices",namespace="shop",policy="require-labels",severity="medium",source="Kyverno",status="pass"} 1\n',
       "an include list makes a field's excludes moot (Policy Reporter's rule); kinds!=Pod drops the Pod "
       "row; a family with no line left keeps its header")


@test
def promtool_accepts_every_mode():
    # promtool lints too: the reference's detailed family names end in _summary, which it flags
    # (exit 3)
    lint = {"cluster_policy_report_summary metric name should not include type 'summary'",
            "policy_report_summary metric name should not include type 'summary'"}
    for opts in ([], ["--metrics-mode", "simple"], ["--metrics-mode", "custom", "--metrics-labels",
                 "category,kind,message,name,namespace,policy,report,rule,severity,source,status"],
                 ["--metrics-filter", "status!=pass,skip", "--metrics-filter", "namespaces=*-prod"]):
        text = metrics(*opts, source=SAMPLES)
        p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        problems = set((p.stdout + p.stderr).strip().splitlines()) - lint
        check(p.returncode in (0, 3) and not problems,
              "promtool accepts the samples with %s" % (" ".join(opts) or "the default"),
              (p.returncode, sorted(problems)[:5]))
        print("# samples' /metrics with %s: %d bytes" % (" ".join(opts) or "the default", len(text)))


@test
def bad_values_are_usage_errors():
    src = ["--source", "files:" + reports, "--data", tempdir()]
    for opts, msg in [
            (["--metrics-mode", "fancy"], "--metrics-mode fancy: want detailed, simple or custom"),
            (["--metrics-mode", "custom"], "--metrics-mode custom needs --metrics-labels"),
            (["--metrics-labels", "policy"], "--metrics-labels needs --metrics-mode custom"),
            (["--metrics-mode", "custom", "--metrics-labels", "policy,colour"],
             "--metrics-labels: unknown label colour (category, kind, message, name, namespace, "
             "policy, report, rule, severity, source, status)"),
            (["--metrics-filter", "colour=red"], "--metrics-filter: unknown field colour (kinds, "
             "namespaces, policies, severities, sources, status)"),
            (["--metrics-filter", "status"], "--metrics-filter status: want FIELD=PATTERNS or FIELD!=PATTERNS"),
            (["--metrics-filter", "status!=,"], "--metrics-filter status: no patterns")]:
        p = snapshot(*(src + opts))
        eq((p.returncode, p.stderr.splitlines()[0]), (2, "polsnap-snapshot: " + msg), " ".join(opts))


run()
