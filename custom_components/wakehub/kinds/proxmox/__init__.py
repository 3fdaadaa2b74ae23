"""Proxmox VE: one entry per cluster (or standalone host), one subentry per guest.

Every poll is ONE `GET /cluster/resources`, which lists every node and guest of
the cluster; guests are found by vmid, so a migrated guest is simply seen on its
new node (and its device moves under that node's device). Actions return a UPID
that is followed until the task ends, so a failure reaches the user in Proxmox's
own words ("VM is locked (backup)").

Resource keys: guests `{cluster}_{vmid}`, nodes `{cluster}_{node}`.

Modules: `const` (keys and timings), `client` (the client of an entry),
`state` (a guest's typed state), `descriptions` (its entities),
`coordinator`, `node`, `guest` (the resources), `setup`, `flow` (its wizard).
"""

from __future__ import annotations

from homeassistant.const import CONF_PASSWORD

from ...const import KIND_PROXMOX
from ..kind import Kind
from .client import create_client
from .const import CONF_TOKEN_SECRET, SUBENTRY_GUEST
from .descriptions import GUEST, NODE
from .setup import async_setup_kind

KIND = Kind(
    name=KIND_PROXMOX,
    setup=async_setup_kind,
    create_client=create_client,
    subentry_type=SUBENTRY_GUEST,
    secret_fields=frozenset({CONF_TOKEN_SECRET, CONF_PASSWORD}),
    resources={"node": NODE, "guest": GUEST},
)

__all__ = ["KIND"]
