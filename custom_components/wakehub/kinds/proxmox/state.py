"""What one poll says of a Proxmox guest or node."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Self

from ...api.models import ResourceStatus
from ...api.proxmox import GuestType, ProxmoxGuest
from ...api.proxmox.models import PAUSED_RUN_STATES
from ...state import ResourceState


@dataclass(frozen=True, kw_only=True)
class GuestState(ResourceState):
    """A guest's state; `powered` says whether it runs, whatever it goes through.

    A VM being backed up shows `backuping` on its status sensor but is running:
    its power switch stays on. A `dormant` guest (paused in RAM or hibernated to
    disk) shows `paused` but serves nothing: its switch is off, and a stop has
    reached its end. A guest whose node is offline (`node_offline`) shows
    `unknown`, but counts as stopped for a stop: nothing can reach it there,
    and turning its node's machine off (already off) must not fail on it.
    """

    powered: bool = False
    dormant: bool = False
    node_offline: bool = False
    vmid: int
    guest_type: GuestType
    node: str
    #: Proxmox's lock on the guest ("backup", "snapshot", "suspended"...), if any.
    lock: str | None = None
    #: When its last good backup ended (read on a slow path; None: none known).
    last_backup: datetime | None = None

    @property
    def is_running(self) -> bool:
        return self.powered

    @property
    def is_stopped(self) -> bool:
        return (
            self.status is ResourceStatus.STOPPED or self.dormant or self.node_offline
        )

    def stopped(self) -> Self:
        return replace(super().stopped(), powered=False)


@dataclass
class Counters:
    """A guest's network counters at one poll, for rates between two polls."""

    at: float
    netin: int | None
    netout: int | None


def is_paused(guest: ProxmoxGuest) -> bool:
    """Frozen in RAM. /cluster/resources gives a live VM's QEMU run state as its
    status: `paused`, `suspended` when the guest itself went to sleep,
    `io-error` when QEMU halted it on a full disk, `prelaunch` when it was
    started frozen; a resume continues each."""
    return guest.status in PAUSED_RUN_STATES


def is_hibernated(guest: ProxmoxGuest) -> bool:
    """Suspended to disk: stopped, its saved RAM waiting for the next start."""
    return guest.status == "stopped" and guest.lock == "suspended"


def percent(value: float | None, total: float | None) -> float | None:
    if value is None or not total:
        return None
    return round(100.0 * value / total, 2)
