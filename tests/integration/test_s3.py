"""test_s3.py - --publish against a real S3 implementation: s3rver (npm) behind a loopback proxy
that verifies every request's Signature V4 with @smithy/signature-v4 (tests/lib/s3.mjs). The first
upload, a pointer written last, object headers, a second run that sends only what changed,
multipart uploads, wrong credentials, a missing bucket, and a run killed mid-upload whose next
run completes. The prefix holds a space and unicode, so every key's signing is checked."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401
from polr import result, write_reports  # noqa: E402

store, src, data = tempdir(), tempdir(), tempdir()
proxy = subprocess.Popen(["timeout", "400", "node", os.path.join(ROOT, "tests", "lib", "s3.mjs"),
                          store], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
PORT = json.loads(proxy.stdout.readline())["proxy"]
BASE = "http://127.0.0.1:%d" % PORT
PREFIX = "dash board/caf\u00e9/"
DEST = "s3://bucket/" + PREFIX.rstrip("/")
CREDS = {"AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "polsnap-test-secret",
         "AWS_SESSION_TOKEN": "", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}


def reports(fail_in_payments):
    """Two namespaces; only payments' report changes between runs."""
    write_reports(src, [result("labels", "app", "fail", "web", namespace="shop"),
                        result("tag", "latest", "fail" if fail_in_payments else "pass", "pay",
                               namespace="payments")])


def publish(*extra, env=None, dest=DEST):
    e = dict(CREDS)
    e.update(env or {})
    return snapshot("--source", "files:" + src, "--data", data, "--publish", dest,
                    "--s3-endpoint", BASE, *extra, env=e)


def log():
    with urllib.request.urlopen(BASE + "/__proxy/log", timeout=10) as r:
        return json.loads(r.read())


def get(key, accept="*/*"):
    """An anonymous GET (a public-read bucket): (status, headers, body)."""
    url = BASE + "/bucket/" + urllib.parse.quote(key)
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": accept}),
                                    timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def pointer():
    s, _, body = get(PREFIX + "data/current.json")
    return json.loads(body) if s == 200 else None


def local_files(snapdir):
    """key -> sha256 of what the bucket holds for a local snapshot's files (what the site's data/
    holds): a file with a gzip twin FILE.gz is stored under FILE's key with the twin's bytes
    (sent with Content-Encoding: gzip); a .gz file without a plain twin (the fleet export, gzip
    by its format) keeps its name."""
    out = {}
    for d, _, names in os.walk(snapdir):
        for n in names:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, snapdir)
            if rel != "index.bin":
                with open(p, "rb") as f:
                    sha = hashlib.sha256(f.read()).hexdigest()
                if rel.endswith(".gz") and os.path.exists(p[:-3]):
                    out[rel[:-3]] = sha
                else:
                    out.setdefault(rel, sha)
    return out


def current_dir():
    return os.path.realpath(os.path.join(data, "current"))


def uploads_and_metrics():
    """The served snapshot's uploads (/v1/snapshot) and upload lines of /metrics."""
    with open(os.path.join(current_dir(), "v1", "snapshot.json")) as f:
        ups = json.load(f)["uploads"]
    with open(os.path.join(current_dir(), "metrics.txt")) as f:
        lines = [l for l in f.read().splitlines() if l.startswith("polsnap_upload_")]
    return ups, lines


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


state = {}


