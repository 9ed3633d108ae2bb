#!/usr/bin/env bash
# Set-up from nothing, idempotent: Debian packages, a Docker engine that
# answers, the debian:bookworm base image (built locally: no registry is
# reachable here), then the hdc build.  Safe to run twice.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${HDC_BUILD_DIR:-$root/build}
log_dir=${HDC_SETUP_LOG_DIR:-/tmp/hdc-setup}
mkdir -p "$log_dir"

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

packages=(
    build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
    libuv1-dev libjansson-dev libzookeeper-mt-dev libarchive-dev nettle-dev libcmocka-dev
    node-llhttp zookeeper debootstrap curl ca-certificates valgrind jq openssh-client time libxml2-utils shellcheck
    iproute2 man-db
)

install_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq >"$log_dir/apt-update.log" 2>&1 ||
        die "apt-get update failed (see $log_dir/apt-update.log)"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >"$log_dir/apt-install.log" 2>&1 ||
        die "apt-get install ${missing[*]} failed (see $log_dir/apt-install.log)"
}

# The socket path of DOCKER_HOST when it is a unix:// address, else empty.
docker_socket() {
    local host=${DOCKER_HOST:-unix:///var/run/docker.sock}
    case "$host" in
        unix://*) printf '%s\n' "${host#unix://}" ;;
        *) printf '\n' ;;
    esac
}

docker_pings() {
    local sock
    sock=$(docker_socket)
    if [ -n "$sock" ]; then
        [ -S "$sock" ] && curl -fsS --max-time 2 --unix-socket "$sock" http://docker/_ping >/dev/null 2>&1
    else
        local url=http://${DOCKER_HOST#tcp://}
        curl -fsS --max-time 2 "$url/_ping" >/dev/null 2>&1
    fi
}

ensure_docker() {
    if docker_pings; then
        say "Docker engine answers"
        return 0
    fi
    [ -z "$(docker_socket)" ] &&
        die "no Docker engine answers at ${DOCKER_HOST}: start it there, or unset DOCKER_HOST to use a local one"
    install_packages docker.io
    if ! pgrep -x dockerd >/dev/null; then
        say "starting dockerd (log: $log_dir/dockerd.log)"
        as_root sh -c "nohup dockerd >'$log_dir/dockerd.log' 2>&1 &"
    fi
    # dockerd announces nothing we can wait on from a shell; bounded wait for /_ping.
    local i
    for i in $(seq 1 120); do
        docker_pings && { say "Docker engine answers"; return 0; }
        sleep 0.5
    done
    die "dockerd did not answer /_ping within 60 s (see $log_dir/dockerd.log)"
}

ensure_base_image() {
    if docker image inspect debian:bookworm >/dev/null 2>&1; then
        return 0
    fi
    say "building debian:bookworm with debootstrap (about 30 s)"
    local dir
    dir=$(mktemp -d /tmp/hdc-bookworm.XXXXXX)
    trap 'as_root rm -rf "$dir"' RETURN
    as_root debootstrap --variant=minbase bookworm "$dir" http://deb.debian.org/debian \
        >"$log_dir/debootstrap.log" 2>&1 ||
        die "debootstrap failed (see $log_dir/debootstrap.log)"
    as_root tar -C "$dir" -c . | docker import - debian:bookworm >/dev/null ||
        die "docker import of debian:bookworm failed"
}

build_hdc() {
    say "building hdc in $build_dir"
    cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$log_dir/cmake.log" 2>&1 ||
        { cat "$log_dir/cmake.log" >&2; die "cmake configure failed"; }
    cmake --build "$build_dir" -j"$(nproc)" >"$log_dir/build.log" 2>&1 ||
        { tail -40 "$log_dir/build.log" >&2; die "build failed (see $log_dir/build.log)"; }
}

install_packages "${packages[@]}"
ensure_docker
ensure_base_image
[ "${HDC_SETUP_NO_BUILD:-}" = 1 ] || build_hdc
say "done"
