"""OVH entry and subentry keys, timings, and where the OVHcloud manager is."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Final

from homeassistant.config_entries import ConfigEntry

from ...api.backoff import FIRST_DELAY
from ...api.ovh.signing import ENDPOINTS

_LOGGER = logging.getLogger(__name__)


CONF_ENDPOINT: Final = "endpoint"
CONF_APPLICATION_KEY: Final = "application_key"
CONF_APPLICATION_SECRET: Final = "application_secret"
CONF_CONSUMER_KEY: Final = "consumer_key"
CONF_SERVICE_NAME: Final = "service_name"
SUBENTRY_VPS: Final = "vps"
CONF_LOW_DISK_THRESHOLD: Final = "low_disk_threshold"  # percent used
DEFAULT_LOW_DISK_THRESHOLD: Final = 90.0

DEFAULT_SCAN_INTERVAL: Final = 60
SLOW_INTERVAL: Final = dt.timedelta(hours=1)
# How often a running task is read at first while an action waits for it (then
# less often, by the rule every platform shares: api/backoff.py), and how long.
TASK_POLL_INTERVAL = FIRST_DELAY
TASK_TIMEOUT = 3600.0
# First back-off after a 429 (doubled on each retry, at least OVH's Retry-After).
RETRY_BACKOFF = 1.0


# Where a user manages a VPS in the OVHcloud Control Panel, by API endpoint.
_MANAGER: Final[dict[str, str]] = {
    "ovh-eu": "https://www.ovh.com/manager",
    "ovh-ca": "https://ca.ovh.com/manager",
    "ovh-us": "https://us.ovhcloud.com/manager",
    "kimsufi-eu": "https://www.ovh.com/manager",
    "kimsufi-ca": "https://ca.ovh.com/manager",
    "soyoustart-eu": "https://www.ovh.com/manager",
    "soyoustart-ca": "https://ca.ovh.com/manager",
}


def manager_url(endpoint: str, service: str) -> str:
    """The VPS's page in the OVHcloud Control Panel (EU for a custom API URL)."""
    base = _MANAGER.get(endpoint.strip().lower(), _MANAGER["ovh-eu"])
    return f"{base}/#/dedicated/vps/{service}"


def is_named_endpoint(endpoint: str) -> bool:
    """A real OVH endpoint (always verified), not a full API URL."""
    return endpoint.strip().lower() in ENDPOINTS


def expired_issue_id(entry: ConfigEntry, service: str) -> str:
    return f"ovh_service_expired_{entry.entry_id}_{service}"