@test
def first_upload():
    reports(True)
    p = publish()
    eq(p.returncode, 0, "the first upload succeeds: " + p.stderr[-500:])
    entries = log()
    snap = current_dir()
    sid = os.path.basename(snap)
    eq(pointer(), {"id": sid, "base": sid + "/"}, "the pointer names the new snapshot")
    check(all(e["signed"] and e["status"] not in (400, 403) for e in entries) and len(entries) > 20,
          "every request was signed and passed the verifying proxy",
          [e for e in entries if not e["signed"] or e["status"] in (400, 403)])
    eq([e["key"] for e in entries if e["method"] == "PUT"][-1], PREFIX + "data/current.json",
       "the pointer is the last object written")
    for rel, sha in local_files(snap).items():
        s, _, body = get(PREFIX + "data/" + sid + "/" + rel)
        if not eq((s, hashlib.sha256(body).hexdigest()), (200, sha), "uploaded as published: " + rel):
            break
    s, h, body = get(PREFIX + "data/%s/v1/summary.json" % sid)
    eq((h.get("Content-Type"), h.get("Cache-Control")),
       ("application/json", "public, max-age=31536000, immutable"), "a snapshot file's headers")
    s, h, _ = get(PREFIX + "data/current.json")
    eq(h.get("Cache-Control"), "no-cache", "the pointer is revalidated")
    s, h, body = get(PREFIX, accept="text/html")
    with open(os.path.join(ROOT, "www", "index.html"), "rb") as f:
        eq((s, h.get("Content-Type"), body), (200, "text/html; charset=utf-8", f.read()),
           "the website endpoint serves the dashboard at the prefix")
    check("uploaded to " + DEST in p.stderr and "requests" in p.stderr, "one log line says what it cost",
          p.stderr)
    ups, lines = uploads_and_metrics()
    eq(ups, [{"destination": DEST, "up": True, "lastSuccess": None}],
       "/v1/snapshot: the destination, no upload before this snapshot")
    label = 'destination="%s"' % DEST
    eq(lines, ["polsnap_upload_up{%s} 1" % label,
               "polsnap_upload_last_success_timestamp_seconds{%s} 0" % label], "/metrics says so too")
    state["first"] = (sid, local_files(snap), len(entries))
    state["first_done"] = time.time()


@test
def second_run_sends_only_what_changed():
    sid0, files0, n0 = state["first"]
    reports(False)
    p = publish()
    eq(p.returncode, 0, "the second upload succeeds: " + p.stderr[-500:])
    snap = current_dir()
    sid = os.path.basename(snap)
    files = local_files(snap)
    run = log()[n0:]
    sent = sorted(e["key"][len(PREFIX + "data/" + sid + "/"):] for e in run
                  if e["method"] == "PUT" and not e["copy"] and "/" + sid + "/" in e["key"])
    changed = sorted(rel for rel, sha in files.items() if files0.get(rel) != sha)
    eq(sent, changed, "the snapshot files whose bytes changed are uploaded, and no other")
    check("shards/namespaced/payments.json" in sent and "shards/namespaced/shop.json" not in sent,
          "the changed namespace's shard is sent, the other one's is not", sent)
    copied = sorted(e["key"] for e in run if e["copy"])
    eq(len(copied), len(files) - len(changed), "every unchanged snapshot file is copied in the bucket")
    dash = [e["key"] for e in run if e["method"] == "PUT" and "/data/" not in e["key"]]
    eq(dash, [], "no dashboard file is sent again")
    eq(pointer()["id"], sid, "the pointer moved")
    s, _, body = get(PREFIX + "data/%s/shards/namespaced/shop.json" % sid)
    with open(os.path.join(snap, "shards", "namespaced", "shop.json"), "rb") as f:
        eq((s, body), (200, f.read()), "a copied object holds the right bytes")
    print("# second run: %d requests, %d bytes sent" % (len(run), sum(e["bytes"] for e in run)))
    ups, lines = uploads_and_metrics()
    last = ups[0]["lastSuccess"]
    check(ups[0]["up"] and rfc3339(state["first_done"] - 30) <= last <= rfc3339(state["first_done"]),
          "the next snapshot says when the first upload succeeded", ups)
    when = int(lines[1].rsplit(" ", 1)[1])
    eq(rfc3339(when), last, "and /metrics the same time")
    state["second"] = sid


