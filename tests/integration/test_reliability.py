"""test_reliability.py - the defects of issue 15, each pinned by a test that failed before its
fix: an answer past the server's buffer is never a 200 cut short; publish_snapshot's contract
(published means current moved; leftovers of interrupted runs never count against --keep); a
damaged snapshot is checked once, not at every request; the static site is never missing nor
silently incomplete; 431 for oversized headers; /v1/ping honours ?pretty."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401


def report_file(path, results, name="r"):
    with open(path, "w") as f:
        json.dump({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
                   "metadata": {"name": name, "namespace": "big"}, "results": results}, f)


def snapshots_of(data):
    return sorted(os.listdir(os.path.join(data, "snapshots")))


@test
def an_answer_past_the_buffer_streams_complete():
    # One message of 20 MiB is a single append larger than the FastCGI server's 16 MiB buffer:
    # it used to be refused silently, and the 200 ended with cut-off JSON.
    src, data = tempdir(), tempdir()
    message = "m" * (20 << 20)
    report_file(os.path.join(src, "big.json"),
                [{"policy": "p", "rule": "r", "result": "fail", "message": message}])
    p = snapshot("--source", "files:" + src, "--data", data)
    eq(p.returncode, 0, "a report with a 20 MiB message is published")
    srv = Server(data)
    for qs in ("namespaces=big", "namespaces=big&pretty"):
        r = get(srv, "/v1/namespaced-resources/results?" + qs, timeout=60)
        body = r.json() if r.status == 200 else {}
        eq((r.status, [x["message"] == message for x in body.get("items", [])]), (200, [True]),
           "results?%s: 200 with the whole 20 MiB message, valid JSON" % qs)
    srv.stop()
    shutil.rmtree(src), shutil.rmtree(data)


def publish(src, data, *extra, env=None):
    return snapshot("--source", "files:" + src, "--data", data, *extra, env=env)


@test
def leftovers_of_interrupted_runs_never_count_against_keep():
    data = tempdir()
    eq(publish(SAMPLES, data, "--keep", "2").returncode, 0, "first snapshot")
    first = snapshots_of(data)
    snapdir = os.path.join(data, "snapshots")
    # what a run killed between its rename and its swap leaves, and one killed while writing
    shutil.copytree(os.path.join(snapdir, first[0]), os.path.join(snapdir, "29991231T235959.000000Z"))
    os.mkdir(os.path.join(snapdir, ".tmp-29991231T235959.000001Z"))
    p = publish(SAMPLES, data, "--keep", "2")
    eq(p.returncode, 0, "the next run publishes")
    now = snapshots_of(data)
    cur = os.readlink(os.path.join(data, "current"))
    eq((len(now), now[0] == first[0], "snapshots/" + now[-1] == cur), (2, True, True),
       "--keep 2: the new current and the previous one; the never-served one is gone")
    check("removed snapshot 29991231T235959.000000Z (newer than the one current names: never served)"
          in p.stderr, "the removal is logged", p.stderr)
    eq(sorted(os.listdir(snapdir)), now, "no temporary directory is left")
    shutil.rmtree(data)


@test
def a_failure_between_rename_and_swap_removes_the_snapshot():
    data = tempdir()
    eq(publish(SAMPLES, data).returncode, 0, "first snapshot")
    before = (snapshots_of(data), os.readlink(os.path.join(data, "current")))
    snapdir = os.path.realpath(os.path.join(data, "snapshots"))
    p = publish(SAMPLES, data, env=fault_env("fsync:" + snapdir))
    eq(p.returncode, 1, "fsync of snapshots/ failing after the rename: exit 1")
    check("fsync %s: Input/output error" % os.path.join(data, "snapshots") in p.stderr
          and "no snapshot published" in p.stderr, "the error says what failed", p.stderr)
    eq((snapshots_of(data), os.readlink(os.path.join(data, "current"))), before,
       "the renamed but never swapped-in directory is removed; current is unchanged")
    shutil.rmtree(data)


@test
def a_failed_fsync_after_the_swap_is_still_published():
    data = tempdir()
    eq(publish(SAMPLES, data).returncode, 0, "first snapshot")
    p = publish(SAMPLES, data, env=fault_env("fsync:" + os.path.realpath(data)))
    cur = os.readlink(os.path.join(data, "current"))
    eq((p.returncode, "published " + cur.split("/")[-1] in p.stdout), (0, True),
       "fsync of DIR failing after the swap: exit 0, and the summary names the current snapshot")
    check("warning: fsync %s: Input/output error: the new snapshot is served" % data in p.stderr
          and "no snapshot published" not in p.stderr, "a warning, not a failure", p.stderr)
    shutil.rmtree(data)


@test
def a_damaged_snapshot_is_checked_once():
    data = tempdir()
    eq(publish(SAMPLES, data).returncode, 0, "a good snapshot")
    srv = Server(data, env={"POLSNAP_FCGI_PROCS": "1"})
    q = "/v1/namespaces?status=fail"
    good = get(srv, q)
    eq(good.status, 200, "answered from the good snapshot")
    cur = os.readlink(os.path.join(data, "current"))
    bad = os.path.join(data, "snapshots", "29991231T235959.000000Z")
    shutil.copytree(os.path.join(data, cur), bad)
    with open(os.path.join(bad, "index.bin"), "r+b") as f:
        f.seek(200)
        f.write(b"\xff" * 64)
    os.symlink("snapshots/29991231T235959.000000Z", os.path.join(data, "current.new"))
    os.rename(os.path.join(data, "current.new"), os.path.join(data, "current"))
    answers = [get(srv, q) for _ in range(30)]
    eq({(r.status, r.body) for r in answers}, {(200, good.body)},
       "30 requests: all answered from the last good mapping")
    logged = [l for l in srv.logtext().splitlines() if "cannot use snapshot" in l]
    eq(len(logged), 1, "the damaged index is checked and logged once, not per request")
    srv.stop()
    shutil.rmtree(data)


WATCH = """
import os, sys, threading
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
looks = misses = 0
while not stop.is_set():
    looks += 1
    misses += not os.path.exists(sys.argv[1])
