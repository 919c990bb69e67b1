#!/bin/sh
# lighttpd-env.sh - run by lighttpd.conf (include_shell, in lighttpd.conf's directory: the
# project root, or PREFIX/share/polsnap once installed) to turn the POLSNAP_* environment into
# lighttpd variables, with defaults and checks.
set -eu
root=${POLSNAP_ROOT:-$(pwd)}
data=${POLSNAP_DATA:-$root/data}
port=${POLSNAP_PORT:-8080}
bind=${POLSNAP_BIND:-127.0.0.1}
fcgi=${POLSNAP_FCGI:-$root/bin/polsnap-fcgi}
procs=${POLSNAP_FCGI_PROCS:-2}
tokens=${POLSNAP_TOKENS:-}
# lighttpd starts the FastCGI binary in another directory: a relative tokens path is made
# absolute here, against the directory lighttpd was started in.
case $tokens in ''|/*) ;; *) tokens=$(pwd)/$tokens ;; esac
case $port in ''|*[!0-9]*) echo "POLSNAP_PORT=$port is not a port number" >&2; exit 1;; esac
case $procs in ''|*[!0-9]*) echo "POLSNAP_FCGI_PROCS=$procs is not a number" >&2; exit 1;; esac
mkdir -p "$data"
data=$(cd "$data" && pwd)
# The FastCGI socket lives in a directory only this user can enter: Debian's libfcgi is only
# partly patched for CVE-2025-23016, so nobody else may reach the socket.
run=${POLSNAP_RUN:-${XDG_RUNTIME_DIR:-/tmp}/polsnap-$(id -u)-$port}
mkdir -p -m 0700 "$run"
chmod 0700 "$run"
# Whoever may write to the data directory could point `current` at anything: refuse to serve
# from one that others may write to (README "Security"), rather than serve what they put there.
for d in "$data" "$data/snapshots"; do
    if [ -d "$d" ] && [ -n "$(find "$d" -maxdepth 0 -perm -0002)" ]; then
        echo "polsnap: $d is writable by others (mode $(stat -c %a "$d")): refusing to serve it; chmod o-w $d" >&2
        exit 1
    fi
done
q() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
echo "var.root = \"$(q "$root")\""
echo "var.data = \"$(q "$data")\""
echo "var.port = $port"
echo "var.bind = \"$(q "$bind")\""
echo "var.fcgi = \"$(q "$fcgi")\""
echo "var.run = \"$(q "$run")\""
echo "var.procs = $procs"
echo "var.tokens = \"$(q "$tokens")\""
# Started as root with POLSNAP_USER set (polsnap.env sets it): lighttpd drops to that user once
# it listens and spawns the FastCGI binary as that user, whose socket directory it must be.
user=${POLSNAP_USER:-}
if [ -n "$user" ] && [ "$(id -u)" -eq 0 ]; then
    chown "$user:" "$run"
    echo "server.username = \"$(q "$user")\""
    echo "server.groupname = \"$(q "$(id -gn "$user")")\""
fi
# With tokens on, every API request goes through the FastCGI binary (it checks the token and
# hands precomputed files back with X-Sendfile); without, lighttpd serves them itself.
if [ -n "$tokens" ]; then echo 'var.static = "/_api"'; else echo 'var.static = "/_snap"'; fi
