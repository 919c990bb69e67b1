"""test_crash.py - crash consistency under load, and full disks (issue 15, "Prove it").

Under a bounded concurrent load of static and FastCGI requests, a seeded loop publishes the
samples and a generated data set in turn and SIGKILLs polsnap-snapshot at least 50 times, in
every phase: reading the sources, writing the index, rendering, the directory fsyncs, the
rename, the swap and pruning (tests/lib/faults.c, slow mode, widens the short steps and names
them on stderr, so the kill lands on either side of each). Every answer must be complete,
equal to the answer of exactly one of the two data sets, and never 5xx; after every kill
`current` names a complete snapshot and snapshots/ holds at most --keep + 1 entries; the next
run cleans what the killed one left.

Then the data directory moves to a small tmpfs (mounted here: the tests run as root), filled so
that a run fails at several points: the last good snapshot stays served, the error says the
disk is full, nothing is left behind, and the next run with space succeeds.
POLSNAP_CRASH_SEED picks another sequence of kills (the default is fixed)."""
import os
import random
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401
import model  # noqa: E402

SEED = int(os.environ.get("POLSNAP_CRASH_SEED", "15"))
KEEP = 2
a_dir = os.path.relpath(SAMPLES, os.getcwd())
b_dir = tempdir()
subprocess.run([sys.executable, os.path.join(ROOT, "tests", "lib", "gen_reports.py"), "--results",
                "3000", "--out", b_dir, "--seed", "7"], check=True, capture_output=True)
A, B = model.load([a_dir], default=False), model.load([b_dir], default=False)
PATHS = [("/v1/namespaces", ""), ("/v1/namespaced-resources/results", ""),
         ("/v1/namespaced-resources/results", "status=fail&pagination.limit=100"),
         ("/v1/cluster-resources/status-counts", "pretty"),
         ("/v1/namespaced-resources/status-counts", "sources=Kyverno"),
         ("/v1/namespaced-resources/policies", "status=fail")]
EXPECT = {(path, qs): {model.render(s.answer(path, qs)[1], pretty=(qs == "pretty")) for s in (A, B)}
          for path, qs in PATHS}


class Load:
    """Client threads asking PATHS in turn until stopped (each at most `limit` requests)."""

    def __init__(self, srv, threads=3, limit=3000):
        self.srv, self.limit, self.stop = srv, limit, threading.Event()
        self.count, self.bad, self.lock = 0, [], threading.Lock()
        self.threads = [threading.Thread(target=self.client, args=(k,)) for k in range(threads)]
        for t in self.threads:
            t.start()

    def client(self, k):
        for i in range(k, k + self.limit):
            if self.stop.is_set():
                return
            path, qs = PATHS[i % len(PATHS)]
            try:
                r = get(self.srv, path + ("?" + qs if qs else ""))
                ok = r.status == 200 and r.body in EXPECT[(path, qs)]
                what = (path, qs, r.status, r.body[:160])
            except OSError as e:
                ok, what = False, (path, qs, "no answer", str(e))
            with self.lock:
                self.count += 1
                if not ok:
                    self.bad.append(what)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()
        return self.count, self.bad


def current_is_complete(data):
    """'' when DIR/current names a complete snapshot of A or B, else what is wrong."""
    try:
        target = os.path.join(data, os.readlink(os.path.join(data, "current")))
        with open(os.path.join(target, "v1", "namespaces.json"), "rb") as f:
            body = f.read()
        ok = os.path.getsize(os.path.join(target, "index.bin")) > 0
    except OSError as e:
        return str(e)
    return "" if ok and body in EXPECT[("/v1/namespaces", "")] else "current is incomplete"


PHASES = ["reading", "writing the index", "rendering", "fsync", "rename", "swap", "pruning"]


def marker(phase, data):
    """The stderr line that says the job has entered phase (None: from the start)."""
    snaps = os.path.join(os.path.realpath(data), "snapshots")
    return {"reading": None, "writing the index": "polsnap-snapshot: writing index of",
            "rendering": "polsnap-snapshot: rendering the precomputed",
            "fsync": "faults: fsync " + snaps + "/.tmp-", "rename": "faults: rename " + snaps + "/.tmp-",
            "swap": "faults: symlink ", "pruning": "faults: rmdir "}[phase]


