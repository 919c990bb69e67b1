"""fake_kube.py - a fake Kubernetes API server (over fake_https) serving PolicyReports.

FakeKube(reports_dir) serves, from the recorded responses in tests/fixtures/kube/:
  /apis, /apis/wgpolicyk8s.io, /apis/openreports.io (discovery; 404 for a group turned off),
  /apis/GROUP/VERSION (resource lists), and the report lists
  /apis/GROUP/VERSION/PLURAL?limit=N[&continue=TOKEN] paged by `page_size` with continue
  tokens shaped like the API server's (base64url JSON with "rv" and "start"), a list
  resourceVersion and remainingItemCount, as a real server answers.
The reports are the JSON files in reports_dir (the same files a `files:` source reads), each
served under its apiVersion's group and its kind's plural, ordered by namespace/name like
etcd keys. Faults are scripted on .srv (a FakeHTTPS) with the helpers below or srv.route().

    with FakeKube() as kube:
        kube.fail_page("policyreports", 1, resp(410, json=kube.status("410.json")))
        path = kube.kubeconfig(tmpdir, token="t")
"""
import base64
import json
import os

from fake_https import FakeHTTPS, resp

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "kube")
REPORTS = os.path.join(FIXTURES, "reports")

KINDS = {  # kind -> (group, plural)
    "PolicyReport": ("wgpolicyk8s.io", "policyreports"),
    "ClusterPolicyReport": ("wgpolicyk8s.io", "clusterpolicyreports"),
    "Report": ("openreports.io", "reports"),
    "ClusterReport": ("openreports.io", "clusterreports"),
}
LIST_RV = "48213"


def fixture(*path):
    with open(os.path.join(FIXTURES, *path)) as f:
        return json.load(f)


