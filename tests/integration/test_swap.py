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

# Two data sets whose answers differ everywhere: the samples, and a generated set.
a_dir, b_dir, _, PATHS, EXPECT = two_data_sets(page_limit=200)
for (path, qs), want in EXPECT.items():
    check(len(want) == 2, "%s?%s differs between the two snapshots" % (path, qs))

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
