"""notify_cost.py - what notifications add to a run: the same snapshot job, 10,000 results of
which 1,000 turn failing (1,000 new findings), once without targets and once with three (a
webhook and Slack on a local HTTPS receiver, a real Alertmanager), ROUNDS times each,
alternating; prints the best and median wall times and the messages sent.

    python3 bench/notify_cost.py [ROUNDS]
"""
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "lib"))
from polsnap import BIN, tempdir  # noqa: E402
from fake_https import FakeHTTPS, resp  # noqa: E402
from polr import result, write_reports  # noqa: E402
import receivers  # noqa: E402

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
TOTAL, NEW = 10000, 1000


def rows(failing):
    return [result("p%d" % (i % 20), "r", "fail" if i < failing else "pass", "obj-%05d" % i,
                   namespace="ns-%d" % (i % 10)) for i in range(TOTAL)]


def job(src, data, targets):
    args = [os.path.join(BIN, "polsnap-snapshot"), "--source", "files:" + src, "--data", data]
    if targets:
        args += ["--targets", targets]
    t0 = time.monotonic()
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if r.returncode:
        raise RuntimeError(r.stderr)
    return time.monotonic() - t0, r.stderr


def main():
    rx, am = FakeHTTPS(lifetime=3600), receivers.Alertmanager(lifetime=3600)
    rx.route("/hook", resp(200, body="ok"))
    rx.route("/slack", resp(200, body="ok"))
    conf = os.path.join(tempdir(), "targets.json")
    with open(conf, "w") as f:
        json.dump({"targets": [
            {"name": "hook", "type": "webhook", "url": rx.url + "/hook", "certificate": rx.ca_file},
            {"name": "slack", "type": "slack", "url": rx.url + "/slack", "certificate": rx.ca_file},
            {"name": "am", "type": "alertmanager", "url": am.url}]}, f)
    before, after = tempdir(), tempdir()
    write_reports(before, rows(0))
    write_reports(after, rows(NEW))
    times = {False: [], True: []}
    try:
        for _ in range(ROUNDS):
            for with_targets in (False, True):
                data = tempdir()
                job(before, data, conf if with_targets else None)  # the targets' first run
                rx.requests.clear()
                t, log = job(after, data, conf if with_targets else None)
                times[with_targets].append(t)
                msgs = len([q for q in rx.requests if q.method == "POST"])
                if with_targets:
                    print("\n".join(l for l in log.splitlines() if "sent" in l or "queued" in l))
        for k, label in ((False, "without targets"), (True, "with 3 targets")):
            print("%-16s best %.3f s, median %.3f s (%d rounds)" % (
                label, min(times[k]), statistics.median(times[k]), ROUNDS))
        print("messages per run to the HTTPS receiver: %d (webhook 2 x 500, Slack 25 x 40) "
              "plus 2 POSTs of 500 alerts to Alertmanager" % msgs)
    finally:
        am.stop()
        rx.stop()


main()
