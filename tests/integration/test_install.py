"""test_install.py - make install into a DESTDIR: the tree, the installed binaries and the
installed lighttpd configuration serving a snapshot of samples/ from it (as an unprivileged
user when the test runs as root), make uninstall; the systemd units pass systemd-analyze
verify; the cron file and the timer run the command the README's Deploy section names."""
import filecmp
import os
import pwd
import re
import shutil
import stat
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from polsnap import *  # noqa: E402,F401

PREFIX = "/usr/local"
AS_ROOT = os.geteuid() == 0
USER = "nobody"  # stands in for polsnap, which only a real install creates


def read_env_file(path):
    """KEY=value lines as systemd's EnvironmentFile= reads them (no quotes are used)."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                out[k] = v
    return out


def write_env_file(path, values):
    with open(path, "w") as f:
        f.write("".join("%s=%s\n" % kv for kv in values.items()))


def unit(path):
    """A unit file as {section: {key: [values]}}."""
    out, sec = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                sec = out.setdefault(line.strip("[]"), {})
            elif line and not line.startswith("#"):
                k, _, v = line.partition("=")
                sec.setdefault(k, []).append(v)
    return out


def tree(root):
    """The files under root, relative to it; a directory without files counts as one."""
    out = set()
    for d, dirs, files in os.walk(root):
        for n in files + ([] if files or dirs else ["."]):
            out.add(os.path.normpath(os.path.relpath(os.path.join(d, n), root)))
    return out


def mode(path):
    return "%04o" % stat.S_IMODE(os.lstat(path).st_mode)


DEST = tempdir("polsnap-destdir-")
os.chmod(DEST, 0o755)  # the unprivileged user reaches the installed files
UNITS = DEST + PREFIX + "/lib/systemd/system"
ENV_FILE = DEST + "/etc/polsnap/polsnap.env"


def readme_deploy():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    m = re.search(r"^## Deploy\n(.*?)^## ", text, re.S | re.M)
    return m.group(1) if m else ""


@test
def install_into_destdir():
    r = make("install", "DESTDIR=" + DEST)
    eq(r.returncode, 0, "make install DESTDIR exits 0")
    check(r.returncode == 0, "make install output", r.stdout + r.stderr)
    www = {os.path.join("usr/local/share/polsnap/www", p) for p in tree(os.path.join(ROOT, "www"))}
    want = {"usr/local/bin/polsnap-snapshot", "usr/local/bin/polsnap-report",
            "usr/local/libexec/polsnap/polsnap-fcgi",
            "usr/local/share/polsnap/lighttpd.conf", "usr/local/share/polsnap/cron",
            "usr/local/share/polsnap/cgi/lighttpd-env.sh", "usr/local/share/polsnap/cgi/new-token.sh",
            "usr/local/lib/systemd/system/polsnap-server.service",
            "usr/local/lib/systemd/system/polsnap-snapshot.service",
            "usr/local/lib/systemd/system/polsnap-snapshot.timer",
            "usr/local/lib/systemd/system/polsnap-.service.d/hardening.conf",
            "etc/polsnap/polsnap.env", "var/lib/polsnap", "var/log/polsnap"} | www
    got = tree(DEST)
    eq(sorted(got - want), [], "nothing installed beyond the list")
    eq(sorted(want - got), [], "everything on the list installed")
    eq([mode(DEST + "/" + p) for p in ("usr/local/bin/polsnap-snapshot",
                                      "usr/local/libexec/polsnap/polsnap-fcgi",
                                      "etc/polsnap/polsnap.env", "var/lib/polsnap", "var/log/polsnap")],
       ["0755", "0755", "0644", "0750", "0750"], "modes: binaries, settings, data and log directories")
    for repo, inst in (("lighttpd.conf", "lighttpd.conf"), ("cgi/lighttpd-env.sh", "cgi/lighttpd-env.sh"),
                       ("cron", "cron"), ("www/index.html", "www/index.html")):
        check(filecmp.cmp(os.path.join(ROOT, repo), DEST + PREFIX + "/share/polsnap/" + inst, shallow=False),
              "installed %s is the repository's" % repo)
    env = read_env_file(ENV_FILE)
    eq({k: env.get(k) for k in ("POLSNAP_DATA", "POLSNAP_FCGI", "POLSNAP_RUN", "POLSNAP_USER",
                                "POLSNAP_SOURCES", "POLSNAP_CRON_PERIOD")},
       {"POLSNAP_DATA": "/var/lib/polsnap", "POLSNAP_FCGI": PREFIX + "/libexec/polsnap/polsnap-fcgi",
        "POLSNAP_RUN": "/run/polsnap", "POLSNAP_USER": "polsnap",
        "POLSNAP_SOURCES": "kubernetes:/etc/polsnap/kubeconfig", "POLSNAP_CRON_PERIOD": "300"},
       "polsnap.env holds the installed paths")
    baked = [p for p in tree(DEST) if os.path.isfile(DEST + "/" + p) and DEST.encode() in open(DEST + "/" + p, "rb").read()]
    eq(baked, [], "no installed file names the DESTDIR")
    if AS_ROOT:  # what the package's postinst does for polsnap
        for d in ("/var/lib/polsnap", "/var/log/polsnap"):
            shutil.chown(DEST + d, USER)


def installed_env(port):
    """The installed polsnap.env as an admin would edit it for this run: sources samples/, the
    data and the FastCGI binary inside the DESTDIR, a free port."""
    env = read_env_file(ENV_FILE)
    env.update({"POLSNAP_SOURCES": "files:" + SAMPLES, "POLSNAP_DATA": DEST + env["POLSNAP_DATA"],
                "POLSNAP_FCGI": DEST + env["POLSNAP_FCGI"], "POLSNAP_PORT": str(port)})
    if AS_ROOT:
        env["POLSNAP_USER"] = USER
    else:
        del env["POLSNAP_USER"]
    return env


def as_user(cmd):
    return [shutil.which("runuser") or "/usr/sbin/runuser", "-u", USER, "--"] + cmd if AS_ROOT else cmd


@test
def cron_file_runs_the_readme_command():
    deploy = readme_deploy()
    m = re.search(r"every\s+5\s+minutes\s+as\s+`(\w+)`:\s+`polsnap-snapshot`\s+with\s+the\s+environment\s+of\s+`([^`]+)`", deploy)
    check(m, "README Deploy names the job: user, command, environment file", deploy[:2000])
    if not m:
        return
    user, env_path = m.groups()
    eq((user, env_path), ("polsnap", "/etc/polsnap/polsnap.env"), "README: as polsnap, /etc/polsnap/polsnap.env")
    with open(DEST + PREFIX + "/share/polsnap/cron") as f:
        jobs = [l.split(None, 6) for l in f if re.match(r"^[*0-9]", l)]
    snapshot_jobs = [j for j in jobs if "polsnap-snapshot" in j[6]]
    eq([j[:6] for j in snapshot_jobs], [["*/5", "*", "*", "*", "*", user]],
       "cron: one snapshot job, every 5 minutes, as polsnap")
    eq([j[:6] for j in jobs if j not in snapshot_jobs], [["0", "7", "*", "*", "*", user]],
       "cron: the daily email reports, as polsnap")
    jobs = snapshot_jobs
    cmd = jobs[0][6].strip()
    eq(re.sub(r" >>.*", "", cmd), "set -a && . %s && exec polsnap-snapshot" % env_path,
       "cron: polsnap-snapshot with the environment file, nothing else")
    # Run it as cron would, against the DESTDIR: the edited environment file, the installed binary.
    env_copy = DEST + "/cron.env"
    write_env_file(env_copy, installed_env(free_port()))
    cmd = cmd.replace(env_path, env_copy).replace("/var/log/polsnap", DEST + "/var/log/polsnap")
    r = subprocess.run(as_user(["sh", "-c", cmd]), capture_output=True, text=True, timeout=120,
                       env={"PATH": DEST + PREFIX + "/bin:/usr/bin:/bin"})
    with open(DEST + "/var/log/polsnap/snapshot.log") as f:
        log = f.read()
    eq(r.returncode, 0, "the cron command exits 0")
    check(re.search(r"published \S+: 194 rows from 25 reports", log), "the cron command published samples/", log)


@test
def timer_runs_the_readme_command():
    svc = unit(UNITS + "/polsnap-snapshot.service")["Service"]
    eq((svc.get("ExecStart"), svc.get("EnvironmentFile"), svc.get("User")),
       ([PREFIX + "/bin/polsnap-snapshot"], ["/etc/polsnap/polsnap.env"], ["polsnap"]),
       "polsnap-snapshot.service: polsnap-snapshot, polsnap.env, as polsnap")
    tim = unit(UNITS + "/polsnap-snapshot.timer")["Timer"]
    eq((tim.get("OnCalendar"), tim.get("Persistent")), (["*:0/5"], ["true"]), "timer: every 5 minutes, persistent")
    r = subprocess.run(["systemd-analyze", "calendar", "--iterations=3", "*:0/5"], capture_output=True, text=True)
    times = re.findall(r"\d\d:(\d\d):00", r.stdout)
    eq(sorted({(int(b) - int(a)) % 60 for a, b in zip(times, times[1:])}), [5], "timer: 5 minutes apart")
    # The service's command with the service's environment publishes, as the cron line does.
    env = installed_env(free_port())
    r = subprocess.run(as_user([DEST + svc["ExecStart"][0]]), env=env, capture_output=True, text=True, timeout=120)
    eq(r.returncode, 0, "ExecStart with polsnap.env exits 0")
    check(re.search(r"published \S+: 194 rows", r.stdout), "ExecStart published samples/", r.stdout + r.stderr)


@test
def installed_server_answers():
    env = installed_env(0)
    env["POLSNAP_ROOT"] = None  # the installed lighttpd-env.sh finds www/ beside itself
    conf = DEST + PREFIX + "/share/polsnap/lighttpd.conf"
    for k in ("POLSNAP_PORT", "POLSNAP_RUN"):
        del env[k]  # the test server's own free port and private run directory
    srv = Server(env["POLSNAP_DATA"], env=env, conf=conf)
    eq((get(srv, "/ready").status, get(srv, "/ready").json()), (200, {}), "installed server: /ready")
    eq(get(srv, "/v1/namespaces").json(),
       ["argocd", "ingress-nginx", "kube-system", "monitoring", "payments", "shop-frontend"],
       "installed server: a precomputed answer")
    r = get(srv, "/v1/namespaced-resources/results?namespaces=payments&page=1&offset=2")
    eq((r.status, sorted({i["namespace"] for i in r.json()["items"]}), len(r.json()["items"])),
       (200, ["payments"], 2), "installed server: a query through the installed FastCGI binary")
    with open(os.path.join(ROOT, "www", "index.html"), "rb") as f:
        eq(get(srv, "/").body, f.read(), "installed server: the installed dashboard")
    if AS_ROOT:
        users = set()
        for pid in os.listdir("/proc"):
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    argv0 = f.read().split(b"\0")[0].decode()
                if argv0 == env["POLSNAP_FCGI"] or (argv0 == "lighttpd" and str(srv.proc.pid) == pid):
                    users.add(pwd.getpwuid(os.stat("/proc/" + pid).st_uid).pw_name)
            except (OSError, KeyError, IndexError):
                pass
        eq(users, {USER}, "started as root, lighttpd and polsnap-fcgi run as POLSNAP_USER")
    srv.stop()


@test
def units_pass_systemd_analyze_verify():
    # A second install with real paths under a temporary root: verify checks that every
    # command it names exists, so the units must point at installed binaries.
    root = tempdir("polsnap-prefix-")
    r = make("install", "PREFIX=%s/usr" % root, "SYSCONFDIR=%s/etc" % root, "LOCALSTATEDIR=%s/var" % root,
             "NOUSER=1")
    check("not creating the polsnap user" in r.stdout, "NOUSER=1: no user made on this machine", r.stdout)
    eq(r.returncode, 0, "make install PREFIX=... exits 0")
    units = ["%s/usr/lib/systemd/system/%s" % (root, u) for u in
             ("polsnap-server.service", "polsnap-snapshot.service", "polsnap-snapshot.timer")]
    r = subprocess.run(["systemd-analyze", "verify"] + units, capture_output=True, text=True, timeout=60)
    eq((r.returncode, r.stdout + r.stderr), (0, ""), "systemd-analyze verify: no complaint")
    for u in units[:2]:
        r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--json=short", u],
                           capture_output=True, text=True, timeout=60)
        got = {e["name"]: e["set"] for e in json.loads(r.stdout or "[]")}
        eq({k: got.get(k) for k in ("ProtectSystem=", "NoNewPrivileges=", "PrivateTmp=", "User=/DynamicUser=",
                                    "CapabilityBoundingSet=~CAP_SYS_ADMIN")},
           {"ProtectSystem=": True, "NoNewPrivileges=": True, "PrivateTmp=": True,
            "User=/DynamicUser=": True, "CapabilityBoundingSet=~CAP_SYS_ADMIN": True},
           "%s: sandboxed (the hardening drop-in applies)" % os.path.basename(u))
    srv = unit(units[0])["Service"]
    eq((srv.get("StateDirectory"), srv.get("RuntimeDirectory"), srv.get("User"), srv.get("EnvironmentFile")),
       (["polsnap"], ["polsnap"], ["polsnap"], [root + "/etc/polsnap/polsnap.env"]),
       "polsnap-server.service: writes only /var/lib/polsnap and /run/polsnap, as polsnap, polsnap.env")
    shutil.rmtree(root, ignore_errors=True)


@test
def uninstall_keeps_data_and_settings():
    with open(ENV_FILE, "a") as f:
        f.write("POLSNAP_PORT=9090\n")  # someone's settings
    r = make("uninstall", "DESTDIR=" + DEST)
    eq(r.returncode, 0, "make uninstall exits 0")
    files = sorted(p for p in tree(DEST) if os.path.isfile(DEST + "/" + p) and not p.startswith("var/lib/polsnap/"))
    eq(files, ["cron.env", "etc/polsnap/polsnap.env", "var/log/polsnap/snapshot.log"],
       "files left: the edited polsnap.env, the log (and cron.env, this test's)")
    check(os.path.isdir(DEST + "/var/lib/polsnap/snapshots"), "the data directory is kept")


run()
shutil.rmtree(DEST, ignore_errors=True)
