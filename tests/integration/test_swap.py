"""test_swap.py - snapshots swapped under concurrent requests: every answer, static or from
the query server, is complete and equals the answer of one snapshot or the other, never a mix
and never an error (issue: "one response never mixes two snapshots")."""
import os
import shutil
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401
import model  # noqa: E402

# Two data sets whose answers differ everywhere: the samples, and a generated set.
a_dir = os.path.relpath(SAMPLES, os.getcwd())
b_dir = tempdir()
import subprocess  # noqa: E402
subprocess.run([sys.executable, os.path.join(ROOT, "tests", "lib", "gen_reports.py"), "--results",
                "3000", "--out", b_dir, "--seed", "7"], check=True, capture_output=True)
A, B = model.load([a_dir], default=False), model.load([b_dir], default=False)

PATHS = [("/v1/namespaces", ""), ("/v1/namespaced-resources/results", ""),
         ("/v1/namespaced-resources/results", "status=fail&pagination.limit=200"),
         ("/v1/cluster-resources/status-counts", "pretty"),
         ("/v1/namespaced-resources/status-counts", "sources=Kyverno"),
         ("/v1/namespaced-resources/policies", "status=fail")]
EXPECT = {}
for path, qs in PATHS:
    want = set()
    for snap in (A, B):
        status, body = snap.answer(path, qs)
        want.add(model.render(body, pretty=(qs == "pretty")))
    check(len(want) == 2, "%s?%s differs between the two snapshots" % (path, qs))
    EXPECT[(path, qs)] = want

data = tempdir()
assert snapshot("--source", "files:" + a_dir, "--data", data, "--keep", "2").returncode == 0
srv = Server(data)
stop = threading.Event()
bad = []
counts = {"requests": 0}
lock = threading.Lock()


def client(k):
    i = k
    deadline = time.time() + 60  # bounded whatever happens
    while not stop.is_set() and time.time() < deadline:
        path, qs = PATHS[i % len(PATHS)]
        i += 1
        r = get(srv, path + ("?" + qs if qs else ""))
        with lock:
            counts["requests"] += 1
            if r.status != 200 or r.body not in EXPECT[(path, qs)]:
                bad.append((path, qs, r.status, r.body[:200]))


@test
def swaps_under_load_never_mix_or_fail():
    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    swaps = 0
    for n in range(8):  # alternate the two data sets: each run publishes a new snapshot
        src = b_dir if n % 2 == 0 else a_dir
        p = snapshot("--source", "files:" + src, "--data", data, "--keep", "2")
        swaps += p.returncode == 0
        time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    eq(swaps, 8, "eight snapshots published while clients ran")
    check(counts["requests"] > 100, "clients made %d requests" % counts["requests"])
    eq(bad[:3], [], "every answer is complete and from exactly one snapshot")


run()
