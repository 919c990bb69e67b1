"""test_html_report.py - /v1/html-report/violations (spec section 12) through lighttpd: the
page's groups and rows equal the oracle's (tests/lib/model.py) on the samples and with filters,
every value is escaped and bidi-isolated (hostile values: markup, quotes, an RTL override), the
page has no script and one style element whose SHA-256 is what its Content-Security-Policy
allows, and a bad filter is the usual JSON 400."""
import base64
import hashlib
import json
import os
import re
import sys
from html.parser import HTMLParser
from urllib.parse import quote

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401
import model  # noqa: E402

PATH = "/v1/html-report/violations"


class Page(HTMLParser):
    """The report as data: {"count", "groups": [{"namespace", "policy", "rows": [[6 cells]]}]},
    plus the tags seen."""

    def __init__(self):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.tags, self.groups, self.count, self.styles = [], [], None, []
        self._bdi, self._in, self._text, self._row = None, [], "", None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in.append(tag)
        if tag == "bdi":
            self._bdi = ""
        elif tag == "tr":
            self._row = []
        elif tag == "h2":
            self.groups.append({"namespace": None, "policy": None, "rows": []})

    def handle_endtag(self, tag):
        if tag == "bdi":
            where = self._in[-2] if len(self._in) > 1 else None
            if where == "h2":
                g = self.groups[-1]
                g["policy" if g["namespace"] is not None else "namespace"] = self._bdi
            elif where == "td":
                self._row.append(self._bdi)
            self._bdi = None
        elif tag == "tr" and self._row:
            self.groups[-1]["rows"].append(self._row)
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data):
        if self._bdi is not None:
            self._bdi += data
        if self._in and self._in[-1] == "style":
            self.styles.append(data)
        m = re.fullmatch(r"(\d+) failing results\.", data)
        if m and self._in and self._in[-1] == "p":
            self.count = int(m.group(1))


def parse(body):
    p = Page()
    p.feed(body.decode("utf-8"))
    p.close()
    return p


def same(srv, oracle, qs, name):
    r = get(srv, PATH + ("?" + qs if qs else ""))
    status, want = oracle.answer(PATH, qs)
    eq(r.status, status, name + ": status")
    if status != 200:
        return r
    eq(r.header("content-type"), "text/html; charset=utf-8", name + ": an HTML page")
    p = parse(r.body)
    eq({"count": p.count, "groups": p.groups}, want, name + ": groups and rows")
    return r


data = tempdir()
assert snapshot("--source", "files:" + SAMPLES, "--data", data).returncode == 0
srv = Server(data)
oracle = model.load([SAMPLES])


@test
def the_samples_report():
    r = same(srv, oracle, "", "unfiltered")
    p = parse(r.body)
    check(p.count and p.count > 20 and len(p.groups) > 5, "a real report (%s results)" % p.count)
    eq(p.groups[-1]["namespace"], "cluster scope", "cluster scope last")
    eq([t for t in p.tags if t in ("script", "link", "img", "iframe", "object")], [],
       "no scripts, no remote content")
    eq(p.tags.count("style"), 1, "one style element")
    digest = base64.b64encode(hashlib.sha256(p.styles[0].encode("utf-8")).digest()).decode()
    csp = r.header("content-security-policy") or ""
    check("default-src 'none'" in csp and ("style-src 'sha256-%s'" % digest) in csp,
          "the Content-Security-Policy allows exactly that style: %s" % csp)
    h = get(srv, PATH, method="HEAD")
    eq((h.status, h.body, h.header("content-security-policy")), (200, b"", csp), "HEAD")


@test
def with_filters():
    for qs in ("namespaces=payments", "sources=kyverno&status=fail", "status=pass",
               "labels=app.kubernetes.io/managed-by:kyverno", "exclude=kyverno:Pod",
               "query=" + quote("Severity:high,critical"), "kinds=Namespace", "pretty"):
        same(srv, oracle, qs, qs)
    r = get(srv, PATH + "?status=bogus")
    eq((r.status, r.header("content-type"), r.json()["code"]), (400, "application/json", 3),
       "a bad filter is the JSON 400")


@test
def hostile_values_are_escaped_and_isolated():
    evil = ['<script>alert(1)</script>', '" onmouseover="x', "it's & <b>bold</b>",
            "\u202eevil-rtl", "tab\there", "ctl\x01x"]
    results = [{"policy": v, "rule": v, "result": "fail", "message": v, "source": "s",
                "resources": [{"kind": v, "name": "n%d" % i}]} for i, v in enumerate(evil)]
    doc = {"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
           "metadata": {"name": "evil", "namespace": "ns-<i>\u202e"}, "results": results}
    src = tempdir()
    with open(os.path.join(src, "evil.json"), "w") as f:
        json.dump(doc, f)
    out = tempdir()
    eq(snapshot("--source", "files:" + src, "--data", out).returncode, 0, "hostile snapshot")
    s = Server(out)
    try:
        hostile = model.load([src], default=False)
        r = same(s, hostile, "", "hostile values")
        text = r.body.decode("utf-8")
        eq(text.count("<script"), 0, "no <script> tag in the bytes")
        check("&lt;script&gt;" in text and "&quot; onmouseover=&quot;x" in text and
              "it&#39;s &amp; &lt;b&gt;" in text, "markup and quotes as character references")
        check("<bdi>\u202eevil-rtl</bdi>" in text, "an RTL override stays inside its <bdi>")
        check("\x01" not in text, "control characters are not sent")
    finally:
        s.stop()


run()
