#!/usr/bin/env python3
"""gen_reports.py - writes a big, realistic, deterministic set of PolicyReports for load tests.

    python3 tests/lib/gen_reports.py --results N --out DIR [--seed S] [--namespaces K]
                                     [--format yaml|json]

Exactly N rows: every result has one resource (Kyverno's per-resource reports name it in
`scope`; the Trivy adapter lists it in `resources`), statuses are all valid and no two rows share
an id. About 97% of the rows are namespaced, one report per resource (Kyverno per-resource
reports, Trivy vulnerability and config-audit reports), spread over K namespaces, ~40 Kyverno
policy/rule pairs, ~200 CVEs, every status and severity (Trivy's UNKNOWN: none); the rest are
ClusterPolicyReports (Kyverno on Namespaces and ClusterRoles, kube-bench). Same seed, same bytes.

Files (flat in DIR, read in byte order of their names): YAML files hold up to 500 report
documents each (multi-document YAML); JSON files hold a `kind: List` of up to 100 reports each.
Standard library only; 1,000,000 results take a few seconds. Prints a one-line summary.
"""
import argparse
import json
import os
import random
import sys

T0 = 1764000000
STATUSES = ["pass", "fail", "warn", "error", "skip"]
NS_WORDS = ["payments", "checkout", "search", "catalog", "identity", "billing", "shipping",
            "analytics", "frontend", "gateway", "ledger", "notifications", "media", "reports",
            "inventory", "pricing", "support", "auth", "orders", "recommendations"]
APPS = ["api", "worker", "web", "db", "cache", "cron", "consumer", "scheduler", "proxy", "admin"]
KINDS = [("Deployment", "apps/v1", "autogen-"), ("StatefulSet", "apps/v1", "autogen-"),
         ("DaemonSet", "apps/v1", "autogen-"), ("CronJob", "batch/v1", "autogen-cronjob-"),
         ("Pod", "v1", "")]
