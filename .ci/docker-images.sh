#!/usr/bin/env bash
# Builds local stand-ins for the base images docker-compose.yml/Dockerfile name
# (python:3.11, python:3.11-slim, eclipse-mosquitto:2) and a wheelhouse of every
# Python dependency, for machines whose Docker engine cannot pull from a registry.
#
# Idempotent: each step is skipped when its result already exists, so a second run
# takes a second or two. Set FORCE=1 to rebuild everything.
#
#   .ci/docker-images.sh            # stand-in images (only if missing) + wheelhouse
#   FORCE=1 .ci/docker-images.sh    # rebuild both
#
# Why: the Dockerfile stays standard for users (official images, PyPI); CI here gets
# images under the same names built from Debian packages, and pip installs from the
# wheelhouse (.ci/work/wheelhouse, copied into the build context) without an index.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$ROOT/.ci/work"
ROOTFS="$WORK/rootfs"
ROOTFS_BUILD="$WORK/rootfs-build"
WHEELHOUSE="$WORK/wheelhouse"
SUITE="${DEBIAN_SUITE:-bookworm}"
# Python, its venv module, and mosquitto with its clients (the official
# eclipse-mosquitto image ships mosquitto_sub/mosquitto_passwd; our healthcheck and
# entrypoint use them). ca-certificates so pip could still use an index if reachable.
PACKAGES="python3,python3-venv,mosquitto,mosquitto-clients,ca-certificates"
STANDIN_IMAGES=(python:3.11 python:3.11-slim eclipse-mosquitto:2)
# Bump when the recipe changes, so existing stand-ins get rebuilt. Images without this
# label (real official images pulled earlier) are never replaced.
STANDIN_KEY="org.machine-economy.standin"
STANDIN_VERSION="4"

log() { printf '[docker-images] %s\n' "$*" >&2; }

need() {
    command -v "$1" >/dev/null 2>&1 || { log "missing tool: $1 ($2)"; exit 2; }
}

# The Debian mirror apt on this machine already uses (first deb.debian.org-style URI).
debian_mirror() {
    local uri
    uri="$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
            /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -E '/debian/?( |$)' | grep -v security | head -n1 \
        | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//' \
        | awk '{print $1}')"
    echo "${DEBIAN_MIRROR:-${uri:-http://deb.debian.org/debian}}"
}

import_root() {
    local dir="$1" name="$2" flavour="$3"
    log "docker import $name"
    tar --numeric-owner -C "$dir" -c . | docker import \
        -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'ENV LANG=C.UTF-8' \
        -c 'CMD ["python3"]' \
        -c "LABEL $STANDIN_KEY=$STANDIN_VERSION-$flavour" \
        - "$name" >/dev/null
}