print(looks, misses)
"""


@test
def the_site_is_never_missing_and_a_failed_close_is_an_error():
    data, site = tempdir(), os.path.join(tempdir(), "site")
    eq(publish(SAMPLES, data, "--site", site).returncode, 0, "a first site")
    # a watcher process (not a thread: no lock shared with this one) looks as fast as it can
    watcher = subprocess.Popen([sys.executable, "-c", WATCH, os.path.join(site, "index.html")],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for _ in range(20):
        publish(SAMPLES, data, "--site", site)
    looks, misses = map(int, watcher.communicate("stop\n", timeout=30)[0].split())
    print("# %d looks at the site during 20 swaps" % looks)
    eq(misses, 0, "20 site swaps under a watcher: the site was there at every look")
    p = publish(SAMPLES, data, "--site", site, env=fault_env("close:" + site + ".tmp/"))
    eq(p.returncode, 1, "close() failing while copying the site: exit 1")
    check("the static site was not written: copying " in p.stderr
          and ": Input/output error" in p.stderr, "the message says which copy failed", p.stderr)
    check(os.path.exists(os.path.join(site, "index.html")) and not os.path.exists(site + ".tmp"),
          "the previous site stays, the partial copy is gone")
    shutil.rmtree(data), shutil.rmtree(os.path.dirname(site))


@test
def oversized_headers_are_431_and_ping_is_pretty():
    data = tempdir()
    srv = Server(data)
    r = get(srv, "/v1/namespaces", headers={"X-Big": "a" * 20000})
    msg = "request headers too large: the request line and headers take more than 16 KiB"
    eq((r.status, r.json()), (431, error_body(3, msg)), "a 20 KB header: 431 in the error format")
    eq((get(srv, "/v1/ping?pretty").status, get(srv, "/v1/ping?pretty").body),
       (200, b'{\n  "status": "ok"\n}'), "/v1/ping?pretty is indented")
    eq(get(srv, "/v1/ping?page=x").body, b'{"status":"ok"}', "a parameter ping ignores stays ignored")
    srv.stop()
    shutil.rmtree(data)


run()
