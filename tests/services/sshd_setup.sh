#!/usr/bin/env bash
# Prepare this machine for WakeHub's real-OpenSSH tests (tests/test_real_sshd.py).
#
#   bash tests/services/sshd_setup.sh
#
# Idempotent; run as root before pytest. It:
#   - installs Debian's openssh-server when /usr/sbin/sshd is missing, without
#     letting the package start the system's sshd service;
#   - creates the local user `wakehub-test` and sets its password;
#   - makes sure /run/sshd (sshd's privilege-separation directory) exists.
# It never starts a daemon and never edits /etc/ssh: the pytest fixture
# (tests/services/sshd.py) runs its own sshd on 127.0.0.1 with its own config,
# host keys and port, and stops it after each test.
#
# The password: WAKEHUB_SSHD_PASSWORD, or a fixed default that the tests know too.
# `wakehub-test` is a throwaway user on a test machine (a container or CI runner),
# reachable only through the test sshd, which listens on 127.0.0.1 and allows this
# user alone. Do not run this on a machine where a known password matters.
#
# Not root: prints why and exits 0; the tests then skip with a clear reason.
set -euo pipefail

USER_NAME="wakehub-test"
PASSWORD="${WAKEHUB_SSHD_PASSWORD:-wakehub-test-only-not-a-secret}"
SSHD=/usr/sbin/sshd

say() { echo "sshd_setup.sh: $*"; }

if [ "$(id -u)" -ne 0 ]; then
    say "not root: skipping setup (the real-sshd tests will be skipped)"
    exit 0
fi

if [ ! -x "$SSHD" ]; then
    say "installing openssh-server (Debian package)"
    # Debian starts a freshly installed service unless policy-rc.d says no; the
    # tests run their own daemon, so forbid it while apt runs (unless the machine
    # already has a policy, as Docker images do).
    temp_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        temp_policy=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' >"$temp_policy"
        chmod 755 "$temp_policy"
        trap 'rm -f "$temp_policy"' EXIT
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
fi

if ! id "$USER_NAME" >/dev/null 2>&1; then
    say "creating user $USER_NAME"
    useradd --create-home --shell /bin/bash "$USER_NAME"
fi
# Set every time, so a changed WAKEHUB_SSHD_PASSWORD takes effect.
echo "$USER_NAME:$PASSWORD" | chpasswd

mkdir -p /run/sshd
chmod 755 /run/sshd

say "ready: $("$SSHD" -V 2>&1 | head -n 1), user $USER_NAME"
