"""test_gzip.py - the precompressed answers: the job writes FILE.gz beside every precomputed file,
and lighttpd (itself, or polsnap-fcgi by X-Sendfile when tokens are on) sends it with
Content-Encoding: gzip to a client that accepts gzip; decompressed, every one is the plain
answer's bytes. Without Accept-Encoding, with identity or gzip;q=0, the answer is the plain
file; a copy that is missing falls back to the plain answer."""
import gzip
import subprocess
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401

data = tempdir()
p = snapshot("--source", "files:" + SAMPLES, "--data", data)
snap = os.path.realpath(os.path.join(data, "current"))
# every precomputed file and the path that answers with it (polsnap-fcgi --endpoints)
FILES = [(f[0], f[3]) for f in (ln.split("\t") for ln in subprocess.run(
    [os.path.join(BIN, "polsnap-fcgi"), "--endpoints"], capture_output=True, text=True).stdout.splitlines())
    if f[3] != "-"]
ENDPOINTS = [(path, rel) for path, rel in FILES if not rel.endswith(".gz")]
GZIP_FORMAT = [(path, rel) for path, rel in FILES if rel.endswith(".gz")]  # the fleet export
tokdir = tempdir()
with open(os.path.join(tokdir, "tokens"), "w") as f:
    f.write("%s gz Admin -\n" % hashlib.sha256(b"tok-admin").hexdigest())
servers = {"served by lighttpd": (Server(data), {}),
           "tokens on: polsnap-fcgi's X-Sendfile": (Server(data, env={"POLSNAP_TOKENS": os.path.join(tokdir, "tokens")}),
                                                    {"Authorization": "Bearer tok-admin"})}


@test
def the_job_writes_a_copy_of_every_file():
    eq(p.returncode, 0, "the snapshot publishes")
    check(len(ENDPOINTS) >= 15, "the endpoint table lists the precomputed files", ENDPOINTS)
    for _, rel in ENDPOINTS:
        with open(os.path.join(snap, rel), "rb") as f, gzip.open(os.path.join(snap, rel + ".gz")) as g:
            eq(g.read(), f.read(), rel + ".gz decompresses to " + rel)


@test
def an_answer_in_gzip_format_is_one_file_either_way():
    eq([rel for _, rel in GZIP_FORMAT], ["fleet/export.jsonl.gz"], "the fleet export is gzip by its format")
    for _, rel in GZIP_FORMAT:
        eq(os.path.exists(os.path.join(snap, rel + ".gz")), False, rel + ": no gzip copy of it")
    for how, (srv, auth) in servers.items():
        for path, rel in GZIP_FORMAT:
            with open(os.path.join(snap, rel), "rb") as f:
                raw = f.read()
            for ae in (None, "gzip"):
                r = get(srv, path, headers=dict(auth, **({"Accept-Encoding": ae} if ae else {})))
                eq((r.status, r.header("content-encoding"), r.header("content-type"), r.body),
                   (200, None, "application/gzip", raw),
                   "%s: %s with Accept-Encoding %r is the file itself" % (how, path, ae))


@test
def gzip_to_clients_that_accept_it():
    for how, (srv, auth) in servers.items():
        for path, rel in ENDPOINTS:
            with open(os.path.join(snap, rel), "rb") as f:
                plain = f.read()
            r = get(srv, path, headers=auth)
            eq((r.status, r.header("content-encoding"), r.body), (200, None, plain),
               "%s: %s without Accept-Encoding is the plain file" % (how, path))
            z = get(srv, path, headers=dict(auth, **{"Accept-Encoding": "br, gzip, deflate"}))
            eq((z.status, z.header("content-encoding"), z.header("content-type"), z.header("vary")),
               (200, "gzip", r.header("content-type"), "Accept-Encoding"),
               "%s: %s with gzip accepted is sent compressed, same type" % (how, path))
            eq(gzip.decompress(z.body), plain, "%s: %s decompressed is the plain answer" % (how, path))
            print("# %s: %d bytes, %d compressed" % (path, len(plain), len(z.body)))
        for ae in ("identity", "gzip;q=0", "deflate, gzip ; q=0.0", "gzipped"):
            r = get(srv, "/v1/summary", headers=dict(auth, **{"Accept-Encoding": ae}))
            eq((r.header("content-encoding"), r.body == open(os.path.join(snap, "v1/summary.json"), "rb").read()),
               (None, True), "%s: Accept-Encoding %r gets the plain file" % (how, ae))
        r = get(srv, "/v1/summary", method="HEAD", headers=dict(auth, **{"Accept-Encoding": "gzip"}))
        eq((r.status, r.header("content-encoding"), r.body), (200, "gzip", b""), how + ": HEAD too")


@test
def a_missing_copy_falls_back_to_the_plain_answer():
    os.unlink(os.path.join(snap, "v1", "summary.json.gz"))
    time.sleep(2)  # lighttpd's stat cache ("simple") remembers a file for about a second
    with open(os.path.join(snap, "v1", "summary.json"), "rb") as f:
        plain = f.read()
    for how, (srv, auth) in servers.items():
        r = get(srv, "/v1/summary", headers=dict(auth, **{"Accept-Encoding": "gzip"}))
        eq((r.status, r.header("content-encoding"), r.body), (200, None, plain),
           how + ": without summary.json.gz, gzip clients get the plain bytes (a snapshot of an older job)")


run()
