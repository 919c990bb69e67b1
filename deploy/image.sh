#!/bin/sh
# deploy/image.sh - make image: the container image polsnap:VERSION from the Dockerfile, with
# podman. No public image registry is reachable here, so the base, localhost/polsnap-base:12-slim,
# is made once from Debian's packages: debootstrap --variant=minbase bookworm from apt's own
# mirror, trimmed as debian:12-slim is (no documentation, manual pages or locales), imported.
# BASE=debian:12-slim uses a registry's image instead. Prints the image's size.
set -eu
cd "$(dirname "$0")/.."
version=$(sed -n '1s/^polsnap (\([^)-]*\).*/\1/p' deploy/debian/changelog)
image=polsnap:$version
command -v podman >/dev/null || { echo "make image needs podman (apt-get install podman)" >&2; exit 1; }
mkdir -p build/image

make_base() { # the Debian 12 slim base, from Debian's packages
    command -v debootstrap >/dev/null || { echo "needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
    # shellcheck disable=SC2016 # $(REPO_URI) is apt's format, not the shell's
    mirror=$(apt-get indextargets --format '$(REPO_URI)' 'Created-By: Packages' 2>/dev/null |
             grep -v security | head -1)
    rootfs=build/image/rootfs
    rm -rf "$rootfs"
    echo "making $1: debootstrap --variant=minbase bookworm ${mirror:=http://deb.debian.org/debian/}"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >build/image/debootstrap.log 2>&1 ||
        { tail -5 build/image/debootstrap.log >&2; exit 1; }
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
SLIM
    # As Debian's own images: apt keeps no downloaded packages and no caches in a layer.
    cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CLEAN'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CLEAN
    find "$rootfs/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
    rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
           "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
           "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*
    tar -C "$rootfs" --numeric-owner -c . | podman import --quiet - "$1" >/dev/null
    rm -rf "$rootfs"
}

base=${BASE:-localhost/polsnap-base:12-slim}
case $base in
    localhost/*) podman image exists "$base" || make_base "$base" ;;
esac
echo "building $image from $base (log: build/image/build.log)"
podman build --isolation chroot --network host --build-arg BASE="$base" -t "$image" . >build/image/build.log 2>&1 ||
    { tail -20 build/image/build.log >&2; exit 1; }
size=$(podman image inspect --format '{{.Size}}' "$image")
echo "built $image: $((size / 1000000)) MB ($size bytes)"