# Present and usable: a real image (no stand-in label) or a stand-in of this recipe.
image_ok() {
    local name="$1" flavour="$2" label
    label="$(docker image inspect -f "{{ index .Config.Labels \"$STANDIN_KEY\" }}" "$name" \
        2>/dev/null)" || return 1
    [[ "$label" == "<no value>" || -z "$label" || "$label" == "$STANDIN_VERSION-$flavour" ]]
}

build_standins() {
    local missing=0
    image_ok python:3.11 build || missing=1
    image_ok python:3.11-slim slim || missing=1
    image_ok eclipse-mosquitto:2 slim || missing=1
    if [[ "${FORCE:-0}" != 1 && $missing == 0 ]]; then
        log "stand-in images present: ${STANDIN_IMAGES[*]} (FORCE=1 rebuilds)"
        return
    fi
    need debootstrap "apt-get install debootstrap"
    if [[ $(id -u) != 0 ]]; then
        log "building the stand-in images needs root (debootstrap, chroot); run with sudo"
        exit 2
    fi
    if [[ "${FORCE:-0}" == 1 || ! -x "$ROOTFS/usr/bin/python3" || ! -x "$ROOTFS/usr/sbin/mosquitto" ]]; then
        local mirror
        mirror="$(debian_mirror)"
        log "debootstrap $SUITE from $mirror into $ROOTFS (about 90 s)"
        rm -rf "$ROOTFS" "$ROOTFS.tmp" "$ROOTFS_BUILD"
        mkdir -p "$WORK"
        debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS.tmp" "$mirror" \
            >"$WORK/debootstrap.log" 2>&1 || { tail -n 30 "$WORK/debootstrap.log" >&2; exit 1; }
        # Trim what an image never needs: apt lists and caches, docs, man pages.
        rm -rf "$ROOTFS.tmp"/var/cache/apt/archives/*.deb "$ROOTFS.tmp"/var/lib/apt/lists/* \
            "$ROOTFS.tmp"/usr/share/doc/* "$ROOTFS.tmp"/usr/share/man/* \
            "$ROOTFS.tmp"/usr/share/locale/*
        # Like the official images: `python` on PATH, and the broker's config dirs.
        ln -sf python3 "$ROOTFS.tmp/usr/bin/python"
        mkdir -p "$ROOTFS.tmp"/mosquitto/{config,data,log}
        mv "$ROOTFS.tmp" "$ROOTFS"
    else
        log "reusing debootstrap root $ROOTFS"
    fi
    import_root "$ROOTFS" python:3.11-slim slim
    docker tag python:3.11-slim eclipse-mosquitto:2
    # The build stage's base: the same root plus binutils, so the Dockerfile can strip
    # the shared libraries of the wheels, and C/C++ compilers with the Python headers, so
    # numba.pycc (it probes both) can build the AOT kernels (the official python:3.11
    # has all of these).
    if [[ "${FORCE:-0}" == 1 || ! -x "$ROOTFS_BUILD/usr/bin/strip" \
        || ! -x "$ROOTFS_BUILD/usr/bin/g++" \
        || ! -f "$ROOTFS_BUILD/usr/include/python3.11/Python.h" ]]; then
        log "adding binutils, gcc, g++ and python3-dev for the build stage ($ROOTFS_BUILD)"
        rm -rf "$ROOTFS_BUILD"
        cp -a "$ROOTFS" "$ROOTFS_BUILD"
        cp /etc/resolv.conf "$ROOTFS_BUILD/etc/resolv.conf"
        chroot "$ROOTFS_BUILD" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends binutils gcc g++ libc6-dev python3-dev' \
            >"$WORK/binutils.log" 2>&1 || { tail -n 30 "$WORK/binutils.log" >&2; exit 1; }
        rm -rf "$ROOTFS_BUILD"/var/cache/apt/archives/*.deb "$ROOTFS_BUILD"/var/lib/apt/lists/* \
            "$ROOTFS_BUILD"/var/cache/apt/*.bin
    fi
    import_root "$ROOTFS_BUILD" python:3.11 build
    log "stand-in images ready: ${STANDIN_IMAGES[*]}"
}

build_wheelhouse() {
    local stamp="$WHEELHOUSE/COMPLETE" fingerprint
    need uv "https://docs.astral.sh/uv/"
    # Rebuild only when the lock file or the local pysha3 stand-in changed.
    fingerprint="$(cat "$ROOT/uv.lock" "$ROOT/shared/_compat/pysha3/pyproject.toml" "$0" \
        | sha256sum | cut -c1-16)"
    if [[ "${FORCE:-0}" != 1 && -f "$stamp" && "$(cat "$stamp")" == "$fingerprint" ]]; then
        log "wheelhouse up to date: $WHEELHOUSE"
        return
    fi
    log "building wheelhouse in $WHEELHOUSE (downloads wheels, compiles the sdists)"
    rm -rf "$WHEELHOUSE"
    mkdir -p "$WHEELHOUSE"
    local req="$WORK/requirements.txt"
    # --all-extras: an offline build with EXTRAS=postgres finds its driver here too.
    (cd "$ROOT" && uv export --frozen --no-dev --all-extras --no-emit-project --no-hashes \
        --no-header -o "$req" >/dev/null)
    # Host and images are Debian bookworm / CPython 3.11 on x86_64, so wheels built here
    # (pyota-ccurl, safe-pysha3) load in the image. uv itself goes in too: the Dockerfile
    # uses it to export requirements from uv.lock.
    local uv_version
    uv_version="$(uv --version | awk '{print $2}')"
    (cd "$ROOT" && uvx --python 3.11 --from 'pip>=24' pip wheel --quiet \
        --disable-pip-version-check -w "$WHEELHOUSE" -r "$req" \
        "uv==$uv_version" "setuptools>=61,<81" "wheel") \
        || { log "pip wheel failed"; exit 1; }
    echo "$fingerprint" >"$stamp"
    log "wheelhouse ready: $(find "$WHEELHOUSE" -name '*.whl' | wc -l) wheels," \
        "$(du -sh "$WHEELHOUSE" | cut -f1)"
}

main() {
    need docker "a Docker engine"
    docker info >/dev/null 2>&1 || { log "no Docker engine reachable"; exit 2; }
    build_standins
    build_wheelhouse
}

main "$@"
