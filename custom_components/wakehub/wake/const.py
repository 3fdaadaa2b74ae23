"""Keys and limits of wake on access (per-resource settings are a contract)."""

from __future__ import annotations

from typing import Final

from ..const import DOMAIN

# Per-resource settings: a machine's entry options, a guest's, container's or
# VPS's subentry data, beside the power settings.
CONF_SERVICE_URL: Final = "service_url"
CONF_WAKE_ON_ACCESS: Final = "wake_on_access"
CONF_WAKE_TOKEN: Final = "wake_token"  # a secret: redacted, never shown back
CONF_WAKE_LOCAL_ONLY: Final = "wake_local_only"
CONF_WAKE_KEEP_AWAKE: Final = "wake_keep_awake"  # minutes of activity per hit
CONF_WAKE_MAX_STARTS: Final = "wake_max_starts"  # starts per hour
# Form-only: a fresh token replaces the stored one (old links stop working).
CONF_REGENERATE_TOKEN: Final = "regenerate_token"

WAKE_SETTING_KEYS: Final = (
    CONF_SERVICE_URL,
    CONF_WAKE_ON_ACCESS,
    CONF_WAKE_TOKEN,
    CONF_WAKE_LOCAL_ONLY,
    CONF_WAKE_KEEP_AWAKE,
    CONF_WAKE_MAX_STARTS,
)

DEFAULT_WAKE_LOCAL_ONLY: Final = True
DEFAULT_WAKE_KEEP_AWAKE: Final = 15
DEFAULT_WAKE_MAX_STARTS: Final = 6

# 32 random bytes: 256 bits, well above the 128 the links need.
TOKEN_BYTES: Final = 32

WAKE_PATH: Final = "/api/wakehub/wake"
GATE_PATH: Final = "/api/wakehub/gate"

# Fired once per access "session": woken, or kept awake (logbook lines).
EVENT_ACCESS: Final = f"{DOMAIN}_access"

# Headers of the waiting page's own requests (they pass through reverse proxies'
# forward-auth unchanged): a long poll for the next change, and a retry.
POLL_HEADER: Final = "X-WakeHub-Poll"
RETRY_HEADER: Final = "X-WakeHub-Retry"
# On every answer that is the waiting page or its poll: waiting, ready or failed.
STATE_HEADER: Final = "X-WakeHub-State"
VERSION_HEADER: Final = "X-WakeHub-Version"  # what the next poll waits to change
# The method a proxy's forward-auth request stands for (views.py).
FORWARDED_METHOD: Final = "X-Forwarded-Method"
