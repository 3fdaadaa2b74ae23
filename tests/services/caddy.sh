#!/usr/bin/env bash
# Prepare this machine for WakeHub's real-Caddy test (tests/wake/test_caddy.py).
#
#   bash tests/services/caddy.sh
#
# Idempotent; run as root before pytest. It installs Debian's `caddy` when
# /usr/bin/caddy is missing, without letting the package start the system's
# caddy service. It never starts a daemon and never edits /etc/caddy: the test
# runs its own caddy on 127.0.0.1 with its own Caddyfile, admin API off, and
# stops it after the test.
#
# Not root: prints why and exits 0; the test then skips with a clear reason.
set -euo pipefail

CADDY=/usr/bin/caddy

say() { echo "caddy.sh: $*"; }

if [ -x "$CADDY" ]; then
    say "ready: $("$CADDY" version | head -n 1)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    say "not root: skipping setup (the real-Caddy test will be skipped)"
    exit 0
fi

say "installing caddy (Debian package)"
# Debian starts a freshly installed service unless policy-rc.d says no; the test
# runs its own caddy, so forbid it while apt runs (unless the machine already
# has a policy, as Docker images do).
temp_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    temp_policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$temp_policy"
    chmod 755 "$temp_policy"
    trap 'rm -f "$temp_policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends caddy >/dev/null

say "ready: $("$CADDY" version | head -n 1)"
