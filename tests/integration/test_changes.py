"""test_changes.py - change tracking between snapshots (spec section 9) with the real binaries:
finding keys, Change in query=, change and firstSeen on the detail, /v1/snapshot's changes,
each compared with the oracle; and a missing or unreadable previous snapshot, which marks
nothing new and never fails the run."""
import os
import sys
import time
from urllib.parse import quote

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401
import model  # noqa: E402
from polr import result, write_reports  # noqa: E402

NS = "/v1/namespaced-resources"
CL = "/v1/cluster-resources"


BEFORE = [result("labels", "app", "fail", "web"),             # stays failing: unchanged
          result("labels", "app", "pass", "api"),             # turns failing: new
          result("root", "user", "fail", "db"),               # resolved (turns pass)
          result("root", "user", "warn", "cache"),            # resolved (disappears)
          result("tag", "latest", "pass", "web")]             # stays passing
AFTER = [result("labels", "app", "fail", "web", message="another message", severity="low"),
         result("labels", "app", "fail", "api"),
         result("root", "user", "pass", "db"),
         result("tag", "latest", "pass", "web"),
         result("tag", "latest", "error", "worker"),          # absent before: new
         result("tag", "latest", "pass", "worker", kind="Job")]  # same name, other kind
CLUSTER = [{"policy": "ns-labels", "rule": "team", "result": "fail", "source": "kyverno"}]

src = tempdir()
data = tempdir()
write_reports(src, BEFORE, CLUSTER)
first = snapshot("--source", "files:" + src, "--data", data)
srv = Server(data)


def meta():
    """/v1/snapshot from the query server, which follows DIR/current at every request (the
    static file may be lighttpd's cached copy for a second after a swap)."""
    return get(srv, "/v1/snapshot?fresh=1").json()


def snap_model(created, previous=None, previous_id=None):
    m = model.load([src], sources=[("files:" + src, True)], default=False, created=created)
    m.previous, m.previous_id = previous, previous_id
    return m


# the tests run at the end: keep what the first snapshot answered
A_META = meta()
A_NEW = get(srv, NS + "/results?query=Change:new").json()
A_UNCHANGED = get(srv, NS + "/results?query=Change:unchanged").json()["count"]


@test
def first_snapshot_marks_nothing_new():
    eq(first.returncode, 0, "the first snapshot is published")
    check("nothing to compare with" in first.stderr, "the log says there was nothing to compare",
          first.stderr)
    eq(A_META["changes"], {"previous": None, "new": 0, "resolved": 0}, "/v1/snapshot changes")
    eq(A_NEW, {"items": [], "count": 0}, "query=Change:new is empty")
    eq(A_UNCHANGED, len(BEFORE), "every row is unchanged")


A = snap_model(A_META["createdUnix"])
time.sleep(1.1)  # a later second, so firstSeen tells the two snapshots apart
write_reports(src, AFTER, CLUSTER)
second = snapshot("--source", "files:" + src, "--data", data)
B_META = meta()
B = snap_model(B_META["createdUnix"], A, A_META["id"])


@test
def changes_against_the_previous_snapshot():
    eq(second.returncode, 0, "the second snapshot is published")
    eq(B_META["changes"], {"previous": A_META["id"], "new": 2, "resolved": 2},
       "two new keys (api turned failing, worker/Pod appeared), two resolved (db, cache)")
    eq(B_META["changes"], B.changes(), "the oracle agrees")
    new = get(srv, NS + "/results?query=Change:new").json()
    eq(sorted((r["name"], r["kind"]) for r in new["items"]), [("api", "Pod"), ("worker", "Pod")],
       "query=Change:new lists the rows of new keys")


@test
def queries_with_change_equal_the_oracle():
    for path in (NS + "/results", CL + "/results", NS + "/status-counts", "/v1/namespaces"):
        for qs in ("query=" + quote("Change:new"), "query=" + quote("Change:\"unchanged\""),
                   "query=" + quote("Change:!new"), "query=" + quote("Change:*"),
                   "query=" + quote("Change:n"), "query=" + quote("Change:r/^un"),
                   "query=" + quote("Change:new+Status:fail"),
                   "pagination.sortOption.field=Change&pagination.limit=3",
                   "pagination.sortOption.field=change&pagination.sortOption.reversed=true"):
            r = get(srv, path + "?" + qs)
            status, want = B.answer(path, qs)
            eq((r.status, r.body), (status, model.render(want)), path + "?" + qs)


@test
def detail_has_change_and_first_seen():
    items = B.answer(NS + "/results")[1]["items"] + B.answer(CL + "/results")[1]["items"]
    for row in items:
        r = get(srv, "/v1/results/" + quote(row["id"], safe=""))
        status, want = B.answer("/v1/results/" + row["id"])
        eq((r.status, r.body), (status, model.render(want)), "detail of %s/%s" % (row["kind"], row["name"]))
    by_name = {(r["kind"], r["name"], r["policy"]): r for r in items}
    web = get(srv, "/v1/results/" + by_name[("Pod", "web", "labels")]["id"]).json()
    eq((web["change"], web["firstSeen"]), ("unchanged", A_META["created"]),
       "a key failing in both keeps the first snapshot's firstSeen (message and severity moved)")
    api = get(srv, "/v1/results/" + by_name[("Pod", "api", "labels")]["id"]).json()
    eq((api["change"], api["firstSeen"]), ("new", B_META["created"]), "a new key: this snapshot's time")
    tag = get(srv, "/v1/results/" + by_name[("Pod", "web", "tag")]["id"]).json()
    eq((tag["change"], tag["firstSeen"]), ("unchanged", None), "a passing key: firstSeen null")


@test
def summary_representation_is_unchanged():
    row = get(srv, NS + "/results").json()["items"][0]
    eq(sorted(row), sorted(model.ROW_KEYS), "list rows carry only the row keys")


@test
def unreadable_previous_snapshot_marks_nothing_new():
    cur = os.path.join(data, "current", "index.bin")
    with open(cur, "r+b") as f:
        f.truncate(100)
    write_reports(src, BEFORE, CLUSTER)
    r = snapshot("--source", "files:" + src, "--data", data)
    eq(r.returncode, 0, "a broken previous snapshot does not fail the run")
    check("previous snapshot cannot be read" in r.stderr, "the log says why", r.stderr)
    eq(meta()["changes"], {"previous": None, "new": 0, "resolved": 0}, "nothing new, no previous")
    again = snapshot("--source", "files:" + src, "--data", data)
    eq((again.returncode, meta()["changes"]["new"]), (0, 0),
       "the next run compares with it again: unchanged data, nothing new")


run()
