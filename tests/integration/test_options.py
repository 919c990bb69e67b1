"""test_options.py - the snapshot job's options table (snapshot/main.c) is the one source of
its options: --help and the README's table list every row, with its environment twin, and
each range is checked once for the flag and its twin, with the same message."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401


def table_rows():
    """(flag, metavar, env) of every row of main.c's options[] table."""
    with open(os.path.join(ROOT, "snapshot", "main.c")) as f:
        src = f.read()
    body = src[src.index("options[] = {"):]
    body = body[:body.index("\n};")]
    rows = []
    for chunk in body.split(".flag = ")[1:]:
        get = lambda k: (re.search(r'\.%s = "([^"]*)"' % k, chunk) or [None, None])[1]
        rows.append((re.match(r'"([^"]*)"', chunk)[1], get("metavar"), get("env")))
    return rows


ROWS = table_rows()


@test
def the_table_has_rows():
    check(len(ROWS) >= 13 and ("keep", "N", "POLSNAP_KEEP") in ROWS,
          "the test reads main.c's options table", ROWS)


@test
def help_lists_every_row():
    p = snapshot("--help")
    eq(p.returncode, 0, "--help exits 0")
    for flag, metavar, env in ROWS:
        head = "--" + flag + (" " + metavar if metavar else "")
        check(re.search(r"^  %s  " % re.escape(head), p.stdout, re.M), "--help lists " + head,
              p.stdout)
        if env:
            check("[" + env in p.stdout, "--help names %s's twin %s" % (head, env), p.stdout)


@test
def readme_lists_every_row():
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    table = readme[readme.index("| option | environment twin | meaning |"):]
    table = table[:table.index("\n\n")]
    for flag, metavar, env in ROWS:
        head = "--" + flag + (" " + metavar if metavar else "")
        m = re.search(r"^\| `%s` \| ([^|]*)\|" % re.escape(head), table, re.M)
        check(m, "the README's options table has " + head, table)
        if m and env:
            check("`%s" % env in m[1], "with its twin " + env, m[1])


def usage(args, env=None):
    p = snapshot(*args, env=env)
    return p.returncode, p.stderr


@test
def ranges_are_checked_for_the_flag_and_its_twin():
    data = tempdir()
    src = ["--source", "files:" + SAMPLES, "--data", data]
    eq(usage(src + ["--keep", "0"]),
       (2, "polsnap-snapshot: --keep 0: want 1 to 1000\n(see polsnap-snapshot --help)\n"),
       "--keep 0 is a usage error naming the range")
    eq(usage(src, {"POLSNAP_KEEP": "1001"}),
       (2, "polsnap-snapshot: POLSNAP_KEEP=1001: want 1 to 1000\n(see polsnap-snapshot --help)\n"),
       "POLSNAP_KEEP=1001 too")
    eq(usage(src + ["--timeout", "x"])[1].splitlines()[0],
       "polsnap-snapshot: --timeout x: want 1 to 3600 seconds", "--timeout x names its unit")
    eq(usage(src, {"POLSNAP_CRON_PERIOD": "604801"})[1].splitlines()[0],
       "polsnap-snapshot: POLSNAP_CRON_PERIOD=604801: want 0 to 604800 seconds",
       "POLSNAP_CRON_PERIOD past a week")
    eq(usage(src + ["--keep"])[1].splitlines()[0],
       "polsnap-snapshot: unknown or incomplete option --keep", "--keep without its value")
    eq(usage(src + ["extra"])[1].splitlines()[0], "polsnap-snapshot: unexpected argument extra",
       "a stray argument")
    many = " ".join("files:%s" % SAMPLES for _ in range(33))
    eq(usage(["--data", data], {"POLSNAP_SOURCES": many})[1].splitlines()[0],
       "polsnap-snapshot: at most 32 sources", "at most 32 sources from the twin")


@test
def the_flag_wins_over_its_twin():
    data = tempdir()
    p = snapshot("--source", "files:" + SAMPLES, "--data", data, "--keep", "2",
                 env={"POLSNAP_KEEP": "5", "POLSNAP_SOURCES": "files:/nonexistent"})
    eq(p.returncode, 0, "--source and --keep override their twins (the twin's source is not read)")
    p = snapshot(env={"POLSNAP_SOURCES": "files:" + SAMPLES, "POLSNAP_DATA": data})
    eq(p.returncode, 0, "POLSNAP_SOURCES and POLSNAP_DATA alone are enough")


run()
