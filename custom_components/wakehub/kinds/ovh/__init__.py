"""OVHcloud VPSes: one entry per OVH account, one resource per chosen VPS.

The chosen VPSes are the entry's subentries of type "vps" (unique id: the OVH
service name, which is also the resource key). One coordinator polls them all:

- fast cycle (the polling interval, 60 s by default): the state and the ids of
  running tasks, exactly 2 requests per VPS, many VPSes at once (the client bounds
  the concurrency);
- slow cycle (hourly, timed inside the same coordinator): billing, IPs,
  datacenter, image, snapshot. A VPS whose snapshot changed (an action) is
  refreshed at the next cycle alone;
- the VPS manager's parts (automated backup, backup storage, offers, disks,
  monitoring), each on its own cycle inside the same coordinator (`manager`).

Actions send the OVH call, follow the returned task until it ends (raising its
failure) and mark what they changed for the next refresh.

Modules: `const` (keys, timings, the manager's address), `client`, `state`
(a VPS's typed state), `descriptions` (its entities), `coordinator`, `vps`
(the resource), `setup`, `flow` (its wizard), and the package `manager` (the
VPS manager's parts).
"""

from __future__ import annotations

from ...const import KIND_OVH
from ..kind import Kind
from .client import create_client
from .const import CONF_APPLICATION_SECRET, CONF_CONSUMER_KEY, SUBENTRY_VPS
from .descriptions import VPS
from .setup import async_setup_kind

KIND = Kind(
    name=KIND_OVH,
    setup=async_setup_kind,
    create_client=create_client,
    subentry_type=SUBENTRY_VPS,
    secret_fields=frozenset({CONF_APPLICATION_SECRET, CONF_CONSUMER_KEY}),
    resources={"vps": VPS},
)

__all__ = ["KIND"]
