"""Proxmox VE: one entry per cluster (or standalone host), one subentry per guest.

Every poll is ONE `GET /cluster/resources`, which lists every node and guest of
the cluster; guests are found by vmid, so a migrated guest is simply seen on its
new node (and its device moves under that node's device). Actions return a UPID
that is followed until the task ends, so a failure reaches the user in Proxmox's
own words ("VM is locked (backup)").

Resource keys: guests `{cluster}_{vmid}`, nodes `{cluster}_{node}`.

Modules: `const` (keys and timings), `client` (the client of an entry),
`state` (a guest's typed state), `descriptions` (its entities),
`coordinator`, `node`, `guest` (the resources), `setup`.
"""

from __future__ import annotations

from homeassistant.const import CONF_PASSWORD

from ...const import KIND_PROXMOX
from ..kind import Kind
from .client import build_client, create_client
from .const import (
    BACKUP_INTERVAL,
    BACKUP_TIMEOUT,
    CONF_CLUSTER,
    CONF_FINGERPRINT,
    CONF_NAME,
    CONF_NODE,
    CONF_NODES,
    CONF_STOP_METHOD,
    CONF_TOKEN_ID,
    CONF_TOKEN_SECRET,
    CONF_TYPE,
    CONF_VMID,
    REQUEST_TIMEOUT,
    STOP_HIBERNATE,
    STOP_METHODS,
    STOP_PAUSE,
    STOP_SHUTDOWN,
    SUBENTRY_GUEST,
    TASK_POLL_INTERVAL,
    certificate_issue_id,
    cluster_name,
    guest_key,
    guest_missing_issue_id,
    node_key,
)
from .coordinator import ProxmoxCoordinator
from .descriptions import GUEST, NODE
from .guest import ProxmoxGuestResource
from .node import ProxmoxNodeResource
from .setup import async_setup_kind
from .state import GuestState

KIND = Kind(
    name=KIND_PROXMOX,
    setup=async_setup_kind,
    create_client=create_client,
    subentry_type=SUBENTRY_GUEST,
    secret_fields=frozenset({CONF_TOKEN_SECRET, CONF_PASSWORD}),
    resources={"node": NODE, "guest": GUEST},
)

__all__ = [
    "BACKUP_INTERVAL",
    "BACKUP_TIMEOUT",
    "CONF_CLUSTER",
    "CONF_FINGERPRINT",
    "CONF_NAME",
    "CONF_NODE",
    "CONF_NODES",
    "CONF_STOP_METHOD",
    "CONF_TOKEN_ID",
    "CONF_TOKEN_SECRET",
    "CONF_TYPE",
    "CONF_VMID",
    "KIND",
    "REQUEST_TIMEOUT",
    "STOP_HIBERNATE",
    "STOP_METHODS",
    "STOP_PAUSE",
    "STOP_SHUTDOWN",
    "SUBENTRY_GUEST",
    "TASK_POLL_INTERVAL",
    "GuestState",
    "ProxmoxCoordinator",
    "ProxmoxGuestResource",
    "ProxmoxNodeResource",
    "async_setup_kind",
    "build_client",
    "certificate_issue_id",
    "cluster_name",
    "create_client",
    "guest_key",
    "guest_missing_issue_id",
    "node_key",
]
