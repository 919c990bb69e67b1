"""test_notify.py - notifications against real receivers: Debian's Alertmanager started here
(its /api/v2/alerts read back) and a local HTTPS receiver that checks every message against
the format its service documents (tests/lib/receivers.py) and fails on request (500, 429 with
Retry-After, a hang). Each run is the real snapshot job; the data directory's owed messages
carry notifications across failures and a SIGKILL between publishing and sending."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401
from fake_https import FakeHTTPS, resp  # noqa: E402
from polr import result, write_reports  # noqa: E402
import receivers  # noqa: E402

SECRET = "s3cr3t-path-token"
HEADER_SECRET = "h3ader-s3cret"
FORMATS = {"webhook": receivers.webhook, "slack": receivers.slack, "teams": receivers.teams,
           "discord": receivers.discord, "googlechat": receivers.googlechat}

rx = FakeHTTPS(lifetime=600)
am = receivers.Alertmanager()
src, data, conf = tempdir(), tempdir(), tempdir()
url_file = os.path.join(conf, "slack-url")
with open(url_file, "w") as f:
    f.write("  %s/slack/%s  \n" % (rx.url, SECRET))
for t in FORMATS:
    rx.validate("/%s/%s" % (t, SECRET), FORMATS[t])
    rx.route("/%s/%s" % (t, SECRET), resp(200, body="ok"))
rx.validate("/loki/%s/loki/api/v1/push" % SECRET, receivers.loki)
rx.route("/loki/%s/loki/api/v1/push" % SECRET, resp(204))


def target(name, type_, **kw):
    t = {"name": name, "type": type_, "certificate": rx.ca_file, "timeout": "2"}
    if type_ == "alertmanager":
        t.update(url=am.url, certificate=None)
        del t["certificate"]
    elif type_ == "loki":
        t["url"] = "%s/loki/%s" % (rx.url, SECRET)
    elif "url" not in kw and "urlFile" not in kw:
        t["url"] = "%s/%s/%s" % (rx.url, type_, SECRET)
    t.update(kw)
    return t


TARGETS = [target("a-webhook", "webhook", headers={"Authorization": "Bearer " + HEADER_SECRET},
                  customFields={"cluster": "edge-1"}),
           target("slack", "slack", urlFile=url_file, minimumSeverity="medium"),
           target("teams", "teams", sources=["Kyverno"]),
           target("discord", "discord"),
           target("chat", "googlechat"),
           target("loki", "loki"),
           target("am", "alertmanager"),
           target("not-shop", "webhook", url="%s/webhook/%s" % (rx.url, SECRET),
                  filter={"namespaces": {"exclude": ["sh*"]}}),
           target("everything", "webhook", url="%s/webhook/%s" % (rx.url, SECRET),
                  skipExistingOnStartup=False)]


def write_targets(targets, name="targets.yaml"):
    path = os.path.join(conf, name)
    with open(path, "w") as f:
        if name.endswith(".json"):
            json.dump({"targets": targets}, f)
        else:
            import yaml
            yaml.safe_dump({"targets": targets}, f)
    return path


TARGETS_FILE = write_targets(TARGETS)
BASE = [result("labels", "app", "fail", "web"), result("labels", "app", "pass", "api")]
NEW = result("root", "user", "fail", "db", message="runs as root", severity="high")
runs = []


def run_job(results, targets_file=TARGETS_FILE, **kw):
    write_reports(src, results)
    rx.requests.clear()
    r = snapshot("--source", "files:" + src, "--data", data, "--targets", targets_file, **kw)
    runs.append(r)
    return r


def posts(path_part=None):
    return [q for q in rx.requests if q.method == "POST" and (path_part is None or path_part in q.path)]


def bodies(path_part):
    return [json.loads(q.body) for q in posts(path_part)]


def fresh(path):
    return get(srv, path + ("&" if "?" in path else "?") + "fresh=1")


# --- run 1: the targets' first run ------------------------------------------------------------
first = run_job(BASE)
srv = Server(data)
FIRST = {"requests": [(q.path.split("/")[1], json.loads(q.body)) for q in posts()],
         "targets": fresh("/v1/targets").json()}


@test
def first_run_skips_existing_unless_asked():
    eq(first.returncode, 0, "published")
    eq([p for p, _ in FIRST["requests"]], ["webhook"], "only skipExistingOnStartup: false sends")
    eq([(r["name"], r["status"]) for r in FIRST["requests"][0][1]["results"]], [("web", "fail")],
       "it is sent the current failing finding")
    check("recorded as known" in first.stderr, "the log says the others skip", first.stderr)


@test
def targets_endpoint():
    eq(FIRST["targets"], [
        {"name": "a-webhook", "minimumPriority": "debug", "sources": None, "skipExistingOnStartup": True},
        {"name": "am", "minimumPriority": "debug", "sources": None, "skipExistingOnStartup": True},
        {"name": "chat", "minimumPriority": "debug", "sources": None, "skipExistingOnStartup": True},
        {"name": "discord", "minimumPriority": "debug", "sources": None, "skipExistingOnStartup": True},
        {"name": "everything", "minimumPriority": "debug", "sources": None, "skipExistingOnStartup": False},
        {"name": "loki", "minimumPriority": "debug", "sources": None, "skipExistingOnStartup": True},
        {"name": "not-shop", "minimumPriority": "debug", "sources": None, "skipExistingOnStartup": True},
        {"name": "slack", "minimumPriority": "medium", "sources": None, "skipExistingOnStartup": True},
        {"name": "teams", "minimumPriority": "debug", "sources": ["Kyverno"], "skipExistingOnStartup": True},
    ], "/v1/targets: sorted by name, the seed's four keys")


# --- run 2: one new failing result ------------------------------------------------------------
second = run_job(BASE + [NEW])
SECOND = {"by_path": {}, "alerts": am.alerts(), "keys": {}}
for q in posts():
    SECOND["by_path"].setdefault(q.path.split("/")[1], []).append(json.loads(q.body))
    SECOND["keys"].setdefault(q.path.split("/")[1], []).append(q.headers.get("idempotency-key"))


@test
def new_failure_one_message_per_accepting_target():
    eq(second.returncode, 0, "published")
    eq(rx.invalid, [], "every message is in its service's documented format")
    got = {k: len(v) for k, v in SECOND["by_path"].items()}
    eq(got, {"webhook": 2, "slack": 1, "teams": 1, "discord": 1, "googlechat": 1, "loki": 1},
       "one message per accepting target (a-webhook and everything share the webhook path; "
       "not-shop's filter rejects the finding)")
    hooks = SECOND["by_path"]["webhook"]
    eq(sorted(h["target"] for h in hooks), ["a-webhook", "everything"], "the two webhook targets")
    for h in hooks:
        eq([(r["name"], r["policy"], r["status"]) for r in h["results"]], [("db", "root", "fail")],
           h["target"] + ": exactly the new finding")
    eq([h["customFields"] for h in hooks if h["target"] == "a-webhook"], [{"cluster": "edge-1"}],
       "custom fields")
    check(all(k for v in SECOND["keys"].values() for k in v), "every message has an Idempotency-Key")
    eq(SECOND["by_path"]["slack"][0]["text"], "1 new policy failure", "Slack fallback text")
    line = json.loads(SECOND["by_path"]["loki"][0]["streams"][0]["values"][0][1])
    eq(line["result"]["name"], "db", "Loki line holds the row")


@test
def alertmanager_fires():
    firing = [a for a in SECOND["alerts"] if a["labels"].get("policy") == "root"]
    eq(len(firing), 1, "one alert for the new finding")
    if firing:
        a = firing[0]
        eq({k: a["labels"].get(k) for k in ("alertname", "namespace", "kind", "name", "rule", "source")},
           {"alertname": "PolicyViolation", "namespace": "shop", "kind": "Pod", "name": "db",
            "rule": "user", "source": "kyverno"}, "labels are the finding key")
        eq((a["status"]["state"], a["annotations"]["message"], a["annotations"]["severity"]),
           ("active", "runs as root", "high"), "firing, message and severity as annotations")


# --- run 3: nothing changes -------------------------------------------------------------------
third = run_job(BASE + [NEW])
THIRD = len(posts())

# --- run 4: the finding is resolved -----------------------------------------------------------
fourth = run_job(BASE + [dict(NEW, result="pass")])
FOURTH = {"posts": len(posts()),
          "alerts": [a for a in am.alerts() if a["labels"].get("policy") == "root"]}


@test
def unchanged_sends_nothing_resolved_resolves_alertmanager_only():
    eq((third.returncode, THIRD), (0, 0), "an unchanged finding: no message at all")
    eq(fourth.returncode, 0, "published")
    eq(FOURTH["alerts"], [], "Alertmanager no longer holds the alert (resolved)")
    eq(FOURTH["posts"], 0, "no other target hears of it")


@test
def rejecting_filter_sends_nothing():
    check(not any(h.get("target") == "not-shop" for h in SECOND["by_path"].get("webhook", [])),
          "a filter that rejects the finding: nothing")


# --- failures: 500, then 429 with Retry-After, then a hang ------------------------------------
hook = "/webhook/" + SECRET
rx.route(hook, resp(500, body="down"))
N2 = result("tag", "latest", "fail", "cache")
fail_run = run_job(BASE + [N2])
FAIL = {"attempts": len([q for q in posts(hook)]), "metrics": None}
rx.route(hook, resp(429, headers={"Retry-After": "1"}, body="slow down"), resp(200, body="ok"))
N3 = result("tag", "latest", "fail", "queue")
retry_run = run_job(BASE + [N2, N3])
RETRY = {"webhook": [(json.loads(q.body)["target"], [r["name"] for r in json.loads(q.body)["results"]],
                      q.headers.get("idempotency-key")) for q in posts(hook)],
         "metrics": fresh("/metrics").text()}


@test
def failing_target_never_fails_the_snapshot():
    eq(fail_run.returncode, 0, "a 500 from a target: the snapshot is still published")
    eq(FAIL["attempts"], 6, "3 attempts for each of the two webhook targets")
    check("not delivered" in fail_run.stderr and "kept for the next run" in fail_run.stderr,
          "the log says so", fail_run.stderr)


@test
def owed_messages_are_sent_next_run_once():
    eq(retry_run.returncode, 0, "published")
    delivered = [(t, names) for t, names, _ in RETRY["webhook"]]
    # 429 then 200: a-webhook's owed message retried once after Retry-After, then the rest
    check(delivered.count(("a-webhook", ["cache"])) == 2, "owed message: 429, then delivered",
          delivered)
    eq(sorted(x for x in delivered if x != ("a-webhook", ["cache"])),
       [("a-webhook", ["queue"]), ("everything", ["cache"]), ("everything", ["queue"])],
       "each finding once per target")
    keys = [k for t, names, k in RETRY["webhook"] if t == "a-webhook" and names == ["cache"]]
    eq(len(set(keys)), 1, "a repeated message keeps its Idempotency-Key")
    check('polsnap_target_up{target="a-webhook"} 0' in RETRY["metrics"],
          "the snapshot's metrics show the failure before it", RETRY["metrics"][-600:])
    check('polsnap_target_failed_total{target="a-webhook"} 1' in RETRY["metrics"],
          "failed_total counts it")


# --- a SIGKILL between publishing and sending -------------------------------------------------
rx.route(hook, resp(200, body="ok", delay=30))  # a-webhook, sent first, hangs
N4 = result("tag", "latest", "fail", "proxy")
write_reports(src, BASE + [N2, N3, N4])
rx.requests.clear()
before = os.readlink(os.path.join(data, "current"))
job = subprocess.Popen([os.path.join(BIN, "polsnap-snapshot"), "--source", "files:" + src, "--data",
                        data, "--targets", TARGETS_FILE], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
deadline = time.time() + 30
while time.time() < deadline and not posts(hook):
    time.sleep(0.05)
KILLED = {"swapped": os.readlink(os.path.join(data, "current")) != before,
          "slack_before": len(posts("/slack/"))}
os.kill(job.pid, signal.SIGKILL)
job.communicate()
rx.route(hook, resp(200, body="ok"))
after_kill = run_job(BASE + [N2, N3, N4])
AFTER = {"by_path": {}}
for q in posts():
    AFTER["by_path"].setdefault(q.path.split("/")[1], []).append(q)


@test
def sigkill_between_publishing_and_sending():
    check(KILLED["swapped"], "the killed run had published its snapshot")
    eq(KILLED["slack_before"], 0, "and had not reached slack yet")
    slack = AFTER["by_path"].get("slack", [])
    eq(len(slack), 1, "the next run sends slack the notification, once")
    hooks = [(json.loads(q.body)["target"], [r["name"] for r in json.loads(q.body)["results"]])
             for q in AFTER["by_path"].get("webhook", [])]
    eq(sorted(hooks), [("a-webhook", ["proxy"]), ("everything", ["proxy"])],
       "the message cut off in flight is sent again once; nothing else repeats")


# --- a receiver that hangs: the request times out, the message waits for the next run ----------
hang_data = tempdir()
rx.route("/hang/" + SECRET, resp(200, body="late", delay=20))
HANG_TARGETS = write_targets([target("slow", "webhook", url="%s/hang/%s" % (rx.url, SECRET),
                                     skipExistingOnStartup=False, timeout="1")], "hang.yaml")
write_reports(src, BASE)
hung = snapshot("--source", "files:" + src, "--data", hang_data, "--targets", HANG_TARGETS)
HUNG = len(posts("/hang/"))
rx.route("/hang/" + SECRET, resp(200, body="ok"))
rx.requests.clear()
unhung = snapshot("--source", "files:" + src, "--data", hang_data, "--targets", HANG_TARGETS)
runs.extend([hung, unhung])
UNHUNG = [json.loads(q.body)["id"] for q in posts("/hang/")]


@test
def hanging_receiver_times_out_and_is_retried_next_run():
    eq(hung.returncode, 0, "a hanging target: the snapshot is published all the same")
    eq(HUNG, 3, "three attempts, each cut off by the 1 s timeout")
    check("timed out" in hung.stderr, "the log says it timed out", hung.stderr)
    eq((unhung.returncode, len(UNHUNG)), (0, 1), "the next run delivers the message once")


# --- secrets and bad files --------------------------------------------------------------------
@test
def secrets_stay_out_of_answers_logs_and_metrics():
    texts = [fresh("/v1/targets").text(), fresh("/metrics").text(), fresh("/v1/snapshot").text()]
    texts += [r.stderr + r.stdout for r in runs]
    for d, _, files in os.walk(os.path.join(data, "notify")):
        texts += [open(os.path.join(d, f)).read() for f in files]
    for s in (SECRET, HEADER_SECRET):
        check(not any(s in t for t in texts), "%s appears nowhere" % s)


@test
def bad_targets_files_fail_before_publishing():
    empty = tempdir()
    cases = [
        ([dict(TARGETS[0], colour="red")], "targets[0].colour: unknown key"),
        ([dict(TARGETS[0], type="pager")], "targets[0].type: must be one of webhook"),
        ([dict(TARGETS[0], minimumSeverity="urgent")], "targets[0].minimumSeverity: must be one of"),
        ([dict(TARGETS[1], url="https://x")], "targets[0]: has both url and urlFile"),
        ([dict(TARGETS[0], url="ftp://x")], "targets[0].url: must be an http:// or https:// URL"),
        ([dict(TARGETS[0], filter={"namespaces": {"include": "x"}})],
         "targets[0].filter.namespaces.include: must be a list of strings"),
        ([dict(TARGETS[0], skipExistingOnStartup="maybe")],
         "targets[0].skipExistingOnStartup: must be true or false"),
        ([TARGETS[0], TARGETS[0]], "targets[1]: repeats another target's name"),
        ([dict(TARGETS[1], urlFile="/nonexistent")], "targets[0].urlFile: cannot read /nonexistent"),
    ]
    for i, (targets, want) in enumerate(cases):
        path = write_targets(targets, "bad%d.%s" % (i, "json" if i % 2 else "yaml"))
        r = snapshot("--source", "files:" + src, "--data", empty, "--targets", path)
        eq(r.returncode, 2, "exit 2: " + want)
        check(path + ": " + want in r.stderr, "names file, key and reason: " + want, r.stderr)
        check(SECRET not in r.stderr, "never the URL")
    check(not os.path.exists(os.path.join(empty, "current")), "nothing was published")
    r = snapshot("--source", "files:" + src, "--data", empty,
                 env={"POLSNAP_TARGETS": write_targets([dict(TARGETS[0], colour="x")], "env.yaml")})
    eq(r.returncode, 2, "POLSNAP_TARGETS is the environment twin")


try:
    run()
finally:
    am.stop()
    rx.stop()
