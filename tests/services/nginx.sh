#!/usr/bin/env bash
# Prepare this machine for WakeHub's real-nginx test (tests/wake/test_nginx.py).
#
#   bash tests/services/nginx.sh
#
# Idempotent; run as root before pytest. It installs Debian's `nginx` when
# /usr/sbin/nginx is missing, without letting the package start the system's
# nginx service. It never starts a daemon and never edits /etc/nginx: the test
# runs its own nginx (`daemon off`) on 127.0.0.1 with its own configuration,
# pid file, logs and temporary files in a temporary directory, and stops it
# after the test.
#
# Not root: prints why and exits 0; the test then skips with a clear reason.
set -euo pipefail

NGINX=/usr/sbin/nginx

say() { echo "nginx.sh: $*"; }

if [ -x "$NGINX" ]; then
    say "ready: $("$NGINX" -v 2>&1)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    say "not root: skipping setup (the real-nginx test will be skipped)"
    exit 0
fi

say "installing nginx (Debian package)"
# Debian starts a freshly installed service unless policy-rc.d says no; the test
# runs its own nginx, so forbid it while apt runs (unless the machine already
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
apt-get install -y -qq --no-install-recommends nginx >/dev/null

say "ready: $("$NGINX" -v 2>&1)"