KYVERNO = [  # policy, rule, category, severity
    ("disallow-capabilities", "adding-capabilities", "Pod Security Standards (Baseline)", "medium"),
    ("disallow-host-namespaces", "host-namespaces", "Pod Security Standards (Baseline)", "medium"),
    ("disallow-host-path", "host-path", "Pod Security Standards (Baseline)", "medium"),
    ("disallow-host-ports", "host-ports-none", "Pod Security Standards (Baseline)", "medium"),
    ("disallow-host-process", "host-process-containers", "Pod Security Standards (Baseline)", "medium"),
    ("disallow-privileged-containers", "privileged-containers", "Pod Security Standards (Baseline)", "medium"),
    ("disallow-proc-mount", "check-proc-mount", "Pod Security Standards (Baseline)", "medium"),
    ("disallow-selinux", "selinux-type", "Pod Security Standards (Baseline)", "medium"),
    ("disallow-selinux", "selinux-user-role", "Pod Security Standards (Baseline)", "medium"),
    ("restrict-apparmor-profiles", "app-armor", "Pod Security Standards (Baseline)", "medium"),
    ("restrict-seccomp", "check-seccomp", "Pod Security Standards (Baseline)", "medium"),
    ("restrict-sysctls", "check-sysctls", "Pod Security Standards (Baseline)", "medium"),
    ("disallow-capabilities-strict", "require-drop-all", "Pod Security Standards (Restricted)", "medium"),
    ("disallow-capabilities-strict", "adding-capabilities-strict", "Pod Security Standards (Restricted)", "medium"),
    ("disallow-privilege-escalation", "privilege-escalation", "Pod Security Standards (Restricted)", "medium"),
    ("require-run-as-non-root-user", "run-as-non-root-user", "Pod Security Standards (Restricted)", "medium"),
    ("require-run-as-nonroot", "run-as-non-root", "Pod Security Standards (Restricted)", "medium"),
    ("restrict-seccomp-strict", "check-seccomp-strict", "Pod Security Standards (Restricted)", "medium"),
    ("restrict-volume-types", "restricted-volumes", "Pod Security Standards (Restricted)", "medium"),
    ("require-requests-limits", "validate-resources", "Best Practices", "low"),
    ("require-pod-probes", "validate-probes", "Best Practices", "medium"),
    ("require-labels", "check-for-labels", "Best Practices", "low"),
    ("disallow-latest-tag", "require-image-tag", "Best Practices", "medium"),
    ("disallow-latest-tag", "validate-image-tag", "Best Practices", "medium"),
    ("restrict-image-registries", "validate-registries", "Best Practices", "high"),
    ("disallow-default-namespace", "validate-namespace", "Multi-Tenancy", "medium"),
    ("require-ro-rootfs", "validate-readOnlyRootFilesystem", "Best Practices", "medium"),
    ("restrict-automount-sa-token", "validate-automountServiceAccountToken", "Sample", "info"),
    ("require-image-digest", "check-digest", "Other", "low"),
    ("verify-image-signature", "verify-signature", "Software Supply Chain Security", "critical"),
]
CLUSTER_KYVERNO = [
    ("require-ns-labels", "check-for-labels-on-namespace", "Multi-Tenancy", "medium", "Namespace", "v1"),
    ("require-ns-purpose-label", "require-ns-purpose-label", "Multi-Tenancy", "low", "Namespace", "v1"),
    ("restrict-wildcard-verbs", "no-wildcard-verbs", "Security", "high", "ClusterRole", "rbac.authorization.k8s.io/v1"),
    ("restrict-binding-clusteradmin", "clusteradmin-bindings", "Security", "critical", "ClusterRoleBinding", "rbac.authorization.k8s.io/v1"),
]
AUDIT = [("KSV001", "Process can elevate its own privileges", "medium"),
         ("KSV003", "Default capabilities not dropped", "low"),
         ("KSV011", "CPU not limited", "low"), ("KSV012", "Runs as root user", "medium"),
         ("KSV014", "Root file system is not read-only", "high"),
         ("KSV017", "Privileged container", "high"),
         ("KSV104", "Seccomp policies disabled", "medium"),
         ("KSV106", "Container capabilities must only include NET_BIND_SERVICE", "low"),
         ("KSV020", "Runs with UID <= 10000", "low"), ("KSV021", "Runs with GID <= 10000", "low")]
PKGS = ["openssl", "libssl3", "libc6", "zlib1g", "curl", "libcurl4", "stdlib",
        "golang.org/x/net", "golang.org/x/crypto", "google.golang.org/grpc", "bash", "tar",
        "libexpat1", "libxml2", "perl-base", "python3.11", "ncurses-base", "systemd", "gnutls28",
        "github.com/docker/docker"]
VULN_SEV = ["critical", "high", "high", "medium", "medium", "medium", "low", "low", ""]


def q(s):
    """A YAML/JSON double-quoted scalar (JSON escaping is valid YAML)."""
    return json.dumps(s)


