"""test_image.py - make image builds the container image (podman; its Debian 12 slim base made
from Debian's packages when no registry is reachable), and the image holds what it should: the
runtime libraries and no compiler, the non-root user, the server as its command. Then the
image's own files run: the snapshot job on samples/ and lighttpd with the installed
configuration answering, as uid 65532. They run through chroot into the image's filesystem
rather than `podman run`, whose OCI runtime cannot start containers on this kind of machine
(cgroups v1 hybrid, no CAP_SYS_RESOURCE for setrlimit); skips with the reason where podman is
missing or the test is not root."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401

IMAGE = "polsnap:" + package_version().split("-")[0]
state = {}


def podman(*args, timeout=120):
    return subprocess.run(["podman"] + list(args), capture_output=True, text=True, timeout=timeout)


def why_not():
    if not shutil.which("podman"):
        return "podman is not installed (apt-get install podman debootstrap, then make image)"
    if os.geteuid() != 0:
        return "needs root (podman's storage and chroot into the image)"
    if podman("info").returncode != 0:
        return "podman does not work here: " + podman("info").stderr.strip()[:200]
    return None


@test
def make_image():
    reason = why_not()
    if reason:
        skip("make image", reason)
        return
    r = make("image", timeout=1200)
    eq(r.returncode, 0, "make image exits 0")
    check(r.returncode == 0, "make image output", r.stdout + r.stderr)
    print("# " + r.stdout.strip().splitlines()[-1] if r.stdout.strip() else "# (no output)")
    state["built"] = r.returncode == 0


@test
def image_config():
    if not state.get("built"):
        return
    r = podman("image", "inspect", "--format", "{{.Config.User}}|{{json .Config.Cmd}}|{{json .Config.Env}}|{{.Size}}", IMAGE)
    user, cmd, env, size = r.stdout.strip().split("|")
    eq((user, json.loads(cmd)), ("65532:65532", ["lighttpd", "-D", "-f", "/usr/share/polsnap/lighttpd.conf"]),
       "runs as 65532, the server is the default command")
    state["env"] = dict(e.split("=", 1) for e in json.loads(env))
    eq({k: state["env"].get(k) for k in ("POLSNAP_DATA", "POLSNAP_BIND", "POLSNAP_PORT")},
       {"POLSNAP_DATA": "/var/lib/polsnap", "POLSNAP_BIND": "0.0.0.0", "POLSNAP_PORT": "8080"},
       "the environment the Kubernetes manifests rely on")
    print("# image %s: %d MB" % (IMAGE, int(size) // 1000000))
    r = podman("create", IMAGE)
    state["ctr"] = r.stdout.strip()
    state["root"] = podman("mount", state["ctr"]).stdout.strip()
    check(os.path.isdir(state["root"] + "/usr/share/polsnap/www"), "the container's filesystem is mounted", r.stderr)


def in_image(*cmd, env=None):
    e = dict(state["env"])
    e.update(env or {})
    return subprocess.run(["chroot", "--userspec=65532:65532", state["root"]] + list(cmd), env=e,
                          capture_output=True, text=True, timeout=120)


@test
def runtime_only():
    if "root" not in state:
        return
    r = in_image("sh", "-c", "command -v gcc cc make; ls /usr/include 2>/dev/null | wc -l")
    eq(r.stdout.split(), ["0"], "no compiler, make or headers in the runtime image")
    r = in_image("sh", "-c", "ldd /usr/bin/polsnap-snapshot /usr/bin/polsnap-report /usr/libexec/polsnap/polsnap-fcgi /usr/sbin/lighttpd")
    eq((r.returncode, [l for l in r.stdout.splitlines() if "not found" in l]), (0, []),
       "every library the binaries need is there")


@test
def image_serves_a_snapshot():
    if "root" not in state:
        return
    shutil.copytree(SAMPLES, state["root"] + "/tmp/samples")
    r = in_image("polsnap-snapshot", "--source", "files:/tmp/samples")
    eq(r.returncode, 0, "polsnap-snapshot in the image exits 0")
    check(re.search(r"published \S+: 194 rows", r.stdout), "the job published samples/", r.stdout + r.stderr)
    # The image's environment, on loopback and the test server's free port; the socket goes to
    # lighttpd-env.sh's default under the image's /tmp.
    env = {k: v for k, v in state["env"].items() if k != "POLSNAP_PORT"}
    env.update(POLSNAP_BIND="127.0.0.1", POLSNAP_ROOT=None, POLSNAP_RUN=None)
    srv = Server("/var/lib/polsnap", env=env, conf="/usr/share/polsnap/lighttpd.conf",
                 wrap=["chroot", "--userspec=65532:65532", state["root"]])
    eq((get(srv, "/ready").status, get(srv, "/healthz").status), (200, 200), "the image's server: /ready, /healthz")
    r = get(srv, "/v1/namespaced-resources/results?namespaces=payments&page=1&offset=2")
    eq((r.status, sorted({i["namespace"] for i in r.json()["items"]})), (200, ["payments"]),
       "the image's server: a query through its FastCGI binary")
    with open(os.path.join(ROOT, "www", "index.html"), "rb") as f:
        eq(get(srv, "/").body, f.read(), "the image's server: the dashboard")
    srv.stop()


run_tests = run


def cleanup():
    if "ctr" in state:
        podman("umount", state["ctr"])
        podman("rm", "-f", state["ctr"])


try:
    run_tests()
finally:
    cleanup()
