#!/bin/sh
# deploy/install.sh - make install / make uninstall: polsnap in the usual places of a Debian
# system (or under DESTDIR, for a package). The Makefile passes the directories:
#   PREFIX/bin/polsnap-snapshot                         the job (cron and the timer run it)
#   PREFIX/bin/polsnap-report                           the daily email reports (cron)
#   PREFIX/libexec/polsnap/polsnap-fcgi                 the FastCGI server lighttpd spawns
#   PREFIX/share/polsnap/{lighttpd.conf,cgi/,www/,cron}  the server's configuration (unchanged
#       from the repository: settings come from polsnap.env), the dashboard, the cron example
#   UNITDIR/polsnap-*.{service,timer}, polsnap-.service.d/   systemd units and their sandbox
#   SYSCONFDIR/polsnap/polsnap.env                     the settings (kept if it exists)
#   LOCALSTATEDIR/lib/polsnap, LOCALSTATEDIR/log/polsnap   data and logs, owned by polsnap
# Usage: deploy/install.sh install BINDIR_OF_THE_BUILD | deploy/install.sh uninstall
# (NOUSER=1: no polsnap user, the directories stay owned by whoever installs)
set -eu
cd "$(dirname "$0")/.."
: "${PREFIX:=/usr/local}" "${SYSCONFDIR:=/etc}" "${LOCALSTATEDIR:=/var}"
: "${UNITDIR:=$PREFIX/lib/systemd/system}" "${DESTDIR:=}"
bindir=$PREFIX/bin libexecdir=$PREFIX/libexec/polsnap datadir=$PREFIX/share/polsnap
etcdir=$SYSCONFDIR/polsnap
vardirs="$LOCALSTATEDIR/lib/polsnap $LOCALSTATEDIR/log/polsnap"
units="polsnap-server.service polsnap-snapshot.service polsnap-snapshot.timer
       polsnap-.service.d/hardening.conf"

# The files that come from the repository as they are: "source destination mode".
plain_files() {
    echo "lighttpd.conf $datadir/lighttpd.conf 0644"
    echo "cgi/lighttpd-env.sh $datadir/cgi/lighttpd-env.sh 0755"
    echo "cgi/new-token.sh $datadir/cgi/new-token.sh 0755"
    echo "cron $datadir/cron 0644"
    find www -type f | LC_ALL=C sort | while read -r f; do echo "$f $datadir/$f 0644"; done
}
# Templates: @BINDIR@ and the like become this installation's directories.
subst() {
    sed -e "s|@BINDIR@|$bindir|g; s|@LIBEXECDIR@|$libexecdir|g; s|@DATADIR@|$datadir|g" \
        -e "s|@SYSCONFDIR@|$SYSCONFDIR|g; s|@LOCALSTATEDIR@|$LOCALSTATEDIR|g" "$1"
}

install_all() {
    build_bin=$1
    install -D -m 0755 "$build_bin/polsnap-snapshot" "$DESTDIR$bindir/polsnap-snapshot"
    install -D -m 0755 "$build_bin/polsnap-report" "$DESTDIR$bindir/polsnap-report"
    install -D -m 0755 "$build_bin/polsnap-fcgi" "$DESTDIR$libexecdir/polsnap-fcgi"
    plain_files | while read -r src dst mode; do install -D -m "$mode" "$src" "$DESTDIR$dst"; done
    for u in $units; do
        mkdir -p "$(dirname "$DESTDIR$UNITDIR/$u")"
        subst "deploy/systemd/$u" >"$DESTDIR$UNITDIR/$u"
        chmod 0644 "$DESTDIR$UNITDIR/$u"
    done
    install -d -m 0755 "$DESTDIR$etcdir"
    if [ -e "$DESTDIR$etcdir/polsnap.env" ]; then
        echo "kept $DESTDIR$etcdir/polsnap.env (the default is deploy/polsnap.env)"
    else
        subst deploy/polsnap.env >"$DESTDIR$etcdir/polsnap.env"
        chmod 0644 "$DESTDIR$etcdir/polsnap.env"
    fi
    for d in $vardirs; do install -d -m 0750 "$DESTDIR$d"; done
    own_state_dirs
    echo "installed polsnap under ${DESTDIR:-/}: $bindir, $libexecdir, $datadir, $etcdir, $UNITDIR"
}

# The polsnap system user owns the data and log directories. A DESTDIR install (a package
# being built) leaves that to the package's postinst; so do a run without root and NOUSER=1.
own_state_dirs() {
    if [ -n "$DESTDIR" ] || [ -n "${NOUSER:-}" ] || [ "$(id -u)" -ne 0 ]; then
        echo "not creating the polsnap user (DESTDIR, NOUSER or not root): $vardirs stay owned by $(id -un)"
        return
    fi
    if ! id polsnap >/dev/null 2>&1; then
        useradd --system --user-group --home-dir "$LOCALSTATEDIR/lib/polsnap" --no-create-home \
            --shell /usr/sbin/nologin --comment "polsnap snapshot job and server" polsnap
        echo "created the system user polsnap"
    fi
    # shellcheck disable=SC2086
    chown polsnap:polsnap $vardirs
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        echo "start it: systemctl enable --now polsnap-server.service polsnap-snapshot.timer"
    fi
}

# Removes what install_all put there; keeps the data, the logs, the polsnap user and a
# polsnap.env that differs from the default (someone's settings).
uninstall_all() {
    rm -f "$DESTDIR$bindir/polsnap-snapshot" "$DESTDIR$bindir/polsnap-report"
    rm -rf "$DESTDIR$libexecdir"
    plain_files | while read -r _ dst _; do rm -f "$DESTDIR$dst"; done
    for u in $units; do rm -f "$DESTDIR$UNITDIR/$u"; done
    rmdir "$DESTDIR$UNITDIR/polsnap-.service.d" 2>/dev/null || true
    rm -rf "$DESTDIR$datadir"
    if [ -f "$DESTDIR$etcdir/polsnap.env" ] && subst deploy/polsnap.env | cmp -s - "$DESTDIR$etcdir/polsnap.env"; then
        rm -f "$DESTDIR$etcdir/polsnap.env"
    fi
    rmdir "$DESTDIR$etcdir" 2>/dev/null || true
    echo "uninstalled polsnap; kept (remove by hand): $vardirs, the user polsnap" \
         "$( [ -d "$DESTDIR$etcdir" ] && echo "and $etcdir")"
}

case ${1:-} in
    install) install_all "${2:?deploy/install.sh install BINDIR}" ;;
    uninstall) uninstall_all ;;
    *) echo "usage: deploy/install.sh install BINDIR | uninstall" >&2; exit 2 ;;
esac
