"""receivers.py - what the notification tests check messages against: each service's documented
format and limits, as validators for FakeHTTPS.validate (None, or why a body is refused), and
the real Alertmanager (Debian's prometheus-alertmanager) started on a loopback port.

Formats, from each service's documentation:
  webhook     polsnap's own: {"id","snapshot","time","target","results":[row],"customFields"}
  slack       Block Kit: `text`, at most 50 blocks; header plain_text <= 150 chars; section
              text <= 3000 chars; context <= 10 elements
  teams       Workflows webhook: {"type":"message","attachments":[{"contentType":
              "application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard",
              "version","body":[...]}}]}, at most 28 KB
  discord     content <= 2000, at most 10 embeds; title <= 256, description <= 4096, <= 25
              fields (name <= 256, value <= 1024), <= 6000 characters over all embeds
  googlechat  text and/or cardsV2 [{cardId, card:{header, sections:[{widgets}]}}], <= 32,000 bytes
  loki        push API {"streams":[{"stream":{label:value},"values":[["<ns>","line"]]}]},
              label names [a-zA-Z_][a-zA-Z0-9_]*
"""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

# the summary representation: spec 3's keys and spec 10's cluster
ROW_KEYS = {"id", "namespace", "kind", "name", "message", "category", "policy", "rule", "status",
            "severity", "source", "timestamp", "properties", "cluster"}
LOKI_LABELS = {"job", "status", "severity"}  # the fixed set polsnap promises


def _obj(body):
    doc = json.loads(body.decode("utf-8"))
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    return doc


def webhook(body):
    d = _obj(body)
    for k in ("id", "snapshot", "time", "target"):
        if not isinstance(d.get(k), str):
            return "%s missing" % k
    if not isinstance(d.get("results"), list) or not d["results"]:
        return "results must be a non-empty list"
    for r in d["results"]:
        if set(r) != ROW_KEYS:
            return "a result is not in the summary representation: %s" % sorted(r)
    if not isinstance(d.get("customFields"), dict):
        return "customFields missing"
    return None


def slack(body):
    d = _obj(body)
    if not isinstance(d.get("text"), str) or not d["text"]:
        return "text (the notification fallback) missing"
    blocks = d.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return "blocks missing"
    if len(blocks) > 50:
        return "%d blocks: Slack takes at most 50" % len(blocks)
    for b in blocks:
        t = b.get("type")
        if t == "header":
            if b["text"]["type"] != "plain_text" or len(b["text"]["text"]) > 150:
                return "header text must be plain_text of at most 150 characters"
        elif t == "section":
            if b["text"]["type"] not in ("mrkdwn", "plain_text") or len(b["text"]["text"]) > 3000:
                return "section text must be at most 3000 characters"
        elif t == "context":
            if not 1 <= len(b["elements"]) <= 10:
                return "context takes 1 to 10 elements"
        else:
            return "unknown block type %r" % t
    return None


def teams(body):
    if len(body) > 28 * 1024:
        return "%d bytes: Teams takes at most 28 KB" % len(body)
    d = _obj(body)
    if d.get("type") != "message" or not isinstance(d.get("attachments"), list):
        return "not a Teams message with attachments"
    if len(d["attachments"]) != 1:
        return "one attachment expected"
    a = d["attachments"][0]
    if a.get("contentType") != "application/vnd.microsoft.card.adaptive":
        return "attachment is not an Adaptive Card"
    c = a.get("content") or {}
    if c.get("type") != "AdaptiveCard" or not c.get("version") or not isinstance(c.get("body"), list):
        return "Adaptive Card needs type, version and body"
    for el in c["body"]:
        if el.get("type") not in ("TextBlock", "Container", "FactSet", "ColumnSet"):
            return "unknown card element %r" % el.get("type")
    return None


def discord(body):
    d = _obj(body)
    embeds = d.get("embeds") or []
    if len(d.get("content") or "") > 2000:
        return "content over 2000 characters"
    if not d.get("content") and not embeds:
        return "content or embeds needed"
    if len(embeds) > 10:
        return "%d embeds: Discord takes at most 10" % len(embeds)
    total = 0
    for e in embeds:
        if len(e.get("title", "")) > 256 or len(e.get("description", "")) > 4096:
            return "embed title or description too long"
        fields = e.get("fields", [])
        if len(fields) > 25:
            return "more than 25 fields"
        for f in fields:
            if not f.get("name") or not f.get("value") or len(f["name"]) > 256 or len(f["value"]) > 1024:
                return "field name/value empty or too long"
        total += len(e.get("title", "")) + len(e.get("description", "")) + sum(
            len(f["name"]) + len(f["value"]) for f in fields)
    if total > 6000:
        return "%d characters in embeds: Discord takes at most 6000" % total
    return None


def googlechat(body):
    if len(body) > 32000:
        return "%d bytes: Google Chat takes at most 32,000" % len(body)
    d = _obj(body)
    if not d.get("text") and not d.get("cardsV2"):
        return "text or cardsV2 needed"
    for c in d.get("cardsV2", []):
        if not c.get("cardId") or not isinstance(c.get("card"), dict):
            return "cardsV2 entries need cardId and card"
        for s in c["card"].get("sections", []):
            for w in s.get("widgets", []):
                if len(w) != 1 or next(iter(w)) not in ("decoratedText", "textParagraph"):
                    return "unknown widget %r" % list(w)
    return None


def loki(body):
    d = _obj(body)
    streams = d.get("streams")
    if not isinstance(streams, list) or not streams:
        return "streams missing"
    for s in streams:
        labels = s.get("stream") or {}
        for k in labels:
            if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", k):
                return "bad label name %r" % k
        if not set(labels) <= LOKI_LABELS:
            return "labels %s outside the fixed set" % sorted(labels)
        for v in s.get("values", []):
            if len(v) != 2 or not v[0].isdigit() or not isinstance(v[1], str):
                return "values must be [\"<ns>\", \"line\"]"
            json.loads(v[1])
    return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Alertmanager:
    """Debian's prometheus-alertmanager on a free 127.0.0.1 port, no gossip, its own storage;
    stopped by stop() (or by the test's end: it is killed after `lifetime` seconds)."""

    def __init__(self, lifetime=300):
        self.dir = tempfile.mkdtemp(prefix="polsnap-am-")
        conf = os.path.join(self.dir, "am.yml")
        with open(conf, "w") as f:
            f.write("route: {receiver: none}\nreceivers: [{name: none}]\n")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(
            ["timeout", str(lifetime), "prometheus-alertmanager", "--config.file=" + conf,
             "--web.listen-address=127.0.0.1:%d" % self.port, "--cluster.listen-address=",
             "--storage.path=" + self.dir], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                self.alerts()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("alertmanager did not start")

    def alerts(self):
        """GET /api/v2/alerts: what Alertmanager holds (active, not yet resolved)."""
        with urllib.request.urlopen(self.url + "/api/v2/alerts", timeout=5) as r:
            return json.loads(r.read().decode("utf-8"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
