#!/usr/bin/env python3
"""sqlite_ref.py - the benchmark's SQLite reference (what a Policy Reporter-style server does
per request): the snapshot's rows in one SQLite table with indexes on the filter columns, and
one case's SQL timed in a loop.

    sqlite_ref.py load SNAPSHOT-DIR DB          rows from the snapshot's shards into DB (table
        r), its report lists into table p
    sqlite_ref.py time DB SQL BODY SECONDS WORKERS
        WORKERS processes, each with its own read-only connection, run SQL (statements
        separated by ";", every row fetched) for SECONDS; prints "QPS<TAB>SQL-CHECK<TAB>
        HTTP-CHECK", the match counts of both sides (HTTP-CHECK from BODY, polsnap's answer).
"""
import json
import multiprocessing
import os
import sqlite3
import sys
import time

FIELDS = ("id", "namespace", "kind", "name", "message", "category", "policy", "rule", "status",
          "severity", "source", "timestamp", "properties")
SEVRANK = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
# Generous to the reference: a case-insensitive index (every filter matches that way) per
# filter column, plus the pairs the dashboard filters by.
INDEXES = ("namespace", "status", "source", "severity", "kind", "category", "name",
           "policy, rule", "namespace, status")


def load(snapdir, db):
    if os.path.exists(db):
        os.unlink(db)
    con = sqlite3.connect(db)
    cols = ", ".join("%s %s" % (f, "INTEGER" if f == "timestamp" else "TEXT") for f in FIELDS)
    con.execute("CREATE TABLE r (%s, scope TEXT NOT NULL, sevrank INTEGER NOT NULL)" % cols)
    with open(os.path.join(snapdir, "shards", "index.json")) as f:
        index = json.load(f)
    shards = [("n", s["file"]) for s in index["namespaced"]] + [("c", index["cluster"]["file"])]
    insert = "INSERT INTO r VALUES (%s)" % ", ".join("?" * (len(FIELDS) + 2))
    total = 0
    for scope, name in shards:
        with open(os.path.join(snapdir, "shards", name)) as f:
            items = json.load(f)["items"]
        con.executemany(insert, (
            [json.dumps(r[k]) if k == "properties" and r[k] is not None else r[k] for k in FIELDS]
            + [scope, SEVRANK.get(r["severity"], 0)] for r in items))
        total += len(items)
    load_reports(con, snapdir)
    for cols in INDEXES:
        names = cols.split(", ")
        con.execute("CREATE INDEX r_%s ON r (%s)" % ("_".join(names), ", ".join(
            "%s COLLATE NOCASE" % c for c in names)))
    con.commit()
    con.execute("ANALYZE")
    con.close()
    print(total)


def load_reports(con, snapdir):
    """Table p: one row per report document with its labels as JSON text and its counts, as
    Policy Reporter's policy_report table holds them (its labels filter is json_extract)."""
    con.execute("CREATE TABLE p (id TEXT, name TEXT, namespace TEXT, source TEXT, labels TEXT, "
                "pass INTEGER, skip INTEGER, warn INTEGER, error INTEGER, fail INTEGER, "
                "scope TEXT NOT NULL)")
    for scope, name in (("n", "policy-reports.json"), ("c", "cluster-policy-reports.json")):
        with open(os.path.join(snapdir, "v1", name)) as f:
            items = json.load(f)["items"]
        con.executemany("INSERT INTO p VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
            [r["id"], r["name"], r["namespace"], r["source"],
             None if r["labels"] is None else json.dumps(r["labels"]), r["pass"], r["skip"],
             r["warn"], r["error"], r["fail"], scope] for r in items))
    con.execute("CREATE INDEX p_namespace ON p (namespace COLLATE NOCASE, name)")


def connect(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    # Generous to the reference: the whole database mapped, like polsnap's index.
    con.execute("PRAGMA mmap_size=1073741824")
    return con


def run_once(con, statements):
    """Runs every statement, fetching all rows; returns the first one's summed last column."""
    check = None
    for sql in statements:
        rows = con.execute(sql).fetchall()
        if check is None:
            check = sum(row[-1] for row in rows)
    return check


def worker(db, statements, seconds, start, out):
    con = connect(db)
    run_once(con, statements)  # warm the page cache and the statement cache
    start.wait()
    n = 0
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while True:
        run_once(con, statements)
        n += 1
        now = time.perf_counter()
        if now >= deadline:
            break
    out.put(n / (now - t0))


def http_check(path):
    with open(path) as f:
        body = json.load(f)
    if isinstance(body, dict):
        return body["count"]
    total = 0
    for entry in body:
        total += entry.get("count", 0) + sum(i["count"] for i in entry.get("items", []))
    return total


def timed_round(db, statements, seconds, workers):
    """Queries per second of all workers together."""
    start = multiprocessing.Barrier(workers)
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=worker, args=(db, statements, seconds, start, out))
             for _ in range(workers)]
    for p in procs:
        p.start()
    qps = sum(out.get(timeout=seconds + 120) for _ in procs)
    for p in procs:
        p.join()
    return qps


def time_case(db, spec, body, seconds, workers):
    statements = [s.strip() for s in spec.split(";") if s.strip()]
    check = run_once(connect(db), statements)
    qps = timed_round(db, statements, seconds, workers)
    print("%.1f\t%s\t%s" % (qps, check, http_check(body)))


def main(argv):
    if len(argv) == 4 and argv[1] == "load":
        load(argv[2], argv[3])
    elif len(argv) == 7 and argv[1] == "time":
        time_case(argv[2], argv[3], argv[4], float(argv[5]), int(argv[6]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