def run_and_kill(data, src, phase, rng, env):
    """Runs the job on src and SIGKILLs it once it has entered phase (after a random delay of up
    to 15 ms, the slow mode's half pause). Returns (killed, returncode, stderr)."""
    p = subprocess.Popen([os.path.join(BIN, "polsnap-snapshot"), "--source", "files:" + src,
                          "--data", data, "--keep", str(KEEP)],
                         env=dict(os.environ, **env), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    want, lines, killed = marker(phase, data), [], False
    if want is None:
        time.sleep(rng.uniform(0, 0.03))
        p.kill()
        killed = True
    for line in p.stderr:
        lines.append(line)
        if not killed and want in line:
            time.sleep(rng.uniform(0, 0.015))
            p.kill()
            killed = True
    rc = p.wait()
    return killed and rc == -9, rc, "".join(lines)


@test
def kill_9_under_load_at_every_phase():
    data = tempdir()
    eq(snapshot("--source", "files:" + a_dir, "--data", data, "--keep", str(KEEP)).returncode, 0,
       "a first snapshot")
    srv = Server(data)
    load = Load(srv)
    rng, env = random.Random(SEED), fault_env("slow:30")
    kills = {p: 0 for p in PHASES}
    problems, clean_runs, i = [], 0, 0
    while (sum(kills.values()) < 56 or min(kills.values()) < 6) and i < 400:
        i += 1
        src = a_dir if i % 2 else b_dir
        if i % 4 == 0:  # a run left alone: it must succeed and leave only kept snapshots
            p = snapshot("--source", "files:" + src, "--data", data, "--keep", str(KEEP))
            left = sorted(os.listdir(os.path.join(data, "snapshots")))
            cur = os.readlink(os.path.join(data, "current"))
            clean_runs += 1
            if p.returncode != 0 or len(left) > KEEP or "snapshots/" + left[-1] != cur:
                problems.append(("clean run", p.returncode, left, cur, p.stderr[-300:]))
            continue
        phase = rng.choice([p for p in PHASES if kills[p] < 10] or PHASES)
        killed, rc, err = run_and_kill(data, src, phase, rng, env)
        if killed:
            kills[phase] += 1
        elif rc != 0:
            problems.append((phase, "exit %d" % rc, err[-300:]))
        entries = os.listdir(os.path.join(data, "snapshots"))
        wrong = current_is_complete(data)
        if wrong or len(entries) > KEEP + 1:
            problems.append((phase, wrong, sorted(entries)))
    count, bad = load.finish()
    total = sum(kills.values())
    print("# %d SIGKILLs (%s), %d runs left alone, %d requests during them, seed %d" % (
        total, ", ".join("%s %d" % kv for kv in kills.items()), clean_runs, count, SEED))
    check(total >= 50 and min(kills.values()) >= 6,
          "at least 50 kills, at least 6 in every phase (%d)" % total, kills)
    eq(problems, [], "after every kill current names a complete snapshot, at most --keep + 1 "
                     "entries in snapshots/; every run left alone succeeds")
    eq(bad[:5], [], "%d requests: every answer complete, from one snapshot, none 5xx" % count)
    p = snapshot("--source", "files:" + b_dir, "--data", data, "--keep", str(KEEP))
    left = sorted(os.listdir(os.path.join(data, "snapshots")))
    eq((p.returncode, len(left), [e for e in os.listdir(data) if e.startswith(".current")]),
       (0, KEEP, []), "the next run cleans everything the killed ones left")
    srv.stop()
    shutil.rmtree(data)


def fill(mnt, free):
    """Leaves about `free` bytes free on the tmpfs at mnt (a filler file takes the rest)."""
    filler = os.path.join(mnt, "filler")
    if os.path.exists(filler):
        os.unlink(filler)
    st = os.statvfs(mnt)
    room = st.f_bavail * st.f_frsize - free
    if room > 0:
        with open(filler, "wb") as f:
            f.truncate(0)
            chunk = b"\0" * (1 << 20)
            while room > 0:
                f.write(chunk[:min(room, len(chunk))])
                room -= min(room, len(chunk))


@test
def a_full_disk_keeps_the_last_good_snapshot():
    if os.geteuid() != 0:
        skip("full disk on a tmpfs", "needs root to mount a tmpfs")
        return
    mnt = tempdir()
    size = 24 << 20  # room for --keep 2 of the generated set and the filler
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % size, "tmpfs", mnt]).returncode:
        skip("full disk on a tmpfs", "mount -t tmpfs failed here")
        return
    try:
        data = os.path.join(mnt, "data")
        eq(snapshot("--source", "files:" + a_dir, "--data", data, "--keep", str(KEEP)).returncode,
           0, "a first snapshot on the tmpfs")
        srv = Server(data)
        good = get(srv, "/v1/namespaces?status=fail").body
        # free space at which the generated set (5 MB of snapshot) fails: at its first file, in
        # the index, among the rendered files, near the end
        for free in (0, 8 << 10, 200 << 10, 1 << 20, 4 << 20):
            fill(mnt, free)
            p = snapshot("--source", "files:" + b_dir, "--data", data, "--keep", str(KEEP))
            snaps = sorted(os.listdir(os.path.join(data, "snapshots")))
            eq((p.returncode, "No space left on device" in p.stderr,
                "no snapshot published; the last good one stays served" in p.stderr),
               (1, True, True), "%d KiB free: exit 1, the error says the disk is full" % (free >> 10))
            eq((len(snaps), [s for s in snaps if s.startswith(".")], current_is_complete(data)),
               (1, [], ""), "%d KiB free: nothing left behind, current complete" % (free >> 10))
            eq(get(srv, "/v1/namespaces?status=fail").body, good,
               "%d KiB free: the last good snapshot is served" % (free >> 10))
        fill(mnt, 1 << 30)  # the filler goes
        p = snapshot("--source", "files:" + b_dir, "--data", data, "--keep", str(KEEP))
        eq(p.returncode, 0, "with space again the next run succeeds")
        want = model.render(B.answer("/v1/namespaces", "status=fail")[1])
        deadline = time.time() + 10
        while get(srv, "/v1/namespaces?status=fail").body != want and time.time() < deadline:
            time.sleep(0.1)
        eq(get(srv, "/v1/namespaces?status=fail").body, want, "and its snapshot is served")
        srv.stop()
    finally:
        subprocess.run(["umount", "-l", mnt])
        shutil.rmtree(mnt, ignore_errors=True)


run()
shutil.rmtree(b_dir, ignore_errors=True)