@test
def wrong_credentials_keep_the_previous_upload():
    before = pointer()
    p = publish(env={"AWS_SECRET_ACCESS_KEY": "wrong-secret"})
    eq(p.returncode, 1, "wrong credentials: exit 1")
    check("403 SignatureDoesNotMatch" in p.stderr and "still see the previous upload" in p.stderr
          and "wrong-secret" not in p.stderr, "the message says what failed and what readers see",
          p.stderr)
    check("published " in p.stdout, "the local snapshot was published all the same", p.stdout)
    eq(pointer(), before, "the pointer did not move")
    last = uploads_and_metrics()[0][0]["lastSuccess"]
    p = publish(env={"AWS_ACCESS_KEY_ID": "AKIDUNKNOWN"})
    check(p.returncode == 1 and "403 InvalidAccessKeyId" in p.stderr, "an unknown key id", p.stderr)
    ups, lines = uploads_and_metrics()
    eq((ups[0]["up"], ups[0]["lastSuccess"]), (False, last),
       "the snapshot after a failed upload: up false, the last success unchanged")
    check('polsnap_upload_up{destination="%s"} 0' % DEST in lines, "/metrics: up 0", lines)
    p = publish(dest="s3://no-such-bucket/x")
    check(p.returncode == 1 and "NoSuchBucket" in p.stderr, "a bucket that does not exist", p.stderr)
    p = publish(env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
    check(p.returncode == 1 and "no S3 credentials" in p.stderr, "no credentials at all", p.stderr)


def urlopen(path):
    with urllib.request.urlopen(BASE + path, timeout=10) as r:
        return r.read()


@test
def killed_upload_then_next_run_completes():
    before = pointer()
    n0 = len(log())
    urlopen("/__proxy/slow?ms=200")
    e = dict(os.environ)
    e.update(CREDS)
    job = subprocess.Popen([os.path.join(BIN, "polsnap-snapshot"), "--source", "files:" + src,
                            "--data", data, "--publish", DEST, "--s3-endpoint", BASE], env=e,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and sum(1 for x in log()[n0:] if x["method"] == "PUT") < 4:
        time.sleep(0.05)
    job.send_signal(signal.SIGKILL)
    job.wait()
    urlopen("/__proxy/slow?ms=0")
    # A request whose body had arrived still completes after the kill (S3 does the same): let it,
    # so that it does not land after the next run has cleaned up.
    deadline = time.time() + 30
    while time.time() < deadline and any("status" not in x for x in log()):
        time.sleep(0.05)
    killed = os.path.basename(current_dir())
    eq(pointer(), before, "killed mid-upload: the pointer still names the previous snapshot")
    s, _, _ = get(PREFIX + "data/%s/v1/summary.json" % before["id"])
    eq(s, 200, "and the previous snapshot's files are all there")
    p = publish()
    eq(p.returncode, 0, "the next run completes: " + p.stderr[-400:])
    eq(pointer()["id"], os.path.basename(current_dir()), "its pointer names its snapshot")
    left = os.path.join(store, "bucket", PREFIX, "data", killed)  # s3rver keeps a key as a path
    eq([f for _, _, fs in os.walk(left) for f in fs], [], "what the killed run left behind is deleted")
    s, _, body = get(PREFIX + "data/%s/metrics.txt" % killed)
    check(s == 403 and b"AccessDenied" in body,
          "an anonymous reader is told 403 AccessDenied, as S3 does without s3:ListBucket", body)


@test
def keep_bounds_the_snapshots_in_the_bucket():
    p = publish("--keep", "2")
    eq(p.returncode, 0, "an upload with --keep 2")
    on_disk = os.path.join(store, "bucket", PREFIX, "data")  # s3rver keeps a key as a path
    ids = sorted(d for d in os.listdir(on_disk)  # (s3rver leaves emptied directories behind)
                 if any(files for _, _, files in os.walk(os.path.join(on_disk, d))))
    eq(len(ids), 2, "two snapshot prefixes remain in the bucket")
    check(pointer()["id"] in ids, "the current one among them", ids)


@test
def multipart_for_large_objects():
    www = tempdir()
    shutil.copytree(os.path.join(ROOT, "www"), www, dirs_exist_ok=True)
    big = os.urandom(5 * 1024 * 1024) + b"tail" * 1000000  # 9.2 MB: two parts of 5 MiB
    with open(os.path.join(www, "big.js"), "wb") as f:
        f.write(big)
    n0 = len(log())
    p = publish("--www", www, "--s3-part-size", "5")
    eq(p.returncode, 0, "an upload with a large object: " + p.stderr[-400:])
    parts = [x for x in log()[n0:] if x["key"] == PREFIX + "big.js"]
    eq([(x["method"], sorted(x["query"])) for x in parts],
       [("POST", ["uploads"]), ("PUT", ["partNumber", "uploadId"]),
        ("PUT", ["partNumber", "uploadId"]), ("POST", ["uploadId"])],
       "initiate, two signed parts, complete")
    s, h, body = get(PREFIX + "big.js")
    eq((s, len(body), hashlib.sha256(body).hexdigest(), h.get("Content-Type")),
       (200, len(big), hashlib.sha256(big).hexdigest(), "text/javascript; charset=utf-8"),
       "the object reads back whole, with its type")


@test
def a_bad_destination_is_a_usage_error():
    p = snapshot("--source", "files:" + src, "--data", data, "--publish", "s3://Bad_Bucket/x")
    eq(p.returncode, 2, "a bucket name S3 refuses: exit 2 before anything runs")
    check("bucket name" in p.stderr, "saying why", p.stderr)


try:
    run()
finally:
    proxy.terminate()
