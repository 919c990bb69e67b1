#!/bin/sh
# deploy/deb.sh - make deb: build/polsnap_VERSION_ARCH.deb with dpkg-deb from a make install
# into a staging root (PREFIX=/usr), binaries built with Debian's hardening flags and
# stripped, runtime dependencies from dpkg-shlibdeps. Needs dpkg-dev (build-essential) and help2man.
set -eu
cd "$(dirname "$0")/.."
out=build/deb
version=$(sed -n '1s/^polsnap (\([^)]*\)).*/\1/p' deploy/debian/changelog)
arch=$(dpkg --print-architecture)
rm -rf "$out/root" "$out/src"
mkdir -p "$out/root/DEBIAN" "$out/src/debian"

export DEB_BUILD_MAINT_OPTIONS=hardening=+all
flags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
make --no-print-directory BUILD="$out/obj" BIN="$out/bin" CFLAGS="$flags" \
    LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" all >"$out/make.log" 2>&1 ||
    { cat "$out/make.log" >&2; exit 1; }
DESTDIR=$out/root PREFIX=/usr SYSCONFDIR=/etc LOCALSTATEDIR=/var UNITDIR=/lib/systemd/system \
    deploy/install.sh install "$out/bin" >/dev/null
root=$out/root
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root"/usr/bin/polsnap-snapshot "$root"/usr/bin/polsnap-report "$root"/usr/libexec/polsnap/polsnap-fcgi
doc=$root/usr/share/doc/polsnap
install -D -m 0644 deploy/debian/copyright "$doc/copyright"
gzip -9n <deploy/debian/changelog >"$doc/changelog.Debian.gz"
mkdir -p "$root/usr/share/man/man1"
help2man --no-info --version-string="$version" --name="publish a snapshot of policy reports" \
    "$root/usr/bin/polsnap-snapshot" | gzip -9n >"$root/usr/share/man/man1/polsnap-snapshot.1.gz"
help2man --no-info --version-string="$version" --name="email reports of the newest snapshot" \
    "$root/usr/bin/polsnap-report" | gzip -9n >"$root/usr/share/man/man1/polsnap-report.1.gz"
# Not for Debian's archive: there is no ITP bug for the first changelog entry to close.
install -D -m 0644 /dev/null "$root/usr/share/lintian/overrides/polsnap"
echo "polsnap: initial-upload-closes-no-bugs" >"$root/usr/share/lintian/overrides/polsnap"
chmod 0644 "$doc/changelog.Debian.gz" "$root"/usr/share/man/man1/polsnap-*.1.gz
# Packaged 0755 as policy wants; postinst makes them 0750, owned by polsnap.
chmod 0755 "$root/var/lib/polsnap" "$root/var/log/polsnap"

printf 'Source: polsnap\n\nPackage: polsnap\nArchitecture: any\n' >"$out/src/debian/control"
shlibs=$(cd "$out/src" && dpkg-shlibdeps -O -e../root/usr/bin/polsnap-snapshot -e../root/usr/bin/polsnap-report -e../root/usr/libexec/polsnap/polsnap-fcgi |
         sed -n 's/^shlibs:Depends=//p')
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/; s/@ARCH@/$arch/; s/@SIZE@/$size/; s/@SHLIBS@/$shlibs/" \
    deploy/debian/control >"$root/DEBIAN/control"
echo /etc/polsnap/polsnap.env >"$root/DEBIAN/conffiles"
for s in postinst prerm postrm; do install -m 0755 "deploy/debian/$s" "$root/DEBIAN/$s"; done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

deb=$out/polsnap_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "built $deb ($(du -k "$deb" | cut -f1) KiB); check it with: lintian $deb"
