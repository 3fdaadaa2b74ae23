"""What the Proxmox client returns and the rules on it: typed dataclasses, the
status vocabulary, snapshot names, task ids, and the three errors of its own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import re
from typing import Final, Literal, Protocol

from ..errors import WakeHubError
from ..models import ResourceStatus

# pve-configid (Proxmox's format for snapshot names) with the API's maxLength 40.
SNAPSHOT_NAME_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{1,39}$")

type GuestType = Literal["qemu", "lxc"]
type BackupMode = Literal["snapshot", "suspend", "stop"]
type BackupCompress = Literal["zstd", "gzip", "lzo", "0"]
type PowerAction = Literal[
    "start", "shutdown", "stop", "reboot", "reset", "suspend", "resume"
]


class TaskTimeout(WakeHubError):
    """A Proxmox task was still running when the wait ended (the task goes on)."""


class ActionNotSupported(WakeHubError, ValueError):
    """The guest type has no such action (LXC containers have no reset)."""


class InvalidSnapshotName(WakeHubError, ValueError):
    """The snapshot name breaks Proxmox's rules (checked before any request)."""


# -- what the client returns -------------------------------------------------------


class GuestLike(Protocol):
    """Anything that says where a guest is: ProxmoxGuest or GuestRef."""

    @property
    def node(self) -> str: ...
    @property
    def type(self) -> GuestType: ...
    @property
    def vmid(self) -> int: ...


@dataclass(frozen=True, slots=True)
class GuestRef:
    """The address of a guest, for actions when only ids are stored."""

    node: str
    type: GuestType
    vmid: int


@dataclass(frozen=True, slots=True)
class ProxmoxNode:
    """A cluster node as /cluster/resources reports it."""

    name: str
    online: bool
    cpu: float | None = None  # fraction of all cores, 0..1
    maxcpu: int | None = None
    mem: int | None = None
    maxmem: int | None = None
    uptime: int | None = None  # seconds


@dataclass(frozen=True, slots=True)
class ProxmoxGuest:
    """A qemu VM or LXC container; `vmid` is its stable id across migrations."""

    vmid: int
    type: GuestType
    name: str
    node: str
    status: str  # raw: running, stopped, unknown (node offline) ...
    template: bool = False
    lock: str | None = None  # backup, snapshot, migrate, ...
    cpu: float | None = None  # fraction of its cores, 0..1
    maxcpu: int | None = None
    mem: int | None = None
    maxmem: int | None = None
    disk: int | None = None
    maxdisk: int | None = None
    netin: int | None = None  # byte counters since start; see counter_rate()
    netout: int | None = None
    uptime: int | None = None  # seconds
    tags: tuple[str, ...] = ()

    @property
    def resource_status(self) -> ResourceStatus:
        return guest_status(self)


@dataclass(frozen=True, slots=True)
class ClusterState:
    """Everything one poll gives: nodes by name, guests by vmid (templates too)."""

    nodes: Mapping[str, ProxmoxNode]
    guests: Mapping[int, ProxmoxGuest]


@dataclass(frozen=True, slots=True)
class ProxmoxIdentity:
    """What the connection test learned.

    `name` is the cluster name, or the node name of a standalone host (or, when the
    token may not read /cluster/status, the first node name). `privileges` are those
    granted on /, /vms or any guest (None when Proxmox would not say);
    `missing_privileges` lists the optional ones absent.
    """

    name: str
    is_cluster: bool
    nodes: tuple[str, ...]
    version: str
    privileges: frozenset[str] | None
    missing_privileges: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProxmoxTask:
    """A task's state from GET /nodes/{node}/tasks/{upid}/status."""

    upid: str
    node: str
    running: bool
    exitstatus: str | None
    type: str = ""

    @property
    def ok(self) -> bool:
        return not self.running and self.exitstatus == "OK"


@dataclass(frozen=True, slots=True)
class ProxmoxSnapshot:
    """One snapshot (the 'current' pseudo entry is never returned)."""

    name: str
    description: str
    snaptime: int | None
    parent: str | None
    vmstate: bool


def validate_snapshot_name(name: str) -> str:
    """Return the name if Proxmox accepts it, else raise InvalidSnapshotName.

    Proxmox's rule (format pve-configid, maxLength 40): a letter, then letters,
    digits, '_' or '-', two to forty characters in all; 'current' is reserved.
    """
    if not SNAPSHOT_NAME_RE.match(name) or name == "current":
        raise InvalidSnapshotName(
            "a snapshot name starts with a letter, has 2 to 40 letters, digits, "
            "'_' or '-', and is not 'current'"
        )
    return name


def counter_rate(
    previous: int | None, current: int | None, seconds: float
) -> float | None:
    """Bytes per second between two readings of a counter (None after a reset)."""
    if previous is None or current is None or seconds <= 0 or current < previous:
        return None
    return (current - previous) / seconds


_LOCK_STATUS: Final = {
    "backup": ResourceStatus.BACKUPING,
    "create": ResourceStatus.INSTALLING,
    "clone": ResourceStatus.INSTALLING,
    "migrate": ResourceStatus.MAINTENANCE,
    "rollback": ResourceStatus.MAINTENANCE,
    "suspending": ResourceStatus.PAUSED,
    "suspended": ResourceStatus.PAUSED,
}
# QEMU run states of a live VM that serves nothing until resumed, as
# /cluster/resources gives them for its status (pvestatd reports QEMU's run
# state): paused by hand, asleep by its own OS, halted on a full disk
# (`io-error`), started frozen (`prelaunch`). A resume continues each.
PAUSED_RUN_STATES: Final = frozenset({"paused", "suspended", "io-error", "prelaunch"})
_RAW_STATUS: Final = {
    "running": ResourceStatus.RUNNING,
    "stopped": ResourceStatus.STOPPED,
    **dict.fromkeys(PAUSED_RUN_STATES, ResourceStatus.PAUSED),
}


def guest_status(guest: ProxmoxGuest) -> ResourceStatus:
    """Map Proxmox's status and lock to the fleet vocabulary.

    A lock says what the guest is going through (a backup, a migration) and wins
    over the bare running/stopped; guests of an offline node are `unknown`.
    """
    if guest.lock and guest.lock in _LOCK_STATUS:
        return _LOCK_STATUS[guest.lock]
    return _RAW_STATUS.get(guest.status, ResourceStatus.UNKNOWN)


def upid_node(upid: str) -> str:
    """The node named in a UPID ("UPID:pve1:..."): where to follow the task."""
    parts = upid.split(":")
    if len(parts) < 3 or parts[0] != "UPID" or not parts[1]:
        raise ValueError("not a Proxmox task id")
    return parts[1]
