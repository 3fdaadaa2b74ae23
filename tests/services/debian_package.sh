#!/usr/bin/env bash
# Install one Debian package a test needs, once, without starting its service.
#
#   bash tests/services/debian_package.sh <package> <binary>
#
#   bash tests/services/debian_package.sh caddy caddy        tests/wake/test_caddy.py
#   bash tests/services/debian_package.sh nginx nginx        tests/wake/test_nginx.py
#   bash tests/services/debian_package.sh chromium chromium  tests/browser
#
# Idempotent; run as root before pytest. When <binary> (a name looked up on PATH
# and in the sbin directories, or an absolute path) is missing, it installs
# <package> from Debian without letting the package start its system service.
# It never starts a daemon and never edits /etc: each test runs its own copy of
# the program on 127.0.0.1 with its own configuration, and stops it afterwards.
#
# Prints "ready: <package> <version> (<binary's path>)" at the end.
# Not root and the binary missing: prints why and exits 0; the tests that need
# it then skip with a clear reason. A failed install exits non-zero.
set -euo pipefail

say() { echo "debian_package.sh: $*"; }

if [ $# -ne 2 ]; then
    echo "usage: bash tests/services/debian_package.sh <package> <binary>" >&2
    exit 2
fi
package=$1
binary=$2

# Daemons live in /usr/sbin, which a non-root PATH often lacks.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

binary_path() { command -v "$binary" 2>/dev/null || true; }

ready() {
    local version
    version="$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null || echo "not from dpkg")"
    say "ready: $package $version ($(binary_path))"
}

if [ -n "$(binary_path)" ]; then
    ready
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    say "not root: skipping the install of $package (tests that need $binary will be skipped)"
    exit 0
fi

say "installing $package (Debian package)"
# Debian starts a freshly installed service unless policy-rc.d says no; the
# tests run their own copy, so forbid it while apt runs (unless the machine
# already has a policy, as Docker images do).
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "$package" >/dev/null

if [ -z "$(binary_path)" ]; then
    say "installed $package, but it brought no $binary"
    exit 1
fi
ready
