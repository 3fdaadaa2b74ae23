"""Proxmox VE client: discovery, one-request polling, power, tasks and snapshots.

Public API (what the Home Assistant layer uses), all importable from this package:

    normalize_url(url) -> str                      "pve.lan" -> "https://pve.lan:8006"
    validate_snapshot_name(name) -> str            raises InvalidSnapshotName
    guest_status(guest) -> ResourceStatus          raw state -> shared vocabulary
    counter_rate(previous, current, seconds) -> float | None   bytes/s from counters
    upid_node(upid) -> str                         the node a task runs on

    client = ProxmoxClient(session, url, username="root@pam",
                           token_id="wakehub", token_secret="...",   # or password=
                           verify_ssl=True, fingerprint=None, request_timeout=10)
    await client.check() -> ProxmoxIdentity        connection test for the config flow
    await client.fetch_state() -> ClusterState     ONE GET /cluster/resources: nodes+guests
    await client.discover() -> list[ProxmoxGuest]  guests without templates, by vmid
    await client.node_addresses() -> {node: ip}    from /cluster/status ({} if denied)
    await client.guest_addresses(guest) -> [ip]    guest agent (qemu) or interfaces (lxc)
    await client.start|shutdown|stop|reboot|reset|suspend|resume(guest) -> upid
    await client.hibernate|pause(guest) -> upid    qemu only: stops that keep the state
    await client.wait_for_task(node, upid, timeout=300, interval=0.25) -> ProxmoxTask
    await client.list_snapshots(guest) -> list[ProxmoxSnapshot]
    await client.create_snapshot(guest, name, description="", include_ram=False) -> upid
    await client.rollback_snapshot(guest, name) / delete_snapshot(guest, name) -> upid
    await client.node_command(node, "shutdown" | "reboot")   a node's own power
    await client.wake_node(node) -> mac            Wake-on-LAN sent by the answering node
    await client.backup(guest, storage, mode="snapshot", compress=None) -> upid
    await client.last_backup(guest) -> int | None   end time of its last good vzdump

`guest` is anything with `node`, `type` ("qemu"/"lxc") and `vmid` (a ProxmoxGuest
or a GuestRef). When the node is stale because the guest migrated, actions find it
again by vmid and retry once.

Modules: connection.py (token or ticket, one call, its answer), error_map.py
(Proxmox's error answers to errors.py), models.py (dataclasses, status and name
rules), parsers.py (reading the answers), tasks.py (following a task), guests.py
(guest actions), client.py (the rest of ProxmoxClient).

Errors are those of errors.py (mapped in error_map.py), plus three defined in
models.py (all WakeHubError): TaskTimeout (the task was still running at the
deadline; the server did answer), ActionNotSupported (e.g. reset on an LXC
container; also a ValueError) and InvalidSnapshotName (also a ValueError). Task
failures raise TaskFailed with Proxmox's own exit status text, e.g. "VM is locked
(backup)".
"""

from __future__ import annotations

from .client import ProxmoxClient
from .models import (
    ActionNotSupported,
    BackupCompress,
    BackupMode,
    ClusterState,
    GuestLike,
    GuestRef,
    GuestType,
    InvalidSnapshotName,
    PowerAction,
    ProxmoxGuest,
    ProxmoxIdentity,
    ProxmoxNode,
    ProxmoxSnapshot,
    ProxmoxTask,
    TaskTimeout,
)

__all__ = [
    "ActionNotSupported",
    "BackupCompress",
    "BackupMode",
    "ClusterState",
    "GuestLike",
    "GuestRef",
    "GuestType",
    "InvalidSnapshotName",
    "PowerAction",
    "ProxmoxClient",
    "ProxmoxGuest",
    "ProxmoxIdentity",
    "ProxmoxNode",
    "ProxmoxSnapshot",
    "ProxmoxTask",
    "TaskTimeout",
]
