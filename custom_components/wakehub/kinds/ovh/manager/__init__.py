"""The VPS manager's data for an OVHcloud VPS, on the cycle each part changes on.

- slow (hourly, as the OVH kind's other slow data): automated backup (option,
  available restore points, attached backups), backup storage, migration and
  upgrades on offer, disks' used and total space;
- monitoring (CPU, memory, network): read once per its own granularity, i.e.
  when the series can hold a new point (the step between its points), never on
  every fast cycle.

Each part is read and fails on its own: a part OVH does not serve for this VPS
(404, a withdrawn call) is None; a part whose read failed keeps its last value
and is listed in `VpsManagerData.unavailable` (its entities unavailable), with
one log line when it starts failing and one when it recovers. The rest of the
VPS is unaffected.

Modules: `data` (what is known of one VPS, its parts), `poller` (what is read
when), `values` (how an entity reads a part of the VPS's state), then one per
topic, each with its reading and its entity descriptions: `backup`, `storage`
(backup storage and disks), `monitoring`, `offers` (migration and upgrades),
`low_disk` (the low-space binary sensor and its repair issue).
"""