class Gen:
    def __init__(self, seed, namespaces, fmt, out):
        self.rnd = random.Random(seed)
        self.seed = seed
        self.fmt = fmt
        self.out = out
        self.counter = 0
        self.files = 0
        self.reports = 0
        words = NS_WORDS * (namespaces // len(NS_WORDS) + 1)
        self.namespaces = ["%s-%s" % (w, ["prod", "stage", "dev"][i // len(NS_WORDS) % 3]) +
                           ("" if i < 3 * len(NS_WORDS) else "-%d" % (i // (3 * len(NS_WORDS))))
                           for i, w in enumerate(words[:namespaces])]
        self.cves = []
        r = random.Random(seed + 1)
        for i in range(200):
            sev = VULN_SEV[i % len(VULN_SEV)]
            self.cves.append(("CVE-20%d-%d" % (20 + i % 6, 1000 + r.randrange(60000)),
                              PKGS[i % len(PKGS)], sev, "%d.%d" % (r.randrange(2, 10), r.randrange(10))))
        self.cves = sorted(set(self.cves))

    def uid(self):
        self.counter += 1
        h = "%08x%024x" % (self.seed & 0xffffffff, self.counter)
        return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:32])

    def status(self, fail_rate=0.25):
        x = self.rnd.random()
        if x < fail_rate:
            return "fail"
        if x < fail_rate + 0.06:
            return "warn"
        if x < fail_rate + 0.08:
            return "error"
        if x < fail_rate + 0.12:
            return "skip"
        return "pass"

    # Each report is (meta dict, scope dict or None, [result dict]). Results are plain dicts
    # in the key order kubectl prints (alphabetical).
    def kyverno_report(self, ns, n):
        kind, api, prefix = KINDS[self.rnd.randrange(len(KINDS))]
        name = "%s-%09x" % (APPS[self.rnd.randrange(len(APPS))], self.rnd.getrandbits(36))
        if kind == "Pod":
            name += "-%05x" % self.rnd.getrandbits(20)
        u = self.uid()
        scope = {"apiVersion": api, "kind": kind, "name": name, "namespace": ns, "uid": u}
        meta = {"labels": {"app.kubernetes.io/managed-by": "kyverno"}, "name": u, "namespace": ns}
        ts = T0 + self.rnd.randrange(86400 * 7)
        results = []
        for policy, rule, cat, sev in self.rnd.sample(KYVERNO, n):
            rule = prefix + rule
            st = self.status()
            if st == "fail" or st == "warn":
                msg = "validation error: %s rule %s failed at path /spec/template/spec/containers/0/securityContext/" % (policy, rule)
            elif st == "error":
                msg = "failed to evaluate preconditions: JMESPath query failed in rule %s" % rule
            elif st == "skip":
                msg = "rule %s skipped due to policy exception %s/%s" % (rule, ns, policy)
            else:
                msg = "validation rule '%s' passed." % rule
            results.append({"category": cat, "message": msg, "policy": policy,
                            "properties": {"process": "background scan"}, "result": st,
                            "rule": rule, "scored": True, "severity": sev, "source": "kyverno",
                            "timestamp": {"nanos": 0, "seconds": ts}})
        return meta, scope, results

    def trivy_vuln_report(self, ns, n):
        app = APPS[self.rnd.randrange(len(APPS))]
        name = "%s-%09x" % (app, self.rnd.getrandbits(36))
        res = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name, "namespace": ns,
               "uid": self.uid()}
        meta = {"labels": {"app.kubernetes.io/created-by": "trivy-operator-polr-adapter",
                           "trivy-operator.source": "VulnerabilityReport",
                           "trivy-operator.resource.kind": "ReplicaSet",
                           "trivy-operator.resource.name": name,
                           "trivy-operator.resource.namespace": ns},
                "name": "trivy-vuln-polr-replicaset-%s" % name, "namespace": ns}
        ts = T0 + self.rnd.randrange(86400 * 7)
        results = []
        for cve, pkg, sev, score in self.rnd.sample(self.cves, min(n, len(self.cves))):
            self.counter += 1
            r = {"category": "Vulnerability Scan", "message": "%s: vulnerability in %s" % (cve, pkg),
                 "policy": cve,
                 "properties": {"fixedVersion": "%s-1+deb12u2" % score,
                                "installedVersion": "%s-1+deb12u1" % score,
                                "primaryLink": "https://avd.aquasec.com/nvd/%s" % cve.lower(),
                                "registry.server": "ghcr.io", "artifact.repository": "acme/%s" % app,
                                "resultID": "%08x%032x" % (self.seed & 0xffffffff, self.counter),
                                "score": score},
                 "resources": [res], "result": "fail" if sev in ("critical", "high") else "warn",
                 "rule": pkg, "source": "Trivy Vulnerability",
                 "timestamp": {"nanos": 0, "seconds": ts}}
            if sev:
                r["severity"] = sev
            results.append(r)
        return meta, None, results

    def trivy_audit_report(self, ns, n):
        kind, api, _ = KINDS[self.rnd.randrange(4)]
        name = "%s-%09x" % (APPS[self.rnd.randrange(len(APPS))], self.rnd.getrandbits(36))
        res = {"apiVersion": api, "kind": kind, "name": name, "namespace": ns, "uid": self.uid()}
        meta = {"labels": {"app.kubernetes.io/created-by": "trivy-operator-polr-adapter",
                           "trivy-operator.source": "ConfigAuditReport",
                           "trivy-operator.resource.kind": kind,
                           "trivy-operator.resource.name": name,
                           "trivy-operator.resource.namespace": ns},
                "name": "trivy-cfg-polr-%s-%s" % (kind.lower(), name), "namespace": ns}
        ts = T0 + self.rnd.randrange(86400 * 7)
        results = []
        for cid, title, sev in self.rnd.sample(AUDIT, min(n, len(AUDIT))):
            st = "fail" if self.rnd.random() < 0.3 else "pass"
            results.append({"category": "Kubernetes Security Check",
                            "message": "Container of %s '%s' should fix: %s" % (kind, name, title) if st == "fail" else title,
                            "policy": title, "resources": [res], "result": st, "rule": cid,
                            "scored": False, "severity": sev, "source": "Trivy ConfigAudit",
                            "timestamp": {"nanos": 0, "seconds": ts}})
        return meta, None, results

    def cluster_reports(self, n):
        """ClusterPolicyReports with n results in total: Kyverno per-policy reports over
        cluster resources and one kube-bench report."""
        out = []
        bench = min(n, max(1, n // 10))
        rest = n - bench
        per = max(1, (rest + len(CLUSTER_KYVERNO) - 1) // len(CLUSTER_KYVERNO)) if rest else 0
        for policy, rule, cat, sev, kind, api in CLUSTER_KYVERNO:
            k = min(per, rest)
            if k <= 0:
                break
            rest -= k
            results = []
            for i in range(k):
                # the first Namespace results are about the generated namespaces themselves
                if kind == "Namespace" and i < len(self.namespaces):
                    rname = self.namespaces[i]
                else:
                    rname = "%s-%06d" % ("ns" if kind == "Namespace" else "role", i)
                st = self.status(0.3)
                results.append({"category": cat,
                                "message": "validation rule '%s' %s." % (rule, "passed" if st == "pass" else "failed"),
                                "policy": policy,
                                "resources": [{"apiVersion": api, "kind": kind, "name": rname, "uid": self.uid()}],
                                "result": st, "rule": rule, "scored": True, "severity": sev,
                                "source": "kyverno",
                                "timestamp": {"nanos": 0, "seconds": T0 + self.rnd.randrange(86400)}})
            out.append(({"labels": {"app.kubernetes.io/managed-by": "kyverno"},
                         "name": "cpol-%s" % policy}, None, results))
        results = []
        for i in range(bench):
            sec = 1 + i % 5
            st = ["pass", "fail", "warn", "pass", "skip"][self.rnd.randrange(5)]
            results.append({"category": "%d CIS section" % sec,
                            "message": "Ensure check %d.%d.%d is satisfied" % (sec, i // 50 % 50, i % 50),
                            "policy": "CIS Benchmark section %d" % sec,
                            "properties": {"index": "%d.%d.%d" % (sec, i // 50, i % 50)},
                            "result": st, "rule": "%d.%d.%d" % (sec, i // 50, i % 50),
                            "scored": st != "warn", "severity": ["high", "medium", "low", "info", "critical"][i % 5],
                            "source": "kube-bench",
                            "timestamp": {"nanos": 0, "seconds": T0 - 3600 + i % 3600}})
        if results:
            out.append(({"labels": {"app": "kube-bench-adapter"}, "name": "kube-bench-cis"}, None, results))
        return out

    # -- output
    def doc(self, kind, meta, scope, results):
        d = {"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": kind, "metadata": meta}
        if scope:
            d["scope"] = scope
        d["results"] = results
        s = {k: 0 for k in ("error", "fail", "pass", "skip", "warn")}
        for r in results:
            s[r["result"]] += 1
        d["summary"] = s
        return d

    def write(self, stem, docs):
        if not docs:
            return
        chunk = 500 if self.fmt == "yaml" else 100
        for i in range(0, len(docs), chunk):
            part = docs[i:i + chunk]
            path = os.path.join(self.out, "%s-%04d.%s" % (stem, i // chunk, self.fmt))
            with open(path, "w", encoding="utf-8") as f:
                if self.fmt == "json":
                    # dumps, not dump: only dumps uses the C encoder
                    f.write(json.dumps({"apiVersion": "v1", "kind": "List", "items": part,
                                        "metadata": {"resourceVersion": ""}},
                                       separators=(",", ":")))
                else:
                    f.write("".join(yaml_doc(d) for d in part))
            self.files += 1
            self.reports += len(part)


def yaml_value(v, ind, out):
    """Block YAML like kubectl prints it; strings double-quoted so they stay strings."""
    pad = " " * ind
    if isinstance(v, dict):
        for k, x in v.items():
            key = k if k.replace(".", "").replace("-", "").replace("/", "").isalnum() else q(k)
            if isinstance(x, dict):
                out.append("%s%s:\n" % (pad, key))
                yaml_value(x, ind + 2, out)
            elif isinstance(x, list):
                out.append("%s%s:\n" % (pad, key))
                yaml_value(x, ind, out)
            else:
                out.append("%s%s: %s\n" % (pad, key, scalar(x)))
    else:
        for x in v:
            if isinstance(x, dict):
                sub = []
                yaml_value(x, ind + 2, sub)
                sub[0] = pad + "- " + sub[0][ind + 2:]
                out.extend(sub)
            else:
                out.append("%s- %s\n" % (pad, scalar(x)))


def scalar(x):
    if x is True:
        return "true"
    if x is False:
        return "false"
    if isinstance(x, int):
        return str(x)
    return q(x)


def yaml_doc(d):
    out = ["---\n"]
    yaml_value(d, 0, out)
    return "".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--namespaces", type=int, default=20)
    ap.add_argument("--format", choices=("yaml", "json"), default="yaml")
    a = ap.parse_args(argv)
    if a.results < 0 or a.namespaces < 1:
        ap.error("--results must be >= 0 and --namespaces >= 1")
    os.makedirs(a.out, exist_ok=True)
    g = Gen(a.seed, a.namespaces, a.format, a.out)
    n_cluster = a.results * 3 // 100
    if a.results > 0 and n_cluster == 0 and a.results >= 10:
        n_cluster = 1
    n_ns = a.results - n_cluster
    per_ns = [n_ns // a.namespaces + (1 if i < n_ns % a.namespaces else 0)
              for i in range(a.namespaces)]
    for ns, total in zip(g.namespaces, per_ns):
        by_source = {"kyverno": [], "trivy-vuln": [], "trivy-config": []}
        left = total
        while left > 0:
            x = g.rnd.random()
            if x < 0.7:
                n = min(left, g.rnd.randrange(5, 26))
                by_source["kyverno"].append(g.doc("PolicyReport", *g.kyverno_report(ns, n)))
            elif x < 0.9:
                n = min(left, g.rnd.randrange(1, 60))
                by_source["trivy-vuln"].append(g.doc("PolicyReport", *g.trivy_vuln_report(ns, n)))
            else:
                n = min(left, g.rnd.randrange(3, len(AUDIT) + 1))
                by_source["trivy-config"].append(g.doc("PolicyReport", *g.trivy_audit_report(ns, n)))
            left -= n
        for src, docs in by_source.items():
            g.write("%s-%s" % (ns, src), docs)
    g.write("cluster", [g.doc("ClusterPolicyReport", *r) for r in g.cluster_reports(n_cluster)])
    print("gen_reports: %d results (%d cluster) in %d reports, %d files under %s"
          % (a.results, n_cluster, g.reports, g.files, a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