def continue_token(rv, start):
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": int(rv), "start": start + "\x00"},
                     separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class FakeKube:
    def __init__(self, reports_dir=REPORTS, page_size=2, wgpolicy="apis-wgpolicyk8s.io.json",
                 openreports=True, strip_item_kinds=False, client_certs=False, lifetime=120):
        """wgpolicy: the discovery fixture for wgpolicyk8s.io, or None for a 404.
        strip_item_kinds: serve list items without kind/apiVersion (as for built-in types)."""
        self.srv = FakeHTTPS(lifetime=lifetime, client_certs=client_certs)
        self.url, self.ca_file, self.ca_pem = self.srv.url, self.srv.ca_file, self.srv.ca_pem
        self.page_size = page_size
        self.items = {plural: [] for _, plural in KINDS.values()}
        for name in sorted(os.listdir(reports_dir)):
            if name.endswith(".json"):
                with open(os.path.join(reports_dir, name)) as f:
                    doc = json.load(f)
                self.items[KINDS[doc["kind"]][1]].append(doc)
        for docs in self.items.values():
            docs.sort(key=lambda d: (d["metadata"].get("namespace", ""), d["metadata"]["name"]))
        if strip_item_kinds:
            for docs in self.items.values():
                for d in docs:
                    d.pop("kind", None)
                    d.pop("apiVersion", None)
        self.pages = {}  # plural -> [(continue token or None, response)]
        self.srv.route("/apis", resp(json=fixture("discovery", "apis.json")))
        groups = {"wgpolicyk8s.io": fixture("discovery", wgpolicy) if wgpolicy else None,
                  "openreports.io": fixture("discovery", "apis-openreports.io.json")
                  if openreports else None}
        for group, doc in groups.items():
            if doc is None:
                self.srv.route("/apis/" + group, resp(404, json=self.status("404.json")))
                continue
            self.srv.route("/apis/" + group, resp(json=doc))
            for v in doc["versions"]:
                self._serve_version(group, v["version"])

    def _serve_version(self, group, version):
        name = "apis-%s-%s.json" % (group, version)
        if os.path.exists(os.path.join(FIXTURES, "discovery", name)):
            self.srv.route("/apis/%s/%s" % (group, version), resp(json=fixture("discovery", name)))
        for kind, (g, plural) in KINDS.items():
            if g == group:
                self._serve_list(group, version, kind, plural)

    def _serve_list(self, group, version, kind, plural):
        docs = self.items[plural]
        chunks = [docs[i:i + self.page_size] for i in range(0, len(docs), self.page_size)] or [[]]
        path = "/apis/%s/%s/%s" % (group, version, plural)
        pages, token = [], None
        for i, chunk in enumerate(chunks):
            meta = {"resourceVersion": LIST_RV}
            rest = len(docs) - (i + 1) * self.page_size
            nxt = None
            if i + 1 < len(chunks):
                last = chunk[-1]["metadata"]
                nxt = continue_token(LIST_RV, "%s/%s" % (last.get("namespace", ""), last["name"]))
                meta["continue"] = nxt
                meta["remainingItemCount"] = rest
            body = {"apiVersion": "%s/%s" % (group, version), "kind": kind + "List",
                    "metadata": meta, "items": chunk}
            r = resp(json=body)
            self.srv.route(path, r, query={"continue": token} if token else None)
            pages.append((token, r))
            token = nxt
        self.pages[plural] = pages

    def list_path(self, plural, version=None):
        group = [g for g, p in KINDS.values() if p == plural][0]
        if version is None:
            version = "v1alpha1" if group == "openreports.io" else "v1beta1"
        return "/apis/%s/%s/%s" % (group, version, plural)

    def fail_page(self, plural, page, *responses, version=None):
        """Scripts the answers to page number `page` (0 is the first) of a list; after the
        scripted ones the real page is served again."""
        token, real = self.pages[plural][page]
        self.srv.route(self.list_path(plural, version), *(list(responses) + [real]),
                       query={"continue": token} if token else None)

    @staticmethod
    def status(name):
        return fixture("status", name)

    def list_requests(self, plural):
        return [r for r in self.srv.requests if r.path.endswith("/" + plural)]

    def kubeconfig(self, directory, name="config", token=None, token_file=None, ca="file",
                   client_cert=None, insecure=False, context="fake", extra_user=""):
        """Writes a kubeconfig for this server into directory and returns its path.
        ca: "file" (relative path, copied next to the kubeconfig), "data" (inline base64),
        or None. client_cert: None, "file" or "data" (issued by the fake's CA). extra_user:
        YAML lines added under the user (e.g. an exec plugin)."""
        def b64(text):
            return base64.b64encode(text.encode()).decode()
        cluster = ["    server: %s/" % self.url]
        if ca == "file":
            with open(os.path.join(directory, "fake-ca.crt"), "w") as f:
                f.write(self.ca_pem)
            cluster.append("    certificate-authority: fake-ca.crt")
        elif ca == "data":
            cluster.append("    certificate-authority-data: " + b64(self.ca_pem))
        if insecure:
            cluster.append("    insecure-skip-tls-verify: true")
        user = []
        if token:
            user.append("    token: " + token)
        if token_file:
            user.append("    tokenFile: " + token_file)
        if client_cert:
            cert, key = self.srv.make_client_cert("polsnap-test-user")
            if client_cert == "data":
                user.append("    client-certificate-data: " + b64(open(cert).read()))
                user.append("    client-key-data: " + b64(open(key).read()))
            else:
                user.append("    client-certificate: " + cert)
                user.append("    client-key: " + key)
        text = "\n".join([
            "apiVersion: v1",
            "kind: Config",
            "preferences: {}",
            "current-context: " + context,
            "clusters:",
            "- name: other",
            "  cluster:",
            "    server: https://192.0.2.1:6443",
            "- name: fake",
            "  cluster:",
        ] + cluster + [
            "contexts:",
            "- name: " + context,
            "  context:",
            "    cluster: fake",
            "    user: fake-user",
            "    namespace: payments",
            "- name: unreachable",
            "  context:",
            "    cluster: other",
            "    user: fake-user",
            "users:",
            "- name: fake-user",
            "  user:",
        ] + (user + ([extra_user] if extra_user else []) or ["    {}"]) + [""])
        path = os.path.join(directory, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def stop(self):
        self.srv.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
