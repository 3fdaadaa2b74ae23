#!/usr/bin/env bash
# Chromium for the browser suite (tests/browser), from Debian, once: the suite
# drives /usr/bin/chromium with Playwright and never downloads a browser.
# Needs root (scripts/test runs it only then); prints the binary's path.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
command -v chromium
