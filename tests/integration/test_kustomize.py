"""test_kustomize.py - kubectl kustomize deploy/ renders, and the rendered objects hold what the
README's Deploy section promises: read-only RBAC, one pod with the server and the snapshot loop
on a shared volume, probes, resources, a restricted security context, Prometheus annotations,
a Service and a NetworkPolicy that reach the pod, and the image make image builds."""
import os
import re
import shutil
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401

objs = {}


def one(kind, name=None):
    found = [o for (k, n), o in objs.items() if k == kind and (name is None or n == name)]
    return found[0] if len(found) == 1 else None


@test
def renders():
    if not shutil.which("kubectl"):
        skip("kubectl kustomize deploy/", "kubectl is not installed (Debian: kubernetes-client)")
        return
    r = subprocess.run(["kubectl", "kustomize", os.path.join(ROOT, "deploy")], capture_output=True,
                       text=True, timeout=120)
    eq((r.returncode, r.stderr), (0, ""), "kubectl kustomize deploy/ renders")
    for o in yaml.safe_load_all(r.stdout):
        objs[(o["kind"], o["metadata"]["name"])] = o
    eq(sorted(objs), sorted([("Namespace", "polsnap"), ("ServiceAccount", "polsnap"),
                             ("ClusterRole", "polsnap-report-reader"),
                             ("ClusterRoleBinding", "polsnap-report-reader"),
                             ("ConfigMap", one("ConfigMap")["metadata"]["name"] if one("ConfigMap") else "?"),
                             ("Deployment", "polsnap"), ("Service", "polsnap"),
                             ("NetworkPolicy", "polsnap")]), "the objects")
    eq(sorted({o["metadata"].get("namespace", "-") for (k, _), o in objs.items()
               if k not in ("Namespace", "ClusterRole", "ClusterRoleBinding")}), ["polsnap"],
       "every namespaced object is in namespace polsnap")


@test
def rbac_is_read_only():
    if not objs:
        return
    rules = one("ClusterRole")["rules"]
    eq(sorted({v for r in rules for v in r["verbs"]}), ["get", "list"], "ClusterRole verbs: get and list only")
    eq(sorted(res for r in rules for res in r.get("resources", [])),
       ["clusterpolicyreports", "clusterreports", "policyreports", "reports"], "ClusterRole resources: the reports")
    b = one("ClusterRoleBinding")
    eq((b["roleRef"]["name"], b["subjects"]), ("polsnap-report-reader",
       [{"kind": "ServiceAccount", "name": "polsnap", "namespace": "polsnap"}]), "bound to polsnap/polsnap")


def containers():
    spec = one("Deployment")["spec"]["template"]["spec"]
    return spec, {c["name"]: c for c in spec["containers"]}


@test
def pod_runs_server_and_snapshot_loop():
    if not objs:
        return
    spec, c = containers()
    eq(sorted(c), ["server", "snapshot"], "two containers")
    eq(spec["serviceAccountName"], "polsnap", "the pod's service account")
    version = package_version().split("-")[0]
    eq({n: x["image"] for n, x in c.items()}, {"server": "polsnap:" + version, "snapshot": "polsnap:" + version},
       "the image make image builds")
    check("polsnap-snapshot" in " ".join(c["snapshot"]["command"] + c["snapshot"]["args"]) and
          "POLSNAP_CRON_PERIOD" in " ".join(c["snapshot"]["args"]), "the snapshot loop runs polsnap-snapshot every period")
    cm = one("ConfigMap")
    eq([e["configMapRef"]["name"] for e in c["snapshot"]["envFrom"]], [cm["metadata"]["name"]],
       "the job's settings come from the rendered ConfigMap")
    eq((cm["data"]["POLSNAP_SOURCES"], cm["data"]["POLSNAP_CRON_PERIOD"]), ("kubernetes", "300"),
       "in-cluster source, every 300 s")
    vols = {v["name"]: v for v in spec["volumes"]}
    mounts = {n: {m["name"]: m for m in x["volumeMounts"]} for n, x in c.items()}
    eq(("emptyDir" in vols["data"], mounts["server"]["data"]["mountPath"], mounts["snapshot"]["data"]["mountPath"],
        mounts["server"]["data"].get("readOnly"), mounts["snapshot"]["data"].get("readOnly", False)),
       (True, "/var/lib/polsnap", "/var/lib/polsnap", True, False),
       "one data volume: the job writes it, the server reads it")
    eq((spec["automountServiceAccountToken"], "token" in mounts["snapshot"], "token" in mounts["server"]),
       (False, True, False), "only the snapshot container gets the service account token")
    tok = vols["token"]["projected"]["sources"]
    eq([sorted(s) for s in tok], [["serviceAccountToken"], ["configMap"]], "the token volume: token and CA")


@test
def probes_and_resources():
    if not objs:
        return
    _, c = containers()
    srv = c["server"]
    eq([(p["name"], p["containerPort"]) for p in srv["ports"]], [("http", 8080)], "server port")
    eq((srv["livenessProbe"]["httpGet"], srv["readinessProbe"]["httpGet"]),
       ({"path": "/healthz", "port": "http"}, {"path": "/ready", "port": "http"}), "liveness /healthz, readiness /ready")
    for n, x in c.items():
        res = x["resources"]
        eq(sorted(k for k in ("cpu", "memory") if k in res.get("requests", {}) and k in res.get("limits", {})),
           ["cpu", "memory"], "%s: cpu and memory requests and limits" % n)


@test
def security_context():
    if not objs:
        return
    spec, c = containers()
    pod = spec["securityContext"]
    eq((pod["runAsNonRoot"], pod["runAsUser"], pod["seccompProfile"]["type"]), (True, 65532, "RuntimeDefault"),
       "pod: non-root uid 65532, RuntimeDefault seccomp")
    for n, x in c.items():
        sc = x["securityContext"]
        eq((sc["readOnlyRootFilesystem"], sc["allowPrivilegeEscalation"], sc["capabilities"]),
           (True, False, {"drop": ["ALL"]}), "%s: read-only root, no escalation, no capabilities" % n)
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        check(re.search(r"^USER 65532:65532$", f.read(), re.M), "the image's user is the pod's uid")


@test
def service_networkpolicy_prometheus():
    if not objs:
        return
    tmpl = one("Deployment")["spec"]["template"]
    labels = tmpl["metadata"]["labels"]
    ann = tmpl["metadata"]["annotations"]
    eq((ann["prometheus.io/scrape"], ann["prometheus.io/port"], ann["prometheus.io/path"]), ("true", "8080", "/metrics"),
       "Prometheus scrape annotations")
    svc = one("Service")["spec"]
    check(all(labels.get(k) == v for k, v in svc["selector"].items()), "the Service selects the pod", svc["selector"])
    eq([(p["port"], p["targetPort"]) for p in svc["ports"]], [(8080, "http")], "Service: 8080 to the server")
    np = one("NetworkPolicy")["spec"]
    check(all(labels.get(k) == v for k, v in np["podSelector"]["matchLabels"].items()), "the NetworkPolicy selects the pod")
    eq(sorted(np["policyTypes"]), ["Egress", "Ingress"], "NetworkPolicy: ingress and egress")
    eq([p["port"] for r in np["ingress"] for p in r["ports"]], [8080], "ingress: 8080 only")
    eq(sorted({p["port"] for r in np["egress"] for p in r["ports"]}), [53, 443, 6443], "egress: DNS and the API server")


run()
