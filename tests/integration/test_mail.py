"""test_mail.py - bin/polsnap-report against a real SMTP server: maildev (npm), started here
over TLS (smtps://, with a test CA) and with authentication, read back through its HTTP API.
Checks subject, recipients, both MIME parts, per-report filters, that smtp:// refuses a server
without STARTTLS instead of sending in clear text, and that bad files fail with file and key."""
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401
from fake_https import make_pki  # noqa: E402
from polr import result, write_reports  # noqa: E402
import receivers  # noqa: E402

MAILDEV = os.path.join(ROOT, "node_modules", ".bin", "maildev")
PASSWORD = "smtp-pa55word"
pki, src, data, conf = tempdir(), tempdir(), tempdir(), tempdir()
make_pki(pki)
smtp_port, web_port = receivers.free_port(), receivers.free_port()
maildev = subprocess.Popen(
    ["timeout", "300", MAILDEV, "--smtp", str(smtp_port), "--web", str(web_port), "--ip",
     "127.0.0.1", "--web-ip", "127.0.0.1", "--incoming-secure", "--incoming-cert",
     os.path.join(pki, "server.crt"), "--incoming-key", os.path.join(pki, "server.key"),
     "--incoming-user", "polsnap", "--incoming-pass", PASSWORD],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
plain_port = receivers.free_port()  # a second maildev without TLS: smtp:// must refuse it
plain = subprocess.Popen(["timeout", "300", MAILDEV, "--smtp", str(plain_port), "--web",
                          str(receivers.free_port()), "--ip", "127.0.0.1", "--web-ip", "127.0.0.1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def emails():
    with urllib.request.urlopen("http://127.0.0.1:%d/api/email" % web_port, timeout=5) as r:
        return json.loads(r.read().decode("utf-8"))


deadline = time.time() + 60
while True:
    try:
        emails()
        break
    except OSError:
        if time.time() > deadline:
            raise
        time.sleep(0.2)

write_reports(src, [result("labels", "app", "fail", "web"),
                    result("labels", "app", "pass", "api"),
                    result("root", "user", "error", "db", message="<b>runs as root</b>"),
                    result("labels", "app", "fail", "pay", namespace="payments"),
                    result("tag", "latest", "warn", "x", namespace="payments", source="trivy")],
              [{"policy": "ns-labels", "rule": "team", "result": "fail", "source": "kyverno",
                "resources": [{"kind": "Namespace", "name": "shop"}]}])
assert snapshot("--source", "files:" + src, "--data", data).returncode == 0
pw_file = os.path.join(conf, "password")
with open(pw_file, "w") as f:
    f.write(PASSWORD + "\n")


def write_conf(reports, smtp=None, name="reports.yaml"):
    s = {"url": "smtps://127.0.0.1:%d" % smtp_port, "from": "polsnap@example.com",
         "username": "polsnap", "passwordFile": pw_file, "certificate": os.path.join(pki, "ca.crt"),
         "timeout": 10}
    s.update(smtp or {})
    path = os.path.join(conf, name)
    with open(path, "w") as f:
        json.dump({"smtp": s, "reports": reports}, f)  # JSON is YAML too
    return path


def report(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([os.path.join(BIN, "polsnap-report")] + list(args), env=e,
                          capture_output=True, text=True, timeout=120)


REPORTS = [{"name": "all", "type": "summary", "to": ["ops@example.com", "lead@example.com"]},
           {"name": "shop-violations", "type": "violations", "to": ["shop@example.com"],
            "filter": {"namespaces": {"include": ["sh*"]}, "clusterScope": False}},
           {"name": "kyverno-violations", "type": "violations", "to": ["k@example.com"],
            "filter": {"sources": {"exclude": ["trivy"]}}}]
CONF = write_conf(REPORTS)
sent = report("--config", CONF, "--data", data)
MAILS = {m["subject"].split(" report ")[1].split(" ")[0]: m for m in emails()}


@test
def reports_are_sent():
    eq(sent.returncode, 0, "exit 0")
    eq(sorted(MAILS), ["all", "kyverno-violations", "shop-violations"], "one mail per report")
    m = MAILS.get("all", {})
    check(m.get("subject", "").startswith("polsnap summary report all ("), "subject", m.get("subject"))
    eq(sorted(a["address"] for a in m.get("to", [])), ["lead@example.com", "ops@example.com"],
       "recipients")
    eq([a["address"] for a in m.get("from", [])], ["polsnap@example.com"], "sender")


@test
def both_parts_and_the_summary():
    m = MAILS.get("all", {})
    text, html = m.get("text", ""), m.get("html", "")
    check("shop / kyverno: 1 1 0 1 0" in text, "text: shop's counts (pass fail warn error skip)", text)
    check("payments / trivy: 0 0 1 0 0" in text, "text: per namespace and source", text)
    check("cluster scope / kyverno: 0 1 0 0 0" in text, "text: cluster scope last", text)
    check("all: 1 3 1 1 0" in text, "text: totals", text)
    check(html.startswith("<!DOCTYPE html>") and "<td>payments</td><td>trivy</td>" in html,
          "HTML part with the same table", html[:400])
    check("<script" not in html, "no scripts")


@test
def filtered_reports_hold_only_their_scope():
    shop = MAILS.get("shop-violations", {})
    text, html = shop.get("text", ""), shop.get("html", "")
    check("shop: labels" in text and "shop: root" in text, "shop's failing results", text)
    check("payments" not in text and "payments" not in html, "nothing of another namespace")
    check("cluster scope" not in text, "clusterScope: false leaves cluster results out")
    check("&lt;b&gt;runs as root&lt;/b&gt;" in html and "<b>runs as root" not in html,
          "values are HTML-escaped")
    check("pass" not in text.split("failing results.")[1], "only fail and error results")
    k = MAILS.get("kyverno-violations", {}).get("text", "")
    check("cluster scope: ns-labels" in k and "payments: labels" in k and "trivy" not in k,
          "a source filter; cluster scope included by default", k)


@test
def smtp_needs_starttls_and_secrets_stay_out():
    r = report("--config", write_conf(REPORTS[:1], {"url": "smtp://127.0.0.1:%d" % plain_port},
                                      "plain.yaml"), "--data", data)
    eq(r.returncode, 1, "a server without STARTTLS: exit 1, nothing sent")
    check("does not offer STARTTLS" in r.stderr, "and says why", r.stderr)
    r2 = report("--config", write_conf(REPORTS[:1], {"passwordFile": os.path.join(conf, "nope")},
                                       "nopw.yaml"), "--data", data)
    eq(r2.returncode, 2, "an unreadable password file is a configuration error")
    check(all(PASSWORD not in x.stderr + x.stdout for x in (sent, r, r2)), "the password is never logged")


@test
def bad_files_and_options():
    cases = [([dict(REPORTS[0], type="weekly")], None, "reports[0].type: must be summary or violations"),
             ([dict(REPORTS[0], to=["not-an-address"])], None, "reports[0].to[0]: is not an email address"),
             ([dict(REPORTS[0], colour="red")], None, "reports[0].colour: unknown key"),
             (REPORTS[:1], {"url": "http://x"}, "smtp.url: must be an smtp:// (STARTTLS) or smtps:// URL"),
             ([REPORTS[0], REPORTS[0]], None, "reports[1]: repeats another report's name")]
    for i, (reports, smtp, want) in enumerate(cases):
        path = write_conf(reports, smtp, "bad%d.yaml" % i)
        r = report("--config", path, "--data", data)
        eq(r.returncode, 2, "exit 2: " + want)
        check(path + ": " + want in r.stderr, "file, key and reason: " + want, r.stderr)
    r = report("--config", CONF, "--data", data, "--report", "nope")
    eq(r.returncode, 2, "--report naming no report")
    before = len(emails())
    r = report("--data", data, "--report", "all", env={"POLSNAP_REPORTS": CONF})
    eq((r.returncode, len(emails()) - before), (0, 1), "POLSNAP_REPORTS and --report: one mail")
    r = report("--config", CONF, "--data", tempdir())
    eq(r.returncode, 1, "no snapshot yet: exit 1")


try:
    run()
finally:
    for p in (maildev, plain):
        p.terminate()
        p.wait(10)
