#!/usr/bin/env bash
# A private Docker engine for WakeHub's real-engine tests.
#
#   tests/services/dockerd.sh start    start dockerd (idempotent), import the test
#                                      image, print the socket path
#   tests/services/dockerd.sh stop     stop it (containers die with it)
#   tests/services/dockerd.sh status   print the socket path if it answers
#
# Needs root and Debian's docker.io + busybox-static:
#   apt-get install -y docker.io busybox-static
# Everything lives under $WAKEHUB_DOCKERD_DIR (default /tmp/wakehub-dockerd): its
# own socket, data-root, exec-root and pidfile, so it never touches a system Docker.
# No bridge, no iptables: test containers run with network "none". The image
# wakehub/busybox:test is made with `docker import` from Debian's static busybox,
# so no registry is needed.
set -euo pipefail

DIR="${WAKEHUB_DOCKERD_DIR:-/tmp/wakehub-dockerd}"
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/dockerd.pid"
LOG="$DIR/dockerd.log"
IMAGE="wakehub/busybox:test"
DOCKER_BIN="${DOCKER_BIN:-/usr/bin/docker}"
[ -x "$DOCKER_BIN" ] || DOCKER_BIN="$(command -v docker || true)"

die() { echo "dockerd.sh: $*" >&2; exit 1; }

docker_cli() { DOCKER_API_VERSION= "$DOCKER_BIN" -H "unix://$SOCK" "$@"; }

answers() {
    [ -S "$SOCK" ] && curl -fsS --max-time 2 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1
}

running_pid() {
    if [ -f "$PIDFILE" ]; then
        local pid
        pid="$(cat "$PIDFILE")"
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            echo "$pid"
            return 0
        fi
    fi
    return 1
}

import_image() {
    if docker_cli image inspect "$IMAGE" >/dev/null 2>&1; then
        return 0
    fi
    local busybox
    busybox="$(command -v busybox || true)"
    [ -n "$busybox" ] || die "busybox not found (apt-get install -y busybox-static)"
    local root="$DIR/image-root"
    rm -rf "$root"
    mkdir -p "$root/bin" "$root/tmp"
    cp "$busybox" "$root/bin/busybox"
    for applet in sh sleep ls cat rm touch echo true false test; do
        ln -sf busybox "$root/bin/$applet"
    done
    tar -C "$root" -cf "$DIR/image.tar" . \
        || die "cannot build the image tarball"
    docker_cli import --change 'CMD ["/bin/sleep", "3600"]' "$DIR/image.tar" "$IMAGE" >/dev/null \
        || die "docker import of $IMAGE failed"
    rm -rf "$root" "$DIR/image.tar"
}

install_packages() {
    # From Debian's packages, the only registry CI reaches. Installing docker.io
    # must not start the system's own dockerd: policy-rc.d forbids it meanwhile.
    if command -v dockerd >/dev/null && command -v busybox >/dev/null; then
        return 0
    fi
    local policy=/usr/sbin/policy-rc.d added=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added=1
    fi
    echo "dockerd.sh: installing docker.io and busybox-static" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static >&2
    local status=$?
    [ "$added" = 1 ] && rm -f "$policy"
    [ "$status" = 0 ] || die "could not install docker.io busybox-static"
}

start() {
    [ "$(id -u)" = 0 ] || die "must run as root (dockerd needs it)"
    install_packages
    mkdir -p "$DIR/data" "$DIR/exec"
    chmod 700 "$DIR"
    if ! answers; then
        if ! running_pid >/dev/null; then
            rm -f "$SOCK" "$PIDFILE"
            # setsid: the daemon must outlive this script and the test that ran it.
            setsid dockerd \
                --host "unix://$SOCK" \
                --data-root "$DIR/data" \
                --exec-root "$DIR/exec" \
                --pidfile "$PIDFILE" \
                --storage-driver vfs \
                --iptables=false --ip6tables=false --ip-masq=false \
                --bridge=none \
                --userland-proxy=false \
                --containerd-namespace wakehub \
                --containerd-plugins-namespace wakehub-plugins \
                --shutdown-timeout 2 \
                --log-level warn \
                >"$LOG" 2>&1 </dev/null &
        fi
        for _ in $(seq 1 300); do
            answers && break
            sleep 0.1
        done
        answers || { tail -n 20 "$LOG" >&2 || true; die "dockerd did not start (log: $LOG)"; }
    fi
    import_image
    echo "$SOCK"
}

stop() {
    local pid
    if pid="$(running_pid)"; then
        kill -TERM "$pid"
        for _ in $(seq 1 200); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$PIDFILE"
    echo "stopped"
}

status() {
    answers || die "not answering on $SOCK"
    echo "$SOCK"
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) die "usage: $0 start|stop|status" ;;
esac
