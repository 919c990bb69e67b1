"""polr.py - small PolicyReport files for the tests that change reports between snapshots
(change tracking, notifications): one namespaced report and one cluster report in a directory
that `--source files:DIR` reads."""
import json
import os


def result(policy, rule, status, name, kind="Pod", message="m", severity="high", namespace="shop",
           source="kyverno"):
    return {"policy": policy, "rule": rule, "result": status, "message": message,
            "severity": severity, "source": source,
            "resources": [{"apiVersion": "v1", "kind": kind, "name": name, "namespace": namespace}]}


def write_reports(d, results, cluster_results=()):
    """Replaces d's content by shop.json (one PolicyReport per namespace of the results,
    named NS.json) and cluster.json (a ClusterPolicyReport)."""
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    by_ns = {}
    for r in results:
        by_ns.setdefault(r["resources"][0]["namespace"], []).append(r)
    for ns, rs in sorted(by_ns.items()):
        with open(os.path.join(d, ns + ".json"), "w") as f:
            json.dump({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
                       "metadata": {"name": "polr-" + ns, "namespace": ns}, "results": rs}, f)
    with open(os.path.join(d, "cluster.json"), "w") as f:
        json.dump({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "ClusterPolicyReport",
                   "metadata": {"name": "cpol"}, "results": list(cluster_results)}, f)
