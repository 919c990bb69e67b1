"""test_deb.py - make deb builds a package that holds make install's tree (PREFIX=/usr), declares
its runtime dependencies, marks polsnap.env a conffile, ships maintainer scripts that parse,
and that lintian passes without an error or a warning."""
import glob
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401

OUT = os.path.join(ROOT, "build", "deb")


def deb_path():
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    return os.path.join(OUT, "polsnap_%s_%s.deb" % (package_version(), arch))


@test
def make_deb_builds():
    for old in glob.glob(os.path.join(OUT, "*.deb")):
        os.unlink(old)
    r = make("deb")
    eq(r.returncode, 0, "make deb exits 0")
    check(os.path.isfile(deb_path()), "make deb wrote " + os.path.relpath(deb_path(), ROOT), r.stdout + r.stderr)


def field(name):
    r = subprocess.run(["dpkg-deb", "--field", deb_path(), name], capture_output=True, text=True)
    return r.stdout.strip()


@test
def control_fields():
    eq((field("Package"), field("Version")), ("polsnap", package_version()), "package name and version")
    deps = {d.strip().split(" ")[0] for d in field("Depends").split(",")}
    for p in ("lighttpd", "adduser", "libfcgi0ldbl", "libcjson1", "libyaml-0-2", "libcurl4", "libssl3", "libc6"):
        check(p in deps, "Depends: " + p, field("Depends"))


@test
def contents():
    r = subprocess.run(["dpkg-deb", "--contents", deb_path()], capture_output=True, text=True)
    files = {}
    for line in r.stdout.splitlines():
        perm, owner, _size, _day, _time, path = line.split(None, 5)
        files[path.split(" -> ")[0].lstrip(".")] = (perm, owner)
    for path, perm in (("/usr/bin/polsnap-snapshot", "-rwxr-xr-x"),
                       ("/usr/bin/polsnap-report", "-rwxr-xr-x"),
                       ("/usr/libexec/polsnap/polsnap-fcgi", "-rwxr-xr-x"),
                       ("/usr/share/polsnap/lighttpd.conf", "-rw-r--r--"),
                       ("/usr/share/polsnap/cgi/lighttpd-env.sh", "-rwxr-xr-x"),
                       ("/usr/share/polsnap/www/index.html", "-rw-r--r--"),
                       ("/etc/polsnap/polsnap.env", "-rw-r--r--"),
                       ("/lib/systemd/system/polsnap-server.service", "-rw-r--r--"),
                       ("/lib/systemd/system/polsnap-snapshot.service", "-rw-r--r--"),
                       ("/lib/systemd/system/polsnap-snapshot.timer", "-rw-r--r--"),
                       ("/lib/systemd/system/polsnap-.service.d/hardening.conf", "-rw-r--r--"),
                       ("/usr/share/man/man1/polsnap-snapshot.1.gz", "-rw-r--r--"),
                       ("/usr/share/doc/polsnap/copyright", "-rw-r--r--"),
                       ("/var/lib/polsnap/", "drwxr-xr-x"), ("/var/log/polsnap/", "drwxr-xr-x")):
        eq(files.get(path), (perm, "root/root"), path)
    work = tempdir("polsnap-deb-")
    subprocess.run(["dpkg-deb", "--extract", deb_path(), work], check=True)
    with open(work + "/etc/polsnap/polsnap.env") as f:
        env = f.read()
    check("POLSNAP_FCGI=/usr/libexec/polsnap/polsnap-fcgi\n" in env, "polsnap.env names the packaged FastCGI binary", env)
    with open(work + "/lib/systemd/system/polsnap-snapshot.service") as f:
        check("ExecStart=/usr/bin/polsnap-snapshot\n" in f.read(), "the snapshot unit runs /usr/bin/polsnap-snapshot")
    r = subprocess.run([work + "/usr/bin/polsnap-snapshot", "--help"], capture_output=True, text=True)
    eq(r.returncode, 0, "the packaged (stripped, hardened) polsnap-snapshot runs")
    shutil.rmtree(work, ignore_errors=True)


@test
def maintainer_scripts():
    ctl = tempdir("polsnap-deb-ctl-")
    subprocess.run(["dpkg-deb", "--control", deb_path(), ctl], check=True)
    with open(ctl + "/conffiles") as f:
        eq(f.read(), "/etc/polsnap/polsnap.env\n", "conffiles: polsnap.env")
    for s in ("postinst", "prerm", "postrm"):
        r = subprocess.run(["sh", "-n", ctl + "/" + s], capture_output=True, text=True)
        eq((r.returncode, r.stderr), (0, ""), s + " parses")
    with open(ctl + "/postinst") as f:
        text = f.read()
    check(re.search(r"adduser --system --group .*polsnap", text, re.S) and
          "chown polsnap:polsnap /var/lib/polsnap /var/log/polsnap" in text,
          "postinst creates the polsnap user and gives it the data and log directories")
    shutil.rmtree(ctl, ignore_errors=True)


@test
def lintian_passes():
    if not shutil.which("lintian"):
        skip("lintian", "lintian is not installed (make test installs it: tools/deps test)")
        return
    r = subprocess.run(["lintian", "--fail-on", "error,warning", deb_path()], capture_output=True,
                       text=True, timeout=300)
    tags = [l for l in r.stdout.splitlines() if re.match(r"^[EW]: ", l)]
    eq((r.returncode, tags), (0, []), "lintian: no error, no warning")


run()
