#!/usr/bin/env python3
"""sqlite_ref.py - the benchmark's SQLite reference (what a Policy Reporter-style server does
per request): the snapshot's rows in one SQLite table with indexes on the filter columns, and
the cases' SQL timed in a loop.

    sqlite_ref.py load SNAPSHOT-DIR DB          rows from the snapshot's shards into DB
    sqlite_ref.py time DB CASES BODIES SECONDS WORKERS ROUNDS
        for every `query` line of CASES (bench/cases.tsv), in order: WORKERS processes, each
        with its own read-only connection, run the case's statements (fetching every row) for
        SECONDS, ROUNDS times (the best round counts: the machine is shared); prints "INDEX<TAB>QPS<TAB>SQL-CHECK<TAB>HTTP-CHECK" where the checks are the
        match counts of both sides (HTTP-CHECK read from BODIES/qINDEX.json, polsnap's answer).
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
    for cols in INDEXES:
        names = cols.split(", ")
        con.execute("CREATE INDEX r_%s ON r (%s)" % ("_".join(names), ", ".join(
            "%s COLLATE NOCASE" % c for c in names)))
    con.commit()
    con.execute("ANALYZE")
    con.close()
    print(total)


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


def time_cases(db, cases, bodies, seconds, workers, rounds):
    index = 0
    with open(cases) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            kind, _label, _path, spec = line.rstrip("\n").split("\t")
            if kind != "query":
                continue
            statements = [s.strip() for s in spec.split(";") if s.strip()]
            check = run_once(connect(db), statements)
            qps = max(timed_round(db, statements, seconds, workers) for _ in range(rounds))
            body = os.path.join(bodies, "q%d.json" % index)
            print("%d\t%.1f\t%s\t%s" % (index, qps, check, http_check(body)), flush=True)
            index += 1


def main(argv):
    if len(argv) == 4 and argv[1] == "load":
        load(argv[2], argv[3])
    elif len(argv) == 8 and argv[1] == "time":
        time_cases(argv[2], argv[3], argv[4], float(argv[5]), int(argv[6]), int(argv[7]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
