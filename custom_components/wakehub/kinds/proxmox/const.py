"""Proxmox entry and subentry keys, resource keys, timings."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final
from urllib.parse import quote

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_URL

from ...api.backoff import FIRST_DELAY

_LOGGER = logging.getLogger(__name__)


# Entry data keys (DESIGN.md names the form fields; the rest is ours).
CONF_TOKEN_ID: Final = "token_id"
CONF_TOKEN_SECRET: Final = "token_secret"
# The cluster's key in unique ids: its name (a standalone host's: its node's),
# or, when another server of that name was added first, its name and address.
CONF_CLUSTER: Final = "cluster"
# The cluster's name, stored only when it differs from its key.
CONF_CLUSTER_NAME: Final = "cluster_name"
CONF_NODES: Final = "nodes"  # node names seen at setup (options form)
# Subentry data keys of a guest.
CONF_VMID: Final = "vmid"
CONF_TYPE: Final = "type"
CONF_NODE: Final = "node"
CONF_NAME: Final = "name"
SUBENTRY_GUEST: Final = "guest"
# How a qemu guest is stopped (subentry data; LXC containers always shut down).
CONF_STOP_METHOD: Final = "stop_method"
STOP_SHUTDOWN: Final = "shutdown"  # ACPI shutdown; the next start boots cold
STOP_HIBERNATE: Final = "hibernate"  # RAM saved to disk; the next start restores it
STOP_PAUSE: Final = "pause"  # frozen in the node's RAM; resumed at once
STOP_METHODS: Final = (STOP_SHUTDOWN, STOP_HIBERNATE, STOP_PAUSE)

# Seconds a poll's request may take before the cluster is reported unreachable.
REQUEST_TIMEOUT = 10.0
# How often a Proxmox task (UPID) is read at first while an action waits for
# it; reads then slow down, by the rule every platform shares (api/backoff.py).
TASK_POLL_INTERVAL = FIRST_DELAY
# How long a backup may run before the action stops waiting (it goes on in Proxmox).
BACKUP_TIMEOUT = 3600.0
# The last-backup sensors are read on a slow path: this often, and after a
# backup WakeHub ran; only for guests whose sensor is enabled.
BACKUP_INTERVAL = timedelta(minutes=15)
# The boot time is recomputed from the uptime each poll; drift below this is noise.
BOOT_TIME_TOLERANCE = 60


def guest_key(cluster: str, vmid: int) -> str:
    return f"{cluster}_{vmid}"


def node_key(cluster: str, node: str) -> str:
    return f"{cluster}_{node}"


def guest_missing_issue_id(entry: ConfigEntry, vmid: int) -> str:
    return f"proxmox_guest_missing_{entry.entry_id}_{vmid}"


def web_url(entry: ConfigEntry, view: str) -> str | None:
    """The Proxmox web interface showing `view` ("node/pve1", "qemu/100").

    None when the entry's URL is not a web address Home Assistant can link to.
    """
    base = str(entry.data.get(CONF_URL, "")).rstrip("/")
    if not base.startswith(("https://", "http://")):
        return None
    return f"{base}/#v1:0:={quote(view, safe='')}"


def cluster_name(entry: ConfigEntry) -> str:
    return str(entry.data.get(CONF_CLUSTER) or entry.unique_id or entry.entry_id)
